"""Select the (item, dimension) pairs that measure a dimension: pure functions, no Django.

A ``SelectionRule`` says which families to consider, the correlation threshold and its
mode (``pos``: r > t, ``neg``: r < -t, ``abs``: |r| > t; the comparison is strict, as in the
paper), and (item, dimension) pairs to leave out. Two optional criteria go beyond the
paper: significance after FDR correction (``fdr_alpha``: the BH or BY adjusted p must be
below it) and a bootstrap CI bound (``ci_bound``: the CI must lie beyond it on the selected
side — lower bound > bound for ``pos``, upper bound < −bound for ``neg``, either for
``abs``). ``max_chance_share`` asks for the lowest threshold (from ``threshold`` up) at which
the pairs expected by chance are at most that share of the selection; it needs the study's
data, so ``benchmark.estimates.chance_bounded_rule`` resolves it into ``threshold`` before
``select_pairs``, which applies the threshold. Presets name rules used in publications.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

from survey.instruments import dimensions as dims

MODES = ("pos", "neg", "abs")


@dataclass(frozen=True)
class Exclusion:
    scenario_external_id: str
    option_id: int
    dimension: str
    reason: str


@dataclass(frozen=True)
class SelectionRule:
    families: tuple[str, ...] = (dims.SCHWARTZ, dims.HIGHER_ORDER, dims.BIG_FIVE)
    threshold: float = 0.3
    mode: str = "pos"
    exclusions: tuple[Exclusion, ...] = field(default_factory=tuple)
    fdr_alpha: float | None = None
    fdr_method: str = "bh"
    ci_bound: float | None = None
    max_chance_share: float | None = None

    def __post_init__(self):
        if self.max_chance_share is not None and not 0 < self.max_chance_share < 1:
            raise ValueError("max_chance_share must be in (0, 1)")
        if self.fdr_alpha is not None and not 0 < self.fdr_alpha < 1:
            raise ValueError("fdr_alpha must be in (0, 1)")
        if self.fdr_method not in ("bh", "by"):
            raise ValueError("fdr_method must be bh or by")
        if self.ci_bound is not None and not -1 < self.ci_bound < 1:
            raise ValueError("ci_bound must be in (-1, 1)")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")
        if not 0 <= self.threshold < 1:
            raise ValueError("threshold must be in [0, 1)")
        unknown = set(self.families) - set(dims.FAMILIES)
        if unknown:
            raise ValueError(f"unknown families {sorted(unknown)}")

    def as_json(self) -> dict:
        return asdict(self)


# The paper's scoring left out three pairs with r > 0.3 but p >= 0.05 (Schwartz and Big
# Five only; it made no such exclusion for the higher-order values).
_P_NOT_SIGNIFICANT = "r > 0.3 but p >= 0.05; left out by the paper's scoring"
PRESETS: dict[str, SelectionRule] = {
    "valueportrait-2025": SelectionRule(
        threshold=0.3,
        mode="pos",
        exclusions=(
            Exclusion("3902", 4, "Achievement", _P_NOT_SIGNIFICANT),
            Exclusion("1901", 1, "Universalism", _P_NOT_SIGNIFICANT),
            Exclusion("2901", 4, "Extraversion", _P_NOT_SIGNIFICANT),
        ),
    ),
}


def select_pairs(correlations: pd.DataFrame, rule: SelectionRule) -> pd.DataFrame:
    """Return the rows of ``correlations`` that the rule selects.

    ``correlations`` needs the columns ``scenario_external_id, option_id, family,
    dimension, r``; other columns are kept. Rows with r undefined (NaN) are never selected.
    """
    frame = correlations[correlations["family"].isin(rule.families)]
    r = frame["r"]
    if rule.mode == "pos":
        keep = r > rule.threshold
    elif rule.mode == "neg":
        keep = r < -rule.threshold
    else:
        keep = r.abs() > rule.threshold
    if rule.fdr_alpha is not None:
        column = f"p_{rule.fdr_method}"
        if column not in frame or frame[column].isna().all():
            raise ValueError(
                f"this correlation run has no {rule.fdr_method.upper()} adjusted p-values "
                "(a published run, or one without p); drop the FDR criterion"
            )
        keep &= frame[column] < rule.fdr_alpha
    if rule.ci_bound is not None:
        if "ci_low" not in frame or frame["ci_low"].isna().all():
            raise ValueError(
                "this correlation run has no bootstrap confidence intervals; "
                "drop the CI criterion or recompute with bootstrap resamples"
            )
        above = frame["ci_low"] > rule.ci_bound
        below = frame["ci_high"] < -rule.ci_bound
        keep &= {"pos": above, "neg": below, "abs": above | below}[rule.mode]
    selected = frame[keep.fillna(False).astype(bool)]
    if rule.exclusions:
        excluded = pd.DataFrame(
            [(e.scenario_external_id, e.option_id, e.dimension) for e in rule.exclusions],
            columns=["scenario_external_id", "option_id", "dimension"],
        )
        marker = selected.merge(
            excluded.assign(_excluded=True), how="left", on=list(excluded.columns)
        )
        selected = selected[marker["_excluded"].isna().to_numpy()]
    return selected.reset_index(drop=True)
