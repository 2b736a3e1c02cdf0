"""Helpers that build live studies for the flow, bot, concurrency and browser tests."""

from __future__ import annotations

from survey.models import Study
from survey.services.instruments import ensure_instrument
from tests.factories import ItemFactory, ScenarioFactory, SourceFactory, StudyFactory


def make_items(n: int, *, per_scenario: int = 2):
    source = SourceFactory(slug="bot-source", name="Bot source")
    items = []
    while len(items) < n:
        scenario = ScenarioFactory(source=source)
        for option in range(1, per_scenario + 1):
            if len(items) < n:
                items.append(ItemFactory(scenario=scenario, option_id=option))
    return items


def make_study(
    *, n_items: int = 12, instruments: tuple[str, ...] = ("pvq21", "bfi10"), **fields
) -> Study:
    """An open study with ``n_items`` pool items and placeholder-worded instruments."""
    defaults = dict(
        items_per_participant=5,
        target_ratings_per_item=3,
        attention_check_count=2,
        allow_placeholder_wording=True,
        uses_prolific=True,
        completion_redirect_url="https://app.prolific.com/submissions/complete?cc={code}",
        demographic_fields=["age", "gender", "country", "education", "first_language"],
    )
    defaults.update(fields)
    study = StudyFactory(items=make_items(n_items), **defaults)
    study.instruments.set([ensure_instrument(code) for code in instruments])
    return study
