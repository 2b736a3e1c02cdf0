"""Data for the staff pages, built from selectors and the pure statistics (no HTTP here)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.instruments import dimensions as dims

from .language_comparison import TOO_FEW
from .minimums import TooFew, too_few
from .stats.circumplex import circular_structure
from .stats.power import achieved_power, raters_required, raters_still_needed

POWER_MIN_RATERS = 4
POWER_WHY = "power by Fisher z needs more than 3 raters"
DIMENSION_ORDER = [(f, d) for f, names in dims.FAMILIES.items() for d in names]


def _ordered_columns(frame: pd.DataFrame) -> list[tuple[str, str]]:
    present = set(zip(frame["family"], frame["dimension"], strict=True))
    return [c for c in DIMENSION_ORDER if c in present]


def heatmap_data(frame: pd.DataFrame, reference: pd.DataFrame | None = None) -> dict:
    """Items × dimensions matrix of r for Plotly (None where undefined).

    With a ``reference`` run's frame (the published table), also ``z_reference`` (its r on
    the same grid) and ``z_delta`` (this run's r minus the reference's), so the page can show
    them side by side.
    """
    if frame.empty:
        return {"x": [], "y": [], "z": [], "n": []}
    frame = frame.assign(code=frame["scenario_external_id"] + "/" + frame["option_id"].astype(str))
    columns = _ordered_columns(frame)
    r = frame.pivot_table(index="code", columns=["family", "dimension"], values="r", dropna=False)
    n = frame.pivot_table(index="code", columns=["family", "dimension"], values="n", dropna=False)
    r = r.reindex(columns=pd.MultiIndex.from_tuples(columns))
    codes = sorted(
        r.index, key=lambda c: (len(c.split("/")[0]), c.split("/")[0], int(c.split("/")[1]))
    )
    r = r.reindex(codes)

    def clean(matrix):
        return [[None if pd.isna(v) else round(float(v), 4) for v in row] for row in matrix]

    n_values = (
        clean(n.reindex(index=codes, columns=pd.MultiIndex.from_tuples(columns)).to_numpy())
        if n.notna().any().any()
        else []
    )
    data = {
        "x": [f"{dims.label(d)}" + (" (B5)" if f == dims.BIG_FIVE else "") for f, d in columns],
        "y": codes,
        "z": clean(r.to_numpy()),
        "n": n_values,
    }
    if reference is not None and not reference.empty:
        reference = reference.assign(
            code=reference["scenario_external_id"] + "/" + reference["option_id"].astype(str)
        )
        ref = reference.pivot_table(
            index="code", columns=["family", "dimension"], values="r", dropna=False
        ).reindex(index=codes, columns=pd.MultiIndex.from_tuples(columns))
        delta = r.to_numpy() - ref.to_numpy()
        data["z_reference"] = clean(ref.to_numpy())
        data["z_delta"] = [
            [None if np.isnan(v) else float(f"{v:.3g}") for v in row] for row in delta
        ]
    return data


def circle_summary(frame: pd.DataFrame) -> dict | None:
    """How many items' Schwartz correlations follow the circle, and their best values."""
    schwartz = frame[frame["family"] == dims.SCHWARTZ]
    if schwartz.empty:
        return None
    matrix = schwartz.pivot_table(index="item_id", columns="dimension", values="r", dropna=False)
    matrix = matrix.reindex(columns=list(dims.SCHWARTZ_CIRCLE))
    result = circular_structure(matrix.to_numpy())
    defined = result.best >= 0
    best = pd.Series(
        [dims.SCHWARTZ_CIRCLE[b] for b in result.best[defined]], dtype=object
    ).value_counts()
    return {
        "items": int(defined.sum()),
        "holds": int(result.holds.sum()),
        "neighbours_positive": int(result.neighbours_positive.sum()),
        "opposites_negative": int(result.opposites_negative.sum()),
        "median_fit": float(np.nanmedian(result.fit)) if defined.any() else None,
        "best_values": [(dims.label(k), int(v)) for k, v in best.items()],
    }


