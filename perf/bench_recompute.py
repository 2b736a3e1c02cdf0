"""Benchmark: the whole `recompute_correlations` command vs a naive scipy.stats.spearmanr loop.

Usage (PostgreSQL needs a throwaway database name: it is dropped and created):
    .venv/bin/python perf/bench_recompute.py [--scale 38] [--databases sqlite,postgres]
        [--postgres-url postgres://postgres@127.0.0.1:5432/vp_recompute_bench]
        [--naive-sample 20000] [--old-replicates 10] [--release DIR]

1. Builds a scale-up of the paper's release *from its own layout*: ``scale`` copies of every
   survey group, scenario, rating, value profile and published correlation, written in the
   release's file format (portrait ids renumbered within their source digit — 26 scenarios per
   source, so 38 copies is the most the 4-digit ids allow: 19,760 items, 924,160 ratings,
   21,242 raters; participant P186 of copy c becomes P{c}186, so the id-collision rule still
   has its case in every copy).
2. Per database, in a child process: migrates a fresh database, imports the scale-up with
   `import_valueportrait` (not timed), then times the whole `recompute_correlations` command
   (load through the ORM, exclusion rules, point estimates, BH/BY, the study's default
   200-resample bootstrap, storing every row, the comparison with the published run). Then,
   on the same data, its parts, new against old where the old code is still runnable: the
   bootstrap as it was before issue 13 (kept in this file, ``old_replicates`` + ``old_percentiles``: re-rank the
   explicitly resampled data per replicate, ``np.nanpercentile``), timed on
   ``--old-replicates`` replicates and extrapolated to 200 (said so), and the rows stored as
   before (``bulk_create`` of model instances) vs now (COPY on PostgreSQL, executemany else).
3. The naive loop: ``scipy.stats.spearmanr`` once per (item, dimension) pair on that pair's
   raters, point estimates only, timed on a random sample of pairs and extrapolated to all
   pairs (``--naive-sample 0``: every pair, measured).

Target (issue 13): the whole command with the default bootstrap at least 10× faster than the
naive point-estimate loop on the 38× data.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
SLUG = "recompute-bench"
SOURCE_SIZE = 26  # scenarios per source digit in the release (4 × 26 = 104)
RELEASE_FILES = {
    "items": "data/query-response-tagged/query-response-tagged.json",
    "survey": "data/prolific/survey/main/survey.json",
    "values": "data/prolific/value/main/value.json",
    "correlations": "data/correlation_results",
}


def scale_release(source: Path, target: Path, scale: int) -> dict:
    """Write ``scale`` copies of the release at ``source`` into ``target`` (release layout)."""

    def load(relative):
        return json.loads((source / relative).read_text(encoding="utf-8"))

    items = load(RELEASE_FILES["items"])
    by_source: dict[str, list[str]] = {}
    for entry in sorted(items, key=lambda e: str(e["portrait_id"])):
        by_source.setdefault(str(entry["portrait_id"])[0], []).append(str(entry["portrait_id"]))
    if max(len(v) for v in by_source.values()) * scale > 999:
        raise SystemExit(f"--scale {scale}: portrait ids would need more than 4 digits")
    index = {pid: (digit, k) for digit, pids in by_source.items() for k, pid in enumerate(pids)}
    width = max(len(v) for v in by_source.values())

    def portrait(pid, copy: int) -> str:
        digit, k = index[str(pid)]
        return f"{digit}{copy * width + k + 1:03d}"

    def participant(pid: str, copy: int) -> str:
        return f"P{copy}{pid[1:]}" if copy else pid

    def write(relative, data):
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data), encoding="utf-8")

    write(
        RELEASE_FILES["items"],
        [{**e, "portrait_id": portrait(e["portrait_id"], c)} for c in range(scale) for e in items],
    )
    survey = load(RELEASE_FILES["survey"])
    write(
        RELEASE_FILES["survey"],
        [
            {
                portrait(pid, c): [
                    {**o, "data": [[r, participant(p, c)] for r, p in o["data"]]} for o in options
                ]
                for pid, options in group.items()
            }
            for c in range(scale)
            for group in survey
        ],
    )
    values = load(RELEASE_FILES["values"])
    write(
        RELEASE_FILES["values"],
        {participant(p, c): v for c in range(scale) for p, v in values.items()},
    )
    for path in sorted((source / RELEASE_FILES["correlations"]).glob("*.json")):
        rows = json.loads(path.read_text(encoding="utf-8"))
        write(
            Path(RELEASE_FILES["correlations"]) / path.name,
            [
                {**r, "portrait_id": portrait(r["portrait_id"], c)}
                for c in range(scale)
                for r in rows
            ],
        )
    n_ratings = sum(len(o["data"]) for g in survey for opts in g.values() for o in opts)
    return {
        "items": sum(len(e["outputs"]) for e in items) * scale,
        "ratings": n_ratings * scale,
        "raters": len(
            {p for g in survey for opts in g.values() for o in opts for _, p in o["data"]}
        )
        * scale,
    }


def old_replicates(ratings, scores, method="spearman", *, n_resamples=200, seed=0):
    """The bootstrap before issue 13, part 1 (verbatim): each replicate re-ranks the
    explicitly resampled data, ``correlate(ratings.resampled(counts))``."""
    from benchmark.stats.correlation import correlate

    rng = np.random.default_rng(seed)
    n_raters = scores.shape[0]
    replicates = np.empty((n_resamples, ratings.n_items, scores.shape[1]))
    for b in range(n_resamples):
        counts = np.bincount(rng.integers(0, n_raters, n_raters), minlength=n_raters)
        replicates[b] = correlate(ratings.resampled(counts), scores, method).r
    return replicates


def old_percentiles(replicates, level=0.95):
    """The bootstrap before issue 13, part 2 (verbatim): ``np.nanpercentile`` along the
    replicate axis (numpy handles NaN-aware percentiles one pair at a time)."""
    tail = (1 - level) / 2 * 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(replicates, [tail, 100 - tail], axis=0)


def _timed(function, *args, **kwargs):
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - started


def child(args) -> None:
    """Runs with DATABASE_URL set: import, the whole command, then its parts."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection, transaction

    # Imported before anything is timed (the naive loop's scipy is imported too): the timings
    # are of the work, not of Python loading modules.
    import benchmark.management.commands.recompute_correlations  # noqa: F401
    from benchmark.models import Correlation, CorrelationRun
    from benchmark.selectors import analysis_inputs, analysis_settings
    from benchmark.services import CORRELATION_ROW_FIELDS, correlation_table
    from benchmark.stats.bootstrap import bootstrap_ci
    from benchmark.stats.correlation import correlate
    from benchmark.stats.multiple import adjust_p
    from core.bulk import insert_frame, supports_copy
    from survey.models import Study

    out: dict = {"vendor": connection.vendor}
    call_command("migrate", verbosity=0)
    _, out["import_seconds"] = _timed(
        call_command, "import_valueportrait", args.release, "--study-slug", SLUG, "--no-progress",
        stdout=StringIO(),
    )  # fmt: skip
    study = Study.objects.get(slug=SLUG)
    settings_row = analysis_settings(study=study)
    resamples, seed = settings_row.bootstrap_resamples, settings_row.bootstrap_seed
    out["bootstrap_resamples"] = resamples

    text = StringIO()
    _, out["command_seconds"] = _timed(
        call_command, "recompute_correlations", "--study", SLUG, stdout=text
    )
    out["command_output"] = [
        line for line in text.getvalue().splitlines() if not line.startswith("  ")
    ]
    run = CorrelationRun.objects.filter(study=study, kind="computed").latest("id")
    out["rows"] = run.rows.count()
    out["run_seconds"] = run.duration_seconds  # compute + store, as the run records it

    # The parts, on the same data.
    inputs, out["load_seconds"] = _timed(analysis_inputs, study=study)
    result, out["point_seconds"] = _timed(correlate, inputs.ratings, inputs.scores, "spearman")
    extras = {"p_bh": adjust_p(result.p, "bh"), "p_by": adjust_p(result.p, "by")}
    ci, out["bootstrap_new_seconds"] = _timed(
        bootstrap_ci, inputs.ratings, inputs.scores, n_resamples=resamples, seed=seed
    )
    extras["ci_low"], extras["ci_high"] = ci.low, ci.high
    few = args.old_replicates
    replicates, loop_seconds = _timed(
        old_replicates, inputs.ratings, inputs.scores, n_resamples=few, seed=seed
    )
    (low, high), percentile_seconds = _timed(old_percentiles, replicates)
    # The replicate loop scales with the number of replicates; numpy's NaN-aware percentile
    # costs about the same per pair whatever their number (measured on `few`, not scaled).
    out["bootstrap_old_seconds_estimated"] = loop_seconds / few * resamples + percentile_seconds
    out["bootstrap_old_measured"] = [few, loop_seconds, percentile_seconds]
    check = bootstrap_ci(inputs.ratings, inputs.scores, n_resamples=few, seed=seed)
    out["bootstrap_old_vs_new_max_abs"] = float(
        max(np.nanmax(np.abs(check.low - low)), np.nanmax(np.abs(check.high - high)))
    )
    out["bootstrap_old_vs_new_same_nan"] = bool(
        (np.isnan(check.low) == np.isnan(low)).all()
        and (np.isnan(check.high) == np.isnan(high)).all()
    )
    stored = list(run.rows.order_by("id").values_list("item_id", "dimension", "r", "ci_low"))
    table = correlation_table(run_id=run.pk, inputs=inputs, result=result, extras=extras)
    out["command_rows_equal_recomputed"] = stored == [
        (item, dimension, None if np.isnan(r) else r, None if np.isnan(low) else low)
        for item, dimension, r, low in zip(
            table["item"].tolist(),
            table["dimension"].tolist(),
            table["r"].tolist(),
            table["ci_low"].tolist(),
            strict=True,
        )
    ]

    scratch = CorrelationRun.objects.create(study=study, label="bench scratch")
    with transaction.atomic():
        _, out["store_new_seconds"] = _timed(
            insert_frame,
            model=Correlation,
            frame=correlation_table(run_id=scratch.pk, inputs=inputs, result=result, extras=extras),
        )
    out["store_new_method"] = "COPY" if supports_copy() else "executemany"
    new_rows = list(scratch.rows.order_by("id").values_list(*CORRELATION_ROW_FIELDS[1:]))
    scratch.rows.all().delete()

    def store_old():
        table = correlation_table(run_id=scratch.pk, inputs=inputs, result=result, extras=extras)
        table = table.astype(object).where(table.notna(), None)
        Correlation.objects.bulk_create(
            [
                Correlation(
                    run=scratch,
                    item_id=row[1],
                    **dict(zip(CORRELATION_ROW_FIELDS[2:], row[2:], strict=True)),
                )
                for row in table.itertuples(index=False, name=None)
            ],
            batch_size=5000,
        )

    with transaction.atomic():
        _, out["store_old_seconds"] = _timed(store_old)
    old_rows = list(scratch.rows.order_by("id").values_list(*CORRELATION_ROW_FIELDS[1:]))
    out["store_same_rows"] = old_rows == new_rows
    scratch.delete()
    print("RESULT " + json.dumps(out), flush=True)


