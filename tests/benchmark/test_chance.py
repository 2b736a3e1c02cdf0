"""The permutation estimate of chance selections and split-half replication (pure module)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from benchmark.selection import Exclusion, SelectionRule, select_pairs
from benchmark.stats.chance import (
    Criterion,
    approximate_ci,
    chance_selections,
    correlate_n,
    permuted_correlations,
    profile_permutations,
    split_half_replication,
    split_halves,
)
from benchmark.stats.correlation import PaddedRatings, correlate


def ragged_data(seed=3, n_raters=30, n_items=14, n_dims=5, signal=0.0):
    """Items in three rater blocks plus a few items rated by a random subset; 6-point
    ratings (many ties); the last two dimensions missing for a third of the raters (a second
    stratum), and one rater without any score. With ``signal``, the ratings of items 0-3
    follow dimension 0 (items 0, 1) or dimension 1 (items 2, 3), positively or negatively."""
    rng = np.random.default_rng(seed)
    matrix = np.full((n_raters, n_items), np.nan)
    blocks = np.array_split(np.arange(n_raters), 3)
    scores = np.round(rng.normal(size=(n_raters, n_dims)), 1)  # rounded: ties in scores too
    for item in range(n_items):
        if item < 9:
            raters = blocks[item % 3]
        else:
            raters = rng.choice(n_raters, size=rng.integers(4, 20), replace=False)
        loading = signal * (1 if item % 2 else -1) if item < 4 else 0.0
        latent = loading * scores[raters, item // 2 if item < 4 else 0]
        matrix[raters, item] = np.clip(np.round(3.5 + latent + rng.normal(size=len(raters))), 1, 6)
    scores[: n_raters // 3, -2:] = np.nan
    scores[-1] = np.nan
    matrix[:, 5] = np.where(np.isnan(matrix[:, 5]), np.nan, 4.0)  # a constant item: r undefined
    return PaddedRatings.from_dense(matrix), matrix, scores


def reference_r(matrix, scores, perm, method="spearman"):
    """The slow reference: scipy per pair on the permuted profiles."""
    permuted = scores[perm]
    n_items, n_dims = matrix.shape[1], scores.shape[1]
    out = np.full((n_items, n_dims), np.nan)
    function = {"spearman": stats.spearmanr, "pearson": stats.pearsonr}[method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(n_items):
            for d in range(n_dims):
                keep = ~np.isnan(matrix[:, i]) & ~np.isnan(permuted[:, d])
                if keep.sum() >= 2:
                    out[i, d] = function(matrix[keep, i], permuted[keep, d]).statistic
    return out


@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_permuted_correlations_equal_a_scipy_loop_per_pair_and_permutation(method):
    ratings, matrix, scores = ragged_data()
    perms = profile_permutations(scores, 12, seed=7)
    blocks = list(permuted_correlations(ratings, scores, perms, method))
    r = np.concatenate(blocks)
    assert r.shape == (12, matrix.shape[1], scores.shape[1])
    for k, perm in enumerate(perms):
        expected = reference_r(matrix, scores, perm, method)
        assert np.array_equal(np.isnan(r[k]), np.isnan(expected))
        np.testing.assert_allclose(r[k], expected, rtol=0, atol=1e-12, equal_nan=True)
    assert np.isnan(r[:, 5]).all()  # the constant item


def test_permuted_correlations_in_small_blocks_give_the_same_r(monkeypatch):
    ratings, _, scores = ragged_data()
    perms = profile_permutations(scores, 9, seed=1)
    whole = np.concatenate(list(permuted_correlations(ratings, scores, perms)))
    monkeypatch.setattr("benchmark.stats.chance.BLOCK_BYTES", 1)
    blocks = list(permuted_correlations(ratings, scores, perms))
    assert len(blocks) == 9
    np.testing.assert_array_equal(np.concatenate(blocks), whole)


def test_kendall_permutations_are_the_full_computation_on_permuted_profiles():
    ratings, _, scores = ragged_data(n_items=6)
    perms = profile_permutations(scores, 2, seed=1)
    r = np.concatenate(list(permuted_correlations(ratings, scores, perms, "kendall")))
    for k, perm in enumerate(perms):
        np.testing.assert_array_equal(r[k], correlate(ratings, scores[perm], "kendall").r)


def test_profiles_move_whole_within_raters_scored_on_the_same_dimensions():
    _, _, scores = ragged_data()
    perms = profile_permutations(scores, 50, seed=11)
    pattern = np.isnan(scores)
    for perm in perms:
        assert sorted(perm) == list(range(len(scores)))  # a permutation
        assert (pattern[perm] == pattern).all()  # donor covers the same dimensions
    assert (perms != np.arange(len(scores))).any(axis=1).all()  # profiles do move
    np.testing.assert_array_equal(perms, profile_permutations(scores, 50, seed=11))
    assert not np.array_equal(perms, profile_permutations(scores, 50, seed=12))


def test_seeds_make_the_estimate_reproducible():
    ratings, _, scores = ragged_data()
    criterion = Criterion(considered=np.ones((14, 5), dtype=bool), mode="abs")
    first = chance_selections(ratings, scores, criterion, [0.2, 0.3], n_permutations=40, seed=5)
    again = chance_selections(ratings, scores, criterion, [0.2, 0.3], n_permutations=40, seed=5)
    other = chance_selections(ratings, scores, criterion, [0.2, 0.3], n_permutations=40, seed=6)
    np.testing.assert_array_equal(first.counts, again.counts)
    assert not np.array_equal(first.counts, other.counts)
    assert first.counts.shape == (40, 2)
    assert (first.counts[:, 0] >= first.counts[:, 1]).all()  # a higher threshold selects fewer


def test_chance_counts_equal_the_reference_loop_with_the_rule_applied_per_permutation():
    ratings, matrix, scores = ragged_data(seed=9)
    considered = np.ones((14, 5), dtype=bool)
    considered[:, 0] = False  # a family left out
    considered[2, 3] = False  # an excluded pair
    criterion = Criterion(considered=considered, mode="pos")
    estimate = chance_selections(ratings, scores, criterion, [0.3], n_permutations=15, seed=4)
    expected = []
    for perm in profile_permutations(scores, 15, seed=4):
        r = reference_r(matrix, scores, perm)
        expected.append(int((considered & (np.nan_to_num(r, nan=-2) > 0.3)).sum()))
    np.testing.assert_array_equal(estimate.counts[:, 0], expected)
    assert estimate.mean[0] == pytest.approx(np.mean(expected), abs=1e-12)
    assert estimate.sd[0] == pytest.approx(np.std(expected, ddof=1), abs=1e-12)


def _frame(r, p, ci_low, ci_high):
    items, dims = r.shape
    return pd.DataFrame(
        {
            "scenario_external_id": np.repeat([str(100 + i) for i in range(items)], dims),
            "option_id": 1,
            "family": np.tile(["schwartz"] * 3 + ["big_five"] * (dims - 3), items),
            "dimension": np.tile([f"D{d}" for d in range(dims)], items),
            "r": r.ravel(),
            "p_bh": p.ravel(),
            "p_by": p.ravel(),
            "ci_low": ci_low.ravel(),
            "ci_high": ci_high.ravel(),
        }
    )


@pytest.mark.parametrize(
    "rule",
    [
        SelectionRule(threshold=0.2, mode="pos"),
        SelectionRule(threshold=0.1, mode="neg", families=("big_five",)),
        SelectionRule(threshold=0.25, mode="abs", fdr_alpha=0.3),
        SelectionRule(threshold=0.0, mode="pos", ci_bound=0.05),
        SelectionRule(threshold=0.0, mode="abs", ci_bound=0.0, fdr_alpha=0.5, fdr_method="by"),
        SelectionRule(threshold=0.2, exclusions=(Exclusion("101", 1, "D1", "test"),)),
    ],
)
def test_the_array_form_of_a_rule_selects_what_select_pairs_selects(rule):
    ratings, _, scores = ragged_data(seed=2, signal=3.0)
    result = correlate(ratings, scores)
    n = result.n
    method = "spearman"
    low, high = approximate_ci(result.r, n)
    from benchmark.stats.multiple import adjust_p

    frame = _frame(result.r, adjust_p(result.p, rule.fdr_method), low, high)
    selected = select_pairs(frame, rule)
    families = frame["family"].to_numpy().reshape(result.r.shape)
    considered = np.isin(families, rule.families)
    for e in rule.exclusions:
        considered[int(e.scenario_external_id) - 100, int(e.dimension[1:])] = False
    criterion = Criterion(
        considered=considered,
        mode=rule.mode,
        fdr_alpha=rule.fdr_alpha,
        fdr_method=rule.fdr_method,
        ci_bound=rule.ci_bound,
    )
    eligible = criterion.eligible(result.r, n, method, p=result.p)
    assert criterion.counts(result.r, eligible, [rule.threshold])[0] == len(selected)
    assert len(selected) > 0


def test_approximate_ci_follows_bonett_wright_and_covers_the_bootstrap_roughly():
    low, high = approximate_ci(np.array([0.3, 0.0, np.nan]), np.array([47, 47, 47]))
    se = np.sqrt((1 + 0.045) / 44)
    assert low[0] == pytest.approx(np.tanh(np.arctanh(0.3) - 1.959963984540054 * se), abs=1e-12)
    assert high[1] == pytest.approx(-low[1], abs=1e-15)
    assert np.isnan(low[2])
    assert np.isnan(approximate_ci(np.array([0.5]), np.array([3]))[0]).all()  # n too small
    # Against the percentile bootstrap the run stores: on synthetic data with 47 raters the
    # two lower bounds differ by a few hundredths at most on average.
    from benchmark.stats.bootstrap import bootstrap_ci

    rng = np.random.default_rng(0)
    latent = rng.normal(size=(47, 4))
    matrix = np.clip(np.round(3.5 + latent @ rng.normal(size=(4, 30)) * 0.5), 1, 6)
    matrix += 0 * rng.normal(size=matrix.shape)
    ratings = PaddedRatings.from_dense(matrix)
    result = correlate(ratings, latent)
    boot = bootstrap_ci(ratings, latent, n_resamples=400, seed=1)
    approx_low, _ = approximate_ci(result.r, result.n)
    assert np.nanmean(np.abs(approx_low - boot.low)) < 0.04


def test_split_halves_partition_each_items_raters():
    ratings, matrix, _ = ragged_data()
    first, second = split_halves(ratings, np.random.default_rng(0))
    rated = ~np.isnan(ratings.values)
    a, b = ~np.isnan(first.values), ~np.isnan(second.values)
    assert not (a & b).any()
    np.testing.assert_array_equal(a | b, rated)
    np.testing.assert_array_equal(a.sum(axis=1), rated.sum(axis=1) // 2)


def test_split_half_replication_counts_pairs_both_halves_select_again():
    ratings, matrix, scores = ragged_data(seed=4)
    result = correlate(ratings, scores)
    criterion = Criterion(considered=np.ones(result.r.shape, dtype=bool), mode="abs")
    selected = criterion.eligible(result.r, result.n, "spearman") & (np.abs(result.r) > 0.2)
    replication = split_half_replication(
        ratings, scores, criterion, 0.2, selected, n_splits=6, seed=3
    )
    # The same splits by hand: scipy on each half.
    rng = np.random.default_rng(3)
    expected = []
    for _ in range(6):
        both = selected.copy()
        for half in split_halves(ratings, rng):
            dense = np.full(matrix.shape, np.nan)
            filled = half.raters >= 0
            items = np.nonzero(filled)[0]
            dense[half.raters[filled], items] = half.values[filled]
            r = reference_r(dense, scores, np.arange(len(scores)))
            both &= np.abs(np.nan_to_num(r)) > 0.2
        expected.append(both.sum() / selected.sum())
    np.testing.assert_allclose(replication.shares, expected, atol=1e-12)
    assert replication.selected == selected.sum() > 0
    assert 0 <= replication.mean <= 1


def test_correlate_n_counts_raters_with_a_score():
    ratings, _, scores = ragged_data()
    np.testing.assert_array_equal(correlate_n(ratings, scores), correlate(ratings, scores).n)


def test_kendall_fdr_under_permutation_uses_kendalls_own_p():
    ratings, _, scores = ragged_data(n_items=6, signal=3.0)
    criterion = Criterion(considered=np.ones((6, 5), dtype=bool), mode="abs", fdr_alpha=0.5)
    estimate = chance_selections(
        ratings, scores, criterion, [0.0], method="kendall", n_permutations=3, seed=2
    )
    from benchmark.stats.multiple import adjust_p

    expected = []
    for perm in profile_permutations(scores, 3, seed=2):
        result = correlate(ratings, scores[perm], "kendall")
        expected.append(int(((adjust_p(result.p) < 0.5) & (np.abs(result.r) > 0)).sum()))
    np.testing.assert_array_equal(estimate.counts[:, 0], expected)
    with pytest.raises(ValueError, match="pass p"):
        criterion.eligible(np.zeros((6, 5)), np.full((6, 5), 10), "kendall")


def test_split_half_replication_of_chance_selections_uses_the_same_halves_on_permuted_data():
    ratings, matrix, scores = ragged_data(seed=4, signal=2.0)
    result = correlate(ratings, scores)
    criterion = Criterion(considered=np.ones(result.r.shape, dtype=bool), mode="abs")
    selected = criterion.eligible(result.r, result.n, "spearman") & (np.abs(result.r) > 0.2)
    plain = split_half_replication(ratings, scores, criterion, 0.2, selected, n_splits=5, seed=8)
    both = split_half_replication(
        ratings, scores, criterion, 0.2, selected, n_splits=5, seed=8, with_chance=True
    )
    np.testing.assert_array_equal(both.shares, plain.shares)  # the same halves
    assert plain.chance_shares is None and np.isnan(plain.chance_mean)
    rng = np.random.default_rng(8)
    expected = []
    for perm in profile_permutations(scores, 5, seed=8):
        halves = split_halves(ratings, rng)
        r = reference_r(matrix, scores, perm)
        chosen = np.abs(np.nan_to_num(r)) > 0.2
        again = chosen.copy()
        for half in halves:
            dense = np.full(matrix.shape, np.nan)
            filled = half.raters >= 0
            dense[half.raters[filled], np.nonzero(filled)[0]] = half.values[filled]
            again &= np.abs(np.nan_to_num(reference_r(dense, scores, perm))) > 0.2
        expected.append(again.sum() / chosen.sum())
    np.testing.assert_allclose(both.chance_shares, expected, atol=1e-12)
    assert both.chance_mean == pytest.approx(np.mean(expected), abs=1e-12)


def test_progress_is_reported_once_per_block_of_permutations_and_changes_nothing(monkeypatch):
    from benchmark.stats import chance  # noqa: PLC0415

    ratings, _, scores = ragged_data()
    criterion = Criterion(considered=np.ones((14, 5), dtype=bool), mode="abs")
    plain = chance_selections(ratings, scores, criterion, [0.2], n_permutations=40, seed=5)
    calls: list[int] = []
    tracked = chance_selections(ratings, scores, criterion, [0.2], n_permutations=40, seed=5,
                                progress=calls.append)  # fmt: skip
    np.testing.assert_array_equal(plain.counts, tracked.counts)
    assert calls == [40]  # the whole run fits one block here: one call
    # Blocks of 7 permutations (the working memory of one block set tiny).
    n_dims, width = scores.shape[1], ratings.values.shape[1]
    per_permutation = 8 * n_dims * 4 * (ratings.n_items + ratings.n_items * width)
    monkeypatch.setattr(chance, "BLOCK_BYTES", 7 * per_permutation)
    calls.clear()
    blocked = chance_selections(ratings, scores, criterion, [0.2], n_permutations=40, seed=5,
                                progress=calls.append)  # fmt: skip
    np.testing.assert_array_equal(plain.counts, blocked.counts)
    assert sum(calls) == 40 and 1 < len(calls) < 40  # per block, not per permutation
    splits: list[int] = []
    selected = np.ones((14, 5), dtype=bool)
    split_half_replication(ratings, scores, criterion, 0.2, selected, n_splits=4, seed=1,
                           with_chance=True, progress=splits.append)  # fmt: skip
    assert splits == [1, 1, 1, 1]
