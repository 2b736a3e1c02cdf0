"""Dashboard pages (researchers): thin views over ``selectors``, ``stats`` and ``figures``."""

from __future__ import annotations

import pandas as pd
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from benchmark.models import CorrelationRun
from core.roles import researcher_required
from evaluation import selectors as evaluation_selectors
from survey import scale
from survey.instruments import dimensions as dims
from survey.models import Item, Source

from . import demographics as demo
from . import figures, human_selectors, selectors, stats
from .params import ALL_DIMENSIONS, MODEL_FILTERS, DashboardQuery, model_filter_choices

FAMILY_OPTIONS = [(f, dims.FAMILY_LABELS[f]) for f in selectors.DASHBOARD_FAMILIES]
RADAR_DEFAULT_MODELS = 8


def _records(frame: pd.DataFrame) -> list[dict]:
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict("records")


@researcher_required
def index(request: HttpRequest) -> HttpResponse:
    runs = evaluation_selectors.run_counts()
    latest = selectors.latest_portraits(selectors.portrait_scores(family=dims.SCHWARTZ))
    models = (
        latest[["run_id", "model", "provider", "kind", "item_set", "finished_at"]]
        .drop_duplicates("run_id")
        .sort_values("model")
    )
    studies = selectors.scored_studies()
    return render(
        request,
        "dashboards/index.html",
        {
            "section": "index",
            "n_models": runs["models"],
            "runs": runs,
            "models": _records(models),
            "studies": studies,
            "benchmark_url": reverse("benchmark:index"),
        },
    )


def _bad_query(request: HttpRequest, query: DashboardQuery, section: str) -> HttpResponse:
    """400: a parameter value the page does not know, with the form's message."""
    context = {"section": section, "query_errors": query.messages()}
    return render(request, "dashboards/bad_query.html", context, status=400)


def _comparable_latest(family: str, filters: selectors.ModelFilters):
    """Each model's latest portrait on one item set (the filter's, else the most used)."""
    scores = selectors.portrait_scores(family=family, filters=filters)
    scores, item_set = selectors.comparable_portraits(scores, item_set=filters.item_set)
    return selectors.latest_portraits(scores), item_set


def _filtered_query(request: HttpRequest, **options) -> tuple[DashboardQuery, dict]:
    """The page's declared parameters with the model filters, checked against the filter
    bar's choices (the same queries draw the bar); model names only when some are given."""
    choices = selectors.model_choices()
    query = DashboardQuery(
        request.GET, takes=(*MODEL_FILTERS, *options.pop("takes", ())),
        choices={**model_filter_choices(choices), "model": selectors.model_names}, **options,
    )  # fmt: skip
    return query, choices


def _model_filters_context(request, query: DashboardQuery, choices: dict) -> dict:
    return {
        "filters": query.model_filters(),
        "family": query.chosen_family,
        "family_options": FAMILY_OPTIONS,
        "choices": choices,
        "query": request.GET,
    }


@researcher_required
def compare(request: HttpRequest) -> HttpResponse:
    query, choices = _filtered_query(request)
    if not query.is_valid():
        return _bad_query(request, query, "compare")
    family, filters = query.chosen_family, query.model_filters()
    latest, item_set = _comparable_latest(family, filters)
    matrix = selectors.model_matrix(latest, family=family)
    chosen = [m for m in filters.models if m in matrix.index] or list(matrix.index)[
        :RADAR_DEFAULT_MODELS
    ]
    profiles = [{"name": name, "mean": matrix.loc[name].to_dict()} for name in chosen]
    runs = (
        latest.drop_duplicates("run_id")
        .set_index("model")
        .reindex(matrix.index)
        .reset_index()[
            [
                "model",
                "run_id",
                "provider",
                "kind",
                "model_family",
                "size_b",
                "open_weights",
                "item_set",
                "finished_at",
            ]
        ]
        if not latest.empty
        else pd.DataFrame()
    )
    context = {
        "section": "compare",
        **_model_filters_context(request, query, choices),
        "dimensions": list(matrix.columns),
        "rows": [
            {"model": name, "run": run, "scores": scores.tolist()}
            for name, run, scores in zip(
                matrix.index, _records(runs), matrix.to_numpy(), strict=True
            )
        ],
        "all_models": list(matrix.index),
        "item_set_id": item_set,
        "chosen": chosen,
        # The paper's prompt-sensitivity analysis of the same runs (evaluation app).
        "sensitivity": evaluation_selectors.sensitivity_ranking(
            run_ids=runs["run_id"].tolist() if len(runs) else []
        ),
        # Every run of the chosen sweep, finished or not (the figures show the done ones).
        "sweep_runs": (
            evaluation_selectors.sweep_runs(sweep_id=filters.sweep) if filters.sweep else None
        ),
    }
    if not matrix.empty:
        label = dims.FAMILY_LABELS[family]
        context["radar"] = figures.radar(
            profiles,
            dimensions=list(matrix.columns),
            title=f"{label}: centred scores",
            with_errors=False,
        )
        context["heatmap"] = figures.heatmap(matrix, title=f"Models × {label.lower()}")
    return render(request, "dashboards/compare.html", context)


