"""Plotly figure specifications as plain dicts (pure: no Django, no plotly.graph_objects).

The pages embed these dicts as JSON and ``static/dashboards/charts.js`` draws them with the
locally served plotly.js. Building dicts directly (instead of ``go.Figure``) keeps a page's
server time in milliseconds. Every builder returns ``{"figure": ..., "table": ...}``: the
figure, and the exact numbers it shows as ``{"columns": [...], "rows": [[...], ...]}`` for
the CSV download.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from survey.instruments.dimensions import label

from .stats import box_summary as box_summary_of

# Plotly's default qualitative palette, repeated for many models.
PALETTE = (
    "#636efa",
    "#ef553b",
    "#00cc96",
    "#ab63fa",
    "#ffa15a",
    "#19d3f3",
    "#ff6692",
    "#b6e880",
    "#ff97ff",
    "#fecb52",
)
LAYOUT_BASE = {
    "margin": {"l": 60, "r": 30, "t": 50, "b": 60},
    "font": {"family": "system-ui, sans-serif", "size": 13},
    "paper_bgcolor": "#ffffff",
    "plot_bgcolor": "#ffffff",
}


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _num(value) -> float | None:
    """JSON-safe float: NaN/inf become None (Plotly leaves a gap)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _rounded(value, digits: int = 4) -> float | None:
    value = _num(value)
    return None if value is None else round(value, digits)


def _table(frame: pd.DataFrame) -> dict:
    clean = frame.astype(object).where(frame.notna(), None)
    rows = [[_rounded(v) if isinstance(v, float) else v for v in row] for row in clean.values]
    return {"columns": [str(c) for c in frame.columns], "rows": rows}


def _radial_range(values: Sequence[float | None]) -> list[float]:
    finite = [v for v in values if v is not None]
    if not finite:
        return [-1.0, 1.0]
    low, high = min(finite), max(finite)
    pad = max(0.1, (high - low) * 0.1)
    return [round(low - pad, 2), round(high + pad, 2)]


def radar(
    profiles: Sequence[dict], *, dimensions: Sequence[str], title: str, with_errors: bool = True
) -> dict:
    """Overlaid radar of profiles with per-dimension error whiskers.

    Each profile is ``{"name": str, "mean": {dim: float}, "sd": {dim: float}, "n": {dim: int}}``
    (``sd``/``n`` optional). The whiskers (mean ± SD over prompt variants) are drawn as one
    ``scatterpolar`` line trace per profile named ``"<name> ± SD"``; Plotly's polar charts
    have no native error bars.
    """
    theta = [label(d) for d in dimensions]
    traces, rows, all_values = [], [], []
    for index, profile in enumerate(profiles):
        means = [_num(profile["mean"].get(d)) for d in dimensions]
        sds = [_num((profile.get("sd") or {}).get(d)) for d in dimensions]
        counts = [(profile.get("n") or {}).get(d) for d in dimensions]
        all_values.extend(means)
        traces.append(
            {
                "type": "scatterpolar",
                "name": profile["name"],
                "r": means + means[:1],
                "theta": theta + theta[:1],
                "mode": "lines+markers",
                "line": {"color": colour(index), "width": 2},
                "marker": {"size": 6},
                "fill": "toself" if len(profiles) == 1 else "none",
                "opacity": 0.9,
                "hovertemplate": "%{theta}: %{r:.3f}<extra>"
                + _escape(profile["name"])
                + "</extra>",
            }
        )
        if with_errors and any(s is not None for s in sds):
            r, t = [], []
            for name, mean, sd in zip(theta, means, sds, strict=True):
                if mean is None or sd is None:
                    continue
                r += [mean - sd, mean + sd, None]
                t += [name, name, None]
                all_values.extend([mean - sd, mean + sd])
            traces.append(
                {
                    "type": "scatterpolar",
                    "name": f"{profile['name']} ± SD",
                    "r": r,
                    "theta": t,
                    "mode": "lines",
                    "line": {"color": colour(index), "width": 4},
                    "opacity": 0.45,
                    "hoverinfo": "skip",
                    "showlegend": False,
                }
            )
        for dim, mean, sd, n in zip(dimensions, means, sds, counts, strict=True):
            rows.append([profile["name"], dim, _rounded(mean), _rounded(sd), n])
    layout = {
        **LAYOUT_BASE,
        "title": {"text": title},
        "polar": {
            "radialaxis": {
                "range": _radial_range(all_values),
                "angle": 90,
                "tickfont": {"size": 10},
            },
            "angularaxis": {"direction": "clockwise"},
        },
        "showlegend": True,
        "legend": {"orientation": "h", "y": -0.1},
        "height": 520,
    }
    return {
        "figure": {"data": traces, "layout": layout},
        "table": {"columns": ["profile", "dimension", "mean", "sd", "n"], "rows": rows},
    }


