"""The item bank: sources, scenarios (a user's query) and items (one response each)."""

from django.db import models


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


class Item(models.Model):
    """One response to a scenario: what participants and models rate."""

    # Indexed by the unique (scenario, option_id).
    scenario = models.ForeignKey(
        Scenario, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    option_id = models.PositiveSmallIntegerField(help_text="Response number within its scenario.")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

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
