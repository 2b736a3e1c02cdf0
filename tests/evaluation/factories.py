"""Factories for the evaluation tests: model configurations and small validated item sets."""

from __future__ import annotations

import factory

from benchmark.models import CorrelationRun, ValidatedItem, ValidatedItemSet
from evaluation.models import ModelConfiguration
from survey.models import Source
from tests.factories import ItemFactory, ScenarioFactory, SourceFactory, StudyFactory


class ModelConfigurationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelConfiguration

    name = factory.Sequence(lambda n: f"fake-model-{n}")
    provider = ModelConfiguration.Provider.OPENAI
    model_id = "fake-model"
    base_url = "http://127.0.0.1:9/v1"
    temperature = 0.0
    max_tokens = 16
    seed = 42
    max_concurrency = 8
    timeout_seconds = 5
    max_retries = 4
    input_cost_per_million = 2.5
    output_cost_per_million = 10


DIMENSIONS = [
    ("schwartz", "Power"),
    ("schwartz", "Hedonism"),
    ("schwartz", "Universalism"),
    ("big_five", "Openness"),
]


def make_item_set(*, n_items: int = 8, name: str = "test-set") -> ValidatedItemSet:
    """``n_items`` items (half titled, half chat scenarios), each selected for one or two
    dimensions (so family means count shared items once)."""
    titled = SourceFactory(slug="test-titled", style=Source.Style.TITLED)
    chat = SourceFactory(slug="test-chat", style=Source.Style.CHAT)
    study = StudyFactory()
    run = CorrelationRun.objects.create(
        study=study, kind=CorrelationRun.Kind.PUBLISHED, status=CorrelationRun.Status.DONE
    )
    item_set = ValidatedItemSet.objects.create(
        name=name,
        version=ValidatedItemSet.objects.filter(name=name).count() + 1,
        study=study,
        correlation_run=run,
        rule={"test": True},
    )
    entries = []
    for index in range(n_items):
        source = titled if index % 2 == 0 else chat
        scenario = ScenarioFactory(source=source, title="A title" if source is titled else "")
        item = ItemFactory(
            scenario=scenario,
            option_id=1,
            text=f"Response number {index}: {factory.Faker('sentence').evaluate(None, None, {'locale': None})}",
        )
        family, dimension = DIMENSIONS[index % len(DIMENSIONS)]
        entries.append(
            ValidatedItem(item_set=item_set, item=item, family=family, dimension=dimension, r=0.4)
        )
        if index % 3 == 0 and family == "schwartz":
            other = "Universalism" if dimension != "Universalism" else "Power"
            entries.append(
                ValidatedItem(item_set=item_set, item=item, family=family, dimension=other, r=0.35)
            )
    ValidatedItem.objects.bulk_create(entries)
    return item_set
