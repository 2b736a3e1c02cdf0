"""Benchmark: the permutation estimate of chance selections (issue 13, item 4).

Usage: .venv/bin/python perf/bench_chance.py [--release DIR] [--permutations 200] [--scale 38]

On the release (520 items × 19 dimensions, raw release, no exclusion rules: timing only),
measured in the same run:

- ``vectorised``: ``benchmark.stats.chance.chance_selections`` — score ranks once per
  distinct rater set, all items' cross-products one sparse product per block of
  permutations — for the paper's rule (r > 0.3 over the 19 dimensions), and the same with an
  FDR criterion (BH recomputed over each permutation's whole run);
- ``correlate per permutation``: the whole vectorised ``correlate`` on permuted profiles,
  once per permutation (what a straightforward implementation does), timed on a sample of
  permutations and extrapolated (the output says so);
- ``naive``: ``scipy.stats.spearmanr`` per pair per permutation, timed on one permutation
  and extrapolated.

Then the vectorised estimate on a synthetic scale-up (``--scale``, the layout of
``bench_correlations.synthetic``). Target: the release's estimate (200 permutations) under 10 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_correlations import load_release, naive_loop, per_item, synthetic  # noqa: E402

from benchmark.stats.chance import (  # noqa: E402
    Criterion,
    chance_selections,
    profile_permutations,
    split_half_replication,
)
from benchmark.stats.correlation import correlate  # noqa: E402


def timed(function):
    started = time.perf_counter()
    value = function()
    return value, time.perf_counter() - started


def run_case(label, padded, scores, permutations, seed, *, compare=True):
    considered = np.ones((padded.n_items, scores.shape[1]), dtype=bool)
    paper = Criterion(considered=considered, mode="pos")
    fdr = Criterion(considered=considered, mode="pos", fdr_alpha=0.05)
    print(
        f"{label}: {padded.n_items} items × {scores.shape[1]} dimensions, "
        f"{scores.shape[0]} raters, {permutations} permutations (seed {seed})"
    )
    estimate, seconds = timed(
        lambda: chance_selections(
            padded, scores, paper, [0.3], n_permutations=permutations, seed=seed
        )
    )
    print(
        f"  vectorised, r > 0.3          {seconds:8.2f} s   chance selections "
        f"{estimate.mean[0]:.1f} ± {estimate.sd[0]:.1f} (mean ± SD)"
    )
    estimate_fdr, fdr_seconds = timed(
        lambda: chance_selections(
            padded, scores, fdr, [0.3], n_permutations=permutations, seed=seed
        )
    )
    print(
        f"  vectorised, r > 0.3 & BH<.05 {fdr_seconds:8.2f} s   chance selections "
        f"{estimate_fdr.mean[0]:.1f} ± {estimate_fdr.sd[0]:.1f}"
    )
    result = correlate(padded, scores)
    selected = considered & (np.nan_to_num(result.r, nan=-2) > 0.3)
    replication, split_seconds = timed(
        lambda: split_half_replication(padded, scores, paper, 0.3, selected, n_splits=10, seed=seed)
    )
    print(
        f"  split-half, 10 splits        {split_seconds:8.2f} s   {replication.mean:.1%} of "
        f"{replication.selected} pairs selected in both halves"
    )
    if not compare:
        return seconds
    perms = profile_permutations(scores, permutations, seed)
    sample = min(10, permutations)
    _, sample_seconds = timed(lambda: [correlate(padded, scores[p]) for p in perms[:sample]])
    per_perm = sample_seconds / sample
    print(
        f"  correlate per permutation    {per_perm * permutations:8.2f} s   ESTIMATED: {sample} "
        f"permutations took {sample_seconds:.2f} s, extrapolated to {permutations}"
    )
    pairs = [(i, d) for i in range(padded.n_items) for d in range(scores.shape[1])]
    items = per_item(padded)
    _, naive_seconds = timed(lambda: naive_loop(items, scores[perms[0]], pairs))
    print(
        f"  naive scipy loop             {naive_seconds * permutations:8.1f} s   ESTIMATED: one "
        f"permutation ({len(pairs)} spearmanr calls) took {naive_seconds:.2f} s"
    )
    print(
        f"  speed-up vs correlate per permutation {per_perm * permutations / seconds:.1f}×, "
        f"vs naive {naive_seconds * permutations / seconds:.0f}×"
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_release = Path(__file__).resolve().parents[2] / "shared" / "data" / "valueportrait"
    parser.add_argument("--release", type=Path, default=default_release)
    parser.add_argument("--permutations", type=int, default=200)
    parser.add_argument("--scale", type=int, default=38)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()

    if (args.release / "data").is_dir():
        padded, scores = load_release(args.release)
        seconds = run_case("release", padded, scores, args.permutations, args.seed)
        print(
            f"target (release, {args.permutations} permutations, < 10 s): "
            f"{'met' if seconds < 10 else 'NOT met'} ({seconds:.2f} s)"
        )
    else:
        print(f"release not found at {args.release}; skipping the paper's data")
    if args.scale:
        padded, scores, _ = synthetic(args.scale, args.seed)
        run_case(
            f"synthetic ×{args.scale}", padded, scores, args.permutations, args.seed, compare=False
        )


if __name__ == "__main__":
    main()
