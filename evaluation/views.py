"""Staff pages: configure a model, start a run, watch its progress, see its portrait."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.roles import admin_required, is_admin, researcher_required
from survey.instruments import dimensions as dims

from . import lifecycle, portraits, selectors
from .errors import EvaluationError, RunNotFound
from .forms import ModelConfigurationForm, RunForm
from .models import EvaluationRun, ModelConfiguration, PortraitScore


@researcher_required
def index(request):
    return render(
        request,
        "evaluation/index.html",
        {
            "runs": selectors.runs_with_counts(limit=200),
            "configs": selectors.model_configurations(),
            "can_configure": is_admin(request.user),
        },
    )


@admin_required
def model_edit(request, pk: int | None = None):
    config = get_object_or_404(ModelConfiguration, pk=pk) if pk else None
    if config and config.provider == ModelConfiguration.Provider.REFERENCE:
        messages.error(request, "Reference models are imported, not configured.")
        return redirect("evaluation:index")
    form = ModelConfigurationForm(
        request.POST if request.method == "POST" else None, instance=config
    )
    if request.method == "POST" and form.is_valid():
        config = form.save()
        messages.success(request, f"Saved model configuration {config.name}.")
        return redirect("evaluation:index")
    # A refused form comes back with its errors and a 400, as the API refuses bad input.
    status = 400 if request.method == "POST" else 200
    return render(
        request, "evaluation/model_form.html", {"form": form, "config": config}, status=status
    )


@researcher_required
def run_new(request):
    form = RunForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        set_name, set_version = data["template_set"]
        try:
            run = lifecycle.create_run(
                model_config=data["model_config"],
                item_set=data["item_set"],
                variants=data["variants"],
                personas=data["personas"],
                repetitions=data["repetitions"],
                scoring=data["scoring"],
                use_cache=data["use_cache"],
                invalid_retries=data["invalid_retries"],
                min_valid_probability=data["min_valid_probability"],
                reask_follow_up=data["reask_follow_up"],
                mode=data["mode"],
                batch_retry=data["batch_retry"],
                template_set=set_name,
                template_set_version=set_version,
                language=data["language"],
                label=data["label"],
                created_by=request.user,
            )
        except EvaluationError as exc:
            form.add_error(None, str(exc))
        else:
            _queue(request, lifecycle.start_run, run.pk)
            return redirect("evaluation:run", pk=run.pk)
    status = 400 if request.method == "POST" else 200  # refused: errors shown, nothing stored
    return render(request, "evaluation/run_form.html", {"form": form}, status=status)


def _queue(request, operation, run_id: int) -> None:
    """Start or resume the run, saying on the next page what happened."""
    try:
        operation(run_id=run_id)
    except RunNotFound as exc:
        raise Http404(str(exc)) from None
    except EvaluationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Run queued: workers are answering.")


@researcher_required
def run_detail(request, pk: int):
    run = selectors.run_for_page(run_id=pk)
    if run is None:
        raise Http404("no such evaluation run")
    scores = list(run.scores.all())
    families = []
    for family in dims.FAMILIES:
        rows = [s for s in scores if s.family == family]
        if rows:
            order = {d: i for i, d in enumerate(dims.FAMILIES[family])}
            rows.sort(key=lambda s: (s.persona, s.basis, order.get(s.dimension, 99)))
            families.append((dims.FAMILY_LABELS[family], rows))
    problems = selectors.problem_answers(run=run, limit=50)
    chart = [
        {"dimension": dims.label(s.dimension), "centred": s.centred}
        for s in scores
        if s.family == dims.SCHWARTZ and s.persona == "" and s.basis == PortraitScore.Basis.ANSWER
    ]
    return render(
        request,
        "evaluation/run_detail.html",
        {
            "run": run,
            "progress": selectors.progress(run=run),
            "stalled": run.is_stalled(),
            "families": families,
            "problems": problems,
            "chart": chart,
            "summary": run.summary.get("personas", {}),
            "parse_comparison": selectors.parse_comparison(run=run, limit=200),
            "sensitivity": _sensitivity_tables(run),
            "snapshots": [s for s in selectors.model_snapshots(run=run) if s["snapshot"]],
            "sensitivity_min_items": selectors.SENSITIVITY_MIN_ITEMS,
            "constant_variant_min_items": portraits.CONSTANT_VARIANT_MIN_ITEMS,
        },
    )


def _sensitivity_tables(run: EvaluationRun) -> list[dict]:
    """Per persona, the paper's metrics (and, for imported raw answers, on the paper's parse)."""
    tables = []
    for persona in run.summary.get("personas", {}) or [""]:
        rows = selectors.sensitivity_rows(selectors.run_sensitivity(run=run, persona=persona))
        paper = selectors.sensitivity_rows(
            selectors.run_sensitivity(run=run, persona=persona, paper_parse=True)
        )
        if rows:
            for row, theirs in zip(rows, paper or [None] * len(rows), strict=True):
                row["paper"] = theirs
            tables.append({"persona": persona, "rows": rows, "with_paper": bool(paper)})
    return tables


@researcher_required
def run_progress(request, pk: int):
    run = get_object_or_404(EvaluationRun.objects.select_related("model_config"), pk=pk)
    return JsonResponse(selectors.progress(run=run))


@researcher_required
@require_POST
def run_cancel(request, pk: int):
    try:
        lifecycle.cancel_run(run_id=pk)
    except RunNotFound as exc:
        raise Http404(str(exc)) from None
    except EvaluationError:
        messages.error(request, "The run is not active.")
    else:
        messages.success(request, "Run cancelled; the answers so far are kept.")
    return redirect("evaluation:run", pk=pk)


@researcher_required
@require_POST
def run_resume(request, pk: int):
    _queue(request, lifecycle.resume_run, pk)
    return redirect("evaluation:run", pk=pk)
