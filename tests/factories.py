"""factory_boy factories for the shared models."""

import factory

from survey.models import Item, ItemRating, Participant, Scenario, Source, Study


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"source-{n}")
    name = factory.Sequence(lambda n: f"Source {n}")
    style = Source.Style.TITLED


class ScenarioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scenario

    source = factory.SubFactory(SourceFactory)
    external_id = factory.Sequence(lambda n: f"T{n:04d}")
    title = factory.Sequence(lambda n: f"Scenario title {n}")
    text = factory.Faker("paragraph")


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    scenario = factory.SubFactory(ScenarioFactory)
    option_id = factory.Sequence(lambda n: n % 5 + 1)
    text = factory.Faker("sentence")


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Study {n}")
    slug = factory.Sequence(lambda n: f"study-{n}")
    status = Study.Status.OPEN
    items_per_participant = 4
    target_ratings_per_item = 3
    completion_code = "DONE123"
    no_consent_code = "NOCONSENT"
    screened_out_code = "SCREENED"
    consent_text = "Test consent text."

    @factory.post_generation
    def items(self, create, extracted, **kwargs):
        if create and extracted:
            self.item_pool.set(extracted)


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    study = factory.SubFactory(StudyFactory)
    external_id = factory.Sequence(lambda n: f"PID{n:06d}")


class ItemRatingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ItemRating

    participant = factory.SubFactory(ParticipantFactory)
    item = factory.SubFactory(ItemFactory)
    rating = 4
