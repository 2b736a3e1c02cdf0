"""Property-based fuzzing (hypothesis) of the staff forms: benchmark and evaluation pages.

Whatever an admin's browser sends (or a script with an admin's session): never a 500, and a
refused form stores nothing and says why. The benchmark forms answer in the
post/redirect/get style (a redirect to the study page with the message); the evaluation
forms come back with their errors and a 400.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from benchmark.models import CorrelationRun, PairExclusion, ValidatedItemSet
from benchmark.services import recompute_now
from evaluation import lifecycle as evaluation_lifecycle
from evaluation.models import EvaluationRun, ModelConfiguration
from tests.benchmark.conftest import build_small_study
from tests.conftest import REQUIRE_SERVICES
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=REQUIRE_SERVICES,  # reproducible in CI; local runs explore new inputs
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

junk = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(
        ["", "0", "1", "0.3", "-0.5", "1e400", "NaN", "inf", "²", "٣", "\x00", "<script>"]
        + ["1025/3", "1/²", "x/1", "/", "1/99999999999999999999", "spearman", "pos", "bh"]
        + ["valueportrait-2025", "valueportrait-own:1", "valueportrait-own:x", "v1", "openai"]
        + ["age=30-44;gender=woman", "age=5", "=", ";;", "local", "https://example.org/v1"]
    ),
)


def form_data(fields: list[str]):
    return st.dictionaries(st.sampled_from(fields), junk, max_size=len(fields))


def stored() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            CorrelationRun,
            ValidatedItemSet,
            PairExclusion,
            EvaluationRun,
            ModelConfiguration,
        )
    )


@pytest.fixture
def admin(client):
    client.force_login(User.objects.create_superuser("fuzz", "f@example.org", "pw-for-tests-1"))
    client.raise_request_exception = True  # an exception fails the test with its trace
    return client


@pytest.fixture
def study():
    study = build_small_study()
    recompute_now(study=study)
    return study


def check_redirect_refusal(response, before: tuple) -> None:
    """The benchmark pages: success or refusal, both a redirect carrying a message."""
    assert response.status_code == 302, response.content[:300]
    messages = list(get_messages(response.wsgi_request))
    assert messages and all(str(message).strip() for message in messages)
    if any(message.level_tag == "error" for message in messages):
        assert stored() == before, "a refused form stored data"


BENCHMARK_FIELDS = {
    "recompute": ["method"],
    "item-sets/new": ["run", "preset", "threshold", "mode", "families"]
    + ["fdr_alpha", "fdr_method", "ci_bound", "name"],
    "exclusions/new": ["item", "dimension", "reason"],
}
benchmark_posts = st.one_of(
    *(st.tuples(st.just(action), form_data(fields)) for action, fields in BENCHMARK_FIELDS.items())
)


@FUZZ
@given(post=benchmark_posts, with_real_run=st.booleans())
@example(post=("exclusions/new", {"item": "1/²", "dimension": "Power", "reason": "r"}),
         with_real_run=False)  # fmt: skip
def test_benchmark_forms_never_fail(admin, study, post, with_real_run):
    action, fields = post
    if action == "item-sets/new" and with_real_run:
        fields = {**fields, "run": str(study.correlation_runs.get().pk)}  # reach the selection
    before = stored()
    response = admin.post(f"/benchmark/{study.slug}/{action}/", fields)
    check_redirect_refusal(response, before)


MODEL_FIELDS = [
    "name", "provider", "model_id", "base_url", "api_key_env", "temperature", "max_tokens",
    "length_parameter", "seed", "reasoning_effort", "top_logprobs", "requests_per_minute",
    "tokens_per_minute", "max_concurrency", "timeout_seconds", "max_retries",
    "input_cost_per_million", "output_cost_per_million", "notes",
]  # fmt: skip
RUN_FIELDS = [
    "model_config", "item_set", "template_set", "variants", "personas", "repetitions",
    "scoring", "invalid_retries", "reask_follow_up", "min_valid_probability", "use_cache", "label",
]  # fmt: skip


@FUZZ
@given(fields=form_data(MODEL_FIELDS))
def test_model_configuration_form_never_fails(admin, fields):
    before = stored()
    response = admin.post("/evaluation/models/new/", fields)
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 400:
        assert response.context["form"].errors
        assert stored() == before, "a refused form stored data"


@FUZZ
@given(fields=form_data(RUN_FIELDS), real_ids=st.booleans())
def test_run_form_never_fails(admin, fields, real_ids, monkeypatch):
    monkeypatch.setattr(evaluation_lifecycle, "_publish", lambda run_id: None)  # no broker
    if real_ids:
        fields.setdefault("model_config", str(ModelConfigurationFactory().pk))
        fields.setdefault("item_set", str(make_item_set(n_items=2).pk))
    before = stored()
    response = admin.post("/evaluation/runs/new/", fields)
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 400:
        form = response.context["form"]
        assert form.errors or form.non_field_errors()
        assert stored() == before, "a refused form stored data"
