"""Forms of the staff pages: model configurations and new runs."""

from __future__ import annotations

from django import forms

from benchmark.models import ValidatedItemSet
from evaluation.parsing import DEFAULT_MIN_VALID_PROBABILITY
from evaluation.personas import PersonaError, parse_persona_key, validate_persona
from evaluation.prompts.builtin import BUILTIN_LANGUAGES, BUILTIN_VARIANTS, SET_NAME, SET_VERSION

from .models import EvaluationRun, ModelConfiguration, PromptTemplate
from .selectors import persona_options


class ModelConfigurationForm(forms.ModelForm):
    base_url = forms.URLField(
        required=False,
        max_length=300,
        assume_scheme="https",
        help_text=ModelConfiguration._meta.get_field("base_url").help_text,
    )

    class Meta:
        model = ModelConfiguration
        fields = [
            "name", "provider", "model_id", "base_url", "api_key_env", "temperature",
            "max_tokens", "length_parameter", "seed", "reasoning_effort", "top_logprobs",
            "requests_per_minute", "tokens_per_minute", "max_concurrency", "timeout_seconds",
            "max_retries", "input_cost_per_million", "output_cost_per_million", "notes",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [
            c
            for c in self.fields["provider"].choices
            if c[0] != ModelConfiguration.Provider.REFERENCE
        ]

    def clean(self):
        data = super().clean()
        provider = data.get("provider")
        if provider == ModelConfiguration.Provider.LOCAL and data.get("base_url"):
            self.add_error(
                "base_url", "A local model has no base URL: give its directory as model id."
            )
        return data


def template_sets() -> list[tuple[str, str]]:
    sets = PromptTemplate.objects.values_list("set_name", "set_version").distinct()
    choices = {f"{SET_NAME}:{SET_VERSION}": f"{SET_NAME} v{SET_VERSION} (the project's own)"}
    for name, version in sets.order_by("set_name", "set_version"):
        choices.setdefault(f"{name}:{version}", f"{name} v{version}")
    return list(choices.items())


class RunForm(forms.Form):
    model_config = forms.ModelChoiceField(
        queryset=ModelConfiguration.objects.exclude(provider=ModelConfiguration.Provider.REFERENCE),
        label="Model",
    )
    item_set = forms.ModelChoiceField(
        queryset=ValidatedItemSet.objects.all(), label="Validated item set"
    )
    template_set = forms.ChoiceField(label="Prompt templates")
    variants = forms.MultipleChoiceField(
        choices=[(v, v) for v in BUILTIN_VARIANTS],
        initial=list(BUILTIN_VARIANTS),
        widget=forms.CheckboxSelectMultiple,
        help_text="Wordings v1-v3, each with the options in normal and reversed order.",
    )
    personas = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, e.g. age=30-44;gender=woman;country=Germany. Empty: no persona.",
    )
    repetitions = forms.IntegerField(min_value=1, max_value=20, initial=1)
    scoring = forms.ChoiceField(choices=EvaluationRun.Scoring.choices, initial="phrase")
    invalid_retries = forms.IntegerField(
        min_value=0,
        max_value=10,
        initial=2,
        help_text="How often an unparseable answer is asked again.",
    )
    reask_follow_up = forms.BooleanField(
        required=False,
        initial=True,
        label="Re-ask with a follow-up",
        help_text="An unreadable answer is asked again with a turn naming the allowed answers "
        "(off: the same prompt again; 0 retries replicates the paper, which did not re-ask).",
    )
    min_valid_probability = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        initial=0.5,
        label="Minimum valid probability",
        help_text="Probability scoring: an answer whose first token puts less than this share "
        "of its probability on the six digits is counted invalid, its expected rating unused.",
    )
    use_cache = forms.BooleanField(
        required=False, initial=True, help_text="Reuse stored answers to identical requests."
    )
    mode = forms.ChoiceField(
        required=False,
        choices=EvaluationRun.Mode.choices,
        initial=EvaluationRun.Mode.LIVE,
        help_text="Batch: the provider's batch API (OpenAI, Anthropic, Gemini) at its batch "
        "price; results are collected by a periodic task, usually within hours.",
    )
    batch_retry = forms.ChoiceField(
        required=False,
        choices=EvaluationRun.BatchRetry.choices,
        initial=EvaluationRun.BatchRetry.BATCH,
        label="Batch mode: retry failed requests",
        help_text="Requests that failed or expired in a batch are asked again in a follow-up "
        "batch or live.",
    )
    language = forms.ChoiceField(
        required=False,
        initial="en",
        help_text="Put the items in this language: their reviewed translations, in the "
        "template set's templates in it. Other languages than English need probability "
        "scoring (answers are read as digits).",
    )
    label = forms.CharField(required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template_set"].choices = template_sets()
        languages = set(PromptTemplate.objects.values_list("language", flat=True))
        self.fields["language"].choices = [
            (code, code) for code in sorted(languages | set(BUILTIN_LANGUAGES))
        ]
        variants = sorted(
            set(PromptTemplate.objects.values_list("variant", flat=True)) | set(BUILTIN_VARIANTS)
        )
        self.fields["variants"].choices = [(v, v) for v in variants]

    def clean_language(self) -> str:
        return self.cleaned_data["language"] or "en"

    def clean_personas(self) -> list[dict]:
        lines = [
            line.strip() for line in self.cleaned_data["personas"].splitlines() if line.strip()
        ]
        try:
            options = persona_options()
            return [validate_persona(parse_persona_key(line), options) for line in lines]
        except PersonaError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_min_valid_probability(self) -> float:
        value = self.cleaned_data["min_valid_probability"]
        return DEFAULT_MIN_VALID_PROBABILITY if value is None else value

    def clean_mode(self) -> str:
        return self.cleaned_data["mode"] or EvaluationRun.Mode.LIVE

    def clean_batch_retry(self) -> str:
        return self.cleaned_data["batch_retry"] or EvaluationRun.BatchRetry.BATCH

    def clean_template_set(self) -> tuple[str, int]:
        name, _, version = self.cleaned_data["template_set"].rpartition(":")
        return name, int(version)