def raters_needed_table(frame: pd.DataFrame, *, target_r: float, alpha: float, power: float):
    """Per item: raters now (fewest over dimensions), still needed, achieved power."""
    required = raters_required(target_r, alpha, power)
    if frame.empty or frame["n"].isna().all():
        return required, []
    per_item = (
        frame.groupby(["item_id", "scenario_external_id", "option_id"])["n"]
        .min()
        .reset_index()
        .sort_values(["n", "scenario_external_id", "option_id"])
    )
    n = per_item["n"].to_numpy()
    per_item["still_needed"] = raters_still_needed(n, required)
    power = achieved_power(n, target_r, alpha)
    # Fisher z needs n > 3: below that the power is not a number but "too few".
    per_item["power"] = [
        float(p)
        if np.isfinite(p)
        else TooFew(int(k) if k == k else 0, POWER_MIN_RATERS, "raters", POWER_WHY)
        for p, k in zip(power, n, strict=True)
    ]
    return required, per_item.to_dict(orient="records")


def item_set_groups(table: pd.DataFrame, reliability: dict) -> list[dict]:
    """Selected items grouped by dimension (family order), with that dimension's reliability."""
    groups = []
    for family, dimension in DIMENSION_ORDER:
        rows = table[(table["family"] == family) & (table["dimension"] == dimension)]
        if rows.empty:
            continue
        info = reliability.get(dimension, {})
        item_total = info.get("corrected_item_total", {})
        records = rows.sort_values("r", ascending=False).to_dict(orient="records")
        for row in records:
            row["item_total"] = item_total.get(f"{row['portrait_id']}/{row['option_id']}")
        groups.append(
            {
                "family": dims.FAMILY_LABELS[family],
                "dimension": dims.label(dimension),
                "count": len(records),
                "reliability": info,
                "rows": records,
            }
        )
    return groups


def item_profiles(frame: pd.DataFrame) -> list[dict]:
    """Per item: best-matching Schwartz value, its r, whether the circle holds, the cosine
    fit, and the fewest raters over the item's pairs."""
    schwartz = frame[frame["family"] == dims.SCHWARTZ]
    if schwartz.empty:
        return []
    matrix = schwartz.pivot_table(index="item_id", columns="dimension", values="r", dropna=False)
    matrix = matrix.reindex(columns=list(dims.SCHWARTZ_CIRCLE))
    result = circular_structure(matrix.to_numpy())
    ids = frame.drop_duplicates("item_id").set_index("item_id")
    fewest = frame.groupby("item_id")["n"].min()
    out = []
    for k, item_id in enumerate(matrix.index):
        best = int(result.best[k])
        n = fewest.get(item_id)
        out.append(
            {
                "portrait_id": ids.at[item_id, "scenario_external_id"],
                "option_id": int(ids.at[item_id, "option_id"]),
                "best_value": dims.SCHWARTZ_CIRCLE[best] if best >= 0 else None,
                "best_r": None if best < 0 else round(float(matrix.iat[k, best]), 6),
                "circle_holds": bool(result.holds[k]),
                "circle_fit": None if np.isnan(result.fit[k]) else round(float(result.fit[k]), 6),
                "n": None if n is None or pd.isna(n) else int(n),
            }
        )
    out.sort(key=lambda r: (len(str(r["portrait_id"])), str(r["portrait_id"]), r["option_id"]))
    return out


def chance_line(chance: dict) -> dict:
    """A stored chance estimate (``benchmark.estimates``) as one sentence for a page or a
    command, with its numbers: ``text``, and ``selected``, ``mean``, ``sd``, ``share``,
    ``replicated`` (None where not estimated)."""
    if not chance:
        return {"text": "Chance estimate: not made yet.", "estimated": False}
    if "unavailable" in chance:
        return {"text": f"Chance estimate: none — {chance['unavailable']}.", "estimated": False}
    null, split = chance["expected_chance_selections"], chance["split_half_replication"]
    selected = chance["selected"]
    share = null.get("share_of_selection")
    mean_sd = f"{null['mean']:.1f} ± {null['sd']:.1f}"
    text = (
        f"{selected} pairs selected; {mean_sd} (mean ± SD) expected "
        f"by chance over {null['permutations']} permutations of whole value profiles "
        f"(seed {null['seed']})"
    )
    text += f", about {share:.0%} of the selection." if share is not None else "."
    if split.get("share") is not None:
        text += (
            f" {split['share']:.0%} of the selected pairs are selected again in both halves "
            f"of a random split of each item's raters (mean of {split['splits']} splits)"
        )
        if split.get("chance_share") is not None:
            text += (
                f"; of the pairs selected by chance in permuted data, {split['chance_share']:.0%}"
            )
        text += "."
    if "selected_with_approximate_ci" in chance:
        text += (
            f" The CI criterion is approximated under permutation (Fisher z); with that "
            f"approximation the data give {chance['selected_with_approximate_ci']} pairs."
        )
    search = chance.get("search")
    if search:
        text += (
            f" Threshold {search['threshold']:g} is the lowest from {search['floor']:g} at which "
            f"the chance share is at most {search['max_share']:.0%}."
        )
    return {
        "text": text,
        "estimated": True,
        "selected": selected,
        "mean": null["mean"],
        "sd": null["sd"],
        "mean_sd": mean_sd,
        "permutations": null["permutations"],
        "share": share,
        "replicated": split.get("share"),
    }


