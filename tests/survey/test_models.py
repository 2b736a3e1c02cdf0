"""Database constraints that guard the data (unique answers, scale limits)."""

import pytest
from django.db import IntegrityError, transaction

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