def naive_seconds(release: Path, sample: int, seed: int) -> tuple[float, int, int, bool]:
    """scipy.stats.spearmanr per pair on the scale-up read from its files (no database)."""
    sys.path.insert(0, str(PROJECT / "perf"))
    from bench_correlations import load_release, naive_loop, per_item

    padded, scores = load_release(release)
    n_pairs = padded.n_items * scores.shape[1]
    if sample <= 0 or sample >= n_pairs:
        flat = np.arange(n_pairs)
    else:
        flat = np.random.default_rng(seed).choice(n_pairs, size=sample, replace=False)
    pairs = [(int(k // scores.shape[1]), int(k % scores.shape[1])) for k in flat]
    items = per_item(padded)
    _, seconds = _timed(naive_loop, items, scores, pairs)
    return seconds / len(flat) * n_pairs, len(flat), n_pairs, len(flat) == n_pairs


def run_child(database: str, args, release: Path, workdir: Path) -> dict:
    env = dict(os.environ)
    if database == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        import psycopg

        url = args.postgres_url
        base, name = url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = url
    command = [sys.executable, __file__, "--child", "--release", str(release)]
    command += ["--old-replicates", str(args.old_replicates)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{database}: child failed")
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def report(database: str, r: dict, naive: float, naive_note: str) -> None:
    total = r["command_seconds"]
    print(f"\n{database} ({r['vendor']}): import {r['import_seconds']:.0f} s (not timed below)")
    for line in r["command_output"]:
        print(f"  | {line}")
    print(
        f"  whole command, {r['bootstrap_resamples']} resamples: {total:8.1f} s   "
        f"naive loop {naive:.1f} s ({naive_note})   speed-up {naive / total:.1f}×   "
        f"target ≥ 10×: {'met' if naive / total >= 10 else 'NOT met'}"
    )
    print(
        f"    of which the run itself (compute + store, run.duration_seconds) {r['run_seconds']:.1f} s"
    )
    old_bootstrap = r["bootstrap_old_seconds_estimated"]
    few, loop_seconds, percentile_seconds = r["bootstrap_old_measured"]
    print("  parts (same data, measured again after the command):")
    print(f"    load through the ORM + exclusion rules {r['load_seconds']:8.2f} s")
    print(f"    point estimates                        {r['point_seconds']:8.2f} s")
    print(
        f"    bootstrap new {r['bootstrap_new_seconds']:8.2f} s   old {old_bootstrap:8.1f} s "
        f"(ESTIMATED: {few} replicates took {loop_seconds:.1f} s, scaled to "
        f"{r['bootstrap_resamples']}, + nanpercentile {percentile_seconds:.1f} s)   "
        f"{old_bootstrap / r['bootstrap_new_seconds']:.0f}×; max |Δ| old vs new on those "
        f"{few}: {r['bootstrap_old_vs_new_max_abs']:.1e}, same NaNs: {r['bootstrap_old_vs_new_same_nan']}"
    )
    print(
        f"    store {r['rows']} rows new ({r['store_new_method']}) {r['store_new_seconds']:6.2f} s"
        f"   old (bulk_create) {r['store_old_seconds']:6.2f} s   same rows: {r['store_same_rows']}"
    )
    print(
        f"  rows stored by the command equal the recomputed arrays: {r['command_rows_equal_recomputed']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_release = PROJECT.parent / "shared" / "data" / "valueportrait"
    parser.add_argument("--release", type=Path, default=default_release)
    parser.add_argument("--scale", type=int, default=38)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument(
        "--postgres-url", default="postgres://postgres@127.0.0.1:5432/vp_recompute_bench"
    )
    parser.add_argument("--naive-sample", type=int, default=20000)
    parser.add_argument("--old-replicates", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    if set(databases) - {"sqlite", "postgres"}:
        raise SystemExit("--databases: sqlite and/or postgres")
    workdir = Path(tempfile.mkdtemp(prefix="bench-recompute-"))
    try:
        release = workdir / "release"
        size, seconds = _timed(scale_release, args.release, release, args.scale)
        print(
            f"scale-up ×{args.scale} of the release from its own layout: {size['items']} items, "
            f"{size['ratings']} ratings, {size['raters']} raters (written in {seconds:.0f} s)"
        )
        naive, sampled, n_pairs, measured = naive_seconds(release, args.naive_sample, args.seed)
        note = (
            f"measured, all {n_pairs} pairs"
            if measured
            else f"ESTIMATED from {sampled} random pairs of {n_pairs}"
        )
        print(f"naive scipy.stats.spearmanr loop, point estimates only: {naive:.1f} s ({note})")
        for database in databases:
            report(database, run_child(database, args, release, workdir), naive, note)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
