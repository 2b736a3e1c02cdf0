"""Correlation runs: item × dimension correlations of a study, computed or published."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from survey.instruments import dimensions as dims
from survey.models import Item, Study

from . import minimums as mins


class CorrelationRunQuerySet(models.QuerySet):
    def may_hold_data_since(self, *, study_id: int, arrived_at) -> "CorrelationRunQuerySet":
        """Computed runs of the study that may have read a participant who arrived at
        ``arrived_at``: claimed by a worker at or after that time (a pending run has read
        nothing yet; a published run holds no participant's answers)."""
        return self.filter(
            study_id=study_id, kind=CorrelationRun.Kind.COMPUTED, started_at__gte=arrived_at
        )

    def stale(self) -> "CorrelationRunQuerySet":
        return self.filter(stale_since__isnull=False)


class CorrelationRun(models.Model):
    """One versioned set of item–dimension correlations for a study. Never edited in place
    (except to say it is stale: computed with data that has since been erased)."""

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
    language = models.CharField(
        max_length=16,
        blank=True,
        default="",
        help_text="Only the participants who took the study in this language; empty: every "
        "language pooled.",
    )
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
    started_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker claimed the run."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    chance = models.JSONField(
        default=dict,
        blank=True,
        help_text="The paper preset's expected chance selections (permutations of whole value "
        "profiles) and split-half replication, and the threshold bounding the chance share; "
        "computed after the run (benchmark.estimates), empty until then.",
    )
    stale_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When data this run may have been computed from was erased on a "
        "participant's request; recompute to leave it out.",
    )
    stale_reason = models.TextField(blank=True)

    objects = CorrelationRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        where = f" [{self.language}]" if self.language else ""
        return f"{self.study.slug} {self.get_kind_display()} {self.method}{where} #{self.pk}"

    @property
    def is_stale(self) -> bool:
        return self.stale_since is not None


class Correlation(models.Model):
    """The correlation of one item's ratings with the raters' scores on one dimension."""

    FAMILY_CHOICES = [(f, dims.FAMILY_LABELS[f]) for f in dims.FAMILIES]

    # A large run stores ~375,000 rows at once, so per-row costs matter:
    # - the run needs no index of its own: the (run, item, family, dimension) unique index
    #   serves every lookup by run;
    # - no database constraint on either key: PostgreSQL would check each row's two references
    #   with a query per row at commit (seconds for a large run). ``core.bulk.insert_frame``,
    #   the writer of these rows, checks them set-wise instead and locks the referenced run and
    #   items against deletion until its transaction commits; deletes cascade through Django's
    #   ``on_delete`` as before.
    run = models.ForeignKey(
        CorrelationRun,
        on_delete=models.CASCADE,
        related_name="rows",
        db_index=False,
        db_constraint=False,
    )
    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, related_name="correlations", db_constraint=False
    )
    family = models.CharField(max_length=20, choices=FAMILY_CHOICES)
    dimension = models.CharField(max_length=40)
    r = models.FloatField(
        null=True, blank=True, help_text="Empty when undefined (constant ratings)."
    )
    p = models.FloatField(null=True, blank=True)
    n = models.PositiveIntegerField(null=True, blank=True)
    p_bh = models.FloatField(
        null=True, blank=True, help_text="Benjamini–Hochberg adjusted p over the whole run."
    )
    p_by = models.FloatField(
        null=True, blank=True, help_text="Benjamini–Yekutieli adjusted p over the whole run."
    )
    ci_low = models.FloatField(null=True, blank=True, help_text="Bootstrap CI lower bound.")
    ci_high = models.FloatField(null=True, blank=True, help_text="Bootstrap CI upper bound.")

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
    reliability = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per dimension: Cronbach's α (CI) within rater blocks, standardised α, "
        "corrected item–total r, computed on the human ratings when the set was frozen.",
    )
    chance = models.JSONField(
        default=dict,
        blank=True,
        help_text="Expected chance selections of the set's rule (mean, SD over seeded "
        "permutations of whole value profiles) and split-half replication, computed when "
        "the set was frozen; the threshold search when the rule bounds the chance share.",
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


class PairExclusion(models.Model):
    """An admin's decision to leave one (item, dimension) pair out of new item sets."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="pair_exclusions")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="pair_exclusions")
    family = models.CharField(max_length=20, choices=Correlation.FAMILY_CHOICES)
    dimension = models.CharField(max_length=40)
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "item", "dimension"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "item", "family", "dimension"], name="pair_exclusion_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item} × {self.dimension}: {self.reason[:40]}"


class StudyAnalysisSettings(models.Model):
    """Per-study settings of the validation analysis (kept here, not on the survey's Study)."""

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="analysis_settings")
    method = models.CharField(
        max_length=10, choices=CorrelationRun.Method.choices, default=CorrelationRun.Method.SPEARMAN
    )
    recompute_after_completions = models.PositiveIntegerField(
        default=25, help_text="Recompute after this many new completed participants (0: never)."
    )
    completions_since_last_run = models.PositiveIntegerField(default=0)
    alpha = models.FloatField(default=0.05, help_text="Significance level for power planning.")
    power = models.FloatField(default=0.8, help_text="Desired power to detect target_r.")
    target_r = models.FloatField(default=0.3, help_text="Smallest correlation worth detecting.")
    bootstrap_resamples = models.PositiveIntegerField(
        default=200, help_text="Bootstrap replicates for CIs (0: no CIs)."
    )
    bootstrap_seed = models.PositiveIntegerField(default=2025)
    # Minimums below which a statistic is shown as "too few" (see benchmark.minimums).
    min_raters_per_pair = models.PositiveIntegerField(
        default=mins.RATERS_PER_PAIR,
        validators=[MinValueValidator(1)],
        help_text="Raters an (item, dimension) pair needs for its correlation to be reported "
        "and selectable into an item set.",
    )
    min_reliability_respondents = models.PositiveIntegerField(
        default=mins.RELIABILITY_RESPONDENTS,
        validators=[MinValueValidator(1)],
        help_text="Respondents Cronbach's α and item–total r need to be reported.",
    )
    min_group_participants = models.PositiveIntegerField(
        default=mins.GROUP_PARTICIPANTS,
        validators=[MinValueValidator(1)],
        help_text="Participants a group needs on the bias page.",
    )
    min_percentile_humans = models.PositiveIntegerField(
        default=mins.PERCENTILE_HUMANS,
        validators=[MinValueValidator(1)],
        help_text="Humans a percentile among humans needs.",
    )
    min_items_per_dimension = models.PositiveIntegerField(
        default=mins.ITEMS_PER_DIMENSION,
        validators=[MinValueValidator(1)],
        help_text="Selected items of a dimension a person must have rated for a per-person score.",
    )

    class Meta:
        verbose_name_plural = "study analysis settings"

    def __str__(self) -> str:
        return f"analysis settings of {self.study.slug}"

    @property
    def minimums(self) -> mins.Minimums:
        """This study's minimums as the pure value the statistics take."""
        return mins.Minimums(
            raters_per_pair=self.min_raters_per_pair,
            reliability_respondents=self.min_reliability_respondents,
            group_participants=self.min_group_participants,
            percentile_humans=self.min_percentile_humans,
            items_per_dimension=self.min_items_per_dimension,
        )
