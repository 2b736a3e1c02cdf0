"""Database constraints that guard the data (unique answers, scale limits)."""

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from survey.models import ItemRating, Participant
from tests.factories import ItemFactory, ItemRatingFactory, ParticipantFactory

pytestmark = pytest.mark.django_db


def test_one_rating_per_participant_and_item():
    rating = ItemRatingFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ItemRating.objects.create(participant=rating.participant, item=rating.item, rating=2)
    assert ItemRating.objects.count() == 1


@pytest.mark.parametrize("value", [0, 7])
def test_rating_outside_scale_is_refused_by_the_database(value):
    participant, item = ParticipantFactory(), ItemFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ItemRating.objects.create(participant=participant, item=item, rating=value)


def test_one_participant_per_external_id_and_study_with_distinct_pseudonyms():
    first = ParticipantFactory(external_id="ABC")
    other_study = ParticipantFactory(external_id="ABC")
    assert first.pseudonym != other_study.pseudonym and first.pseudonym.startswith("P-")
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(study=first.study, external_id="ABC")


def test_no_index_is_covered_by_a_longer_one():
    """A single index whose columns begin another index only costs every write (an answer
    inserts into each of its table's indexes); the longer index serves its lookups."""
    redundant = []
    with connection.cursor() as cursor:
        for model in apps.get_app_config("survey").get_models():
            table = model._meta.db_table
            constraints = connection.introspection.get_constraints(cursor, table)
            indexes = {
                name: tuple(info["columns"])
                for name, info in constraints.items()
                if (info["index"] or info["unique"]) and not name.endswith("_like")
            }
            for name, columns in indexes.items():
                if constraints[name]["unique"] or constraints[name]["primary_key"]:
                    continue
                covering = [
                    other
                    for other, longer in indexes.items()
                    if len(longer) > len(columns) and longer[: len(columns)] == columns
                ]
                if covering:
                    redundant.append(f"{table}.{name} {columns} (covered by {covering})")
    assert not redundant, redundant