@researcher_required
def model_portrait(request: HttpRequest, run_id: int) -> HttpResponse:
    run = selectors.run_with_context(run_id=run_id)
    if run is None:
        raise Http404("No such run.")
    personas = selectors.run_personas(run=run)
    query = DashboardQuery(request.GET, takes=["persona"], choices={"persona": personas})
    if not query.is_valid():
        return _bad_query(request, query, "compare")
    family = query.chosen_family
    # No persona asked for: the plain portrait when the run has one, else its first persona.
    given = query.cleaned_data["persona"]
    persona = given or ("" if "" in personas else query.chosen("persona"))
    portrait = selectors.run_portrait(run=run, family=family, persona=persona)
    spread = selectors.variant_spread(run=run, family=family, personas=[persona])
    spread = spread.set_index("dimension") if not spread.empty else spread
    rows = []
    for record in _records(portrait):
        dim = record["dimension"]
        variant_sd = spread.at[dim, "sd"] if not spread.empty and dim in spread.index else None
        rows.append({**record, "variant_sd": None if pd.isna(variant_sd) else variant_sd})
    context = {
        "section": "compare",
        "run": run,
        "card": selectors.model_card(run=run),
        "family": family,
        "family_options": FAMILY_OPTIONS,
        "personas": personas,
        "persona": persona,
        "rows": rows,
        "params": run.params or run.model_config.generation_params(),
        "n_variants": len(run.variants or []),
        "item_set_url": reverse(
            "benchmark:item_set", args=[run.item_set.study.slug, run.item_set_id]
        ),
    }
    if rows:
        profile = {
            "name": run.model_config.name + (f" as {persona}" if persona else ""),
            "mean": {r["dimension"]: r["centred"] for r in rows},
            "sd": {r["dimension"]: r["variant_sd"] for r in rows},
            "n": {r["dimension"]: r["n"] for r in rows},
        }
        context["radar"] = figures.radar(
            [profile],
            dimensions=[r["dimension"] for r in rows],
            title=f"{run.model_config.name}: {dims.FAMILY_LABELS[family].lower()} "
            "(± SD over prompt variants)",
        )
    return render(request, "dashboards/model_portrait.html", context)


def _headline(frame: pd.DataFrame) -> dict[str, list[dict]]:
    rows = _records(frame)
    return {side: [r for r in rows if r["direction"] == side] for side in ("above", "below")}


