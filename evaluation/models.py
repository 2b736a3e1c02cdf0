"""Evaluation models: model configurations, prompt templates, runs, responses, portraits."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from benchmark.models import ValidatedItemSet
from evaluation.fingerprints import parameters_fingerprint
from evaluation.personas import persona_key
from evaluation.providers import GenerationRequest
from evaluation.providers.batch import BATCH_DISCOUNT, BATCH_PROVIDERS
from evaluation.providers.openai_compat import default_length_parameter
from survey.language_codes import SOURCE_LANGUAGE
from survey.models import Item

ENV_NAME = RegexValidator(
    r"^[A-Z_][A-Z0-9_]*$",
    "Give the NAME of an environment variable (e.g. OPENAI_API_KEY), never the key itself.",
)


class ModelConfiguration(models.Model):
    """A model as the project calls it: provider, model id, endpoint and generation parameters.

    The API key is never stored: ``api_key_env`` names the environment variable that holds it,
    read by the worker at call time.
    """

    class Provider(models.TextChoices):
        OPENAI = "openai", "OpenAI-compatible chat completions (OpenAI, OpenRouter, vLLM, Ollama…)"
        ANTHROPIC = "anthropic", "Anthropic Messages API"
        GEMINI = "gemini", "Google Gemini generateContent"
        LOCAL = "local", "Local Hugging Face transformers model (in-process)"
        REFERENCE = "reference", "Imported reference outputs (no calls)"

    class LengthParameter(models.TextChoices):
        AUTO = "", "By model id (o1/o3/o4/gpt-5 families: max_completion_tokens)"
        MAX_TOKENS = "max_tokens", "max_tokens"
        MAX_COMPLETION_TOKENS = "max_completion_tokens", "max_completion_tokens"

    class ReasoningEffort(models.TextChoices):
        NONE = "", "Provider default"
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    name = models.CharField(max_length=100, unique=True, help_text="e.g. gpt-4o-2024-11-20")
    provider = models.CharField(max_length=10, choices=Provider.choices)
    model_id = models.CharField(
        max_length=200, help_text="The provider's model name, or the local model directory."
    )
    base_url = models.URLField(
        max_length=300,
        blank=True,
        help_text="Endpoint root, e.g. https://api.openai.com/v1 or http://127.0.0.1:8080/v1; "
        "empty uses the provider's default.",
    )
    api_key_env = models.CharField(
        max_length=100,
        blank=True,
        validators=[ENV_NAME],
        help_text="Name of the environment variable holding the API key (empty: no key).",
    )
    temperature = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(2)]
    )
    max_tokens = models.PositiveIntegerField(default=64, validators=[MinValueValidator(1)])
    length_parameter = models.CharField(
        max_length=25,
        choices=LengthParameter.choices,
        blank=True,
        default="",
        help_text="OpenAI-compatible endpoints: the request field that carries max tokens. "
        "OpenAI's reasoning models refuse max_tokens; some servers only know max_tokens.",
    )
    seed = models.BigIntegerField(null=True, blank=True)
    reasoning_effort = models.CharField(
        max_length=10, choices=ReasoningEffort.choices, blank=True, default=""
    )
    top_logprobs = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(20)],
        help_text="Request this many top log-probabilities per token (0: none). Needed for "
        "probability scoring on hosted endpoints.",
    )
    requests_per_minute = models.PositiveIntegerField(
        default=500, validators=[MinValueValidator(1)]
    )
    tokens_per_minute = models.PositiveIntegerField(default=0, help_text="0: no token limit.")
    max_concurrency = models.PositiveSmallIntegerField(
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(256)],
        help_text="Requests in flight at once for this model, across all workers.",
    )
    timeout_seconds = models.FloatField(default=60, validators=[MinValueValidator(0.1)])
    max_retries = models.PositiveSmallIntegerField(
        default=5, help_text="Retries of timeouts, 429 and 5xx (with backoff)."
    )
    input_cost_per_million = models.DecimalField(
        max_digits=10, decimal_places=4, default=0, help_text="USD per million input tokens."
    )
    output_cost_per_million = models.DecimalField(
        max_digits=10, decimal_places=4, default=0, help_text="USD per million output tokens."
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_length_parameter(self) -> str | None:
        """The length field sent to an OpenAI-compatible endpoint: as configured, else by
        model id (``None`` for the other providers)."""
        if self.provider != self.Provider.OPENAI:
            return None
        return self.length_parameter or default_length_parameter(
            self.model_id, self.reasoning_effort or None
        )

    def generation_params(self) -> dict:
        """The generation parameters as configured (what gets sent, per provider)."""
        params = {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "reasoning_effort": self.reasoning_effort or None,
            "top_logprobs": self.top_logprobs or None,
        }
        if self.effective_length_parameter:
            params["length_parameter"] = self.effective_length_parameter
        return params

    def cost_of(self, *, input_tokens: int, output_tokens: int, batched: bool = False) -> Decimal:
        """USD for these tokens at the configured prices per million (also before the
        prices were read back from the database: a float assigned is taken as written);
        ``batched``: at the provider's batch price (:data:`BATCH_DISCOUNT` taken off)."""
        input_price = Decimal(str(self.input_cost_per_million))
        output_price = Decimal(str(self.output_cost_per_million))
        cost = (
            Decimal(input_tokens) * input_price + Decimal(output_tokens) * output_price
        ) / Decimal(1_000_000)
        if batched:
            cost *= 1 - self.batch_discount
        return cost

    @property
    def batch_discount(self) -> Decimal:
        """The share of the live price a provider takes off batched requests (0: none)."""
        return BATCH_DISCOUNT.get(self.provider, Decimal(0))

    @property
    def has_batch_api(self) -> bool:
        return self.provider in BATCH_PROVIDERS