def heatmap(matrix: pd.DataFrame, *, title: str, colorbar_title: str = "centred score") -> dict:
    """Rows (models) × columns (dimensions) heat map, diverging around zero.

    The page can re-sort rows by any column (``charts.js`` reorders ``y``/``z`` in place).
    """
    values = matrix.astype(float)
    finite = values.abs().max().max() if values.size else 1.0
    bound = _num(finite) or 1.0
    z = [[_rounded(v, 3) for v in row] for row in values.values]
    figure = {
        "data": [
            {
                "type": "heatmap",
                "name": "scores",
                "z": z,
                "x": [label(c) for c in values.columns],
                "y": [str(i) for i in values.index],
                "colorscale": "RdBu",
                "reversescale": True,
                "zmin": -bound,
                "zmax": bound,
                "colorbar": {"title": {"text": colorbar_title}},
                "hovertemplate": "%{y}<br>%{x}: %{z:.3f}<extra></extra>",
            }
        ],
        "layout": {
            **LAYOUT_BASE,
            "title": {"text": title},
            "height": max(320, 60 + 26 * len(values.index)),
            "yaxis": {"automargin": True, "autorange": "reversed"},
            "xaxis": {"tickangle": -30, "automargin": True},
        },
    }
    table = _table(values.reset_index().rename(columns={"index": "model"}))
    table["columns"][0] = "model"
    return {"figure": figure, "table": table, "sort_columns": [label(c) for c in values.columns]}


def _box_trace(summary: pd.DataFrame, positions: list[int], *, name: str) -> dict:
    """A precomputed box per dimension (``summary`` from ``stats.box_summary``)."""
    return {
        "type": "box",
        "name": name,
        "x": positions,
        "q1": [_rounded(v) for v in summary["q1"]],
        "median": [_rounded(v) for v in summary["median"]],
        "q3": [_rounded(v) for v in summary["q3"]],
        "lowerfence": [_rounded(v) for v in summary["lower_fence"]],
        "upperfence": [_rounded(v) for v in summary["upper_fence"]],
        "mean": [_rounded(v) for v in summary["mean"]],
        "boxmean": True,
        "width": 0.6,
        "marker": {"color": "#9a9a9a"},
        "fillcolor": "rgba(127,127,127,0.15)",
        "hoverinfo": "y",
    }


def _violin_trace(scores: pd.DataFrame, dims: list[str], *, name: str) -> dict:
    """Every score as a violin per dimension (``scores``: people × dimensions)."""
    long = scores.reindex(columns=dims).melt(var_name="dimension", value_name="score")
    long = long.dropna(subset=["score"])
    where = {d: i for i, d in enumerate(dims)}
    return {
        "type": "violin",
        "name": name,
        "x": long["dimension"].map(where).tolist(),
        "y": [round(float(v), 4) for v in long["score"]],
        "box": {"visible": True},
        "meanline": {"visible": True},
        "points": False,
        "width": 0.8,
        "line": {"color": "#7f7f7f"},
        "fillcolor": "rgba(127,127,127,0.15)",
        "hoverinfo": "y",
    }