@researcher_required
def humans_vs_models(request: HttpRequest) -> HttpResponse:
    studies = human_selectors.studies_with_item_sets()
    query, choices = _filtered_query(
        request, takes=["shape"], studies=studies, study_what="study with a validated item set"
    )
    if not query.is_valid():
        return _bad_query(request, query, "humans")
    family, filters, shape = query.chosen_family, query.model_filters(), query.chosen_shape
    found = human_selectors.humans_against_models(
        family=family, filters=filters,
        study_slug=query.chosen_study.slug if query.study_given else None, studies=studies,
    )  # fmt: skip
    context = {
        "section": "humans",
        "shape": shape,
        **_model_filters_context(request, query, choices),
        "studies": found.studies,
        "study": found.study,
        "item_set": found.item_set,
        "item_set_id": found.item_set_id,
    }
    if found.study is not None:
        _questionnaire_panel(context, study=found.study, family=family, shape=shape)
    if found.everyone is None:
        return render(request, "dashboards/humans.html", context)
    human, persons, points = found.human, found.persons, found.points
    person_counts = persons.count()
    context.update(
        {
            "everyone": found.everyone,
            "minimums": found.minimums,
            "dimensions": list(human.index),
            "human_rows": [
                {
                    **row,
                    "dimension": dimension,
                    "persons": int(person_counts[dimension]),
                    "person_median": persons[dimension].median(),
                }
                for dimension, row in zip(human.index, _records(human), strict=True)
            ],
            "gap_rows": [
                {
                    "model": model,
                    "cells": [
                        (
                            score,
                            score - human.at[d, "centred"],
                            found.percentiles.at[model, d],
                            # beyond the humans' interval (NaN compares False: no star)
                            not human.at[d, "ci_low"] <= score <= human.at[d, "ci_high"]
                            and pd.notna(human.at[d, "ci_low"])
                            and pd.notna(score),
                        )
                        for d, score in zip(points.columns, scores, strict=True)
                    ],
                }
                for model, scores in zip(points.index, points.to_numpy().tolist(), strict=True)
            ],
            "headline": _headline(stats.headline(points, human)),
        }
    )
    if human["centred"].notna().any():
        context["chart"] = figures.portrait_vs_models(
            human,
            persons,
            points,
            title=f"{found.item_set}: {found.everyone.n_participants} participants' portrait "
            f"vs {len(points)} models",
            person_label=f"Participants one by one (≥ {found.minimums.items_per_dimension} "
            "rated items)",
            shape=shape,
        )
    return render(request, "dashboards/humans.html", context)


def _questionnaire_panel(context: dict, *, study, family: str, shape: str) -> None:
    """The participants' questionnaire scores (PVQ / BFI), on their own scale, alone."""
    scores = selectors.questionnaire_scores(study=study, family=family)
    if scores.empty:
        return
    summary = stats.box_summary(scores)
    context.update(
        {
            "n_questionnaire": len(scores),
            "centred_here": family in selectors.RAW_HUMAN_FAMILIES,
            "questionnaire_summary": _records(summary.rename_axis("dimension").reset_index()),
            "questionnaire_chart": figures.questionnaire_distribution(
                summary,
                title=f"{study.title}: questionnaire scores of {len(scores)} participants",
                scores=scores if shape == "violin" else None,
            ),
        }
    )


@researcher_required
def bias(request: HttpRequest) -> HttpResponse:
    studies = human_selectors.rated_studies()
    runs = selectors.persona_runs()
    query = DashboardQuery(
        request.GET, studies=studies, study_what="study with ratings", takes=["run", "field"],
        choices={"run": [str(r.pk) for r in runs]},
    )  # fmt: skip
    if not query.is_valid():
        return _bad_query(request, query, "bias")
    family, field = query.chosen_family, query.chosen_field
    run_id = query.chosen("run")
    run = selectors.run_with_context(run_id=int(run_id)) if run_id else None
    # The humans: the chosen study, else the study whose data froze the run's item set.
    default = next((s for s in studies if run and s.pk == run.item_set.study_id), None)
    study = (query.chosen_study if query.study_given else default) or query.chosen_study
    context = {
        "section": "bias",
        "family": family,
        "family_options": FAMILY_OPTIONS,
        "field": field,
        "field_options": list(demo.FIELD_LABELS.items()),
        "runs": runs,
        "run": run,
        "studies": studies,
        "study": study,
    }
    if run is not None and study is not None:
        result = human_selectors.persona_comparison(
            run=run, study=study, family=family, field=field
        )
        comparison = result["comparison"]
        context.update(
            {
                "groups": [
                    (group, n, result["too_few"].get(group))
                    for group, n in result["groups"].items()
                ],
                "personas": result["personas"],
                "departures": _records(result["departures"]),
                "withheld": _records(result["withheld"]),
                "min_group": result["min_group_participants"],
            }
        )
        groups = sorted(comparison["group"].unique()) if not comparison.empty else []
        # The groups are known once the comparison is: the same declaration, checked now.
        group_query = DashboardQuery(request.GET, takes=["group"], choices={"group": groups})
        if not group_query.is_valid():
            return _bad_query(request, group_query, "bias")
        if groups:
            group = group_query.chosen("group")
            context["group"] = group
            context["group_options"] = groups
            context["difference_chart"] = figures.difference_chart(
                comparison,
                title=f"{run.model_config.name} as each {demo.FIELD_LABELS[field].lower()} "
                "group minus that group's portrait (items' scale)",
            )
            context["profile_chart"] = figures.group_profile_chart(
                comparison, group=group, title=f"Group “{group}”: humans and the model's persona"
            )
    return render(request, "dashboards/bias.html", context)


