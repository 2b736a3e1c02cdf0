"""Benchmark: server time of the dashboard pages and API with 50 models and 100 persona runs.

Usage (PostgreSQL; a throwaway database ``test_<name>`` is created and dropped):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vp_perf \\
        .venv/bin/python perf/bench_dashboards.py [--release ../shared/data/valueportrait] \\
        [--models 50] [--persona-runs 100] [--repeat 15]

Data: the paper's release (569 participants, 317-item / 626-pair validated set) when found,
else a synthetic study of 600 participants on a 300-item set; the paper's three models are
imported as reference runs when the release is there; then live runs up to ``--models``
models and ``--persona-runs`` persona runs (two personas each), all stored as answers and
scored by ``evaluation.lifecycle.score_run`` exactly as real runs are; 120 participants with
demographics (rating a third of the item set's items) for the bias view.

Each page is requested ``--repeat`` times in-process with Django's test client as a logged-in
researcher (the time is the whole request: middleware, view, queries, template); the script
prints the median and the slowest request and the number of SQL queries per page.
Target (issue 6): under 300 ms per page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
TARGET_MS = 300.0


def build_data(*, release: Path | None, n_models: int, n_persona_runs: int, seed: int) -> dict:
    import numpy as np

    from evaluation.models import EvaluationRun
    from survey.instruments.dimensions import SCHWARTZ_VALUES
    from tests.dashboards import builders
    from tests.factories import StudyFactory

    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    if release is not None:
        from evaluation.reference_import import import_model_outputs
        from release.services import import_release

        import_release(directory=release)
        reference = import_model_outputs(directory=release / "lm_evaluation")
        item_set = reference[0].item_set
        study_slug = "valueportrait-2025"
    else:
        human_study = StudyFactory(slug="synthetic", title="Synthetic panel", status="closed")
        people = builders.participants_with_scores(study=human_study, n=600, rng=rng)
        item_set = builders.small_item_set(study=human_study, items_per_value=30)
        # About 40 of the 300 items each, like the release's participants.
        builders.participant_ratings(item_set=item_set, people=people, rng=rng, share=0.13)
        reference = []
        study_slug = "synthetic"
    print(f"  humans and item set ready in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    for index in range(n_models - len(reference)):
        base = dict(zip(SCHWARTZ_VALUES, rng.uniform(2.0, 5.5, len(SCHWARTZ_VALUES)), strict=True))
        builders.model_run(
            item_set=item_set,
            name=f"model-{index:02d}",
            provider=("openai", "anthropic", "gemini", "local")[index % 4],
            base=base,
            rng=rng,
            card={
                "family": f"family-{index % 7}",
                "parameters_billion": float(2 ** (index % 9)),
                "open_weights": index % 2 == 0,
            },
        )
    print(f"  {n_models} models' runs in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    personas = [{"gender": "woman"}, {"gender": "man"}]
    for index in range(n_persona_runs):
        base = dict(zip(SCHWARTZ_VALUES, rng.uniform(2.0, 5.5, len(SCHWARTZ_VALUES)), strict=True))
        builders.model_run(
            item_set=item_set,
            name=f"model-{index % max(n_models - len(reference), 1):02d}",
            base=base,
            rng=rng,
            personas=personas,
            persona_shift={"gender=man": {"Power": 1.0}},
            variants=("v1", "v1_reversed"),
        )
    print(f"  {n_persona_runs} persona runs in {time.perf_counter() - started:.1f} s")

    panel = StudyFactory(slug="demographic-panel", title="Demographic panel", status="closed")
    panel_people = builders.participants_with_scores(
        study=panel,
        n=120,
        rng=rng,
        demographics=lambda i: {"gender": ("female", "male")[i % 2], "age": 20 + i % 50},
    )
    # The bias page scores each group on the persona run's items: the panel rates a third.
    builders.participant_ratings(item_set=item_set, people=panel_people, rng=rng, share=0.3)
    persona_run = EvaluationRun.objects.exclude(personas=[]).order_by("-id").first()
    plain_run = EvaluationRun.objects.filter(personas=[]).order_by("-id").first()
    item_id = item_set.entries.values_list("item_id", flat=True).first()
    return {
        "study": study_slug,
        "item_set": item_set.pk,
        "persona_run": persona_run.pk,
        "plain_run": plain_run.pk,
        "item": item_id,
        "runs": EvaluationRun.objects.count(),
    }


def existing_ids() -> dict:
    from evaluation.models import EvaluationRun
    from survey.models import Study

    study = Study.objects.exclude(slug="demographic-panel").order_by("created_at").first()
    persona_run = EvaluationRun.objects.exclude(personas=[]).order_by("-id").first()
    plain_run = EvaluationRun.objects.filter(personas=[]).order_by("-id").first()
    return {
        "study": study.slug,
        "item_set": persona_run.item_set_id,
        "persona_run": persona_run.pk,
        "plain_run": plain_run.pk,
        "item": plain_run.item_set.entries.values_list("item_id", flat=True).first(),
        "runs": EvaluationRun.objects.count(),
    }


def profile(client, url: str) -> None:
    import cProfile
    import pstats

    client.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5):
        client.get(url)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def measure(client, url: str, repeat: int) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up (template loading, first-use imports)
    status = response.status_code
    times = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        queries = len(captured)
        status = response.status_code
    return statistics.median(times), max(times), queries, status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", type=Path, default=ROOT.parent / "shared/data/valueportrait")
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--persona-runs", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (and reuse it on the next run)"
    )
    parser.add_argument("--profile", help="cProfile one page (its name in the table)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL server (the numbers are for PostgreSQL).")
        return 2
    setup_test_environment()
    old_name = settings.DATABASES["default"]["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keep)
    try:
        from evaluation.models import EvaluationRun

        release = args.release if (args.release / "data").is_dir() else None
        if args.keep and EvaluationRun.objects.exists():
            print("Reusing the kept database.")
            ids = existing_ids()
        else:
            print(
                f"Building data ({'release ' + str(release) if release else 'synthetic humans'}, "
                f"{args.models} models, {args.persona_runs} persona runs) ..."
            )
            ids = build_data(
                release=release,
                n_models=args.models,
                n_persona_runs=args.persona_runs,
                seed=args.seed,
            )
        print(f"  {ids['runs']} finished runs in the database")
        from django.contrib.auth.models import User

        from tests.dashboards.helpers import make_user

        client = Client()
        user = User.objects.filter(username="bench-researcher").first()
        client.force_login(user or make_user("researcher", "bench-researcher"))
        pages = [
            ("overview", "/dashboards/"),
            ("compare models", "/dashboards/models/"),
            ("compare, filtered", "/dashboards/models/?open=open&size_min=4&provider=openai"),
            ("compare, higher-order", "/dashboards/models/?family=higher_order"),
            ("model portrait", f"/dashboards/runs/{ids['plain_run']}/"),
            ("humans vs models", f"/dashboards/humans/?study={ids['study']}"),
            (
                "demographic bias",
                f"/dashboards/bias/?run={ids['persona_run']}&study=demographic-panel",
            ),
            ("items explorer", f"/dashboards/items/?study={ids['study']}"),
            ("item detail", f"/dashboards/items/{ids['item']}/"),
            ("API humans-vs-models", f"/api/v1/humans-vs-models/?study={ids['study']}"),
            (
                "API persona-comparisons",
                f"/api/v1/persona-comparisons/?run={ids['persona_run']}&study=demographic-panel",
            ),
            ("API human-distributions", f"/api/v1/human-distributions/?study={ids['study']}"),
            (
                "API human-portraits",
                "/api/v1/human-portraits/?study=demographic-panel"
                f"&item_set={ids['item_set']}&group_by=gender",
            ),
        ]
        if args.profile:
            profile(client, dict(pages)[args.profile])
        print(f"\n{'page':<26} {'median ms':>10} {'max ms':>8} {'queries':>8}  status")
        slow = []
        for name, url in pages:
            median, worst, queries, status = measure(client, url, args.repeat)
            flag = "" if median < TARGET_MS else "  <-- over target"
            print(f"{name:<26} {median:>10.1f} {worst:>8.1f} {queries:>8}  {status}{flag}")
            if median >= TARGET_MS or status != 200:
                slow.append(name)
        print(
            f"\nTarget: median server time under {TARGET_MS:.0f} ms per page: "
            + ("met." if not slow else f"NOT met for {', '.join(slow)}.")
        )
        return 0 if not slow else 1
    finally:
        if not args.keep:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
