"""Per-answer log export of a large run: chunked plain values against whole ORM objects.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vp_answer_bench \
      .venv/bin/python perf/bench_answer_logs.py [--items 520] [--repetitions 10]

Stores a synthetic run of items × 6 prompt variants × repetitions answers (default 31,200)
and writes its parquet log twice in the same process: as ``export_answers`` does
(:func:`evaluation.selectors.answer_log_frames`, keyset-paged chunks of plain values written
as row groups) and the straightforward way (every ``Response`` object loaded at once, one
frame, one file). Prints wall time and the tracemalloc peak of each. The database is
migrated and receives the synthetic run: use a throwaway database.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


def measure(label: str, work) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    rows = work()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<40} {rows:>7} rows  {seconds:6.2f} s  peak {peak / 2**20:7.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=520)
    parser.add_argument("--repetitions", type=int, default=10)
    parser.add_argument("--chunk-size", type=int, default=5000)
    args = parser.parse_args()
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("set DATABASE_URL (PostgreSQL, a throwaway database)")

    import django

    django.setup()
    import pandas as pd
    from django.core.management import call_command

    from evaluation import answer_logs, lifecycle
    from evaluation.models import Response
    from evaluation.selectors import answer_log_frames, run_units
    from tests.evaluation.factories import ModelConfigurationFactory, make_item_set

    call_command("migrate", verbosity=0)
    item_set = make_item_set(n_items=args.items, name="answer-log-bench")
    run = lifecycle.create_run(
        model_config=ModelConfigurationFactory(),
        item_set=item_set,
        variants=["v1", "v1_reversed", "v2", "v2_reversed", "v3", "v3_reversed"],
        repetitions=args.repetitions,
    )
    answers = [
        Response(
            run=run,
            item_id=item_id,
            variant=variant,
            repetition=repetition,
            persona=persona,
            state="valid",
            rating=3.0,
            label="somewhat like me",
            parse_method="exact",
            raw_text="Somewhat like me. " * 8,
            input_tokens=100,
            output_tokens=5,
            latency_ms=200,
            request_params={"temperature": 0.0, "max_tokens": 16},
            prompt_sha256="0" * 64,
            model_snapshot="fake-model",
        )  # fmt: skip
        for item_id, variant, repetition, persona in run_units(run=run)
    ]
    Response.objects.bulk_create(answers, batch_size=2000)
    del answers
    print(f"run #{run.pk}: {run.responses.count()} answers stored")

    with tempfile.TemporaryDirectory() as tmp:

        def chunked() -> int:
            frames = answer_log_frames(run=run, chunk_size=args.chunk_size)
            return answer_logs.write_parquet(frames, Path(tmp) / "chunked.parquet")

        def whole() -> int:
            objects = list(run.responses.select_related("item__scenario"))
            frame = pd.DataFrame(
                [
                    {field.attname: getattr(o, field.attname) for field in Response._meta.fields}
                    | {"item_code": o.item.code}
                    for o in objects
                ]
            )
            frame.to_parquet(Path(tmp) / "whole.parquet")
            return len(frame)

        measure(f"chunked values ({args.chunk_size} a chunk)", chunked)
        measure("all ORM objects at once", whole)
    run.delete()


if __name__ == "__main__":
    main()
