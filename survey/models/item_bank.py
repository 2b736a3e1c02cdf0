"""The item bank: sources, scenarios (a user's query), items (one response each) and the
items' translations into other languages."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q

from survey.language_codes import SOURCE_LANGUAGE, normalise_language


def validate_language(value: str) -> None:
    """A stored language code must already be in its normal form (``normalise_language``)."""
    try:
        normal = normalise_language(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    if normal != value:
        raise ValidationError(f"write the language code as {normal!r}")


class Source(models.Model):
    """Where scenarios come from (Reddit AITA, Dear Abby, ShareGPT, LMSYS, our demo set...)."""

    class Style(models.TextChoices):
        TITLED = "titled", "Titled post (advice column, Reddit)"
        CHAT = "chat", "Chat message"

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    style = models.CharField(
        max_length=10,
        choices=Style.choices,
        default=Style.TITLED,
        help_text="How scenarios from this source are presented (and which prompt variant models get).",
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Scenario(models.Model):
    """A user's query: an optional title and a text, from one source."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="scenarios")
    external_id = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="Identifier in the originating data set, e.g. the paper's portrait_id.",
    )
    title = models.TextField(blank=True, default="")
    text = models.TextField()
    language = models.CharField(
        max_length=16,
        default=SOURCE_LANGUAGE,
        validators=[validate_language],
        help_text="Language of the source text: the title, the text and its items' responses.",
    )
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["external_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="scenario_unique_external_id",
            )
        ]

    def __str__(self) -> str:
        head = self.title or self.text
        return f"{self.external_id or self.pk}: {head[:60]}"

    @property
    def has_title(self) -> bool:
        return bool(self.title.strip())


class ItemQuerySet(models.QuerySet):
    def servable_in(self, language: str) -> "ItemQuerySet":
        """Items a participant reading ``language`` may be shown: their source text is in
        that language, or they have a reviewed translation into it (the one definition of
        "may be served in a language", used by enrolment, coverage and the staff pages)."""
        reviewed = ItemTranslation.objects.filter(
            item=OuterRef("pk"), language=language, status__in=ItemTranslation.SERVABLE
        )
        return self.filter(Q(scenario__language=language) | Exists(reviewed))


class Item(models.Model):
    """One response to a scenario: what participants and models rate."""

    # Indexed by the unique (scenario, option_id).
    scenario = models.ForeignKey(
        Scenario, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    option_id = models.PositiveSmallIntegerField(help_text="Response number within its scenario.")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ItemQuerySet.as_manager()

    class Meta:
        ordering = ["scenario__external_id", "scenario_id", "option_id"]
        constraints = [
            models.UniqueConstraint(fields=["scenario", "option_id"], name="item_unique_option")
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        """``portrait_id/option_id``, the identifier researchers know from the paper."""
        return f"{self.scenario.external_id or self.scenario_id}/{self.option_id}"


class ItemTranslation(models.Model):
    """An item's scenario and response in another language, with where its review stands.

    ``machine_draft``: a first draft (machine or unchecked), never shown to participants;
    ``reviewed``: a named reviewer checked it against the source; ``back_translated``:
    reviewed, and a back-translation into the source language was compared with the source.
    Reviewed and back-translated translations may be served (``SERVABLE``).
    """

    class Status(models.TextChoices):
        MACHINE_DRAFT = "machine_draft", "Machine draft (not reviewed)"
        REVIEWED = "reviewed", "Reviewed"
        BACK_TRANSLATED = "back_translated", "Reviewed and back-translated"

    SERVABLE = (Status.REVIEWED, Status.BACK_TRANSLATED)

    # Indexed by the unique (item, language).
    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, related_name="translations", db_index=False
    )
    language = models.CharField(max_length=16, validators=[validate_language])
    scenario_title = models.TextField(blank=True, default="")
    scenario_text = models.TextField()
    response = models.TextField()
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.MACHINE_DRAFT, db_index=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviewed_item_translations",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["language", "item"]
        constraints = [
            models.UniqueConstraint(fields=["item", "language"], name="item_translation_unique"),
            models.CheckConstraint(
                condition=Q(status="machine_draft") | Q(reviewed_at__isnull=False),
                name="item_translation_reviewed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} [{self.language}] {self.get_status_display()}"

    @property
    def is_servable(self) -> bool:
        return self.status in self.SERVABLE
