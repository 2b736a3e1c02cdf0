"""Staff pages of the benchmark app: thin views over selectors, services and ``pages``.

Reads need the researcher role; writes (recompute, freeze an item set, exclude a pair) and
downloads need the admin role.
"""

from __future__ import annotations

import json
from functools import partial

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.roles import admin_required, is_admin, researcher_required
from survey.instruments import dimensions as dims
from survey.models import Item, Study

from . import exports, pages
from .estimates import enqueue_chance
from .models import CorrelationRun, PairExclusion, ValidatedItemSet
from .selection import MODES, PRESETS, SelectionRule
from .selectors import (
    analysis_settings,
    compare_runs,
    full_correlation_frame,
    language_comparison,
    languages_with_runs,
    latest_computed_run,
    minimums_for,
    published_run,
    reported_correlation_frame,
)
from .services import (
    exclude_pair,
    freeze_item_set,
    questionnaire_reliability,
    request_recomputation,
)

ALL_DIMENSIONS = sorted({d for names in dims.FAMILIES.values() for d in names})


def language_choices(study: Study) -> list[tuple[str, str]]:
    return [(code, code) for code in study.offered_languages()]


class RecomputeForm(forms.Form):
    method = forms.ChoiceField(choices=CorrelationRun.Method.choices, initial="spearman")
    language = forms.ChoiceField(
        required=False,
        help_text="Only the participants who took the study in this language (empty: all).",
    )

    def __init__(self, *args, study: Study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", "all languages pooled"), *language_choices(study)]


class LanguageComparisonForm(forms.Form):
    """What the language comparison shows: two languages to test, a dimension, the rule."""

    method = forms.ChoiceField(choices=CorrelationRun.Method.choices[:2], initial="spearman")
    a = forms.ChoiceField(label="Test language")
    b = forms.ChoiceField(label="against")
    dimension = forms.ChoiceField(choices=[(d, d) for d in ALL_DIMENSIONS], required=False)
    threshold = forms.FloatField(min_value=0, max_value=0.99, initial=0.3, required=False)
    mode = forms.ChoiceField(choices=[(m, m) for m in MODES], initial="pos", required=False)

    def __init__(self, *args, languages: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("a", "b"):
            self.fields[name].choices = [(code, code) for code in languages]

    def clean(self):
        data = super().clean()
        if data.get("a") and data.get("a") == data.get("b"):
            raise forms.ValidationError("Choose two different languages to test.")
        return data


class ItemSetForm(forms.Form):
    run = forms.ModelChoiceField(queryset=CorrelationRun.objects.none())
    preset = forms.ChoiceField(
        choices=[("", "— threshold rule below —")] + [(p, p) for p in PRESETS], required=False
    )
    threshold = forms.FloatField(min_value=0, max_value=0.99, initial=0.3, required=False)
    mode = forms.ChoiceField(choices=[(m, m) for m in MODES], initial="pos")
    families = forms.MultipleChoiceField(
        choices=[(f, dims.FAMILY_LABELS[f]) for f in dims.FAMILIES],
        initial=list(SelectionRule.families),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    fdr_alpha = forms.FloatField(
        min_value=0.0001, max_value=0.5, required=False, label="FDR-adjusted p below"
    )
    fdr_method = forms.ChoiceField(
        choices=[("bh", "Benjamini–Hochberg"), ("by", "Benjamini–Yekutieli")],
        initial=SelectionRule.fdr_method,
        required=False,
    )
    ci_bound = forms.FloatField(
        min_value=-0.99, max_value=0.99, required=False, label="Bootstrap CI beyond"
    )
    max_chance_share = forms.FloatField(
        min_value=0.01,
        max_value=0.5,
        required=False,
        label="Expected chance share at most",
        help_text="Raise the threshold until the pairs expected by chance (permutations of "
        "whole value profiles) are at most this share of the selection, e.g. 0.1.",
    )
    name = forms.SlugField(max_length=100, required=False)
    languages = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Valid in all of these languages",
        help_text="Keep only pairs the rule also selects, with enough raters, in each chosen "
        "language's newest run restricted to it.",
    )

    def __init__(self, *args, study: Study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["run"].queryset = study.correlation_runs.filter(
            status=CorrelationRun.Status.DONE
        )
        self.fields["languages"].choices = language_choices(study)

    def clean(self):
        data = super().clean()
        if not data.get("preset") and data.get("threshold") is None:
            raise forms.ValidationError("Choose a preset or give a threshold.")
        return data


class PairExclusionForm(forms.Form):
    item = forms.CharField(max_length=40, help_text="portrait id / option id, e.g. 1025/3")
    dimension = forms.ChoiceField(choices=[(d, d) for d in ALL_DIMENSIONS])
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)

    def __init__(self, *args, study: Study, **kwargs):
        super().__init__(*args, **kwargs)
        self.study = study

    def clean_item(self):
        value = self.cleaned_data["item"].strip()
        portrait, _, option = value.partition("/")
        # isdigit() alone accepts "²" and other digits int() refuses (a 500, found by fuzzing).
        if not (option.isascii() and option.isdigit()) or len(option) > 5:
            raise forms.ValidationError("Write the item as portrait id / option id, e.g. 1025/3.")
        item = Item.objects.filter(
            scenario__external_id=portrait, option_id=int(option), studies=self.study
        ).first()
        if item is None:
            raise forms.ValidationError(f"Item {value} is not in this study's pool.")
        return item


def _study(slug: str) -> Study:
    return get_object_or_404(Study, slug=slug)


def _run(study: Study, run_id: int) -> CorrelationRun:
    return get_object_or_404(CorrelationRun, pk=run_id, study=study)


@researcher_required
def index(request):
    studies = Study.objects.listed().order_by("slug").prefetch_related("correlation_runs")
    return render(request, "benchmark/index.html", {"studies": studies})


@researcher_required
def study_detail(request, slug):
    study = _study(slug)
    return render(
        request,
        "benchmark/study.html",
        {
            "study": study,
            "runs": study.correlation_runs.select_related("created_by")[:50],
            "item_sets": [
                (item_set, pages.chance_line(item_set.chance))
                for item_set in study.item_sets.select_related("correlation_run", "created_by")[:50]
            ],
            "settings": analysis_settings(study=study),
            "exclusions": PairExclusion.objects.filter(study=study).select_related(
                "item__scenario", "created_by"
            ),
            "recompute_form": RecomputeForm(study=study),
            "item_set_form": ItemSetForm(study=study),
            "exclusion_form": PairExclusionForm(study=study),
            "questionnaire": questionnaire_reliability(study=study),
            "can_write": is_admin(request.user),
        },
    )


@researcher_required
def run_detail(request, slug, run_id):
    study = _study(slug)
    run = _run(study, run_id)
    frame = reported_correlation_frame(run=run)
    withheld = frame["r_reason"].notna()
    comparison, reference_frame = None, None
    reference = published_run(study=study)
    if reference is not None and reference.pk != run.pk and run.status == "done":
        result = compare_runs(reference=reference, other=run)
        comparison = {k: v for k, v in result.items() if k != "frame"}
        comparison["reference"] = reference
        reference_frame = full_correlation_frame(run=reference)
    return render(
        request,
        "benchmark/run.html",
        {
            "study": study,
            "run": run,
            "heatmap": pages.heatmap_data(frame, reference_frame),
            "circle": pages.circle_summary(frame),
            "profiles": pages.item_profiles(frame),
            "comparison": comparison,
            "can_write": is_admin(request.user),
            "selected_pairs": int((frame["r"] > 0.3).sum()) if not frame.empty else 0,
            "total_pairs": len(frame),
            "withheld_pairs": int(withheld.sum()),
            "fewest_raters": int(frame.loc[withheld, "n"].min()) if withheld.any() else None,
            "minimums": minimums_for(study=study),
            "chance": pages.run_chance(run.chance),
        },
    )


@researcher_required
def raters_needed(request, slug):
    study = _study(slug)
    run = latest_computed_run(study=study)
    settings_row = analysis_settings(study=study)
    frame = full_correlation_frame(run=run) if run else None
    required, rows = (
        pages.raters_needed_table(
            frame,
            target_r=settings_row.target_r,
            alpha=settings_row.alpha,
            power=settings_row.power,
        )
        if frame is not None
        else (None, [])
    )
    return render(
        request,
        "benchmark/raters_needed.html",
        {
            "study": study,
            "run": run,
            "settings": settings_row,
            "required": required,
            "rows": rows,
            "reached": sum(1 for r in rows if r["still_needed"] == 0),
            "missing_ratings": sum(int(r["still_needed"]) for r in rows),
        },
    )


@researcher_required
def item_set_detail(request, slug, set_id):
    study = _study(slug)
    item_set = get_object_or_404(ValidatedItemSet, pk=set_id, study=study)
    table = exports.item_set_table(item_set=item_set)
    return render(
        request,
        "benchmark/item_set.html",
        {
            "study": study,
            "item_set": item_set,
            "groups": pages.item_set_groups(table, item_set.reliability),
            "pairs": len(table),
            "items": table[["portrait_id", "option_id"]].drop_duplicates().shape[0],
            "chance": pages.chance_line(item_set.chance),
            "language_chance": pages.languages_chance_lines(item_set.chance),
            "can_write": is_admin(request.user),
        },
    )


@researcher_required
def languages(request, slug):
    """Each item's correlations per language side by side, the pairs whose selection differs
    between languages, and Fisher's z test of one language against another."""
    study = _study(slug)
    method = request.GET.get("method") or CorrelationRun.Method.SPEARMAN
    # The form's declaration of the method, checked before the runs are looked up: an
    # unknown method used to read as "no language has a run" instead of a refusal.
    method_field = LanguageComparisonForm.base_fields["method"]
    if not method_field.valid_value(method):
        known = ", ".join(str(value) for value, _ in method_field.choices)
        context = {"study": study, "languages": [], "method": method,
                   "method_error": f"Unknown method {method!r}: choose one of {known}."}  # fmt: skip
        return render(request, "benchmark/languages.html", context, status=400)
    available = languages_with_runs(study=study, method=method)
    context = {"study": study, "languages": available, "method": method}
    if len(available) < 2:
        return render(request, "benchmark/languages.html", context)
    initial = {"method": method, "a": available[0], "b": available[1], "mode": "pos"}
    form = LanguageComparisonForm(
        {**initial, **request.GET.dict()} if request.GET else initial, languages=available
    )
    if not form.is_valid():
        # The form with its errors, as a 400: the page does not show what was not asked for.
        return render(request, "benchmark/languages.html", {**context, "form": form}, status=400)
    data = form.cleaned_data
    rule = SelectionRule(
        threshold=data["threshold"] if data["threshold"] is not None else SelectionRule.threshold,
        mode=data["mode"] or SelectionRule.mode,
    )
    pair = (data["a"], data["b"])
    compared = language_comparison(
        study=study, languages=available, rule=rule, pair=pair, method=method
    )
    table = compared["table"]
    dimension = data["dimension"] or next(
        (d for _, d in pages.DIMENSION_ORDER if d in set(table["dimension"])), ""
    )
    rows = partial(
        pages.language_rows, languages=available, required=compared["required"], pair=pair
    )
    return render(
        request,
        "benchmark/languages.html",
        {
            **context,
            "form": form,
            "rule": rule,
            "pair": pair,
            "dimension": dimension,
            "runs": compared["runs"],
            "run_chance": [
                (language, run, pages.language_run_chance(run))
                for language, run in compared["runs"].items()
            ],
            "required": compared["required"],
            "rows": rows(table[table["dimension"] == dimension]),
            "differing": rows(table[table["selection_differs"]]),
            "tested": int(table["p"].notna().sum()),
            "significant": int((table["p_bh"] < 0.05).sum()),
        },
    )


@admin_required
@require_POST
def recompute(request, slug):
    study = _study(slug)
    form = RecomputeForm(request.POST, study=study)
    if not form.is_valid():
        messages.error(request, "Unknown method or language.")
        return redirect("benchmark:study", slug=slug)
    run = request_recomputation(
        study=study,
        method=form.cleaned_data["method"],
        created_by=request.user,
        language=form.cleaned_data["language"],
    )
    messages.success(request, f"Recomputation queued as run #{run.pk}; this page shows its status.")
    return redirect("benchmark:study", slug=slug)


@admin_required
@require_POST
def estimate_run_chance(request, slug, run_id):
    study = _study(slug)
    run = _run(study, run_id)
    if run.status != CorrelationRun.Status.DONE:
        messages.error(request, f"Run #{run.pk} is {run.status}, not done.")
    elif enqueue_chance(run_id=run.pk):
        messages.success(request, "Chance estimate queued; this page shows it when stored.")
    else:
        messages.error(request, "The task queue is unreachable; try again later.")
    return redirect("benchmark:run", slug=slug, run_id=run.pk)


@admin_required
@require_POST
def create_set(request, slug):
    study = _study(slug)
    form = ItemSetForm(request.POST, study=study)
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, "; ".join(error))
        return redirect("benchmark:study", slug=slug)
    data = form.cleaned_data
    try:
        item_set = freeze_item_set(
            run=data["run"],
            created_by=request.user,
            preset=data["preset"],
            threshold=data["threshold"]
            if data["threshold"] is not None
            else SelectionRule.threshold,
            mode=data["mode"],
            families=data["families"],
            fdr_alpha=data["fdr_alpha"],
            fdr_method=data["fdr_method"],
            ci_bound=data["ci_bound"],
            max_chance_share=data["max_chance_share"],
            name=data["name"],
            languages=data["languages"],
        )
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("benchmark:study", slug=slug)
    messages.success(request, f"Froze {item_set}.")
    return redirect("benchmark:item_set", slug=slug, set_id=item_set.pk)


@admin_required
@require_POST
def add_exclusion(request, slug):
    study = _study(slug)
    form = PairExclusionForm(request.POST, study=study)
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, "; ".join(error))
        return redirect("benchmark:study", slug=slug)
    try:
        exclude_pair(
            study=study,
            item=form.cleaned_data["item"],
            dimension=form.cleaned_data["dimension"],
            reason=form.cleaned_data["reason"],
            created_by=request.user,
        )
    except (ValueError, KeyError) as exc:
        messages.error(request, str(exc))
        return redirect("benchmark:study", slug=slug)
    messages.success(request, "Exclusion recorded; it applies to item sets frozen from now on.")
    return redirect("benchmark:study", slug=slug)


def _download(text: str, filename: str, fmt: str) -> HttpResponse:
    content_type = "text/csv" if fmt == "csv" else "application/json"
    response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin_required
def download_run(request, slug, run_id, fmt):
    study = _study(slug)
    run = _run(study, run_id)
    if fmt not in ("csv", "json"):
        raise Http404("format must be csv or json")
    text = (
        exports.to_csv(exports.correlation_table(run=run))
        if fmt == "csv"
        else exports.correlations_json(run=run)
    )
    return _download(text, f"{study.slug}-correlations-run{run.pk}.{fmt}", fmt)


@admin_required
def download_item_set(request, slug, set_id, fmt):
    study = _study(slug)
    item_set = get_object_or_404(ValidatedItemSet, pk=set_id, study=study)
    if fmt == "csv":
        text = exports.to_csv(exports.item_set_table(item_set=item_set))
    elif fmt == "json":
        text = exports.item_set_json(item_set=item_set)
    elif fmt == "tagged":
        text = json.dumps(exports.query_response_tagged(item_set=item_set), ensure_ascii=False)
        fmt = "json"
    else:
        raise Http404("format must be csv, json or tagged")
    return _download(text, f"{item_set.name}-v{item_set.version}.{fmt}", fmt)