class PromptTemplate(models.Model):
    """One versioned prompt template: set × variant × style."""

    class Style(models.TextChoices):
        TITLED = "titled", "Titled post (advice column, Reddit)"
        CHAT = "chat", "Chat message"

    set_name = models.CharField(max_length=100)
    set_version = models.PositiveIntegerField(default=1)
    variant = models.CharField(max_length=40, help_text="e.g. v1, v1_reversed")
    style = models.CharField(max_length=10, choices=Style.choices)
    text = models.TextField(help_text="With placeholders {title}, {text}, {content}.")
    digit_text = models.TextField(
        blank=True, help_text="The same wording asking for a digit (probability scoring)."
    )
    option_order = models.JSONField(
        help_text="The six answer phrases (the scale's English labels, whatever the template's "
        "language) in the order listed."
    )
    language = models.CharField(
        max_length=16,
        default=SOURCE_LANGUAGE,
        help_text="The template's language: a run in a language uses its set's templates in it.",
    )
    origin = models.CharField(max_length=300, blank=True, help_text="builtin or the loaded path.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["set_name", "set_version", "language", "variant", "style"]
        constraints = [
            models.UniqueConstraint(
                fields=["set_name", "set_version", "language", "variant", "style"],
                name="prompt_template_unique_per_language",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.set_name} v{self.set_version} [{self.language}] {self.variant} ({self.style})"
        )


class EvaluationRunQuerySet(models.QuerySet):
    def active(self):
        """Runs a worker may still be working on (queued, answering or being scored)."""
        return self.filter(status__in=EvaluationRun.ACTIVE)

    def answering(self):
        """Active runs whose units may be asked (not yet being scored)."""
        return self.filter(status__in=EvaluationRun.ANSWERING)

    def done(self):
        return self.filter(status=EvaluationRun.Status.DONE)

    def newest_per_model(self):
        """Of these runs, each model configuration's newest by finish time (then id)."""
        newest = (
            self.filter(model_config=OuterRef("model_config"))
            .order_by(F("finished_at").desc(nulls_last=True), "-id")
            .values("id")[:1]
        )
        return self.filter(pk=Subquery(newest))

    def with_persona(self):
        """Runs that asked the model as one or more personas."""
        return self.exclude(personas=[])

    def with_parameters(self, fingerprint: str):
        """Runs with the same parameters (:meth:`EvaluationRun.compute_fingerprint`)."""
        return self.filter(parameters_fingerprint=fingerprint)


class EvaluationRun(models.Model):
    """Model configuration × item set × prompt variants × personas × repetitions."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft (not queued)"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SCORING = "scoring", "Scoring"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        LIVE = "live", "Run against a model"
        REFERENCE = "reference", "Imported reference outputs"

    class Scoring(models.TextChoices):
        PHRASE = "phrase", "Answer phrase (parsed)"
        PROBABILITY = "probability", "Digit with option probabilities"

    class Mode(models.TextChoices):
        LIVE = "live", "Live requests"
        BATCH = "batch", "Provider batch API (about half the price, answers within 24 h)"

    class BatchRetry(models.TextChoices):
        BATCH = "batch", "In a follow-up batch"
        LIVE = "live", "Live requests"

    class ReferenceSource(models.TextChoices):
        NONE = "", "Not imported"
        AVERAGED = "averaged", "The release's averaged outputs (paper's ratings)"
        RAW = "raw", "The release's raw answers, parsed here"

    # The one definition of "active"; runs being scored are active but ask nothing more.
    ACTIVE = (Status.QUEUED, Status.RUNNING, Status.SCORING)
    ANSWERING = tuple(sorted(set(ACTIVE) - {Status.SCORING}))
    # An active run without a new answer for this long may be re-queued (its worker died).
    STALLED_AFTER = timedelta(minutes=2)

    label = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LIVE)
    reference_source = models.CharField(
        max_length=10, choices=ReferenceSource.choices, blank=True, default=""
    )
    model_config = models.ForeignKey(
        ModelConfiguration, on_delete=models.PROTECT, related_name="runs"
    )
    item_set = models.ForeignKey(ValidatedItemSet, on_delete=models.PROTECT, related_name="runs")
    template_set = models.CharField(max_length=100, default="valueportrait-own")
    template_set_version = models.PositiveIntegerField(default=1)
    language = models.CharField(
        max_length=16,
        default=SOURCE_LANGUAGE,
        help_text="The language the items are put in: their reviewed translations and the "
        "template set's templates in this language.",
    )
    variants = models.JSONField(default=list)
    personas = models.JSONField(
        default=list, blank=True, help_text="List of persona dicts; empty: no persona."
    )
    repetitions = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    scoring = models.CharField(max_length=12, choices=Scoring.choices, default=Scoring.PHRASE)
    use_cache = models.BooleanField(default=True)
    invalid_retries = models.PositiveSmallIntegerField(
        default=2,
        validators=[MaxValueValidator(10)],
        help_text="How often an unparseable answer is asked again.",
    )
    reask_follow_up = models.BooleanField(
        default=True,
        help_text="Re-ask an unreadable answer with a follow-up turn naming the allowed answers "
        "(off: the same prompt again). For a strict replication of the paper, which did not "
        "re-ask, set invalid retries to 0.",
    )
    min_valid_probability = models.FloatField(
        default=0.5,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Probability scoring: below this share of the first token's probability on "
        "the six digits the expected rating is not used (the answer counts as invalid).",
    )
    mode = models.CharField(
        max_length=5,
        choices=Mode.choices,
        default=Mode.LIVE,
        help_text="Batch: the units go to the provider's batch API (OpenAI, Anthropic, "
        "Gemini) at its batch price; a periodic task collects the results.",
    )
    batch_retry = models.CharField(
        max_length=5,
        choices=BatchRetry.choices,
        default=BatchRetry.BATCH,
        help_text="Batch mode: how units whose request failed or expired in a batch are asked "
        "again (unreadable answers are re-asked in a follow-up batch either way).",
    )
    batch_size = models.PositiveSmallIntegerField(
        default=16, validators=[MinValueValidator(1), MaxValueValidator(256)]
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    params = models.JSONField(
        default=dict, blank=True, help_text="Generation parameters frozen when the run starts."
    )
    error = models.TextField(blank=True)
    summary = models.JSONField(
        default=dict, blank=True, help_text="Invalid counts, consistency, per-variant scores."
    )
    parameters_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="What decides the answers, hashed: runs with equal fingerprints ask the same "
        "(see evaluation.fingerprints).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = EvaluationRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.label or f"{self.model_config.name} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_answering(self) -> bool:
        return self.status in self.ANSWERING

    def persona_keys(self) -> list[str]:
        """The persona keys the run asks as (``[""]``: no persona)."""
        return [persona_key(p) for p in self.personas] or [""]

    @property
    def units_per_item(self) -> int:
        return len(self.variants) * self.repetitions * max(len(self.personas), 1)

    def expected_units(self, *, items: int | None = None) -> int:
        """Answers the run asks for: ``items`` (default: its item set's distinct items,
        one query) × variants × repetitions × personas."""
        if items is None:
            items = self.item_set.entries.values("item_id").distinct().count()
        return items * self.units_per_item

    def generation_request(self, prompt: str = "") -> GenerationRequest:
        """The request for ``prompt`` with the run's frozen generation parameters."""
        params = self.params
        return GenerationRequest(
            prompt=prompt,
            temperature=params.get("temperature"),
            max_tokens=params.get("max_tokens") or 64,
            seed=params.get("seed"),
            reasoning_effort=params.get("reasoning_effort"),
            top_logprobs=params.get("top_logprobs"),
            length_parameter=params.get("length_parameter"),
        )

    def templates(self):
        """The run's prompt templates: its template set and version, in its language."""
        return PromptTemplate.objects.filter(
            set_name=self.template_set,
            set_version=self.template_set_version,
            language=self.language,
        )

    def compute_fingerprint(self) -> str:
        """The run's parameters fingerprint: its frozen generation parameters once started,
        before that the model configuration's current ones (what starting would freeze)."""
        return parameters_fingerprint(
            model_config_id=self.model_config_id,
            generation_params=self.params or self.model_config.generation_params(),
            item_set_id=self.item_set_id,
            template_set=self.template_set,
            template_set_version=self.template_set_version,
            variants=list(self.variants),
            personas=list(self.personas),
            repetitions=self.repetitions,
            scoring=self.scoring,
            invalid_retries=self.invalid_retries,
            reask_follow_up=self.reask_follow_up,
            min_valid_probability=self.min_valid_probability,
            language=self.language,
        )

    def is_stalled(self) -> bool:
        """An active run that has written no answer for :attr:`STALLED_AFTER` (e.g. its
        worker died and the broker has not re-delivered its batches yet)."""
        if not self.is_active:
            return False
        since = timezone.now() - self.STALLED_AFTER
        if self.started_at and self.started_at > since:
            return False
        return not self.responses.filter(created_at__gte=since).exists()


class Sweep(models.Model):
    """Runs started together from one sweep file: models × item sets × template sets ×
    personas × repetitions (:mod:`evaluation.sweep_spec`). A run already done with the same
    parameters is linked, not asked again."""

    name = models.CharField(max_length=200)
    spec = models.JSONField(help_text="The sweep file as given (TOML read into JSON).")
    runs = models.ManyToManyField(EvaluationRun, related_name="sweeps", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} (sweep #{self.pk})"


class ResponseQuerySet(models.QuerySet):
    def answered(self):
        """Answers the model gave (valid or not), i.e. not failed calls."""
        return self.exclude(state=Response.State.FAILED)

    def disagreeing_with_reference(self):
        """Imported raw answers that the paper's parser and ours read differently: one
        parsed them and the other not, or both with different ratings."""
        valid = Q(state=Response.State.VALID)
        paper = Q(reference_rating__isnull=False)
        return self.answered().filter(
            (valid & ~paper) | (~valid & paper) | (valid & paper & ~Q(rating=F("reference_rating")))
        )


class Response(models.Model):
    """One answer: unique per (run, item, variant, repetition, persona), so it is written once."""

    class State(models.TextChoices):
        VALID = "valid", "Valid"
        INVALID = "invalid", "Invalid (kept, counted)"
        FAILED = "failed", "Failed (request error)"

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="responses")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="model_responses")
    variant = models.CharField(max_length=40)
    repetition = models.PositiveSmallIntegerField(default=0)
    persona = models.CharField(max_length=300, blank=True, default="")
    state = models.CharField(max_length=8, choices=State.choices)
    rating = models.FloatField(null=True, blank=True)
    label = models.CharField(max_length=40, blank=True)
    parse_method = models.CharField(
        max_length=10,
        blank=True,
        help_text="exact, tolerant, negation (read from a negated phrase), invalid, imported.",
    )
    several_options = models.BooleanField(
        default=False, help_text="The answer named two or more different options."
    )
    raw_text = models.TextField(blank=True)
    reasoning = models.TextField(blank=True)
    invalid_answers = models.JSONField(
        default=list, blank=True, help_text="Raw texts of earlier unparseable attempts."
    )
    error = models.TextField(blank=True)
    reference_rating = models.FloatField(
        null=True,
        blank=True,
        help_text="Imported raw answers: the rating the paper's parser gave (empty: it could not "
        "parse the answer).",
    )
    reference_label = models.CharField(max_length=40, blank=True)
    option_probabilities = models.JSONField(null=True, blank=True)
    expected_rating = models.FloatField(null=True, blank=True)
    valid_mass = models.FloatField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    cached = models.BooleanField(default=False)
    request_params = models.JSONField(
        default=dict, blank=True, help_text="The parameters actually sent with the request."
    )
    prompt_sha256 = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the prompt text sent (UTF-8)."
    )
    model_snapshot = models.CharField(
        max_length=200,
        blank=True,
        help_text="The model version the provider reported for this answer ('model' of "
        "OpenAI/Anthropic, 'modelVersion' of Gemini).",
    )
    batched = models.BooleanField(
        default=False, help_text="Answered through the provider's batch API (batch price)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ResponseQuerySet.as_manager()

    class Meta:
        ordering = ["run", "item", "variant", "repetition", "persona"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "item", "variant", "repetition", "persona"],
                name="response_unique_unit",
            )
        ]
        indexes = [models.Index(fields=["run", "state"])]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.item_id} {self.variant} r{self.repetition}: {self.state}"


