"""Schemathesis fuzzing of the REST API from its own OpenAPI schema (``/api/schema/``).

Every documented operation is called with generated (valid and invalid) parameters and
bodies, as an admin with a token (the role that reaches the most code). No input may yield
a 5xx; a refusal (4xx) must say why; a refused request must store nothing.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.contrib.auth.models import User
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from benchmark.models import CorrelationRun, ValidatedItemSet
from config.wsgi import application
from dashboards.models import ModelCard
from evaluation.models import EvaluationRun, ModelConfiguration
from survey.models import ItemRating, Participant, Study
from tests.conftest import REQUIRE_SERVICES
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set
from tests.survey.study_setup import make_study

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
WATCHED = (
    Study,
    Participant,
    ItemRating,
    CorrelationRun,
    ValidatedItemSet,
    ModelConfiguration,
    EvaluationRun,
    ModelCard,
    Token,
    User,
)


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Like Django's test client: the WSGI app must not close the test's connection (its
    transaction holds the fixtures) at the end of each request."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(db) -> str:
    admin = User.objects.create_superuser("fuzz-admin", "fuzz@example.org", "pw-for-tests-123")
    # Some real rows, so that generated ids sometimes hit and detail code paths run.
    make_study(n_items=4, items_per_participant=2)
    make_item_set(n_items=2)
    ModelConfigurationFactory()
    return Token.objects.create(user=admin).key


def counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in WATCHED)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    # Reproducible in CI (a red build must be re-runnable); local runs explore new inputs.
    derandomize=REQUIRE_SERVICES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_api_input_yields_a_server_error(case, admin_token):
    before = counts()
    response = case.call(headers={"Authorization": f"Token {admin_token}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )
    if 400 <= response.status_code < 500 and response.status_code != 404:
        assert response.text.strip(), (
            f"{case.method} {case.formatted_path}: refusal without a message"
        )
    if response.status_code >= 400:
        assert counts() == before, f"{case.method} {case.formatted_path} refused but stored data"
