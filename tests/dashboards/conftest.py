"""A small, complete data set for the dashboards: humans with demographics, three models, a
persona run; built through the real services (see ``builders``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pytest

from benchmark.models import StudyAnalysisSettings
from evaluation.models import EvaluationRun
from survey.models import Study
from tests.factories import StudyFactory

from . import builders

GENDERS = ("female", "male", "female", "non_binary", "undisclosed")


@dataclass
class DashboardData:
    study: Study
    item_set: object
    runs: dict[str, EvaluationRun]
    persona_run: EvaluationRun


@pytest.fixture
def dashboard_data(db) -> DashboardData:
    rng = np.random.default_rng(7)
    study = StudyFactory(slug="humans", title="Human panel", status=Study.Status.CLOSED)
    item_set = builders.small_item_set(study=study)
    people = builders.participants_with_scores(
        study=study,
        n=40,
        rng=rng,
        demographics=lambda i: {"gender": GENDERS[i % len(GENDERS)], "age": 20 + i},
        means={"Benevolence": 0.5, "Power": -0.8},
    )
    # Everyone rates every item of the set (ratings lean on their own value scores); a
    # person's score counts from 2 rated items of a dimension (the set has 2 per value).
    builders.participant_ratings(
        item_set=item_set, people=people, rng=np.random.default_rng(8), share=1.0
    )
    StudyAnalysisSettings.objects.create(study=study, min_items_per_dimension=2)
    runs = {
        "alpha": builders.model_run(
            item_set=item_set,
            name="alpha",
            base={"Benevolence": 5.5, "Power": 1.5},
            rng=rng,
            card={
                "family": "Alpha",
                "parameters_billion": 8,
                "open_weights": True,
                "release_date": dt.date(2024, 7, 23),
            },
        ),
        "beta": builders.model_run(
            item_set=item_set,
            name="beta",
            provider="anthropic",
            base={"Benevolence": 5.0, "Power": 2.0, "Tradition": 2.0},
            rng=rng,
            card={
                "family": "Beta",
                "parameters_billion": 70,
                "open_weights": False,
                "release_date": dt.date(2025, 2, 1),
            },
        ),
        "gamma": builders.model_run(
            item_set=item_set,
            name="gamma",
            base={"Power": 5.0},
            rng=rng,
            provider="reference",
            kind=EvaluationRun.Kind.REFERENCE,
        ),
    }
    persona_run = builders.model_run(
        item_set=item_set,
        name="alpha",
        base={"Benevolence": 5.5, "Power": 1.5},
        rng=rng,
        personas=[{"gender": "woman"}, {"gender": "man"}],
        persona_shift={"gender=man": {"Power": 3.0}},
    )
    return DashboardData(study=study, item_set=item_set, runs=runs, persona_run=persona_run)
