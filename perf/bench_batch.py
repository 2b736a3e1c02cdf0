"""Batch mode: ingesting a 10-model sweep's provider batches once the provider has ended them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vp_eval_bench REDIS_URL=redis://127.0.0.1:6379/3 \
      .venv/bin/python perf/bench_batch.py [--models 10] [--workers 2] [--worker-threads 4]

Starts ``--models`` batch-mode runs of the release's 520 items × 6 prompt variants (3,120
requests each; 31,200 for 10) against the fake provider's batch endpoints
(``tests/evaluation/fake_provider.py``; the models take the OpenAI, Anthropic and Gemini
wire formats in turn), through Celery worker subprocesses on Redis. The provider holds the
batches until every run's batch is submitted; then it reports them done and the benchmark
does what Celery beat does (``poll_batches``, every 0.5 s here; batches are due as soon as
no poller holds them). Prints the wall time from
there until every run is ingested (answers parsed and stored), scored and done, and the
answers per second. The database named by DATABASE_URL is migrated and receives the release
(imported once): use a throwaway database. The response cache is off.
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
# Beat's tick is played by this script (every 0.5 s): batches are due as soon as unclaimed.
os.environ["EVALUATION_BATCH_POLL_SECONDS"] = "0"

PROVIDERS = ("openai", "anthropic", "gemini")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--worker-threads", type=int, default=4, help="tasks per worker at once")
    parser.add_argument("--items", type=int, default=520)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL") or "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("set DATABASE_URL (PostgreSQL, a throwaway database) and REDIS_URL")

    import django

    django.setup()
    import redis

    from evaluation import lifecycle
    from evaluation.models import EvaluationRun, ModelConfiguration, ProviderBatch
    from perf.evaluation_setup import DEFAULT_RELEASE, release_item_set, start_workers, stop_workers
    from tests.evaluation.fake_provider import FakeProvider

    item_set = release_item_set(DEFAULT_RELEASE, args.items)
    # Runs an interrupted benchmark left active would be polled against a gone server.
    for run_id in (
        EvaluationRun.objects.active()
        .filter(model_config__name__startswith="bench-batch-")
        .values_list("id", flat=True)
    ):
        lifecycle.cancel_run(run_id=run_id)
    ProviderBatch.objects.filter(run__status="cancelled").exclude(status="cancelled").update(
        status="cancelled"
    )
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    with FakeProvider() as server:
        server.hold_batches = True
        configs = []
        for index in range(args.models):
            provider = PROVIDERS[index % len(PROVIDERS)]
            config, _ = ModelConfiguration.objects.update_or_create(
                name=f"bench-batch-{index}",
                defaults=dict(
                    provider=provider, model_id=f"bench-{provider}-{index}",
                    base_url=server.url(provider), temperature=0.0, max_tokens=16, seed=1,
                    timeout_seconds=60, max_retries=3,
                ),
            )  # fmt: skip
            configs.append(config)
        workers = start_workers(args.workers, args.worker_threads)
        try:
            runs = [
                lifecycle.create_run(model_config=config, item_set=item_set, use_cache=False,
                                     mode="batch", label="batch benchmark")
                for config in configs
            ]  # fmt: skip
            submit_started = time.monotonic()
            for run in runs:
                lifecycle.start_run(run_id=run.pk)
            run_ids = [run.pk for run in runs]
            batches = ProviderBatch.objects.filter(run_id__in=run_ids)
            while (
                batches.filter(status="submitted").count() < len(runs)
                or batches.filter(status="pending").exists()
            ):
                time.sleep(0.2)
            submitted = time.monotonic() - submit_started
            # The provider ends every batch; beat's ticks poll them.
            server.hold_batches = False
            started = time.monotonic()
            runs_qs = EvaluationRun.objects.filter(pk__in=run_ids)
            while runs_qs.active().exists():
                lifecycle.poll_batches()
                time.sleep(0.5)
            wall = time.monotonic() - started
        finally:
            stop_workers(workers)
        lines = server.batch_lines

    answers = sum(run.responses.count() for run in runs_qs)
    statuses = sorted(set(runs_qs.values_list("status", flat=True)))
    expected = sum(run.expected_units() for run in runs_qs)
    print(f"load before        {uptime}")
    print(f"runs               {len(runs)} ({', '.join(statuses)}), batch requests sent {lines}")
    print(f"answers stored     {answers} (expected {expected})")
    print(f"workers            {args.workers} × {args.worker_threads} threads")
    print(f"submitting         {submitted:.1f} s (planning + upload of every batch)")
    print(f"ingest wall        {wall:.1f} s from 'batches done' to every run scored "
          f"(target < 60 s); {answers / wall:.0f} answers/s")  # fmt: skip


if __name__ == "__main__":
    main()
