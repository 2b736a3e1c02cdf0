"""No statistic from too few people: per-study minimums and the value shown instead (pure).

A statistic computed from fewer people than its minimum is not shown as a number. In its
place a page shows ``TooFew`` ("too few: n = 2 of 20") with the reason, and the API gives
``null`` with a ``<name>_reason`` field. ``Minimums`` holds one study's thresholds; the
study's ``StudyAnalysisSettings`` stores them (defaults below) and
``benchmark.selectors.minimums_for(study=...)`` reads them in one call.

Why the defaults (README, "Item validation", says the same):

- ``raters_per_pair`` = 20: with fewer raters a Spearman r is too noisy to select on (at
  n = 20 the 95 % interval of r = 0.3 runs from −0.16 to 0.66; with two raters every r is ±1).
  Pairs below it are neither reported as correlations nor selectable into an item set.
- ``reliability_respondents`` = 20: Cronbach's α and item–total r from fewer respondents
  swing wildly (two respondents gave α = −66); 20 is the smallest sample usually accepted
  for a pilot reliability estimate.
- ``group_participants`` = 10: a demographic group on the bias page needs at least this
  many participants before its portrait is compared with a model.
- ``percentile_humans`` = 20: a model's percentile among humans needs at least this many
  humans (with fewer, one step of the percentile is more than 5 points).
- ``items_per_dimension`` = 3: a person's score on a dimension needs at least three of the
  selected items of that dimension rated by that person.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

RATERS_PER_PAIR = 20
RELIABILITY_RESPONDENTS = 20
GROUP_PARTICIPANTS = 10
PERCENTILE_HUMANS = 20
ITEMS_PER_DIMENSION = 3


@dataclass(frozen=True)
class Minimums:
    """One study's minimum counts below which a statistic is not reported."""

    raters_per_pair: int = RATERS_PER_PAIR
    reliability_respondents: int = RELIABILITY_RESPONDENTS
    group_participants: int = GROUP_PARTICIPANTS
    percentile_humans: int = PERCENTILE_HUMANS
    items_per_dimension: int = ITEMS_PER_DIMENSION

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"minimum {f.name} must be a whole number ≥ 1, not {value!r}")

    def as_json(self) -> dict:
        return asdict(self)


# What each minimum counts and why it exists (shown with the "too few" text).
REASONS = {
    "raters_per_pair": (
        "raters",
        "a correlation from fewer raters is too noisy to report or to select on",
    ),
    "reliability_respondents": (
        "respondents",
        "Cronbach's α and item–total r from fewer respondents are not reliable estimates",
    ),
    "group_participants": (
        "participants",
        "a group this small cannot be compared with a model",
    ),
    "percentile_humans": ("humans", "a percentile among fewer humans is too coarse"),
    "items_per_dimension": (
        "rated items",
        "a person's dimension score needs more of the dimension's selected items rated",
    ),
}


@dataclass(frozen=True)
class TooFew:
    """A statistic left out because it rests on ``n`` of the ``required`` people/items.

    ``what`` names what was counted ("raters", "respondents", ...); ``why`` says why the
    minimum exists. ``str()`` is the short text pages show in the number's place.
    """

    n: int
    required: int
    what: str = "people"
    why: str = ""

    def __str__(self) -> str:
        return f"too few: n = {self.n} of {self.required}"

    @property
    def reason(self) -> str:
        text = f"too few {self.what}: n = {self.n}, at least {self.required} needed"
        return f"{text} ({self.why})" if self.why else text

    def as_json(self) -> dict:
        return {
            "too_few": True,
            "n": self.n,
            "required": self.required,
            "what": self.what,
            "why": self.why,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data) -> TooFew | None:
        """The ``TooFew`` stored by ``as_json`` (None for anything else)."""
        if not isinstance(data, dict) or not data.get("too_few"):
            return None
        return cls(
            n=int(data["n"]),
            required=int(data["required"]),
            what=str(data.get("what", "people")),
            why=str(data.get("why", "")),
        )


def too_few(n: int, required: int, minimum: str) -> TooFew:
    """The ``TooFew`` for the named minimum (a field of ``Minimums``)."""
    what, why = REASONS[minimum]
    return TooFew(n=int(n), required=int(required), what=what, why=why)


