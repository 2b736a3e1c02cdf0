"""The researcher's study setup form (``/studies/new/``, ``/studies/<slug>/edit/``).

Every setting a study has, grouped as on the page, with choices instead of raw JSON:
demographic questions and instruments are checkboxes, languages a list. The item pool comes
from an uploaded CSV file (``survey.item_csv``), read and imported by
``survey.services.study_setup.save_study``.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.text import slugify

from survey.forms import DEMOGRAPHIC_QUESTIONS
from survey.item_csv import MAX_ROWS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from survey.models import Instrument, Study
from survey.services.study_setup import PREVIEW_SLUG_PREFIX

MAX_CSV_BYTES = 10 * 1024 * 1024
RESERVED_SLUGS = {"new"}  # /studies/new/ is the creation page

# (legend, fields) as the page shows them.
SECTIONS = (
    ("Study", ("title", "slug", "description", "language", "languages")),
    (
        "Items",
        ("item_csv", "items_per_participant", "target_ratings_per_item", "time_limit_minutes"),
    ),
    (
        "Questions about the participant and questionnaires",
        (
            "demographic_fields",
            "instruments",
            "pvq_form",
            "allow_placeholder_wording",
            "questions_per_page",
        ),
    ),
    (
        "Consent, codes and Prolific",
        (
            "consent_text",
            "uses_prolific",
            "completion_code",
            "no_consent_code",
            "screened_out_code",
            "completion_redirect_url",
        ),
    ),
    (
        "Attention checks and quality flags",
        (
            "attention_check_count",
            "attention_check_wording",
            "attention_failures_to_screen_out",
            "speeder_fraction",
            "straightlining_threshold",
            "min_seconds_per_item",
            "min_seconds_per_question",
            "fast_reading_wpm",
            "exclude_flagged_participants",
        ),
    ),
)


class StudySetupForm(forms.ModelForm):
    demographic_fields = forms.MultipleChoiceField(
        choices=list(DEMOGRAPHIC_QUESTIONS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Demographic questions",
        help_text="Asked once, after consent; none ticked: the page is skipped.",
    )
    instruments = forms.ModelMultipleChoiceField(
        queryset=Instrument.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Questionnaires",
    )
    languages = forms.MultipleChoiceField(
        choices=settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Further languages participants may choose",
    )
    language = forms.ChoiceField(choices=settings.LANGUAGES, label="Language of the study")
    item_csv = forms.FileField(
        required=False,
        label="Item pool (CSV file)",
        help_text=(
            f"One row per item, a header row with the columns {', '.join(REQUIRED_COLUMNS)} "
            f"(optional: {', '.join(OPTIONAL_COLUMNS)}); UTF-8, at most {MAX_ROWS} rows. "
            "The items are added to the pool; a file with any problem adds nothing and the "
            "problems are listed by row."
        ),
    )

    class Meta:
        model = Study
        fields = [name for _, names in SECTIONS for name in names if name != "item_csv"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "consent_text": forms.Textarea(attrs={"rows": 5}),
            "attention_check_wording": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        creating = self.instance.pk is None
        if creating and not self.is_bound:
            # Fields declared here (choices instead of JSON) start from the model's defaults.
            for name in ("demographic_fields", "languages", "language"):
                self.fields[name].initial = getattr(self.instance, name)
        if not creating:
            # Participants and Prolific already hold the study's URL: its slug stays.
            self.fields.pop("slug")
        else:
            self.fields["item_csv"].required = True
            self.fields["slug"].required = False
            self.fields[
                "slug"
            ].help_text = "The study's address: /s/<slug>/. Left empty, it is made from the title."
        self.sections = [
            (legend, [self[name] for name in names if name in self.fields])
            for legend, names in SECTIONS
        ]

    def clean_slug(self) -> str:
        slug = self.cleaned_data.get("slug") or slugify(self.cleaned_data.get("title", ""))[:50]
        if slug in RESERVED_SLUGS or slug.startswith(PREVIEW_SLUG_PREFIX):
            raise forms.ValidationError(f"{slug!r} is reserved; choose another.")
        return slug

    def clean_demographic_fields(self) -> list[str]:
        chosen = set(self.cleaned_data.get("demographic_fields") or [])
        return [name for name in DEMOGRAPHIC_QUESTIONS if name in chosen]  # the asking order

    def clean_item_csv(self) -> bytes | None:
        upload = self.cleaned_data.get("item_csv")
        if not upload:
            return None
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB."
            )
        return upload.read()
