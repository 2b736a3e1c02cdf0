"""The four faults measured by the audit of issue 12, each reproduced end to end.

1. negated and foreign-scale phrases read as "like me" (5);
2. repetitions at temperature > 0 served repetition 1's cached answer (reproduced by
   ``test_runs.py::test_repetitions_are_cached_apart_and_resume_from_the_cache``);
3. OpenAI reasoning models (o-series, gpt-5) refusing ``max_tokens`` with a 400;
4. probability scoring trusting a rating built from 0.1 % of the probability mass.
"""

import math

import pytest

from evaluation import lifecycle
from evaluation.models import EvaluationRun
from evaluation.parsing import option_probabilities, parse_phrase
from evaluation.prompts import SCALE_LABELS
from evaluation.selectors import missing_units
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set
from tests.evaluation.fake_provider import FakeProvider


@pytest.mark.parametrize(
    "text, paper, ours",
    [
        ("Not at all like me", 1, 1),
        ("Like me very much", 6, 6),
        ("Very little like me", 3, 3),
        ("Moderately like me", 5, None),  # PVQ-RR's label, not one of this scale's
        ("not really like me", 5, 2),  # "not ... like me": the negative option
    ],
)
def test_negated_and_foreign_phrases_are_not_read_as_like_me(text, paper, ours):
    assert parse_phrase(text).rating == ours


def _running(run):
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=EvaluationRun.Status.RUNNING, params=run.model_config.generation_params()
    )
    run.refresh_from_db()
    return run


@pytest.mark.django_db
@pytest.mark.parametrize("model_id", ["o3-mini", "o1", "gpt-5-mini", "o4-mini-2025-04-16"])
def test_reasoning_models_get_max_completion_tokens(model_id):
    item_set = make_item_set(n_items=2)
    with FakeProvider() as server:
        config = ModelConfigurationFactory(base_url=server.url("openai"), model_id=model_id)
        run = _running(
            lifecycle.create_run(model_config=config, item_set=item_set, variants=["v1"])
        )
        lifecycle.execute_batch(run_id=run.pk, units=missing_units(run=run))
        payload = server.requests[-1]["payload"]
    assert run.responses.filter(state="failed").count() == 0
    assert "max_tokens" not in payload and payload["max_completion_tokens"] == 16


def test_a_rating_from_a_sliver_of_the_mass_is_not_used():
    result = option_probabilities([("The", math.log(0.999)), ("2", math.log(0.001))], SCALE_LABELS)
    assert result.valid_mass == pytest.approx(0.001)
    assert result.expected_rating is None and "below" in result.reason