def portrait_vs_models(
    human: pd.DataFrame,
    persons: pd.DataFrame,
    points: pd.DataFrame,
    *,
    title: str,
    person_label: str,
    shape: str = "box",
) -> dict:
    """Models against the humans' portrait, all on the items' scale (centred scores).

    ``human`` (index = dimension) has the group portrait's ``centred``, ``ci_low``,
    ``ci_high`` and ``n_raters``; ``persons`` is participants × dimensions of per-person
    scores (NaN where a person rated too few items), drawn as boxes (or violins with
    ``shape="violin"``) behind; ``points`` is models × dimensions.
    """
    dims = list(human.index)
    labels = [label(d) for d in dims]
    positions = list(range(len(dims)))
    traces = []
    rows = []
    if persons.notna().any().any():
        persons = persons.reindex(columns=dims)
        if shape == "violin":
            traces.append(_violin_trace(persons, dims, name=person_label))
        else:
            summary = box_summary_of(persons)
            traces.append(_box_trace(summary, positions, name=person_label))
        counts = persons.count()
        rows += [[person_label, d, None, None, None, int(counts[d])] for d in dims]
    centred = human["centred"]
    traces.append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": "Humans' portrait (95% bootstrap CI)",
            "x": positions,
            "y": [_rounded(v) for v in centred],
            "text": labels,
            "error_y": {
                "type": "data",
                "symmetric": False,
                "array": [_rounded(v) for v in human["ci_high"] - centred],
                "arrayminus": [_rounded(v) for v in centred - human["ci_low"]],
                "thickness": 2,
                "width": 8,
            },
            "marker": {"color": "#222", "size": 12, "symbol": "line-ew-open", "line": {"width": 3}},
            "hovertemplate": "%{text}: %{y:.3f}<extra>humans</extra>",
        }
    )
    rows += [
        ["Humans' portrait", d, _rounded(centred[d]), _rounded(human.at[d, "ci_low"]),
         _rounded(human.at[d, "ci_high"]), int(human.at[d, "n_raters"])]
        for d in dims
    ]  # fmt: skip
    n_models = len(points.index)
    step = min(0.08, 0.5 / max(n_models, 1))  # models side by side around each position
    for index, (model, row) in enumerate(points.reindex(columns=dims).iterrows()):
        offset = (index - (n_models - 1) / 2) * step
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": str(model),
                "x": [round(p + offset, 3) for p in positions],
                "y": [_rounded(v) for v in row.values],
                "text": labels,
                "customdata": [
                    _rounded(v - c, 3) for v, c in zip(row.values, centred, strict=True)
                ],
                "marker": {
                    "color": colour(index),
                    "size": 11,
                    "symbol": "diamond",
                    "line": {"color": "#222", "width": 1},
                },
                "hovertemplate": "%{text}: %{y:.3f}<br>minus the humans: %{customdata}"
                "<extra>" + _escape(str(model)) + "</extra>",
            }
        )
        rows += [
            [str(model), d, _rounded(v), None, None, None]
            for d, v in zip(dims, row.values, strict=True)
        ]
    layout = {
        **LAYOUT_BASE,
        "title": {"text": title},
        "yaxis": {"title": {"text": "centred score on the items (1-6 scale)"}, "zeroline": True},
        "xaxis": {"tickvals": positions, "ticktext": labels, "range": [-0.6, len(dims) - 0.4]},
        "boxmode": "overlay",
        "violinmode": "overlay",
        "height": 520,
        "legend": {"orientation": "h", "y": -0.15},
    }
    return {
        "figure": {"data": traces, "layout": layout},
        "table": {
            "columns": ["who", "dimension", "centred", "ci_low", "ci_high", "n"],
            "rows": rows,
        },
    }


def questionnaire_distribution(
    summary: pd.DataFrame, *, title: str, scores: pd.DataFrame | None = None
) -> dict:
    """The participants' questionnaire scores per dimension, alone (no model on this scale).

    ``summary`` comes from :func:`dashboards.stats.box_summary` (index = dimension); given
    ``scores`` (participants × dimensions) they are drawn as violins of every score.
    """
    dims = list(summary.index)
    labels = [label(d) for d in dims]
    positions = list(range(len(dims)))
    name = "Questionnaire scores"
    trace = (
        _violin_trace(scores, dims, name=name)
        if scores is not None
        else _box_trace(summary, positions, name=name)
    )
    rows = [
        [d, int(summary.at[d, "n"]), _rounded(summary.at[d, "q1"]),
         _rounded(summary.at[d, "median"]), _rounded(summary.at[d, "q3"])]
        for d in dims
    ]  # fmt: skip
    layout = {
        **LAYOUT_BASE,
        "title": {"text": title},
        "yaxis": {"title": {"text": "questionnaire score"}, "zeroline": True},
        "xaxis": {"tickvals": positions, "ticktext": labels, "range": [-0.6, len(dims) - 0.4]},
        "violinmode": "overlay",
        "height": 420,
        "showlegend": False,
    }
    return {
        "figure": {"data": [trace], "layout": layout},
        "table": {"columns": ["dimension", "n", "q1", "median", "q3"], "rows": rows},
    }


