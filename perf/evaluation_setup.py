"""What the evaluation benchmarks share: the release's items as one item set, and Celery
worker subprocesses (imported by ``bench_evaluation.py`` and ``bench_batch.py``; Django must
be set up first)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from django.core.management import call_command

from benchmark.models import Correlation, ValidatedItem, ValidatedItemSet
from benchmark.selectors import published_run
from config.celery import app as celery_app
from survey.models import Study

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_RELEASE = os.environ.get(
    "VALUEPORTRAIT_DATA_DIR", str(PROJECT.parent / "shared/data/valueportrait")
)


def release_item_set(release: str, items: int = 520) -> ValidatedItemSet:
    """Migrate, import the release once, and return an item set of its first ``items``
    items, each once for its strongest published correlation."""
    call_command("migrate", verbosity=0)
    study = Study.objects.filter(slug="valueportrait-2025").first()
    if study is None:
        print("importing the release once ...", flush=True)
        call_command("import_valueportrait", release, verbosity=0)
        study = Study.objects.get(slug="valueportrait-2025")
    name = "bench-all-items" if items == 520 else f"bench-{items}-items"
    item_set = ValidatedItemSet.objects.filter(name=name).first()
    if item_set is not None:
        return item_set
    correlations = published_run(study=study)
    item_set = ValidatedItemSet.objects.create(
        name=name, version=1, study=study, correlation_run=correlations,
        rule={"benchmark": "every item, strongest |r|"},
    )  # fmt: skip
    rows = Correlation.objects.filter(run=correlations, family="schwartz").exclude(r=None)
    best = {}
    for item_id, dimension, r in rows.values_list("item_id", "dimension", "r"):
        if item_id not in best or abs(r) > abs(best[item_id][1]):
            best[item_id] = (dimension, r)
    ValidatedItem.objects.bulk_create(
        ValidatedItem(item_set=item_set, item_id=i, family="schwartz", dimension=d, r=r)
        for i, (d, r) in sorted(best.items())[:items]
    )
    return item_set


def start_workers(count: int, threads: int, *, timeout: float = 180.0) -> list[subprocess.Popen]:
    """``count`` Celery worker processes (thread pool of ``threads``) on the project,
    returned once every one answers a ping (on a loaded machine a worker's start, mostly
    imports, took over 10 s: a fixed sleep let it into the measured time)."""
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
                f"--concurrency={threads}",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=WARNING",
                "-n",
                f"bench{i}@%h",
            ],
            cwd=PROJECT,
            env=env,
        )  # fmt: skip
        for i in range(count)
    ]
    deadline = time.monotonic() + timeout
    while len(celery_app.control.ping(timeout=1.0)) < count:
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            stop_workers(workers)
            sys.exit("the Celery workers did not start")
    return workers


def cpu_seconds(workers: list[subprocess.Popen]) -> float:
    """User + system CPU seconds the worker processes (and their threads) have used: less
    at the mercy of a shared machine's load than wall time."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for worker in workers:
        with open(f"/proc/{worker.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=30)
