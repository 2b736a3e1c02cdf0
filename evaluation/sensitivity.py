"""The paper's prompt-sensitivity analysis (``prompt_analysis.py`` of the release), pure.

Input: one row per answer with ``item_id``, ``variant`` and ``rating`` (NaN when invalid).
An item's answer to a variant is its valid rating (the mean of the valid repetitions when a
run repeats). Variants are grouped into *wordings* (``v1`` and ``v1_reversed`` are wording
``v1``, in normal and reversed option order).

The rules, as the published files of the three released models are reproduced to 1e-9
(``tests/evaluation/test_sensitivity.py``), where an item's wording is **complete** when its
answers in both option orders are valid (in a run that asked only one order of a wording,
when that answer is valid):

- ``order_metrics`` per wording with both orders, over the items complete for it
  (``details.valid_items_by_version``): ``sensitivities`` = share of items whose answer
  changes when the options are reversed, ``differences`` = mean |normal − reversed|; each
  with its ``average`` over the wordings.
- ``prompt_metrics`` over the items with at least two complete wordings
  (``details.prompt_valid_items``): ``sensitivity`` = share of items whose normal-order answers
  over their complete wordings are not all equal, ``avg_version_difference`` = mean over items
  of the mean pairwise |difference| between those answers; ``global_avg_version_difference``
  = the same over all answers (both orders) of the complete wordings, over the items with at
  least one complete wording (at least two such answers, in a run without reversed orders).
- ``consistency_metrics``: ``per_prompt_std`` = each variant's population SD of its valid
  answers over items, ``overall_consistency`` = their mean.

(The paper's description — "items with v1..v3 and their reversed forms valid" — is this rule
for the two released models without invalid answers; on llama-3.1-8b-instruct only this
reading gives its 513 prompt-valid items and every published number.)

A metric without any item to stand on is ``None``; ``details`` holds the counts behind each
(the release's keys, plus ``global_valid_items`` and ``valid_answers_by_variant``).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from evaluation.portraits import base_wording

REVERSED = "_reversed"
# The keys of the release's ``details``.
RELEASE_DETAILS = ("total_items", "valid_items_by_version", "prompt_valid_items", "skipped_items")


def _mean_pairwise_difference(values: np.ndarray) -> np.ndarray:
    """Per row, the mean |a − b| over the pairs of non-NaN values (NaN with fewer than two)."""
    total = np.zeros(values.shape[0])
    count = np.zeros(values.shape[0])
    for i, j in combinations(range(values.shape[1]), 2):
        difference = np.abs(values[:, i] - values[:, j])
        present = ~np.isnan(difference)
        total += np.where(present, difference, 0.0)
        count += present
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _mean(values: np.ndarray) -> float | None:
    return float(np.mean(values)) if len(values) else None


def _average(metrics: dict[str, float | None]) -> float | None:
    present = [v for v in metrics.values() if v is not None]
    return float(np.mean(present)) if present else None


def sensitivity(answers: pd.DataFrame, item_labels: dict | None = None) -> dict:
    """The paper's metrics for one model (one persona) from its per-variant answers.

    ``skipped_items`` lists the items without any valid answer, named by ``item_labels``
    (``item_id`` -> label) when given.
    """
    table = answers.pivot_table(
        index="item_id", columns="variant", values="rating", aggfunc="mean", dropna=False
    ).reindex(pd.Index(sorted(answers["item_id"].unique()), name="item_id"))
    variants = list(table.columns)
    wordings = sorted({base_wording(v) for v in variants})
    normal = {w: w if w in variants else w + REVERSED for w in wordings}
    reverse = {w: w + REVERSED for w in wordings if w in variants and w + REVERSED in variants}
    present = table.notna()
    complete = pd.DataFrame(
        {w: present[normal[w]] & (present[reverse[w]] if w in reverse else True) for w in wordings},
        index=table.index,
        columns=wordings,
    )

    order_sens: dict[str, float | None] = {}
    order_diff: dict[str, float | None] = {}
    valid_by_version: dict[str, int] = {}
    for wording, reversed_variant in reverse.items():
        mask = complete[wording].to_numpy()
        a = table[normal[wording]].to_numpy()[mask]
        b = table[reversed_variant].to_numpy()[mask]
        valid_by_version[wording] = int(mask.sum())
        order_sens[wording] = _mean((a != b).astype(float))
        order_diff[wording] = _mean(np.abs(a - b))
    order_sens["average"] = _average(order_sens)
    order_diff["average"] = _average(order_diff)

    complete_count = complete.sum(axis=1).to_numpy()
    prompt_valid = complete_count >= 2
    normal_answers = table[[normal[w] for w in wordings]].to_numpy(dtype=float)
    chosen = np.where(complete.to_numpy(), normal_answers, np.nan)[prompt_valid]
    if len(chosen):
        differs = (np.nanmax(chosen, axis=1) != np.nanmin(chosen, axis=1)).astype(float)
    else:
        differs = np.zeros(0)
    # Both orders of every complete wording (the paper's "global" comparison).
    columns = [(w, v) for w in wordings for v in (normal[w], reverse.get(w)) if v is not None]
    every_answer = np.where(
        complete[[w for w, _ in columns]].to_numpy(),
        table[[v for _, v in columns]].to_numpy(dtype=float),
        np.nan,
    )
    global_valid = (~np.isnan(every_answer)).sum(axis=1) >= 2

    per_prompt_std = {
        variant: (float(np.std(column.dropna().to_numpy())) if column.notna().any() else None)
        for variant, column in table.items()
    }
    present_std = [v for v in per_prompt_std.values() if v is not None]
    labels = item_labels or {}
    skipped = [labels.get(i, i) for i in table.index[~present.any(axis=1)].tolist()]
    return {
        "prompt_metrics": {
            "sensitivity": _mean(differs),
            "avg_version_difference": _mean(_mean_pairwise_difference(chosen)),
            "global_avg_version_difference": _mean(
                _mean_pairwise_difference(every_answer[global_valid])
            ),
        },
        "order_metrics": {"sensitivities": order_sens, "differences": order_diff},
        "details": {
            "total_items": int(len(table)),
            "valid_items_by_version": valid_by_version,
            "prompt_valid_items": int(prompt_valid.sum()),
            "global_valid_items": int(global_valid.sum()),
            "valid_answers_by_variant": {v: int(n) for v, n in present.sum().items()},
            "skipped_items": skipped,
        },
        "consistency_metrics": {
            "per_prompt_std": per_prompt_std,
            "overall_consistency": float(np.mean(present_std)) if present_std else None,
        },
    }
