"""How many pairs would a selection rule pick by chance? (pure numpy/scipy, no Django)

**Permutation null.** Each permutation moves every rater's *whole* value profile (their row
of ``scores``) to another rater; item ratings stay where they are. The association between
an item's ratings and the values is then destroyed while everything else is kept: each
item's raters and ratings (ties included), each profile's internal correlations between
dimensions, the distribution of scores. A rule applied to the permuted correlations selects
pairs by chance alone; the mean count over many permutations is the expected number of
chance selections.

Profiles are shuffled *within strata of raters whose profiles cover the same dimensions*
(in the release: all raters, one stratum). So the raters of every pair, and its ``n``, are
the same in every permutation as in the data, and each item's rating ranks are computed
once.

**Vectorised.** Spearman r of an item and a dimension is the Pearson r of the item's rating
ranks and the ranks of its raters' scores among those raters. Items rated by exactly the
same raters (a survey group of the release: 40 items, 47 raters) share those score ranks,
so the scores are ranked once per distinct rater set (``np.unique`` over the padded rater
rows), and the cross-products of all items with their set's ranks are one sparse matrix
product per block of permutations. Pearson is the same with centred values instead of
ranks. Kendall τ-b has no such shortcut: each permutation is one full
``correlate(..., "kendall")`` (about 1.6 s on the release).

The rule is applied to each permutation as ``benchmark.selection.select_pairs`` applies it to
a run (``Criterion`` is its array form; tests check the two agree). FDR-adjusted p are
recomputed over each permutation's whole run. A *bootstrap* CI bound cannot be bootstrapped
inside every permutation at an honest cost (200 × 200 recomputations), so under permutation
(and in the split halves) the CI is the Fisher-z interval at the same level with the
standard error of Bonett & Wright (2000) for Spearman, ``sqrt((1 + r²/2) / (n − 3))``
(Pearson ``1/sqrt(n − 3)``; Kendall Fieller's ``sqrt(0.437 / (n − 4))``); see
``approximate_ci``.

**Split-half replication.** Each item's raters are split at random into two halves (seeded);
the rule is applied to each half's correlations; a selected pair *replicates* when both
halves select it again.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy import sparse, stats

from .correlation import PaddedRatings, correlate, pearson_p, spearman_p
from .multiple import adjust_p
from .ranks import rank_rows

MODES = ("pos", "neg", "abs")
BLOCK_BYTES = 64 * 2**20  # working memory of one block of permutations


def profile_permutations(scores: np.ndarray, n_permutations: int, seed: int) -> np.ndarray:
    """``(n_permutations, n_raters)`` index arrays: rater j gets the profile of ``perm[j]``.

    Each permutation shuffles profiles among raters with the same pattern of missing
    dimensions only. Reproducible for a given ``seed`` (drawn all at once, so the same
    permutations whatever the block size used later).
    """
    if n_permutations < 1:
        raise ValueError("n_permutations must be at least 1")
    scores = np.asarray(scores, dtype=float)
    n_raters = scores.shape[0]
    _, stratum = np.unique(np.isnan(scores), axis=0, return_inverse=True)
    stratum = np.asarray(stratum).reshape(-1)
    base = np.argsort(stratum, kind="stable")  # raters grouped by stratum
    rng = np.random.default_rng(seed)
    noise = rng.random((n_permutations, n_raters))
    # sorted by stratum, then by the random key: each stratum's raters in random order
    donors = np.lexsort((noise, np.broadcast_to(stratum, noise.shape)), axis=-1)
    perms = np.empty((n_permutations, n_raters), dtype=np.int64)
    perms[:, base] = donors
    return perms


@dataclass(frozen=True)
class _DimensionGroup:
    """Dimensions with the same raters scored: their shared masks, ranks and rater sets."""

    dims: np.ndarray  # column indices into scores
    n: np.ndarray  # (n_items,) raters per pair
    xm: np.ndarray  # (n_items, width) centred rating ranks/values, 0 outside the mask
    cxx: np.ndarray  # (n_items,)
    sets: np.ndarray  # (n_sets, width) rater index per slot, -1 empty
    set_of_item: np.ndarray  # (n_items,)
    cross: sparse.csr_matrix  # (n_items, n_sets * width): xm placed at its set's slots


def _dimension_groups(ratings: PaddedRatings, scores: np.ndarray, method: str):
    rated = ~np.isnan(ratings.values)
    missing = np.isnan(scores)
    _, pattern_of_dim = np.unique(missing.T, axis=0, return_inverse=True)
    pattern_of_dim = np.asarray(pattern_of_dim).reshape(-1)
    n_raters = scores.shape[0]
    groups = []
    for pattern in np.unique(pattern_of_dim):  # one per pattern of missing scores (1-3)
        dims = np.nonzero(pattern_of_dim == pattern)[0]
        has_score = ~missing[:, dims[0]]
        safe = np.clip(ratings.raters, 0, None)
        mask = rated & (ratings.raters >= 0) & has_score[safe]
        # Canonical rows: each item's counted raters in rater order, empty slots last.
        key = np.where(mask, ratings.raters, n_raters)
        order = np.argsort(key, axis=1, kind="stable")
        raters = np.take_along_axis(key, order, axis=1)
        mask = np.take_along_axis(mask, order, axis=1)
        values = np.take_along_axis(ratings.values, order, axis=1)
        raters = np.where(mask, raters, -1)
        x = np.where(mask, values, np.nan)
        if method == "spearman":
            x = rank_rows(x)
        n = mask.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            xm = np.where(mask, x - (np.where(mask, x, 0.0).sum(axis=1) / n)[:, None], 0.0)
            cxx = (xm * xm).sum(axis=1) / (n - 1)
        sets, set_of_item = np.unique(raters, axis=0, return_inverse=True)
        set_of_item = np.asarray(set_of_item).reshape(-1)
        width = raters.shape[1]
        rows = np.repeat(np.arange(len(n)), width)
        columns = (set_of_item[:, None] * width + np.arange(width)[None, :]).ravel()
        cross = sparse.csr_matrix(
            (xm.ravel(), (rows, columns)), shape=(len(n), max(len(sets), 1) * width)
        )
        groups.append(_DimensionGroup(dims, n, xm, cxx, sets, set_of_item, cross))
    return groups


def permuted_correlations(
    ratings: PaddedRatings,
    scores: np.ndarray,
    permutations: np.ndarray,
    method: str = "spearman",
) -> Iterator[np.ndarray]:
    """Yield blocks ``(b, n_items, n_dimensions)`` of r, one per row of ``permutations``.

    Equal to ``correlate(ratings, scores[perm], method).r`` for every ``perm`` (to rounding
    of the sums, far below 1e-12), for permutations within the strata of
    ``profile_permutations``, which keep every pair's raters.
    """
    for r, _ in _permuted_blocks(ratings, scores, permutations, method):
        yield r


def _permuted_blocks(ratings, scores, permutations, method):
    """``(r, p)`` blocks; p is None where ``p_values`` derives it from r and n (Spearman,
    Pearson) and Kendall's own p (it depends on ties, not only on r and n)."""
    scores = np.asarray(scores, dtype=float)
    permutations = np.asarray(permutations, dtype=np.int64)
    if method == "kendall":
        for perm in permutations:
            result = correlate(ratings, scores[perm], "kendall")
            yield result.r[None], result.p[None]
        return
    if method not in ("spearman", "pearson"):
        raise ValueError(f"unknown method {method!r}")
    n_items, n_dims = ratings.n_items, scores.shape[1]
    groups = _dimension_groups(ratings, scores, method)
    width = max(ratings.values.shape[1], 1)
    per_permutation = 8 * n_dims * 4 * (n_items + max(len(g.sets) for g in groups) * width)
    block = max(1, min(len(permutations), BLOCK_BYTES // max(per_permutation, 1)))
    for start in range(0, len(permutations), block):
        perms = permutations[start : start + block]
        b = len(perms)
        out = np.full((b, n_items, n_dims), np.nan)
        for g in groups:
            n_sets, d = len(g.sets), len(g.dims)
            # scores of each set's raters under each permutation: (b, d, n_sets, width)
            donors = perms[:, np.clip(g.sets, 0, None)]  # (b, n_sets, width)
            y = scores[donors][..., g.dims]  # (b, n_sets, width, d)
            y = np.moveaxis(y, 3, 1)
            empty = np.broadcast_to(g.sets < 0, y.shape)
            y = np.where(empty, np.nan, y)
            if method == "spearman":
                y = rank_rows(y.reshape(-1, y.shape[-1])).reshape(y.shape)
            valid = ~empty
            n_set = valid.sum(axis=-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                ym = np.where(
                    valid, y - (np.where(valid, y, 0.0).sum(axis=-1) / n_set)[..., None], 0
                )
                cyy = (ym * ym).sum(axis=-1)  # (b, d, n_sets)
                cxy = g.cross @ ym.reshape(b * d, n_sets * y.shape[-1]).T  # (n_items, b*d)
                cxy = cxy.T.reshape(b, d, n_items)
                factor = 1.0 / (g.n - 1)
                cyy_items = cyy[:, :, g.set_of_item] * factor
                r = (cxy * factor) / np.sqrt(cyy_items) / np.sqrt(g.cxx)
            undefined = (g.cxx == 0) | (g.n < 2) | (cyy_items == 0)
            r = np.where(undefined | np.isnan(r), np.nan, np.clip(r, -1.0, 1.0))
            out[:, :, g.dims] = np.moveaxis(r, 1, 2)
        yield out, None


def p_values(r: np.ndarray, n: np.ndarray, method: str) -> np.ndarray:
    """Two-sided p of r with n raters, as the run computes it (Spearman t, Pearson beta).

    Kendall's p depends on the ties, not only on r and n: callers pass the p that
    ``correlate`` computed instead.
    """
    if method == "spearman":
        return spearman_p(r, n)
    if method == "pearson":
        return pearson_p(r, n)
    raise ValueError(f"the p of {method!r} is not a function of r and n; pass p")


def approximate_ci(
    r: np.ndarray, n: np.ndarray, method: str = "spearman", level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Fisher-z confidence interval of r: ``tanh(atanh(r) ± z·se)``; NaN where n is too small.

    se: Spearman ``sqrt((1 + r²/2)/(n − 3))`` (Bonett & Wright 2000), Pearson
    ``1/sqrt(n − 3)``, Kendall ``sqrt(0.437/(n − 4))`` (Fieller et al. 1957).
    """
    r = np.asarray(r, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.isf((1 - level) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "spearman":
            se = np.sqrt((1 + r**2 / 2) / (n - 3))
        elif method == "pearson":
            se = 1 / np.sqrt(n - 3)
        else:
            se = np.sqrt(0.437 / (n - 4))
        centre = np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15))
        low, high = np.tanh(centre - z * se), np.tanh(centre + z * se)
    too_few = n <= (4 if method == "kendall" else 3)
    return np.where(too_few, np.nan, low), np.where(too_few, np.nan, high)


@dataclass(frozen=True)
class Criterion:
    """A selection rule in array form over an items × dimensions grid.

    ``considered``: pairs the rule may select (its families, minus its excluded pairs);
    ``mode``: pos (r > t), neg (r < −t) or abs (|r| > t), strict as in the paper;
    ``fdr_alpha``/``fdr_method``: adjusted p below alpha, the family being every finite p of
    the grid (the whole run); ``ci_bound``: the CI lies beyond it on the selected side.
    """

    considered: np.ndarray
    mode: str = "pos"
    fdr_alpha: float | None = None
    fdr_method: str = "bh"
    ci_bound: float | None = None
    ci_level: float = 0.95

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")

    def strength(self, r: np.ndarray) -> np.ndarray:
        """The value compared with the threshold (−inf where r is undefined)."""
        value = {"pos": r, "neg": -r, "abs": np.abs(r)}[self.mode]
        return np.where(np.isnan(value), -np.inf, value)

    def eligible(
        self,
        r: np.ndarray,
        n: np.ndarray,
        method: str,
        *,
        p: np.ndarray | None = None,
        ci: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Pairs meeting every criterion except the threshold; ``r``: (..., items, dims).

        ``p`` defaults to ``p_values(r, n, method)``; ``ci`` to ``approximate_ci``.
        """
        keep = np.broadcast_to(self.considered, r.shape) & ~np.isnan(r)
        if self.fdr_alpha is not None:
            p = p_values(r, n, method) if p is None else p
            flat = p.reshape(-1, *r.shape[-2:])
            adjusted = np.stack([adjust_p(one, self.fdr_method) for one in flat])
            keep = keep & (adjusted.reshape(r.shape) < self.fdr_alpha)
        if self.ci_bound is not None:
            low, high = approximate_ci(r, n, method, self.ci_level) if ci is None else ci
            with np.errstate(invalid="ignore"):
                above, below = low > self.ci_bound, high < -self.ci_bound
            keep = keep & {"pos": above, "neg": below, "abs": above | below}[self.mode]
        return keep

    def counts(self, r: np.ndarray, eligible: np.ndarray, thresholds) -> np.ndarray:
        """Selected pairs at each threshold: shape (..., len(thresholds))."""
        thresholds = np.atleast_1d(np.asarray(thresholds, dtype=float))
        strength = np.where(eligible, self.strength(r), -np.inf)
        flat = strength.reshape(-1, strength.shape[-2] * strength.shape[-1])
        ordered = np.sort(flat, axis=1)
        out = np.empty((len(flat), len(thresholds)), dtype=np.int64)
        for k, row in enumerate(ordered):  # one searchsorted per permutation
            out[k] = row.size - np.searchsorted(row, thresholds, side="right")
        return out.reshape(*strength.shape[:-2], len(thresholds))


@dataclass(frozen=True)
class ChanceEstimate:
    """Chance selections at each threshold: ``counts`` (n_permutations, n_thresholds)."""

    thresholds: np.ndarray
    counts: np.ndarray
    n_permutations: int
    seed: int

    @property
    def mean(self) -> np.ndarray:
        return self.counts.mean(axis=0)

    @property
    def sd(self) -> np.ndarray:
        if self.n_permutations < 2:
            return np.full(len(self.thresholds), np.nan)
        return self.counts.std(axis=0, ddof=1)


def chance_selections(
    ratings: PaddedRatings,
    scores: np.ndarray,
    criterion: Criterion,
    thresholds,
    *,
    method: str = "spearman",
    n_permutations: int = 200,
    seed: int = 0,
    progress: Callable[[int], object] | None = None,
) -> ChanceEstimate:
    """Count the pairs ``criterion`` selects at each threshold in each permutation.
    ``progress`` is called with the number of permutations done after each block of them
    (once per block, so a progress bar costs nothing measurable)."""
    thresholds = np.atleast_1d(np.asarray(thresholds, dtype=float))
    perms = profile_permutations(scores, n_permutations, seed)
    n = correlate_n(ratings, scores)
    counts = []
    for r, p in _permuted_blocks(ratings, scores, perms, method):
        counts.append(criterion.counts(r, criterion.eligible(r, n, method, p=p), thresholds))
        if progress is not None:
            progress(len(r))
    return ChanceEstimate(thresholds, np.concatenate(counts), n_permutations, seed)


def correlate_n(ratings: PaddedRatings, scores: np.ndarray) -> np.ndarray:
    """Raters per (item, dimension): rated the item and have a score on the dimension."""
    has = ~np.isnan(np.asarray(scores, dtype=float))
    rated = ~np.isnan(ratings.values) & (ratings.raters >= 0)
    safe = np.clip(ratings.raters, 0, None)
    return np.einsum("iw,iwd->id", rated.astype(np.int64), has[safe].astype(np.int64))


def split_halves(ratings: PaddedRatings, rng: np.random.Generator):
    """Two ``PaddedRatings``: each item's raters split at random, the first half floor(n/2)."""
    filled = ~np.isnan(ratings.values) & (ratings.raters >= 0)
    keys = np.where(filled, rng.random(filled.shape), np.inf)
    position = np.argsort(np.argsort(keys, axis=1), axis=1)  # random rank among its raters
    first = filled & (position < (filled.sum(axis=1) // 2)[:, None])
    second = filled & ~first

    def keep(mask):
        return PaddedRatings(
            values=np.where(mask, ratings.values, np.nan), raters=np.where(mask, ratings.raters, -1)
        )

    return keep(first), keep(second)


@dataclass(frozen=True)
class Replication:
    """Per split: selected pairs that both halves select again, as a share of ``selected``;
    ``chance_shares``: the same share for the pairs the rule selects in permuted data (one
    permutation per split, the same halves), or None when not computed."""

    shares: np.ndarray
    selected: int
    n_splits: int
    seed: int
    chance_shares: np.ndarray | None = None

    @property
    def mean(self) -> float:
        return float(self.shares.mean()) if self.selected else float("nan")

    @property
    def chance_mean(self) -> float:
        if self.chance_shares is None or np.isnan(self.chance_shares).all():
            return float("nan")
        return float(np.nanmean(self.chance_shares))


def _selected_in_both(halves, scores, criterion, threshold, method, pairs):
    both = pairs.copy()
    for half in halves:
        result = correlate(half, scores, method)
        eligible = criterion.eligible(result.r, result.n, method, p=result.p)
        both &= eligible & (criterion.strength(result.r) > threshold)
    return both


def split_half_replication(
    ratings: PaddedRatings,
    scores: np.ndarray,
    criterion: Criterion,
    threshold: float,
    selected: np.ndarray,
    *,
    method: str = "spearman",
    n_splits: int = 20,
    seed: int = 0,
    with_chance: bool = False,
    progress: Callable[[int], object] | None = None,
) -> Replication:
    """Share of the ``selected`` pairs (bool, items × dims) that the rule at ``threshold``
    selects in *both* halves of a random split of each item's raters, for ``n_splits``
    seeded splits (halves have about half the raters, so their r are noisier).

    With ``with_chance``, the baseline to read it against: in split k the profiles are
    permuted (``profile_permutations(scores, n_splits, seed)[k]``), the rule selects pairs
    by chance on the whole data, and the share of those that both halves (the same halves)
    select again is recorded — chance pairs replicate too, as the halves share their
    chance association with the whole. ``progress`` is called with 1 after each split."""
    if n_splits < 1:
        raise ValueError("n_splits must be at least 1")
    rng = np.random.default_rng(seed)
    scores = np.asarray(scores, dtype=float)
    selected = np.asarray(selected, dtype=bool)
    total = int(selected.sum())
    shares = np.empty(n_splits)
    chance_shares = np.full(n_splits, np.nan) if with_chance else None
    perms = profile_permutations(scores, n_splits, seed) if with_chance else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant halves give NaN r
        for k in range(n_splits):  # whole-matrix correlations per half and split
            halves = split_halves(ratings, rng)
            both = _selected_in_both(halves, scores, criterion, threshold, method, selected)
            shares[k] = both.sum() / total if total else np.nan
            if with_chance:
                permuted = scores[perms[k]]
                whole = correlate(ratings, permuted, method)
                chosen = criterion.eligible(whole.r, whole.n, method, p=whole.p) & (
                    criterion.strength(whole.r) > threshold
                )
                again = _selected_in_both(halves, permuted, criterion, threshold, method, chosen)
                if chosen.any():
                    chance_shares[k] = again.sum() / chosen.sum()
            if progress is not None:
                progress(1)
    return Replication(
        shares=shares,
        selected=total,
        n_splits=n_splits,
        seed=seed,
        chance_shares=chance_shares,
    )