def group_profile_chart(comparison: pd.DataFrame, *, group: str, title: str) -> dict:
    """One group's human mean (95% CI) beside the model's persona profile (± its CI)."""
    part = comparison[comparison["group"] == group]
    x = [label(d) for d in part["dimension"]]

    def error_bars(mean: pd.Series, low: pd.Series, high: pd.Series) -> dict:
        return {
            "type": "data",
            "symmetric": False,
            "array": [_rounded(v) for v in high - mean],
            "arrayminus": [_rounded(v) for v in mean - low],
        }

    traces = [
        {
            "type": "scatter",
            "mode": "markers+lines",
            "name": f"Humans: {group}",
            "x": x,
            "y": [_rounded(v) for v in part["mean_human"]],
            "error_y": error_bars(part["mean_human"], part["human_ci_low"], part["human_ci_high"]),
            "marker": {"color": "#555", "size": 9},
            "line": {"dash": "dot"},
        },
        {
            "type": "scatter",
            "mode": "markers+lines",
            "name": f"Model as {group}",
            "x": x,
            "y": [_rounded(v) for v in part["mean_model"]],
            "error_y": error_bars(part["mean_model"], part["model_ci_low"], part["model_ci_high"]),
            "marker": {"color": colour(0), "size": 9, "symbol": "diamond"},
        },
    ]
    layout = {
        **LAYOUT_BASE,
        "title": {"text": title},
        "yaxis": {"title": {"text": "mean centred score (95% CI)"}},
        "height": 440,
        "legend": {"orientation": "h", "y": -0.2},
    }
    table_frame = part[
        [
            "group",
            "dimension",
            "mean_human",
            "human_ci_low",
            "human_ci_high",
            "n_human",
            "mean_model",
            "model_ci_low",
            "model_ci_high",
            "n_model",
        ]
    ]
    return {"figure": {"data": traces, "layout": layout}, "table": _table(table_frame)}


def difference_chart(comparison: pd.DataFrame, *, title: str) -> dict:
    """Model minus humans per dimension, one trace per group, with 95% intervals."""
    traces = []
    for index, (group, part) in enumerate(comparison.groupby("group", sort=True)):
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": str(group),
                "x": [label(d) for d in part["dimension"]],
                "y": [_rounded(v) for v in part["difference"]],
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [_rounded(v) for v in part["ci_high"] - part["difference"]],
                    "arrayminus": [_rounded(v) for v in part["difference"] - part["ci_low"]],
                },
                "marker": {"color": colour(index), "size": 9},
            }
        )
    layout = {
        **LAYOUT_BASE,
        "title": {"text": title},
        "yaxis": {
            "title": {"text": "model − humans (95% CI)"},
            "zeroline": True,
            "zerolinewidth": 2,
        },
        "scattermode": "group",
        "height": 460,
        "legend": {"orientation": "h", "y": -0.2},
    }
    frame = comparison[
        [
            "group",
            "dimension",
            "mean_model",
            "mean_human",
            "difference",
            "ci_low",
            "ci_high",
            "n_model",
            "n_human",
            "excludes_zero",
        ]
    ]
    return {"figure": {"data": traces, "layout": layout}, "table": _table(frame)}


def rating_histogram(
    counts: Sequence[int],
    *,
    scale_labels: Sequence[str],
    title: str,
    model_answers: Sequence[tuple[str, float]] = (),
) -> dict:
    """Human ratings 1..6 as bars; each model's (mean) answer as a marked vertical line."""
    total = sum(counts) or 1
    traces = [
        {
            "type": "bar",
            "name": "Humans",
            "x": list(range(1, 7)),
            "y": list(counts),
            "text": [f"{100 * c / total:.0f}%" for c in counts],
            "marker": {"color": "#8c8c8c"},
            "hovertext": list(scale_labels),
        }
    ]
    top = max(counts) if counts and max(counts) else 1
    for index, (name, answer) in enumerate(model_answers):
        if _num(answer) is None:
            continue
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": [answer, answer],
                "y": [0, top * (1.05 + 0.04 * (index % 5))],
                "line": {"color": colour(index), "width": 3},
                "marker": {"size": [0, 9]},
            }
        )
    layout = {
        **LAYOUT_BASE,
        "title": {"text": title},
        "xaxis": {
            "tickvals": list(range(1, 7)),
            "title": {"text": "rating (1 = not like me at all, 6 = very much like me)"},
        },
        "yaxis": {"title": {"text": "participants"}},
        "height": 380,
        "legend": {"orientation": "h", "y": -0.3},
    }
    rows = [["Humans", r, c, scale_labels[r - 1]] for r, c in zip(range(1, 7), counts, strict=True)]
    rows += [[name, _rounded(a, 3), None, "model answer"] for name, a in model_answers]
    return {
        "figure": {"data": traces, "layout": layout},
        "table": {"columns": ["who", "rating", "count", "label"], "rows": rows},
    }


def _escape(text: str) -> str:
    """Plotly renders hover templates as a small HTML subset: escape what users typed."""
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("%", "&#37;")
    )
