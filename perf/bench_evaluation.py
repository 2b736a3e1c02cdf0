"""Throughput of evaluation runs: real Celery workers against the fake provider.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vp_eval_bench REDIS_URL=redis://127.0.0.1:6379/3 \
      .venv/bin/python perf/bench_evaluation.py [--latency 0.2] [--concurrency 32]

Puts the release's 520 items × 6 prompt variants (3,120 requests; ``--models 10``: ten runs
started together, 31,200 requests, as a sweep) to the scripted fake
provider (``tests/evaluation/fake_provider.py``) answering each request after ``--latency``
seconds, through Celery worker subprocesses on Redis with the shared rate limiter bounding
the requests in flight to ``--concurrency``. Prints the wall time from ``start_run`` to the
finished, scored run against the ideal (requests × latency ÷ concurrency) and the requests
per second sustained. The database named by DATABASE_URL is migrated and receives the
release (imported once) and a benchmark item set: use a throwaway database. The response
cache is off, so every run makes every request.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# The workers inherit this: production-like, not the local settings' DEBUG, which keeps a
# log entry of every SQL statement.
os.environ.setdefault("DJANGO_DEBUG", "0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--worker-threads", type=int, default=4, help="tasks per worker at once")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--items", type=int, default=520)
    parser.add_argument(
        "--models", type=int, default=1,
        help="runs started together (a sweep), one model configuration each, all sharing one "
        "limit of --concurrency requests in flight",
    )  # fmt: skip
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL") or "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("set DATABASE_URL (PostgreSQL, a throwaway database) and REDIS_URL")

    import django

    django.setup()
    import redis

    from evaluation import lifecycle
    from evaluation.models import EvaluationRun, ModelConfiguration
    from perf.evaluation_setup import (
        DEFAULT_RELEASE,
        cpu_seconds,
        release_item_set,
        start_workers,
        stop_workers,
    )
    from tests.evaluation.fake_provider import FakeProvider

    item_set = release_item_set(DEFAULT_RELEASE, args.items)
    n_items = item_set.entries.values("item_id").distinct().count()
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    with FakeProvider(latency=args.latency) as server:
        configs = []
        for index in range(args.models):
            # One model id and endpoint: the runs share its limit, as a sweep over one
            # provider account shares its rate limits.
            config, _ = ModelConfiguration.objects.update_or_create(
                name="bench-fake" if index == 0 else f"bench-fake-{index}",
                defaults=dict(
                    provider="openai", model_id="bench", base_url=server.url("openai"),
                    temperature=0.0, max_tokens=16, seed=1 + index,
                    max_concurrency=args.concurrency, requests_per_minute=100_000,
                    timeout_seconds=30, max_retries=3,
                ),
            )  # fmt: skip
            configs.append(config)
        workers = start_workers(args.workers, args.worker_threads)
        cpu_before = cpu_seconds(workers)
        own_cpu_before = time.process_time()
        try:
            runs = [
                lifecycle.create_run(
                    model_config=config,
                    item_set=item_set,
                    use_cache=False,
                    batch_size=args.batch_size,
                    label="benchmark",
                )  # fmt: skip
                for config in configs
            ]
            started = time.monotonic()
            for run in runs:
                lifecycle.start_run(run_id=run.pk)
            active = EvaluationRun.objects.filter(pk__in=[r.pk for r in runs]).active()
            while active.exists():
                time.sleep(0.1)
            wall = time.monotonic() - started
            cpu = cpu_seconds(workers) - cpu_before
            own_cpu = time.process_time() - own_cpu_before
        finally:
            stop_workers(workers)
        requests = server.request_count()
        timeline = _timeline(server.requests, started)

    for run in runs:
        run.refresh_from_db()
    rows = sum(run.responses.count() for run in runs)
    expected = n_items * len(runs[0].variants) * len(runs)
    ideal = expected * args.latency / args.concurrency
    statuses = ", ".join(sorted({run.status for run in runs}))
    print(f"load before        {uptime}")
    print(
        f"runs               {len(runs)} ({statuses}); {rows} rows for {n_items} items × "
        f"{len(runs[0].variants)} variants each"
    )
    print(f"requests made      {requests} (expected {expected})")
    print(f"latency            {args.latency * 1000:.0f} ms, concurrency {args.concurrency}")
    print(
        f"workers            {args.workers} × {args.worker_threads} threads, batches of {args.batch_size}"
    )
    print(f"ideal              {ideal:.1f} s")
    print(f"wall               {wall:.1f} s  ({wall / ideal:.2f}× ideal)")
    print(
        f"throughput         {requests / wall:.1f} requests/s (ideal {args.concurrency / args.latency:.0f})"
    )
    print(f"worker CPU         {cpu:.1f} s ({1000 * cpu / requests:.2f} ms per request)")
    print(
        f"provider CPU       {own_cpu:.1f} s ({1000 * own_cpu / requests:.2f} ms per request; "
        "this process: the fake provider and the polling for the end)"
    )
    print(f"load after         {os.getloadavg()[0]:.2f} (1-minute average)")
    print(
        "where the wall goes: first request at {first:.2f} s, last answer at {last:.2f} s, "
        "then {tail:.2f} s to the finished run; between first and last, {in_flight:.1f} "
        "requests in flight on average, each {served:.0f} ms at the provider "
        "(median; sleep included)".format(tail=wall - timeline["last"], **timeline)
    )
    print("in flight per second:", " ".join(f"{n:.0f}" for n in timeline["per_second"]))


def _timeline(recorded: list[dict], started: float) -> dict:
    """When the provider saw the first request and sent the last answer (seconds after the
    start), the mean requests in flight between them, the median time a request spent at the
    provider, and the mean in flight per second of the run (where the pipeline stalls)."""
    spans = sorted(
        (r["at"] - started, r["answered"] - started) for r in recorded if "answered" in r
    )
    first, last = spans[0][0], max(end for _, end in spans)
    served = sorted(end - at for at, end in spans)
    per_second = [0.0] * (int(last) + 1)
    for at, end in spans:
        for second in range(int(at), int(end) + 1):
            overlap = min(end, second + 1) - max(at, second)
            per_second[second] += max(overlap, 0.0)
    return {
        "first": first,
        "last": last,
        "in_flight": sum(end - at for at, end in spans) / (last - first),
        "served": 1000 * served[len(served) // 2],
        "per_second": per_second,
    }


if __name__ == "__main__":
    main()