def enough(n, required: int) -> bool:
    """True when ``n`` (a count, possibly None/NaN) reaches ``required``."""
    if n is None:
        return False
    try:
        value = float(n)
    except (TypeError, ValueError):
        return False
    return not math.isnan(value) and value >= required


def checked(value, *, n, minimums: Minimums, minimum: str):
    """``value`` when ``n`` reaches the named minimum of ``minimums``, else its ``TooFew``."""
    required = getattr(minimums, minimum)
    if enough(n, required):
        return value
    return too_few(0 if n is None or n != n else int(n), required, minimum)


def api_fields(name: str, value) -> dict:
    """``{name: value, name_reason: None}``, or ``{name: None, name_reason: why}`` when
    ``value`` is a ``TooFew`` (or its stored JSON) — the API's form of a withheld number."""
    found = value if isinstance(value, TooFew) else TooFew.from_json(value)
    if found is not None:
        return {name: None, f"{name}_reason": found.reason}
    return {name: value, f"{name}_reason": None}


# --- correlations: a pair below the raters minimum is neither reported nor selectable ---

PAIR_STATISTICS = ("r", "p", "p_bh", "p_by", "ci_low", "ci_high")


def thin_pairs(n, required: int) -> np.ndarray:
    """True where a pair's rater count ``n`` is known and below ``required``.

    A published run that states no n (NaN/None) cannot be checked and is not marked.
    """
    counts = pd.to_numeric(pd.Series(np.asarray(n, dtype=object)), errors="coerce").to_numpy()
    with np.errstate(invalid="ignore"):
        return ~np.isnan(counts) & (counts < required)


def withhold_thin_pairs(frame: pd.DataFrame, required: int) -> pd.DataFrame:
    """``frame`` (one row per pair, with ``n``) with the statistics of pairs below
    ``required`` raters blanked, a ``too_few`` column (the ``TooFew``, None elsewhere) and
    an ``r_reason`` column saying why (None elsewhere)."""
    out = frame.copy()
    if out.empty or "n" not in out:
        for column in ("too_few", "r_reason"):
            out[column] = pd.Series([None] * len(out), index=out.index, dtype=object)
        return out
    mask = thin_pairs(out["n"], required)
    for column in PAIR_STATISTICS:
        if column in out:
            out[column] = pd.to_numeric(out[column], errors="coerce").mask(mask)
    withheld = [
        too_few(int(n), required, "raters_per_pair") if thin else None
        for n, thin in zip(out["n"], mask, strict=True)
    ]
    out["too_few"] = pd.Series(withheld, index=out.index, dtype=object)
    out["r_reason"] = pd.Series(
        [w.reason if w else None for w in withheld], index=out.index, dtype=object
    )
    return out


class TooFewToSelect(ValueError):
    """Freezing refused: the rule would select pairs below the raters minimum."""


def refuse_thin_selection(selected: pd.DataFrame, required: int) -> None:
    """Raise ``TooFewToSelect`` (with the reason) when ``selected`` holds pairs below
    ``required`` raters; a frozen set must not rest on correlations too few people gave."""
    if selected.empty or "n" not in selected:
        return
    mask = thin_pairs(selected["n"], required)
    if not mask.any():
        return
    fewest = int(pd.to_numeric(selected["n"][mask]).min())
    why = REASONS["raters_per_pair"][1]
    raise TooFewToSelect(
        f"refused: the rule would select {int(mask.sum())} pair(s) with fewer than {required} "
        f"raters (fewest: n = {fewest}); {why}. Collect more ratings, or change the study's "
        "minimum raters per pair in its analysis settings if a smaller sample is intended."
    )


def api_json(data):
    """Stored JSON with every ``TooFew`` replaced by ``null`` and a ``<key>_reason`` beside
    it (the API's form); other values unchanged."""
    if isinstance(data, list):
        return [api_json(v) for v in data]
    if not isinstance(data, dict):
        return data
    out: dict = {}
    for key, value in data.items():
        found = TooFew.from_json(value)
        if found is not None:
            out[key] = None
            out[f"{key}_reason"] = found.reason
        else:
            out[key] = api_json(value)
    return out
