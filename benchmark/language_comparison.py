"""Item validation compared across languages (pure: pandas/numpy, no Django).

Each language's correlation run (its own participants only) is put side by side, pair by
pair (item × dimension): r and the raters n per language, whether the selection rule
selects the pair in that language, and for two chosen languages Fisher's z test of
r_a = r_b (``benchmark.stats.fisher``) with Benjamini–Hochberg adjusted p over the pairs
tested. A language in which a pair has fewer raters than the study's minimum gives no r,
no selection verdict and no test for it: its state is ``too_few``, never a number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .minimums import thin_pairs
from .selection import SelectionRule, select_pairs
from .stats.fisher import compare_correlations
from .stats.multiple import adjust_p

KEY = ["item_id", "scenario_external_id", "option_id", "family", "dimension"]
SELECTED, NOT_SELECTED, TOO_FEW = "selected", "not_selected", "too_few"


def language_states(frame: pd.DataFrame, rule: SelectionRule, required: int) -> pd.DataFrame:
    """One language's pairs (of the rule's families): key, r (blank below the minimum), n
    and the state: selected, not selected, or too few raters to say."""
    pairs = frame[frame["family"].isin(rule.families)].reset_index(drop=True)
    chosen = select_pairs(pairs.assign(_row=np.arange(len(pairs))), rule)["_row"].to_numpy()
    selected = np.zeros(len(pairs), dtype=bool)
    selected[chosen] = True
    n = pd.to_numeric(pairs["n"], errors="coerce")
    thin = thin_pairs(n.fillna(0), required)
    state = np.where(thin, TOO_FEW, np.where(selected, SELECTED, NOT_SELECTED))
    r = pd.to_numeric(pairs["r"], errors="coerce").mask(thin)
    return pairs[KEY].assign(r=r, n=n.fillna(0).astype(int), state=state)


def compare_languages(
    frames: dict[str, pd.DataFrame],
    *,
    rule: SelectionRule,
    required: int,
    pair: tuple[str, str] | None = None,
    method: str = "spearman",
) -> pd.DataFrame:
    """The wide comparison: per language ``r_<L>``, ``n_<L>``, ``state_<L>``; then
    ``selection_differs`` (selected in one language, not selected in another with enough
    raters) and, for ``pair`` = (a, b), ``z``, ``p`` and ``p_bh`` of r_a = r_b (NaN where
    either language has too few raters). Sorted by portrait, option, family, dimension."""
    if not frames:
        raise ValueError("no language to compare")
    wide = None
    for language, frame in frames.items():
        part = language_states(frame, rule, required).rename(
            columns={"r": f"r_{language}", "n": f"n_{language}", "state": f"state_{language}"}
        )
        wide = part if wide is None else wide.merge(part, on=KEY, how="outer")
    for language in frames:  # a pair one language's run lacks had no raters there
        wide[f"n_{language}"] = wide[f"n_{language}"].fillna(0).astype(int)
        wide[f"state_{language}"] = wide[f"state_{language}"].fillna(TOO_FEW)
    states = wide[[f"state_{language}" for language in frames]].to_numpy()
    wide["selection_differs"] = (states == SELECTED).any(axis=1) & (states == NOT_SELECTED).any(
        axis=1
    )
    if pair is not None:
        a, b = pair
        if a == b or a not in frames or b not in frames:
            raise ValueError(f"compare two different languages among {sorted(frames)}")
        tested = (wide[f"state_{a}"] != TOO_FEW) & (wide[f"state_{b}"] != TOO_FEW)
        result = compare_correlations(
            wide[f"r_{a}"], wide[f"n_{a}"], wide[f"r_{b}"], wide[f"n_{b}"], method=method
        )
        wide["z"] = np.where(tested, result.z, np.nan)
        wide["p"] = np.where(tested, result.p, np.nan)
        wide["p_bh"] = adjust_p(wide["p"].to_numpy(), "bh")
    return wide.sort_values(
        ["scenario_external_id", "option_id", "family", "dimension"], kind="stable"
    ).reset_index(drop=True)


def valid_in_all(states: list[pd.DataFrame]) -> set[tuple[int, str, str]]:
    """The (item_id, family, dimension) pairs selected, with enough raters, in every one of
    ``states`` (each a ``language_states`` frame): the pairs valid in all these languages."""
    keys = None
    for frame in states:
        chosen = frame[frame["state"] == SELECTED]
        found = set(zip(chosen["item_id"], chosen["family"], chosen["dimension"], strict=True))
        keys = found if keys is None else keys & found
    return keys or set()
