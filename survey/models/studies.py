"""Studies, their participants, and everything a participant answers."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from survey import counting, quality, scale
from survey.instruments import dimensions as dims

from .instruments import Instrument
from .item_bank import Item

DEFAULT_DEMOGRAPHIC_FIELDS = ["age", "gender", "country", "education", "first_language"]
PREVIEW_LIFETIME = timedelta(days=1)
PROLIFIC_COMPLETION_URL = "https://app.prolific.com/submissions/complete?cc={code}"
# Values instruments first (the paper's order), then traits; unknown codes last.
INSTRUMENT_ORDER = {"pvq_rr": 0, "pvq21": 1, "bfi10": 2}

# English source text; shown in the participant's language through the message catalogue.
DEFAULT_ATTENTION_CHECK_WORDING = gettext_noop(
    "This is an attention check. To show that you are reading carefully, "
    "please choose “{label}” for this statement."
)


def default_demographic_fields() -> list[str]:
    return list(DEFAULT_DEMOGRAPHIC_FIELDS)


# The study's own texts that may be given per language in ``Study.translations``.
TRANSLATABLE_TEXTS = ("title", "description", "consent_text", "attention_check_wording")
# ... and the scale's six labels as a list (lowest first), in place of the catalogue's.
SCALE_LABELS = "scale_labels"


def scale_labels(translations: dict | None, language: str) -> list[str]:
    """The six answer labels of the item scale in ``language``, lowest first: the study's own
    (``Study.translations[language]["scale_labels"]``) when given, else the scale's labels
    through the message catalogue of the active language."""
    own = ((translations or {}).get(language) or {}).get(SCALE_LABELS)
    return list(own) if own else [gettext(label) for label in scale.LABELS]


def translated_text(translations: dict | None, name: str, language: str, fallback: str) -> str:
    """A study's text ``name`` in ``language``: its translation in ``translations`` (the
    ``Study.translations`` shape) when given, else ``fallback`` (the field, written in the
    study's own language)."""
    translated = ((translations or {}).get(language) or {}).get(name)
    return translated if translated else fallback


def attention_check_instruction(
    *, wording: str, translations: dict | None, language: str, expected_value: int
) -> str:
    """The instruction of an attention check whose required answer is ``expected_value``, in
    the active language: the study's translated wording for ``language`` when given; the
    shipped default wording from the message catalogue; else the study's own wording. The
    label is the one the page shows (``scale_labels``)."""
    if wording == DEFAULT_ATTENTION_CHECK_WORDING:
        wording = gettext(DEFAULT_ATTENTION_CHECK_WORDING)
    wording = translated_text(translations, "attention_check_wording", language, wording)
    scale.label_of(expected_value)  # ValueError off the scale
    label = scale_labels(translations, language)[expected_value - scale.MIN]
    return wording.replace("{label}", label)


def shipped_languages() -> list[str]:
    """Codes of the languages the participant pages have a message catalogue for
    (``settings.LANGUAGES``)."""
    return [code for code, _name in settings.LANGUAGES]


def new_pseudonym() -> str:
    """A public participant id for exports and dashboards (never the Prolific id)."""
    return "P-" + secrets.token_hex(5).upper()


class StudyQuerySet(models.QuerySet):
    def listed(self) -> "StudyQuerySet":
        """The studies researchers work with: previews (throwaway copies a researcher is
        trying as a participant, ``preview_of`` set) left out of every list and statistic."""
        return self.filter(preview_of__isnull=True)

    def previews_expired(self, *, now: datetime | None = None) -> "StudyQuerySet":
        """Previews older than ``PREVIEW_LIFETIME``: deleted when the next preview starts."""
        return self.filter(
            preview_of__isnull=False, created_at__lt=(now or timezone.now()) - PREVIEW_LIFETIME
        )


class Study(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        PAUSED = "paused", "Paused"
        CLOSED = "closed", "Closed"

    class PvqForm(models.TextChoices):
        AUTO = "auto", "Match the participant's gender (female form for women, male otherwise)"
        MALE = "male", "Always the male form"
        FEMALE = "female", "Always the female form"

    title = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    item_pool = models.ManyToManyField(Item, blank=True, related_name="studies")
    items_per_participant = models.PositiveSmallIntegerField(
        default=40, validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    target_ratings_per_item = models.PositiveIntegerField(
        default=50, validators=[MinValueValidator(1)]
    )
    instruments = models.ManyToManyField(Instrument, blank=True, related_name="studies")
    pvq_form = models.CharField(max_length=10, choices=PvqForm.choices, default=PvqForm.AUTO)
    demographic_fields = models.JSONField(
        default=default_demographic_fields,
        blank=True,
        help_text="Which demographic questions to ask: any of "
        + ", ".join(DEFAULT_DEMOGRAPHIC_FIELDS),
    )
    consent_text = models.TextField(blank=True)
    language = models.CharField(
        max_length=15,
        default="en",
        help_text="The study's language: its pages and items are in it unless a participant "
        "chooses another of its offered languages.",
    )
    languages = models.JSONField(
        default=list,
        blank=True,
        help_text="Further languages participants may choose (codes from settings.LANGUAGES, "
        'e.g. ["de", "ko"]); a link may carry ?lang=xx.',
    )
    translations = models.JSONField(
        default=dict,
        blank=True,
        help_text='The study\'s own texts per language, e.g. {"de": {"title": "…", '
        '"consent_text": "…", "attention_check_wording": "…{label}…"}}; texts not given '
        "fall back to the fields above.",
    )
    uses_prolific = models.BooleanField(
        default=True, help_text="Participants arrive from Prolific and return there at the end."
    )
    completion_code = models.CharField(max_length=64, blank=True)
    no_consent_code = models.CharField(max_length=64, blank=True)
    screened_out_code = models.CharField(max_length=64, blank=True)
    completion_redirect_url = models.CharField(
        max_length=500,
        blank=True,
        default=PROLIFIC_COMPLETION_URL,
        help_text="Where to send participants at the end; {code} is replaced by the code. "
        "Leave empty for no redirect.",
    )
    time_limit_minutes = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(1)],
        help_text="After this long without finishing, a participant's item lease expires.",
    )
    allow_placeholder_wording = models.BooleanField(
        default=False,
        help_text="Open the study to real participants even though an instrument still has "
        "the project's placeholder wording (for demos and pilots only).",
    )
    exclude_flagged_participants = models.BooleanField(
        default=True,
        help_text="Leave participants with quality flags out of the statistics.",
    )
    is_imported = models.BooleanField(
        default=False, help_text="Imported from a data release; takes no live participants."
    )
    attention_check_count = models.PositiveSmallIntegerField(
        default=3,
        validators=[MaxValueValidator(20)],
        help_text="Instructed-response checks interleaved with the items.",
    )
    attention_check_wording = models.TextField(
        default=DEFAULT_ATTENTION_CHECK_WORDING,
        help_text="Text of a check; {label} is replaced by the answer the participant must pick.",
    )
    attention_failures_to_screen_out = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1)],
        help_text="Failed checks that end the session. Prolific studies never use fewer than 2.",
    )
    speeder_fraction = models.FloatField(
        default=0.4,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Flag as speeder when the total time is under this fraction of the median.",
    )
    straightlining_threshold = models.FloatField(
        default=0.8,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Flag straight-lining when this share of consecutive item answers is identical.",
    )
    min_seconds_per_item = models.FloatField(
        default=quality.MIN_SECONDS_PER_ITEM,
        validators=[MinValueValidator(0.0)],
        help_text="Least plausible seconds on an item page; a longer item needs its words read "
        "at the skimming pace below. Flag too_fast when over half the items are quicker.",
    )
    min_seconds_per_question = models.FloatField(
        default=quality.MIN_SECONDS_PER_QUESTION,
        validators=[MinValueValidator(0.0)],
        help_text="Least plausible seconds per questionnaire question (a page needs this times "
        "its questions). Flag too_fast when over half the pages are quicker.",
    )
    fast_reading_wpm = models.PositiveIntegerField(
        default=quality.FAST_READING_WORDS_PER_MINUTE,
        validators=[MinValueValidator(50)],
        help_text="Skimming pace in words per minute: an item page read faster was not read.",
    )
    questions_per_page = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="Questionnaire questions shown per page.",
    )
    preview_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="previews",
        help_text="Set on a throwaway copy a researcher takes as a participant ("
        "survey.services.study_setup.start_preview); nothing in it counts for the study.",
    )
    preview_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The settings the quality flags are computed from: changing one recomputes the flags.
    QUALITY_RULE_FIELDS = (
        "speeder_fraction",
        "straightlining_threshold",
        "min_seconds_per_item",
        "min_seconds_per_question",
        "fast_reading_wpm",
    )

    objects = StudyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return self.title

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        loaded = dict(zip(field_names, values, strict=True))
        if all(name in loaded for name in cls.QUALITY_RULE_FIELDS):
            instance._loaded_quality_rules = tuple(loaded[n] for n in cls.QUALITY_RULE_FIELDS)
        return instance

    def refresh_from_db(self, using=None, fields=None, from_queryset=None) -> None:
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        if fields is None or set(self.QUALITY_RULE_FIELDS) <= set(fields):
            self.mark_quality_rules_saved()

    def quality_rules(self) -> tuple:
        return tuple(getattr(self, name) for name in self.QUALITY_RULE_FIELDS)

    def quality_rules_changed(self) -> bool:
        """True when a quality rule differs from the values read from the database (a study
        not read from the database, or read without those fields, has nothing to compare)."""
        loaded = getattr(self, "_loaded_quality_rules", None)
        return loaded is not None and loaded != self.quality_rules()

    def mark_quality_rules_saved(self) -> None:
        self._loaded_quality_rules = self.quality_rules()

    def clean(self) -> None:
        """Languages must be shipped ones (``settings.LANGUAGES``); translated texts may only
        name an offered language and a translatable text (``TRANSLATABLE_TEXTS``)."""
        shipped = shipped_languages()
        problems = {}
        if self.language not in shipped:
            problems["language"] = gettext("{code} is not one of {codes}.").format(
                code=repr(self.language), codes=", ".join(shipped)
            )
        if not isinstance(self.languages, list) or any(
            code not in shipped for code in self.languages
        ):
            problems["languages"] = gettext("A list of language codes among {codes}.").format(
                codes=", ".join(shipped)
            )
        if not isinstance(self.translations, dict):
            problems["translations"] = gettext("An object of language codes, each with its texts.")
        else:
            offered = set(self.offered_languages())
            for code, texts in self.translations.items():
                if code not in offered:
                    problems["translations"] = gettext(
                        "{code} is not a language this study offers."
                    ).format(code=repr(code))
                elif not isinstance(texts, dict) or set(texts) - {
                    *TRANSLATABLE_TEXTS,
                    SCALE_LABELS,
                }:
                    problems["translations"] = gettext(
                        "The texts of {code} may be: {names}."
                    ).format(code=repr(code), names=", ".join([*TRANSLATABLE_TEXTS, SCALE_LABELS]))
                elif SCALE_LABELS in texts and not (
                    isinstance(texts[SCALE_LABELS], list)
                    and len(texts[SCALE_LABELS]) == scale.MAX
                    and all(isinstance(x, str) and x.strip() for x in texts[SCALE_LABELS])
                ):
                    problems["translations"] = gettext(
                        "The scale labels of {code} must be {n} texts, lowest first."
                    ).format(code=repr(code), n=scale.MAX)
        if problems:
            raise ValidationError(problems)

    def offered_languages(self) -> list[str]:
        """The languages participants may take the study in: its own language first, then
        the further ``languages`` (each once)."""
        offered = [self.language]
        for code in self.languages or []:
            if code not in offered:
                offered.append(code)
        return offered

    def language_for(self, requested: str | None) -> str:
        """The offered language a participant asking for ``requested`` gets (e.g. a link's
        ``?lang=``): that language if offered (``de-AT`` matches an offered ``de``), else
        the study's own language."""
        if requested:
            requested = requested.strip().lower()
            offered = self.offered_languages()
            for candidate in (requested, requested.split("-")[0]):
                if candidate in offered:
                    return candidate
        return self.language

    def text_in(self, name: str, language: str) -> str:
        """The study's own text ``name`` (one of ``TRANSLATABLE_TEXTS``) in ``language``:
        its translation when given, else the field itself (written in the study's language)."""
        return translated_text(self.translations, name, language, getattr(self, name))

    @property
    def is_preview(self) -> bool:
        return self.preview_of_id is not None

    def placeholder_instruments(self) -> list[Instrument]:
        return [i for i in self.instruments.all() if i.is_placeholder]

    def refusal_reason(self) -> str | None:
        """Why real participants cannot enter now, or None when they can."""
        if self.is_imported:
            return gettext("This study was imported from a data release and takes no participants.")
        if self.status != self.Status.OPEN:
            return {
                self.Status.DRAFT: gettext_lazy("This study has not opened yet."),
                self.Status.PAUSED: gettext_lazy(
                    "This study is paused at the moment. Please try again later."
                ),
                self.Status.CLOSED: gettext_lazy(
                    "This study has closed. Thank you for your interest."
                ),
            }[self.status]
        gaps = self.instrument_gaps()
        if gaps:
            return gettext(
                "This study is not ready: a questionnaire has no wording in one of its "
                "languages ({gaps}). The researcher must load it "
                "(manage.py load_instrument FILE --language CODE) and add it to the study."
            ).format(gaps=", ".join(gaps))
        if self.placeholder_instruments() and not self.allow_placeholder_wording:
            return gettext(
                "This study is not ready: a questionnaire still has placeholder wording. "
                "The researcher must load the licensed wording or allow placeholders explicitly."
            )
        return None

    def instruments_in_order(self, language: str | None = None) -> list[Instrument]:
        """The study's instruments worded in ``language`` (default: the study's own), in
        the order participants meet them (values first, then traits). The study's
        instruments are read once per study instance: a request asks for them several
        times."""
        every = getattr(self, "_every_instrument", None)
        if every is None:
            every = sorted(self.instruments.all(), key=lambda i: INSTRUMENT_ORDER.get(i.code, 9))
            self._every_instrument = every
        language = language or self.language
        return [i for i in every if i.language == language]

    def instrument_gaps(self) -> list[str]:
        """ "<instrument> in <language>" for each instrument the study asks in one of its
        languages but has no wording of in another (empty when every language is complete)."""
        codes = {i.code for i in self.instruments_in_order(self.language)}
        for language in self.offered_languages():
            codes |= {i.code for i in self.instruments_in_order(language)}
        gaps = []
        for language in self.offered_languages():
            have = {i.code for i in self.instruments_in_order(language)}
            gaps += [f"{code} in {language!r}" for code in sorted(codes - have)]
        return gaps

    def item_loads(
        self, *, now: datetime, language: str | None = None
    ) -> tuple[list[int], list[int]]:
        """Pool item ids (ascending) and their loads at ``now``, from one query.

        An item's load is its assignments in this study that are completed or still leased
        (not released, not expired): what the balanced design equalises. With ``language``
        only the pool items that may be served in it count (``Item.objects.servable_in``),
        loaded by the participants taking the study in it: each language gets its own
        ``target_ratings_per_item`` raters, since its correlations are computed on its own."""
        counted = Q(assignments__participant__study=self) & (
            Q(assignments__completed_at__isnull=False)
            | Q(assignments__released_at__isnull=True, assignments__expires_at__gt=now)
        )
        pool = self.item_pool.all()
        if language is not None:
            pool = pool.servable_in(language)
            speakers = [language, ""] if language == self.language else [language]
            counted &= Q(assignments__participant__language__in=speakers)
        rows = pool.annotate(load=Count("assignments", filter=counted)).order_by("pk")
        ids, loads = [], []
        for pk, load in rows.values_list("pk", "load"):
            ids.append(pk)
            loads.append(load)
        return ids, loads

    def has_room(self, *, now: datetime | None = None, language: str | None = None) -> bool:
        """True while some pool item still needs ratings (below the target per item) in
        ``language``, or, without one, in any language the study offers."""
        now = now or timezone.now()
        for code in [language] if language else self.offered_languages():
            _, loads = self.item_loads(now=now, language=code)
            if any(load < self.target_ratings_per_item for load in loads):
                return True
        return False

    def pvq_form_for(self, *, gender: str | None) -> str:
        """The PVQ form (``male``/``female``) a participant of ``gender`` answers."""
        if self.pvq_form in (self.PvqForm.MALE, self.PvqForm.FEMALE):
            return self.pvq_form
        return self.PvqForm.FEMALE if gender == "female" else self.PvqForm.MALE

    def attention_check_text(self, expected_value: int, language: str | None = None) -> str:
        """The instruction of an attention check whose required answer is ``expected_value``
        (``attention_check_instruction``; ``language`` defaults to the study's)."""
        language = language or self.language
        with translation.override(language):
            return attention_check_instruction(
                wording=self.attention_check_wording,
                translations=self.translations,
                language=language,
                expected_value=expected_value,
            )

    @property
    def screen_out_after(self) -> int:
        """Failed attention checks that end a session (Prolific's rule: at least two)."""
        if self.uses_prolific:
            return max(2, self.attention_failures_to_screen_out)
        return self.attention_failures_to_screen_out

    def completion_url(self, code: str) -> str:
        if not self.completion_redirect_url:
            return ""
        return self.completion_redirect_url.replace("{code}", code)