class ProviderBatchQuerySet(models.QuerySet):
    def open(self):
        """Batches whose units are still out (not yet submitted, or submitted and not yet
        read back): their units must not be asked again."""
        return self.filter(status__in=ProviderBatch.OPEN)

    def due(self, *, now=None):
        """Open batches nobody holds (no claim, or the claim's lease ran out) and not
        polled within ``settings.EVALUATION_BATCH_POLL_SECONDS``."""
        now = now or timezone.now()
        interval = timedelta(seconds=settings.EVALUATION_BATCH_POLL_SECONDS)
        return self.open().filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            Q(polled_at__isnull=True) | Q(polled_at__lte=now - interval),
        )


class ProviderBatch(models.Model):
    """One batch of a run's units at a provider's batch API (``round`` 0: the first
    submission; 1, 2, …: follow-ups with the re-asks and retries of the round before).

    ``requests`` holds one entry per request, its custom id being ``<submission_key>-u<index>``
    (``u<index>`` for batches planned before keys existed): the unit (item, variant,
    repetition, persona), the attempt (0: first ask, k: k-th re-ask of an unreadable answer),
    the unreadable texts so far, the tokens spent so far and the batch rounds the unit has
    already failed in.

    Submission is write-ahead: the batch moves to ``submitting`` (with ``submit_started_at``)
    and that is committed before the provider is called, so a submission whose outcome we did
    not record (the worker died, the reply was lost) is looked up at the provider by its
    ``submission_key`` before anything is sent again."""

    class Status(models.TextChoices):
        PENDING = "pending", "Not yet submitted"
        SUBMITTING = "submitting", "Submission sent, not yet confirmed"
        SUBMITTED = "submitted", "At the provider"
        INGESTED = "ingested", "Results stored"
        FAILED = "failed", "Failed (units recorded as failed or retried)"
        CANCELLED = "cancelled", "Cancelled"

    OPEN = (Status.PENDING, Status.SUBMITTING, Status.SUBMITTED)

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="batches")
    round = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    provider = models.CharField(max_length=10)
    submission_key = models.CharField(
        max_length=40, blank=True, default="",
        help_text="Our own key of the submission, sent to the provider (OpenAI metadata, "
        "Gemini display name, Anthropic custom ids) so that an unconfirmed submission is found "
        "there instead of being sent twice.",
    )  # fmt: skip
    submit_started_at = models.DateTimeField(
        null=True, blank=True, help_text="When the (last) submission call was about to be made."
    )
    provider_batch_id = models.CharField(max_length=200, blank=True)
    input_file_id = models.CharField(max_length=200, blank=True)
    provider_state = models.CharField(max_length=40, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="The provider's counts.")
    requests = models.JSONField(default=list)
    request_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = ProviderBatchQuerySet.as_manager()

    class Meta:
        ordering = ["run", "round", "id"]
        indexes = [models.Index(fields=["status", "polled_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["submission_key"],
                condition=~Q(submission_key=""),
                name="provider_batch_submission_key_unique",
            )  # fmt: skip
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} batch {self.pk} (round {self.round}): {self.status}"


class PortraitScoreQuerySet(models.QuerySet):
    def of_done_runs(self):
        return self.filter(run__status=EvaluationRun.Status.DONE)


class PortraitScore(models.Model):
    """One dimension's score in a run's portrait (per persona and scoring basis)."""

    class Basis(models.TextChoices):
        ANSWER = "answer", "Parsed answers"
        PROBABILITY = "probability", "Expected rating from option probabilities"

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="scores")
    persona = models.CharField(max_length=300, blank=True, default="")
    basis = models.CharField(max_length=12, choices=Basis.choices, default=Basis.ANSWER)
    family = models.CharField(max_length=20)
    dimension = models.CharField(max_length=40)
    raw = models.FloatField(null=True)
    sd = models.FloatField(null=True)
    n = models.PositiveIntegerField()
    family_mean = models.FloatField(null=True)
    centred = models.FloatField(null=True)

    objects = PortraitScoreQuerySet.as_manager()

    class Meta:
        ordering = ["run", "persona", "basis", "family", "dimension"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "persona", "basis", "family", "dimension"],
                name="portrait_score_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.dimension} {self.centred}"


class CachedResponseQuerySet(models.QuerySet):
    def fresh(self):
        """Entries young enough to be served: all of them unless
        ``settings.EVALUATION_CACHE_MAX_AGE_DAYS`` sets an expiry."""
        days = getattr(settings, "EVALUATION_CACHE_MAX_AGE_DAYS", 0)
        if not days:
            return self
        return self.filter(created_at__gte=timezone.now() - timedelta(days=days))


class CachedResponse(models.Model):
    """A provider answer keyed by provider, model, base URL, full parameters, prompt,
    repetition and re-ask attempt."""

    key = models.CharField(max_length=64, unique=True)
    provider = models.CharField(max_length=10)
    model_id = models.CharField(max_length=200)
    base_url = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(help_text="text, reasoning, token log-probabilities, usage.")
    hits = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CachedResponseQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.provider}:{self.model_id} {self.key[:12]}"