ITEMS_PER_PAGE = 50


def _heatmap_url(study) -> str:
    """The benchmark's heat map of the study's reference correlations (published, else the
    newest computed run), or its index."""
    if study is None:
        return reverse("benchmark:index")
    runs = list(
        study.correlation_runs.filter(status=CorrelationRun.Status.DONE)
        .order_by("-created_at")
        .values_list("pk", "kind")
    )
    chosen = next((pk for pk, kind in runs if kind == "published"), runs[0][0] if runs else None)
    if chosen is None:
        return reverse("benchmark:study", args=[study.slug])
    return reverse("benchmark:run", args=[study.slug, chosen])


@researcher_required
def items(request: HttpRequest) -> HttpResponse:
    studies = selectors.scored_studies()
    sources = list(Source.objects.order_by("name"))
    query = DashboardQuery(
        request.GET, studies=studies, study_what="study with scores",
        takes=["dimension", "source"], choices={"source": [s.slug for s in sources]},
    )  # fmt: skip
    if not query.is_valid():
        return _bad_query(request, query, "items")
    study = query.chosen_study
    dimension, source = query.cleaned_data["dimension"], query.cleaned_data["source"]
    search = request.GET.get("q", "").strip()
    queryset = Item.objects.select_related("scenario__source").annotate(
        n_ratings=Count("ratings", distinct=True)
    )
    if study is not None and study.item_pool.exists():
        queryset = queryset.filter(studies=study)
    if dimension:
        queryset = queryset.filter(validated_entries__dimension=dimension).distinct()
    if source:
        queryset = queryset.filter(scenario__source__slug=source)
    if search:
        queryset = queryset.filter(
            Q(text__icontains=search)
            | Q(scenario__title__icontains=search)
            | Q(scenario__external_id=search)
        )
    queryset = queryset.order_by("scenario__external_id", "scenario_id", "option_id")
    page = Paginator(queryset, ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboards/items.html",
        {
            "section": "items",
            "page": page,
            "studies": studies,
            "study": study,
            "sources": sources,
            "source": source,
            "dimension": dimension,
            "dimensions": list(ALL_DIMENSIONS),
            "search": search,
            "heatmap_url": _heatmap_url(study),
            "benchmark_url": reverse("benchmark:index"),
        },
    )


@researcher_required
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    item = get_object_or_404(Item.objects.select_related("scenario__source"), pk=item_id)
    counts = selectors.item_rating_counts(item=item)
    answers = selectors.item_model_answers(item=item)
    correlations = selectors.item_correlations(item=item)
    plain = answers[answers["persona"] == ""] if not answers.empty else answers
    model_answers = [
        (f"{row['model']} (run {row['run_id']})", row["mean"]) for row in _records(plain)
    ]
    chart = figures.rating_histogram(
        counts,
        scale_labels=scale.LABELS,
        title=f"Item {item.code}: {sum(counts)} human ratings and the models' answers",
        model_answers=model_answers,
    )
    if not correlations.empty:
        correlations = correlations.sort_values(
            ["kind", "run_id", "family", "r"],
            key=lambda s: s.abs() if s.name == "r" else s,
            ascending=[True, True, True, False],
        )
    return render(
        request,
        "dashboards/item_detail.html",
        {
            "section": "items",
            "item": item,
            "counts": list(zip(scale.VALUES, scale.LABELS, counts, strict=True)),
            "n_ratings": sum(counts),
            "mean_rating": (
                sum(r * c for r, c in zip(range(1, 7), counts, strict=True)) / sum(counts)
                if sum(counts)
                else None
            ),
            "chart": chart,
            "answers": _records(answers),
            "correlations": [
                {**row, "url": reverse("benchmark:run", args=[row["study"], row["run_id"]])}
                for row in _records(correlations)
            ],
            "heatmap_url": reverse("benchmark:index"),
        },
    )
