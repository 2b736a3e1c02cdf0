"""Benchmark: vectorised item × dimension Spearman vs a naive loop of scipy.stats.spearmanr.

Usage: .venv/bin/python perf/bench_correlations.py [--release DIR] [--scale 100] [--seed 2025]

1. The paper's data (if the release is found): 520 items × 19 dimensions = 9,880 pairs,
   vectorised vs the naive loop over every pair, both measured here; max |Δr| between them.
2. A synthetic scale-up (default 100×: 52,000 items in survey groups of 40 items rated by
   47 raters each, ~2.4 M ratings, 19 dimensions; fixed seed): vectorised time and peak
   memory (tracemalloc peak of Python/numpy allocations and the process's max RSS); the
   naive loop is timed on a random sample of pairs and extrapolated (the output says so).

Targets (issue 4): the release well under 1 s; the 100× data under 10 s and 2 GB.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmark.stats.correlation import PaddedRatings, correlate  # noqa: E402
from survey.instruments import dimensions as dims  # noqa: E402

DIMENSIONS = [
    (family, name)
    for family in (dims.SCHWARTZ, dims.HIGHER_ORDER, dims.BIG_FIVE)
    for name in dims.FAMILIES[family]
]


def naive_loop(matrix_items: list[tuple[np.ndarray, np.ndarray]], scores: np.ndarray, pairs):
    """scipy.stats.spearmanr once per (item, dimension) pair on that pair's raters."""
    out = np.full(len(pairs), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k, (i, d) in enumerate(pairs):
            raters, ratings = matrix_items[i]
            y = scores[raters, d]
            keep = ~np.isnan(y)
            out[k] = stats.spearmanr(ratings[keep], y[keep]).statistic
    return out


def per_item(padded: PaddedRatings) -> list[tuple[np.ndarray, np.ndarray]]:
    filled = padded.raters >= 0
    return [
        (padded.raters[i, filled[i]], padded.values[i, filled[i]]) for i in range(padded.n_items)
    ]


def load_release(directory: Path):
    from release.reader import read_release

    release = read_release(directory)
    items = sorted({(r.portrait_id, r.option_id) for r in release.ratings})
    item_row = {key: i for i, key in enumerate(items)}
    raters = sorted(release.scores)
    rater_row = {pid: k for k, pid in enumerate(raters)}
    rows = [r for r in release.ratings if r.participant_id in rater_row]
    padded = PaddedRatings.from_long(
        np.array([item_row[(r.portrait_id, r.option_id)] for r in rows]),
        np.array([rater_row[r.participant_id] for r in rows]),
        np.array([r.rating for r in rows], float),
        len(items),
    )
    scores = np.array([[release.scores[pid][f][d] for f, d in DIMENSIONS] for pid in raters], float)
    return padded, scores


def synthetic(scale: int, seed: int):
    """~scale × the release: groups of 40 items, each rated by all 47 raters of its group."""
    rng = np.random.default_rng(seed)
    n_groups = 13 * scale  # the release has 13 groups' worth of 40 items (520 items)
    items_per_group, raters_per_group = 40, 47
    n_items, n_raters = n_groups * items_per_group, n_groups * raters_per_group
    scores = rng.normal(size=(n_raters, len(DIMENSIONS)))
    group_of_item = np.repeat(np.arange(n_groups), items_per_group)
    item_index = np.repeat(np.arange(n_items), raters_per_group)
    rater_index = group_of_item[item_index] * raters_per_group + np.tile(
        np.arange(raters_per_group), n_items
    )
    loading = rng.normal(scale=0.5, size=(n_items, len(DIMENSIONS)))
    signal = np.einsum("kd,kd->k", scores[rater_index], loading[item_index])
    ratings = np.clip(np.round(3.5 + signal + rng.normal(size=len(signal))), 1, 6)
    padded = PaddedRatings.from_long(item_index, rater_index, ratings, n_items)
    return padded, scores, len(ratings)


def measure(padded: PaddedRatings, scores: np.ndarray):
    tracemalloc.start()
    started = time.perf_counter()
    result = correlate(padded, scores, "spearman")
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_release = Path(__file__).resolve().parents[2] / "shared" / "data" / "valueportrait"
    parser.add_argument("--release", type=Path, default=default_release)
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--naive-sample", type=int, default=3000)
    args = parser.parse_args()

    if (args.release / "data").is_dir():
        padded, scores = load_release(args.release)
        n_pairs = padded.n_items * scores.shape[1]
        result, seconds, peak = measure(padded, scores)
        pairs = [(i, d) for i in range(padded.n_items) for d in range(scores.shape[1])]
        started = time.perf_counter()
        naive = naive_loop(per_item(padded), scores, pairs)
        naive_seconds = time.perf_counter() - started
        diff = np.nanmax(np.abs(naive - result.r.ravel()))
        print(
            f"release: {padded.n_items} items × {scores.shape[1]} dimensions = {n_pairs} pairs "
            "(timing only: raw release, no exclusion rules)"
        )
        print(f"  vectorised  {seconds:8.3f} s   peak traced memory {peak / 2**20:8.1f} MiB")
        print(f"  naive loop  {naive_seconds:8.3f} s   (scipy.stats.spearmanr per pair, measured)")
        print(f"  speed-up    {naive_seconds / seconds:8.1f}×   max |Δr| vs naive {diff:.2e}")
    else:
        print(f"release not found at {args.release}; skipping the paper's data")

    padded, scores, n_ratings = synthetic(args.scale, args.seed)
    n_pairs = padded.n_items * scores.shape[1]
    result, seconds, peak = measure(padded, scores)
    rng = np.random.default_rng(args.seed + 1)
    sample = min(args.naive_sample, n_pairs)
    flat = rng.choice(n_pairs, size=sample, replace=False)
    pairs = [(int(k // scores.shape[1]), int(k % scores.shape[1])) for k in flat]
    items = per_item(padded)
    started = time.perf_counter()
    naive = naive_loop(items, scores, pairs)
    sample_seconds = time.perf_counter() - started
    estimated = sample_seconds / sample * n_pairs
    diff = np.nanmax(np.abs(naive - result.r.ravel()[flat]))
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(
        f"synthetic ×{args.scale} (seed {args.seed}): {padded.n_items} items, {n_ratings} ratings, "
        f"{scores.shape[0]} raters, {n_pairs} pairs"
    )
    print(f"  vectorised  {seconds:8.3f} s   peak traced memory {peak / 2**20:8.1f} MiB")
    print(
        f"  naive loop  {estimated:8.1f} s   ESTIMATED: {sample} random pairs took "
        f"{sample_seconds:.2f} s, extrapolated to all {n_pairs} pairs"
    )
    print(f"  speed-up    {estimated / seconds:8.1f}×   max |Δr| vs naive on the sample {diff:.2e}")
    print(f"process max RSS (whole run, incl. data generation) {max_rss:.0f} MiB")
    ok = seconds < 10 and peak < 2 * 2**30
    print(f"targets (<10 s, <2 GB for ×100): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
