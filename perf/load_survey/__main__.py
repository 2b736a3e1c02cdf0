"""``python -m perf.load_survey``: a study launch against gunicorn on PostgreSQL.

Phases, all in one run against one server:

1. **trivial view**: ``--probe-concurrency`` clients GET ``/healthz`` (a Django view with one
   database round trip) back to back for ``--probe-seconds``: the stack's ceiling;
2. **answer endpoint**: as many participants of the ``load-answers`` study (no checks, no
   demographics) consent and then post their 40 answers back to back, the same number of
   clients at a time: answers per second of the answer endpoint alone;
3. **launch**: ``--participants`` Prolific participants of the ``load-launch`` study arrive
   over ``--ramp`` seconds and each takes the whole study (entry, consent, demographics,
   40 items with attention checks, PVQ-RR, BFI-10, completion) with a think time per page.

Then gunicorn is stopped and every acknowledged answer is looked up in the database.
Exit status: 1 if any answer was lost or duplicated or the balance is off (or, with
``--strict``, if a target is missed), else 0. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .participant import AnswerProbe, Recorder, hammer, run_participant
from .seed import ANSWERS_SLUG, LAUNCH_SLUG, SeedPlan, seed
from .server import (
    PROJECT_DIR,
    Gunicorn,
    ServerCpu,
    drop_database,
    recreate_database,
    server_environment,
)

P95_TARGET_MS = 150.0
THROUGHPUT_RATIO_TARGET = 0.5


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m perf.load_survey", description=__doc__)
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--ramp", type=float, default=20.0, help="seconds over which they arrive")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(1.0, 3.0),
        metavar=("MIN", "MAX"),
        help="seconds a participant spends on a page (uniform)",
    )
    parser.add_argument("--probe-seconds", type=float, default=10.0)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternations of phases 1 and 2 (pooled)"
    )
    parser.add_argument("--probe-concurrency", type=int, default=16)
    parser.add_argument(
        "--probe-participants",
        type=int,
        default=48,
        help="participants posting answers back to back in phase 2",
    )
    parser.add_argument("--pool", type=int, default=300, help="items in the study's pool")
    parser.add_argument("--items", type=int, default=40, help="items per participant")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--timeout", type=float, default=30.0, help="client timeout (s)")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="hard bound of phase 3")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "LOAD_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432/postgres"
        ),
        help="PostgreSQL server to use (its database name is ignored)",
    )
    parser.add_argument("--database-name", default="vp_load_survey")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--seed", type=int, default=2025)
    return parser.parse_args(argv)


def percentile_ms(seconds: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(seconds) * 1000, q)) if seconds else float("nan")


def cpu_split(cpu: ServerCpu, before: dict, after: dict, n: int) -> str:
    web, database = (
        1000 * cpu.used(before, after, role) / max(n, 1) for role in ("web", "database")
    )
    return f"web {web:.2f} + database {database:.2f}"


def setup_django(db_url: str, celery_dir: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    os.environ["DATABASE_URL"] = db_url
    os.environ["CELERY_FILESYSTEM_DIR"] = celery_dir
    os.environ.pop("REDIS_URL", None)
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


@dataclass
class Round:
    """One alternation of phase 1 and phase 2 (counts, wall seconds, server CPU seconds)."""

    healthz_ok: int
    healthz_seconds: float
    healthz_cpu: float
    answers: int
    answer_seconds: float
    answer_cpu: float


def throughput_round(args, n: int, base_url: str, cpu: ServerCpu, recorder: Recorder) -> Round:
    """Phase 1 then phase 2, printed; rounds alternate so that a drift of the machine's
    speed during the run touches both endpoints alike."""
    t0 = cpu.snapshot()
    ok, errors, elapsed = asyncio.run(
        hammer(
            base_url=base_url,
            path="/healthz",
            concurrency=args.probe_concurrency,
            seconds=args.probe_seconds,
            timeout=args.timeout,
        )
    )
    t1 = cpu.snapshot()
    print(
        f"round {n} phase 1  /healthz: {ok} ok, {errors} errors in {elapsed:.1f} s "
        f"= {ok / elapsed:.0f} req/s; server CPU {1000 * cpu.used(t0, t1) / max(ok, 1):.2f} "
        f"ms/request ({cpu_split(cpu, t0, t1, ok)})",
        flush=True,
    )
    n_before = len(recorder.samples)
    answer_seconds, p0, p1 = answer_probe(args, n, base_url, recorder, cpu)
    posts = [s for s in recorder.samples[n_before:] if s.kind == "answer_json"]
    answers = sum(1 for s in posts if s.status == 200)
    print(
        f"round {n} phase 2  answer endpoint: {answers} answers in {answer_seconds:.1f} s "
        f"= {answers / answer_seconds:.0f} answers/s (ratio "
        f"{answers / answer_seconds / (ok / elapsed):.2f}); server CPU "
        f"{1000 * cpu.used(p0, p1) / max(answers, 1):.2f} ms/answer "
        f"({cpu_split(cpu, p0, p1, answers)}); statuses "
        f"{dict(Counter(s.status for s in posts))} (0 = transport error)",
        flush=True,
    )
    return Round(ok, elapsed, cpu.used(t0, t1), answers, answer_seconds, cpu.used(p0, p1))


def answer_probe(args, round_number: int, base_url: str, recorder: Recorder, cpu: ServerCpu):
    """Phase 2: (elapsed seconds, CPU snapshots before and after) of the answers alone; entry
    and consent happen first and are not counted. Answers land in ``recorder``."""

    async def probe() -> tuple[float, dict, dict]:
        answering = AnswerProbe(
            base_url=base_url,
            slug=ANSWERS_SLUG,
            n=args.probe_participants,
            id_prefix=f"PROBE{round_number}-",
            recorder=recorder,
            seed=args.seed + 1000 * round_number,
            timeout=args.timeout,
        )
        try:
            await answering.prepare(args.probe_concurrency)
            before, started = cpu.snapshot(), time.perf_counter()
            await answering.run(args.items, args.probe_concurrency)
            elapsed = time.perf_counter() - started
            return elapsed, before, cpu.snapshot()
        finally:
            await answering.close()

    return asyncio.run(probe())


async def launch(args, base_url: str, recorder: Recorder) -> float:
    """Phase 3: participants arrive evenly over the ramp and each takes the whole study."""
    interval = args.ramp / max(args.participants - 1, 1)
    tasks = []
    started = time.perf_counter()
    for n in range(args.participants):
        tasks.append(
            asyncio.create_task(
                run_participant(
                    base_url=base_url,
                    slug=LAUNCH_SLUG,
                    external_id=f"LOAD{n:05d}PID",
                    recorder=recorder,
                    think=tuple(args.think),
                    seed=args.seed * 7 + n,
                    timeout=args.timeout,
                )
            )
        )
        await asyncio.sleep(interval)
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=args.max_seconds)
    except TimeoutError:
        print(f"!! phase 3 stopped after --max-seconds={args.max_seconds}", flush=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="vp-load-"))
    celery_dir = str(scratch / "celery")
    db_url = recreate_database(args.database_url, args.database_name)
    print(f"database {args.database_name}: migrating and seeding", flush=True)
    setup_django(db_url, celery_dir)
    seed(SeedPlan(pool_size=args.pool, items_per_participant=args.items))
    env = server_environment(db_url, celery_dir, entry_rate="100000/m")
    server = Gunicorn(env, workers=args.workers, threads=args.threads, log=scratch / "gunicorn.log")
    probe_recorder, launch_recorder = Recorder(), Recorder()
    with server:
        print(f"gunicorn on {server.base_url} ({args.workers} workers x {args.threads} threads)")
        cpu = ServerCpu(server, db_url, args.database_name)
        # Untimed warm-up: every worker process imports and connects on its first requests.
        asyncio.run(
            hammer(
                base_url=server.base_url,
                path="/healthz",
                concurrency=args.probe_concurrency,
                seconds=min(3.0, args.probe_seconds),
                timeout=args.timeout,
            )
        )
        generator0 = time.process_time()
        rounds = [
            throughput_round(args, n, server.base_url, cpu, probe_recorder)
            for n in range(1, args.rounds + 1)
        ]
        healthz_rps = sum(r.healthz_ok for r in rounds) / sum(r.healthz_seconds for r in rounds)
        answer_rps = sum(r.answers for r in rounds) / sum(r.answer_seconds for r in rounds)
        healthz_cpu_ms = (
            1000 * sum(r.healthz_cpu for r in rounds) / sum(r.healthz_ok for r in rounds)
        )
        answer_cpu_ms = (
            1000 * sum(r.answer_cpu for r in rounds) / max(sum(r.answers for r in rounds), 1)
        )
        t2 = cpu.snapshot()
        launch_seconds = asyncio.run(launch(args, server.base_url, launch_recorder))
        t3 = cpu.snapshot()
        launch_cpu = cpu.used(t2, t3)
        generator_cpu = time.process_time() - generator0
    print(f"phase 3  launch finished in {launch_seconds:.1f} s; verifying the database", flush=True)

    from .verify import verify

    acknowledged = {**probe_recorder.acknowledged, **launch_recorder.acknowledged}
    check = verify(
        acknowledged=acknowledged,
        completed_seen=len(launch_recorder.completed),
        slugs=[LAUNCH_SLUG, ANSWERS_SLUG],
        launch_slug=LAUNCH_SLUG,
    )
    groups = launch_recorder.by_kind()
    answers = [s for s in groups.get("answer", []) if s.status]
    at_peak = [s for s in answers if s.active >= min(200, args.participants)]
    all_samples = launch_recorder.samples
    failed = [s for s in all_samples if s.status == 0 or s.status >= 500]
    answer_seconds = [s.seconds for s in answers]
    span = (max(s.started for s in answers) - min(s.started for s in answers)) if answers else 0
    p95 = percentile_ms(answer_seconds, 95)
    ratio = answer_rps / healthz_rps
    lines = [
        "",
        "== load_survey results ==",
        f"participants: {args.participants} (peak concurrent {launch_recorder.peak_active}), "
        f"completed {len(launch_recorder.completed)}, failed {len(launch_recorder.failures)}",
        f"think time {args.think[0]}-{args.think[1]} s per page, ramp {args.ramp} s, "
        f"gunicorn {args.workers}x{args.threads}, 2-core machine shared with the load generator",
        f"launch: {len(answers)} item answers in {span:.1f} s = {len(answers) / span if span else 0:.1f} answers/s; "
        f"{len(all_samples)} requests, errors {len(failed)} ({100 * len(failed) / max(len(all_samples), 1):.2f} %)",
        f"answer latency (ms): p50 {percentile_ms(answer_seconds, 50):.1f}  p95 {p95:.1f}  "
        f"p99 {percentile_ms(answer_seconds, 99):.1f}  max {percentile_ms(answer_seconds, 100):.1f}",
        f"  at >= {min(200, args.participants)} concurrent ({len(at_peak)} answers): "
        f"p50 {percentile_ms([s.seconds for s in at_peak], 50):.1f}  "
        f"p95 {percentile_ms([s.seconds for s in at_peak], 95):.1f}  "
        f"p99 {percentile_ms([s.seconds for s in at_peak], 99):.1f}",
    ]
    for kind in ("page", "consent", "demographics", "questionnaire"):
        seconds = [s.seconds for s in groups.get(kind, []) if s.status]
        if seconds:
            lines.append(
                f"  {kind:<13} n={len(seconds):<6} p50 {percentile_ms(seconds, 50):.1f}  "
                f"p95 {percentile_ms(seconds, 95):.1f}  p99 {percentile_ms(seconds, 99):.1f}"
            )
    lines += [
        f"throughput over {args.rounds} rounds: /healthz {healthz_rps:.0f} req/s, answer endpoint "
        f"{answer_rps:.0f} answers/s at {args.probe_concurrency} clients -> ratio {ratio:.2f} "
        f"(per round: {', '.join(f'{r.answers / r.answer_seconds / (r.healthz_ok / r.healthz_seconds):.2f}' for r in rounds)})",
        f"server CPU per request: /healthz {healthz_cpu_ms:.2f} ms, answer {answer_cpu_ms:.2f} ms "
        f"-> CPU-bound ratio {healthz_cpu_ms / answer_cpu_ms:.2f} (what the throughput ratio "
        "tends to on a machine of its own)",
        f"CPU in phase 3: server {launch_cpu:.0f} s over {launch_seconds:.0f} s wall "
        f"({launch_cpu / launch_seconds:.2f} cores; "
        f"{1000 * launch_cpu / max(len(all_samples), 1):.1f} ms per request); load generator {generator_cpu:.0f} s in all "
        f"phases; machine load average {os.getloadavg()[0]:.1f} at the end",
        f"database: {check.acknowledged} acknowledged answers, {check.stored_matching} stored as "
        f"acknowledged, lost {check.lost}, wrong value {check.wrong_value}, duplicated rows "
        f"{check.duplicated_rows}, duplicated participants {check.duplicated_participants}, "
        f"stored but never acknowledged {check.unacknowledged_rows}",
        f"completed: {check.completed_in_db} in the database, {check.completed_seen} saw their code",
        f"balance over {check.items} items: ideal {check.ideal:.2f}, min {check.min_load}, "
        f"max {check.max_load} -> {'within one' if check.within_one else 'NOT within one'}",
        f"targets: p95 < {P95_TARGET_MS:.0f} ms: {'met' if p95 < P95_TARGET_MS else 'MISSED'}; "
        f"answer/trivial >= {THROUGHPUT_RATIO_TARGET}: "
        f"{'met' if ratio >= THROUGHPUT_RATIO_TARGET else 'MISSED'}; "
        f"zero lost/duplicated + balance: {'met' if check.ok else 'MISSED'}",
    ]
    if failed:
        by_status = Counter(
            (f"transport error {s.error}" if s.status == 0 else f"HTTP {s.status}") for s in failed
        )
        lines.append(
            "errors by kind (each retried by the participant): "
            + ", ".join(f"{kind}: {n}" for kind, n in by_status.most_common())
        )
    if launch_recorder.failures:
        lines.append(
            "first failures: "
            + "; ".join(f"{k}: {v}" for k, v in list(launch_recorder.failures.items())[:3])
        )
    print("\n".join(lines), flush=True)
    if not args.keep_database:
        from django.db import connections

        connections.close_all()
        drop_database(args.database_url, args.database_name)
    targets_met = p95 < P95_TARGET_MS and ratio >= THROUGHPUT_RATIO_TARGET
    failed_run = not check.ok or bool(launch_recorder.failures) or bool(probe_recorder.failures)
    return 1 if failed_run or (args.strict and not targets_met) else 0


if __name__ == "__main__":
    sys.exit(main())