class ParticipantQuerySet(models.QuerySet):
    """The recurring questions about participants (one definition each)."""

    def finished(self) -> "ParticipantQuerySet":
        """Participants whose answers are all there: completed here, or imported from a release."""
        return self.filter(status__in=Participant.FINISHED_STATUSES)

    def flagged(self) -> "ParticipantQuerySet":
        """Participants with at least one raised quality flag (``quality_flags["flags"]``)."""
        return self.filter(self.flagged_condition())

    def unflagged(self) -> "ParticipantQuerySet":
        return self.exclude(self.flagged_condition())

    def counted(self, study: "Study") -> "ParticipantQuerySet":
        """The study's participants that enter its statistics: finished, and without quality
        flags when the study excludes flagged participants."""
        participants = self.filter(study=study).finished()
        if study.exclude_flagged_participants:
            participants = participants.unflagged()
        return participants

    def in_language(self, language: str) -> "ParticipantQuerySet":
        """Participants who took their study in ``language``: recorded at consent, or, for
        those with none recorded (imported, or from before studies had languages), their
        study's own language."""
        return self.filter(Q(language=language) | Q(language="", study__language=language))

    def stale(self, *, now: datetime | None = None) -> "ParticipantQuerySet":
        """In-progress participants whose item lease has run out (timed out in all but name)."""
        return self.filter(
            status=Participant.Status.IN_PROGRESS, expires_at__lte=now or timezone.now()
        )

    @staticmethod
    def flagged_condition(prefix: str = "") -> Q:
        """The "has a raised flag" condition; ``prefix`` (e.g. ``"participant__"``) applies it
        through a relation."""
        return Q(**{f"{prefix}quality_flags__has_key": "flags"}) & ~Q(
            **{f"{prefix}quality_flags__flags": []}
        )


