"""Where an answer's server time goes: the answer endpoint against ``/healthz``, in process.

```
.venv/bin/python -m perf.profile_answer [--participants 20] [--database-name vp_profile_answer]
    [--profile]
```

Recreates a throwaway PostgreSQL database, seeds the load test's studies (``perf.load_survey``),
lets ``--participants`` participants consent, and then sends, through Django's test client
(the whole middleware stack, CSRF checks on), ``/healthz`` requests and every participant's 40
answers to ``/s/<slug>/answer/``. Prints the median Python CPU time (``time.process_time``,
this process only: PostgreSQL's share is not in it) and the SQL statements per request;
``--profile`` adds the top of a cProfile of the answers. Numbers, not a timed test.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from urllib.parse import urlencode

from perf.load_survey.seed import ANSWERS_SLUG, SeedPlan, seed
from perf.load_survey.server import PROJECT_DIR, drop_database, recreate_database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m perf.profile_answer", description=__doc__)
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--healthz", type=int, default=1000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "LOAD_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--database-name", default="vp_profile_answer")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (tottime, ...)")
    parser.add_argument("--top", type=int, default=40, help="cProfile rows to print")
    args = parser.parse_args(argv)

    db_url = recreate_database(args.database_url, args.database_name)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DATABASE_URL=db_url,
        DATABASE_CONN_MAX_AGE="60",
        DJANGO_DEBUG="false",
        LOG_LEVEL="WARNING",
        CELERY_FILESYSTEM_DIR=tempfile.mkdtemp(prefix="vp-profile-"),
        SURVEY_ENTRY_RATE="100000/m",
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    seed(SeedPlan())
    # Behind the test client the host is "testserver".
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]

    def cpu_of(send) -> tuple[float, int]:
        with CaptureQueriesContext(connection) as queries:
            started = time.process_time()
            send()
            spent = time.process_time() - started
        return spent, len(queries)

    health = Client()
    health_runs = [cpu_of(lambda: health.get("/healthz")) for _ in range(args.healthz)]

    participants = []
    for n in range(args.participants):
        client = Client(enforce_csrf_checks=True)
        page = client.get(
            f"/s/{ANSWERS_SLUG}/",
            {"PROLIFIC_PID": f"PROF{n:05d}", "STUDY_ID": "s", "SESSION_ID": "x"},
        ).content.decode()
        csrf = client.cookies["csrftoken"].value
        arrival = page.split('name="arrival" value="', 1)[1].split('"', 1)[0]
        client.post(
            f"/s/{ANSWERS_SLUG}/consent/",
            {"csrfmiddlewaretoken": csrf, "arrival": arrival, "choice": "agree"},
        )
        page = client.get(f"/s/{ANSWERS_SLUG}/item/1/").content.decode()
        token = page.split('name="token" value="', 1)[1].split('"', 1)[0]
        participants.append((client, csrf, token))

    def answer_all() -> list[tuple[float, int]]:
        runs = []
        for position in range(1, 41):
            for client, csrf, token in participants:

                def send(client=client, csrf=csrf, token=token, position=position):
                    # URL-encoded, as browsers and the load test post forms (the test
                    # client's default, multipart, costs the server more to parse).
                    body = urlencode(
                        {
                            "csrfmiddlewaretoken": csrf,
                            "token": token,
                            "position": position,
                            "value": 3,
                        }
                    )
                    response = client.post(
                        f"/s/{ANSWERS_SLUG}/answer/",
                        body,
                        content_type="application/x-www-form-urlencoded",
                        HTTP_ACCEPT="application/json",
                    )
                    assert response.status_code == 200, response.content

                runs.append(cpu_of(send))
        return runs

    profiler = cProfile.Profile(time.process_time) if args.profile else None
    if profiler:
        profiler.enable()
    answer_runs = answer_all()
    if profiler:
        profiler.disable()

    def summary(runs):
        return 1000 * statistics.median(r[0] for r in runs), max(r[1] for r in runs)

    h_ms, h_q = summary(health_runs)
    a_ms, a_q = summary(answer_runs)
    print(
        f"/healthz: median {h_ms:.3f} ms Python CPU, {h_q} statements ({len(health_runs)} requests)"
    )
    print(
        f"answer:   median {a_ms:.3f} ms Python CPU, up to {a_q} statements ({len(answer_runs)} answers)"
    )
    print(f"ratio healthz/answer (Python CPU): {h_ms / a_ms:.2f}")
    if profiler:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    connection.close()
    drop_database(args.database_url, args.database_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
