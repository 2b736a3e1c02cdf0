"""Throughput of evaluation runs: real Celery workers against the fake provider.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vp_eval_bench REDIS_URL=redis://127.0.0.1:6379/3 \
      .venv/bin/python perf/bench_evaluation.py [--latency 0.2] [--concurrency 32]

Puts the release's 520 items × 6 prompt variants (3,120 requests) to the scripted fake
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--worker-threads", type=int, default=4, help="tasks per worker at once")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--items", type=int, default=520)
    parser.add_argument(
        "--release",
        default=os.environ.get(
            "VALUEPORTRAIT_DATA_DIR", str(PROJECT.parent / "shared/data/valueportrait")
        ),
    )
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL") or "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("set DATABASE_URL (PostgreSQL, a throwaway database) and REDIS_URL")

    import django

    django.setup()
    import redis
    from django.core.management import call_command

    from benchmark.models import Correlation, ValidatedItem, ValidatedItemSet
    from benchmark.selectors import published_run
    from evaluation import lifecycle
    from evaluation.models import ModelConfiguration
    from survey.models import Study
    from tests.evaluation.fake_provider import FakeProvider

    call_command("migrate", verbosity=0)
    study = Study.objects.filter(slug="valueportrait-2025").first()
    if study is None:
        print("importing the release once ...", flush=True)
        call_command("import_valueportrait", args.release, verbosity=0)
        study = Study.objects.get(slug="valueportrait-2025")
    correlations = published_run(study=study)
    item_set = ValidatedItemSet.objects.filter(name="bench-all-items").first()
    if item_set is None:
        # Every release item once, for its strongest published correlation.
        item_set = ValidatedItemSet.objects.create(
            name="bench-all-items", version=1, study=study, correlation_run=correlations,
            rule={"benchmark": "every item, strongest |r|"},
        )  # fmt: skip
        rows = Correlation.objects.filter(run=correlations, family="schwartz").exclude(r=None)
        best = {}
        for item_id, dimension, r in rows.values_list("item_id", "dimension", "r"):
            if item_id not in best or abs(r) > abs(best[item_id][1]):
                best[item_id] = (dimension, r)
        ValidatedItem.objects.bulk_create(
            ValidatedItem(item_set=item_set, item_id=i, family="schwartz", dimension=d, r=r)
            for i, (d, r) in sorted(best.items())[: args.items]
        )
    n_items = item_set.entries.values("item_id").distinct().count()
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()

    with FakeProvider(latency=args.latency) as server:
        config, _ = ModelConfiguration.objects.update_or_create(
            name="bench-fake",
            defaults=dict(
                provider="openai", model_id="bench", base_url=server.url("openai"),
                temperature=0.0, max_tokens=16, seed=1, max_concurrency=args.concurrency,
                requests_per_minute=100_000, timeout_seconds=30, max_retries=3,
            ),
        )  # fmt: skip
        env = dict(os.environ, PYTHONPATH=str(PROJECT))
        celery = os.path.join(os.path.dirname(sys.executable), "celery")
        workers = [
            subprocess.Popen(
                [
                    celery,
                    "-A",
                    "config",
                    "worker",
                    "--pool=threads",
                    f"--concurrency={args.worker_threads}",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel=WARNING",
                    "-n",
                    f"bench{i}@%h",
                ],
                cwd=PROJECT,
                env=env,
            )  # fmt: skip
            for i in range(args.workers)
        ]
        try:
            time.sleep(4)  # workers up
            run = lifecycle.create_run(
                model_config=config, item_set=item_set, use_cache=False, batch_size=args.batch_size,
                label="benchmark",
            )  # fmt: skip
            started = time.monotonic()
            lifecycle.start_run(run_id=run.pk)
            while True:
                run.refresh_from_db()
                if not run.is_active:
                    break
                time.sleep(0.1)
            wall = time.monotonic() - started
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=30)
        requests = server.request_count()

    expected = n_items * len(run.variants)
    ideal = expected * args.latency / args.concurrency
    rows = run.responses.count()
    print(
        f"run #{run.pk}: {run.status}; {rows} rows for {n_items} items × {len(run.variants)} variants"
    )
    print(f"requests made      {requests} (expected {expected})")
    print(f"latency            {args.latency * 1000:.0f} ms, concurrency {args.concurrency}")
    print(
        f"workers            {args.workers} × {args.worker_threads} threads, batches of {args.batch_size}"
    )
    print(f"ideal              {ideal:.1f} s")
    print(f"wall               {wall:.1f} s  ({wall / ideal:.2f}× ideal; target ≤ 1.5×)")
    print(
        f"throughput         {requests / wall:.1f} requests/s (ideal {args.concurrency / args.latency:.0f})"
    )


if __name__ == "__main__":
    main()