def run_chance(chance: dict) -> dict:
    """The run page's chance section: the paper preset and the chance-bounded threshold."""
    if not chance or "unavailable" in chance:
        return {"summary": chance_line(chance), "rules": []}
    rules = []
    for label, key in (
        (f"Paper preset ({chance.get('preset', '')})", "paper_rule"),
        ("Chance-bounded threshold", "bounded_rule"),
    ):
        entry = chance.get(key) or {}
        if "rule" in entry:
            rule = entry["rule"]
            t = rule["threshold"]
            label += (
                ": "
                + {"pos": f"r > {t:g}", "neg": f"r < −{t:g}", "abs": f"|r| > {t:g}"}[rule["mode"]]
            )
        rules.append({"label": label, **chance_line(entry)})
    return {"summary": None, "rules": rules}


def languages_chance_lines(chance: dict) -> dict | None:
    """The chance lines of a set frozen valid in several languages (``chance["languages"]``):
    per language its sentence, and the bound on the pairs kept in all of them. ``None`` for
    any other set."""
    stored = (chance or {}).get("languages")
    if not stored:
        return None
    lines = [
        {"language": language, "run": entry.get("run"), **chance_line(entry)}
        for language, entry in sorted(stored["per_language"].items())
    ]
    in_all = stored["in_all_languages"]
    bound, share = in_all["expected_chance_at_most"], in_all["share_at_most"]
    if bound is None:
        text = (
            f"{in_all['kept']} pairs kept in all languages; no bound on how many are chance: "
            "a language has no estimate."
        )
    else:
        text = f"{in_all['kept']} pairs kept in all languages; at most {bound:.1f} of them expected by chance"
        text += f" (at most {share:.0%})." if share is not None else "."
    return {"per_language": lines, "in_all": f"{text} Why: {in_all['why']}."}


def language_run_chance(run) -> dict:
    """The stored chance estimate of a language's run (the run page's headline preset), as
    a sentence for the languages page."""
    stored = run.chance or {}
    if not stored or "unavailable" in stored:
        return chance_line(stored)
    return chance_line(stored.get("paper_rule") or {})


SELECTION_WORDS = {"selected": "selected", "not_selected": "not selected", TOO_FEW: ""}


def language_rows(
    table: pd.DataFrame, *, languages: list[str], required: int, pair: tuple[str, str] | None
) -> list[dict]:
    """Rows of the language comparison page: per language r (or the ``TooFew`` in its
    place) and the selection verdict; the z test of the chosen pair (or the ``TooFew`` of
    the language with fewer raters when either has too few)."""
    rows = []
    for record in table.to_dict("records"):
        cells = []
        for language in languages:
            n, state = int(record[f"n_{language}"]), record[f"state_{language}"]
            thin = state == TOO_FEW
            cells.append(
                {
                    "language": language,
                    "r": too_few(n, required, "raters_per_pair")
                    if thin
                    else record[f"r_{language}"],
                    "n": n,
                    "selection": SELECTION_WORDS[state],
                }
            )
        row = {
            "code": f"{record['scenario_external_id']}/{record['option_id']}",
            "family": record["family"],
            "dimension": record["dimension"],
            "cells": cells,
            "selection_differs": bool(record["selection_differs"]),
        }
        if pair is not None:
            fewest = min(int(record[f"n_{pair[0]}"]), int(record[f"n_{pair[1]}"]))
            withheld = too_few(fewest, required, "raters_per_pair") if fewest < required else None
            row.update(z=withheld or record["z"], p=withheld or record["p"], p_bh=record["p_bh"])
        rows.append(row)
    return rows
