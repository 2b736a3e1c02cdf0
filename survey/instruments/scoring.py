"""Score questionnaire answers: reverse keys, mean per dimension, MRAT centring.

Two entry points with one rule:

- ``score_answers(key, answers)`` for one person (a mapping item number -> answer);
- ``score_matrix(key, answers)`` for many people at once (a DataFrame, one row per person,
  one column per item number), vectorised with numpy.

Rules (from the instruments' scoring instructions):

1. reverse-keyed items are recoded ``(min + max) - x`` (BFI-10: ``6 - x``);
2. a dimension's raw score is the mean of its items;
3. for values instruments (``centring == "mrat"``) the centred score is the raw score minus the
   person's mean over *all* items of the instrument (MRAT); centre, do not standardise.
   Trait instruments are not centred.

A person must have answered every item; incomplete or out-of-range answers raise
``ScoringError`` rather than produce a score computed on a different item set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .keys import InstrumentKey


class ScoringError(ValueError):
    """The answers cannot be scored with this key (missing, extra or out-of-range answers)."""


@dataclass(frozen=True)
class Scores:
    """One person's scores: ``raw[family][dimension]``, ``centred`` likewise (None if not centred)."""

    raw: dict[str, dict[str, float]]
    centred: dict[str, dict[str, float]] | None
    mrat: float | None

    def for_analysis(self) -> dict[str, dict[str, float]]:
        """The scores correlations use: centred for values instruments, raw for traits."""
        return self.centred if self.centred is not None else self.raw


def recode_ess(value: int) -> int:
    """ESS data code (1 = very much like me) -> stored code (1 = not like me at all)."""
    if not 1 <= value <= 6:
        raise ScoringError(f"ESS code {value} outside 1..6")
    return 7 - value


def validate_answer(key: InstrumentKey, item_number: int, value: int) -> None:
    """Raise ``ScoringError`` unless ``value`` is a valid answer to item ``item_number``."""
    if not 1 <= item_number <= key.n_items:
        raise ScoringError(f"{key.code} has no item {item_number} (items 1..{key.n_items})")
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ScoringError(f"{key.code} item {item_number}: answer {value!r} is not a whole number")
    if not key.scale_min <= value <= key.scale_max:
        raise ScoringError(
            f"{key.code} item {item_number}: answer {value} outside {key.scale_min}..{key.scale_max}"
        )


def _keyed(key: InstrumentKey, matrix: np.ndarray) -> np.ndarray:
    """Apply reverse keys to an (n_people, n_items) matrix whose columns are items 1..n."""
    keyed = matrix.astype(float, copy=True)
    if key.reverse_items:
        cols = [n - 1 for n in sorted(key.reverse_items)]
        keyed[:, cols] = (key.scale_min + key.scale_max) - keyed[:, cols]
    return keyed


def score_matrix(key: InstrumentKey, answers: pd.DataFrame) -> dict[str, dict[str, pd.DataFrame]]:
    """Score many people at once.

    ``answers``: index = person, columns = item numbers 1..n (all present), values in the
    scale. Rows with any missing answer get NaN scores (never partial scores).
    Returns ``{"raw": {family: DataFrame}, "centred": {family: DataFrame}}`` where each
    DataFrame has one row per person and one column per dimension; ``centred`` is empty for
    instruments that are not centred.
    """
    missing = [n for n in key.item_numbers if n not in answers.columns]
    if missing:
        raise ScoringError(f"{key.code}: no column for items {missing}")
    matrix = answers[list(key.item_numbers)].to_numpy(dtype=float)
    finite = matrix[~np.isnan(matrix)]
    if finite.size and ((finite < key.scale_min).any() or (finite > key.scale_max).any()):
        raise ScoringError(f"{key.code}: answers outside {key.scale_min}..{key.scale_max}")
    keyed = _keyed(key, matrix)
    mrat = keyed.mean(axis=1)  # NaN for a person with any missing answer
    raw: dict[str, pd.DataFrame] = {}
    centred: dict[str, pd.DataFrame] = {}
    for family, members in key.families.items():
        columns = {
            name: keyed[:, [n - 1 for n in items]].mean(axis=1) for name, items in members.items()
        }
        frame = pd.DataFrame(columns, index=answers.index)
        raw[family] = frame
        if key.centring == "mrat":
            centred[family] = frame.sub(mrat, axis=0)
    return {"raw": raw, "centred": centred}


def score_answers(key: InstrumentKey, answers: Mapping[int, int]) -> Scores:
    """Score one person's complete answers (item number -> answer)."""
    extra = sorted(set(answers) - set(key.item_numbers))
    if extra:
        raise ScoringError(f"{key.code} has no items {extra}")
    missing = sorted(set(key.item_numbers) - set(answers))
    if missing:
        raise ScoringError(f"{key.code}: items {missing} are unanswered")
    for number, value in answers.items():
        validate_answer(key, number, value)
    frame = pd.DataFrame([{n: answers[n] for n in key.item_numbers}])
    result = score_matrix(key, frame)
    raw = {
        family: {k: float(v) for k, v in df.iloc[0].items()} for family, df in result["raw"].items()
    }
    if key.centring == "mrat":
        centred = {
            family: {k: float(v) for k, v in df.iloc[0].items()}
            for family, df in result["centred"].items()
        }
        mrat = float(_keyed(key, frame.to_numpy(dtype=float)).mean())
        return Scores(raw=raw, centred=centred, mrat=mrat)
    return Scores(raw=raw, centred=None, mrat=None)
