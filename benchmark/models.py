"""Correlation runs: item × dimension correlations of a study, computed or published."""

from django.conf import settings
from django.db import models

from survey.instruments import dimensions as dims
from survey.models import Item, Study


class CorrelationRun(models.Model):
    """One versioned set of item–dimension correlations for a study. Never edited in place."""

    class Kind(models.TextChoices):
        COMPUTED = "computed", "Computed from stored responses"
        PUBLISHED = "published", "Published reference (imported, read-only)"

    class Method(models.TextChoices):
        SPEARMAN = "spearman", "Spearman"
        PEARSON = "pearson", "Pearson"
        KENDALL = "kendall", "Kendall τ-b"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="correlation_runs")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COMPUTED)
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.SPEARMAN)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    label = models.CharField(max_length=200, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    exclusions = models.JSONField(
        default=dict, blank=True, help_text="Participants left out and why."
    )
    n_participants = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.study.slug} {self.get_kind_display()} {self.method} #{self.pk}"


class Correlation(models.Model):
    """The correlation of one item's ratings with the raters' scores on one dimension."""

    FAMILY_CHOICES = [(f, dims.FAMILY_LABELS[f]) for f in dims.FAMILIES]

    run = models.ForeignKey(CorrelationRun, on_delete=models.CASCADE, related_name="rows")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="correlations")
    family = models.CharField(max_length=20, choices=FAMILY_CHOICES)
    dimension = models.CharField(max_length=40)
    r = models.FloatField(
        null=True, blank=True, help_text="Empty when undefined (constant ratings)."
    )
    p = models.FloatField(null=True, blank=True)
    n = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["run", "item", "family", "dimension"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "item", "family", "dimension"], name="correlation_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.dimension} r={self.r}"


class ValidatedItemSet(models.Model):
    """A frozen, versioned selection of (item, dimension) pairs that measure the dimensions.

    Made by applying a selection rule to one correlation run; never changed in place (a new
    rule or new data makes a new version), so every model portrait names the set it used.
    """

    name = models.CharField(max_length=100, help_text="e.g. valueportrait-2025")
    version = models.PositiveIntegerField()
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="item_sets")
    correlation_run = models.ForeignKey(
        CorrelationRun, on_delete=models.PROTECT, related_name="item_sets"
    )
    preset = models.CharField(max_length=50, blank=True)
    rule = models.JSONField(help_text="Families, threshold, mode and any further criteria.")
    excluded_pairs = models.JSONField(
        default=list, blank=True, help_text="(item, dimension) pairs left out, with reasons."
    )
    participants = models.JSONField(
        default=dict, blank=True, help_text="Participants and exclusions of the source run."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="item_set_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class ValidatedItem(models.Model):
    """One selected (item, dimension) pair of a validated item set, with its correlation."""

    FAMILY_CHOICES = Correlation.FAMILY_CHOICES

    item_set = models.ForeignKey(ValidatedItemSet, on_delete=models.CASCADE, related_name="entries")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="validated_entries")
    family = models.CharField(max_length=20, choices=FAMILY_CHOICES)
    dimension = models.CharField(max_length=40)
    r = models.FloatField()
    p = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["item_set", "family", "dimension", "item"]
        constraints = [
            models.UniqueConstraint(
                fields=["item_set", "item", "family", "dimension"], name="validated_item_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item} → {self.dimension} (r={self.r:.2f})"