class Participant(models.Model):
    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        SCREENED_OUT = "screened_out", "Screened out"
        TIMED_OUT = "timed_out", "Timed out"
        RETURNED = "returned", "Returned"
        NO_CONSENT = "no_consent", "Declined consent"
        IMPORTED = "imported", "Imported"

    class Origin(models.TextChoices):
        PROLIFIC = "prolific", "Prolific"
        LINK = "link", "Plain link"
        IMPORTED = "imported", "Imported"

    # Answered everything: completed here, or imported from a release (survey.counting).
    FINISHED_STATUSES = counting.FINISHED_STATUSES

    # Indexed by the unique (study, external_id).
    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="participants", db_index=False
    )
    external_id = models.CharField(
        max_length=128, help_text="PROLIFIC_PID, a panel's id, or a generated id."
    )
    pseudonym = models.CharField(max_length=20, unique=True, default=new_pseudonym, editable=False)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.LINK)
    prolific_study_id = models.CharField(max_length=64, blank=True)
    prolific_session_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=15, choices=Status.choices, default=Status.IN_PROGRESS, db_index=True
    )
    pvq_form = models.CharField(max_length=10, blank=True)
    language = models.CharField(
        max_length=15,
        blank=True,
        help_text="The language the participant took the study in (chosen at consent).",
    )
    demographics = models.JSONField(default=dict, blank=True)
    quality_flags = models.JSONField(
        default=dict,
        blank=True,
        help_text='Quality metrics, with the names of raised flags under "flags".',
    )
    metadata = models.JSONField(
        default=dict, blank=True, help_text="Provenance, e.g. the release's survey groups."
    )
    started_at = models.DateTimeField(default=timezone.now)
    consented_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="End of the item lease (consent time + time limit)."
    )

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        ordering = ["study", "started_at"]
        permissions = [
            ("view_raw_participant_ids", "Can see raw panel ids (e.g. PROLIFIC_PID)"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "external_id"], name="participant_unique_per_study"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pseudonym} ({self.study.slug})"

    @property
    def flags(self) -> list[str]:
        """Names of the quality flags raised (``quality_flags["flags"]``; metrics sit beside it)."""
        return list((self.quality_flags or {}).get("flags", []))

    @property
    def is_flagged(self) -> bool:
        return bool(self.flags)

    @property
    def is_excluded(self) -> bool:
        """Left out of the statistics for its quality flags (the study says so)."""
        return self.is_flagged and self.study.exclude_flagged_participants

    @property
    def study_language(self) -> str:
        """The language this participant takes the study in: recorded at consent, else (no
        language recorded: imported, or from before studies had languages) the study's own.
        ``Participant.objects.in_language`` is the same rule in SQL."""
        return self.language or self.study.language

    def instruments(self) -> list[Instrument]:
        """The study's instruments in this participant's language, in order."""
        return self.study.instruments_in_order(self.study_language)

    def form_of(self, instrument: Instrument) -> str:
        """The form of ``instrument`` this participant answers (their PVQ form when the
        instrument has it, else the instrument's only form)."""
        forms = instrument.key.forms
        return self.pvq_form if self.pvq_form in forms else forms[0]


class ItemRating(models.Model):
    """A participant's 1–6 rating of an item; at most one per participant and item."""

    # Indexed by the unique (participant, item): a second index would only cost each answer.
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="ratings", db_index=False
    )
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="ratings")
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(scale.MIN), MaxValueValidator(scale.MAX)]
    )
    created_at = models.DateTimeField(default=timezone.now, help_text="Server time of the answer.")
    response_time_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["participant", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "item"], name="rating_unique_per_item"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=scale.MIN, rating__lte=scale.MAX),
                name="rating_in_scale",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} rated {self.item_id}: {self.rating}"


class InstrumentResponse(models.Model):
    """One answer to one questionnaire item (scale checked against the instrument's key)."""

    # Indexed by the unique (participant, instrument, item_number).
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="instrument_responses", db_index=False
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="responses")
    item_number = models.PositiveSmallIntegerField()
    value = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    response_time_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["participant", "instrument", "item_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "instrument", "item_number"],
                name="instrument_response_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(value__gte=1, value__lte=6), name="instrument_value_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.instrument_id}#{self.item_number}={self.value}"


class ParticipantScore(models.Model):
    """A participant's score on one dimension: centred for values, raw for traits."""

    class Origin(models.TextChoices):
        COMPUTED = "computed", "Computed from answers"
        IMPORTED = "imported", "Imported"

    FAMILY_CHOICES = [(f, dims.FAMILY_LABELS[f]) for f in dims.FAMILIES]

    # Indexed by the unique (participant, family, dimension).
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="scores", db_index=False
    )
    family = models.CharField(max_length=20, choices=FAMILY_CHOICES)
    dimension = models.CharField(max_length=40)
    score = models.FloatField(help_text="Centred (MRAT) for values, raw mean for traits.")
    raw_score = models.FloatField(null=True, blank=True)
    instrument_code = models.CharField(max_length=10, blank=True)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.COMPUTED)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["participant", "family", "dimension"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "family", "dimension"], name="score_unique_per_dimension"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.dimension}={self.score:.3f}"
