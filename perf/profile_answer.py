"""Where an answer's server time goes: the answer endpoint against ``/healthz``, in process.

```
.venv/bin/python -m perf.profile_answer [--participants 20] [--database-name vp_profile_answer]
    [--profile answer|page] [--sort tottime] [--top 40]
```

Recreates a throwaway PostgreSQL database, seeds the load test's studies (``perf.load_survey``),
lets ``--participants`` participants consent (through Django's test client), and then calls
the WSGI application directly, as gunicorn does, with prepared requests (so that no client's
work is charged to them; the whole middleware stack, CSRF checks on): ``/healthz``, and every
participant's 40 answers to ``/s/<slug>/answer/``, each after its item page (GET). Prints the
median Python CPU time (``time.process_time``, this process only: PostgreSQL's share is not
in it) and the SQL statements per request (counted on separate requests). ``--profile
answer|page`` adds the top of a cProfile of those requests. Numbers, not a timed test.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from urllib.parse import urlencode

from perf.load_survey.seed import ANSWERS_SLUG, SeedPlan, seed
from perf.load_survey.server import (
    PROJECT_DIR,
    drop_database,
    process_cpu_seconds,
    recreate_database,
)


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
    parser.add_argument(
        "--profile", choices=["answer", "page"], help="cProfile the answers or the item pages"
    )
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
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    seed(SeedPlan())
    # Behind the test client the host is "testserver". (No setup_test_environment: its
    # template instrumentation would charge the pages for copying their contexts.)
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]

    from config.wsgi import application

    def wsgi(method: str, path: str, *, body: bytes = b"", cookies: str = "", **headers):
        """Call the WSGI application as gunicorn does (no test client: its own work would be
        charged to the request); returns (status line, body)."""
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_COOKIE": cookies,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
        }
        if body:
            environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
            environ["CONTENT_LENGTH"] = str(len(body))
        status = []
        result = application(environ, lambda line, _headers, *_: status.append(line))
        try:
            content = b"".join(result)
        finally:
            result.close()
        return status[0], content

    database_cpu: dict[str, float] = {}

    def backend_cpu() -> float:
        """CPU seconds of the PostgreSQL backend serving this process's connection (read
        from /proc in clock ticks: summed over many requests, not per request)."""
        connection.ensure_connection()
        return process_cpu_seconds(connection.connection.info.backend_pid)

    def cpu_of(send, count_statements: bool = False, kind: str = "") -> tuple[float, int]:
        """CPU seconds of one request; statements counted only when asked, because
        capturing them switches the answer path to its (unprepared) logging cursor."""
        if count_statements:
            with CaptureQueriesContext(connection) as queries:
                send()
            return 0.0, len(queries)
        database_before = backend_cpu()
        started = time.process_time()
        send()
        used = time.process_time() - started
        database_cpu[kind] = database_cpu.get(kind, 0.0) + backend_cpu() - database_before
        return used, 0

    def health():
        assert wsgi("GET", "/healthz")[0].startswith("200")

    health_runs = [cpu_of(health, kind="healthz") for _ in range(args.healthz)]
    health_runs.append(cpu_of(health, count_statements=True))

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
        cookies = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
        participants.append((cookies, csrf, token))

    profiler = cProfile.Profile(time.process_time) if args.profile else None

    def measured(send, *, target: str, count_statements: bool) -> tuple[float, int]:
        if profiler and args.profile == target and not count_statements:
            profiler.enable()
            try:
                return cpu_of(send, count_statements=False, kind=target)
            finally:
                profiler.disable()
        return cpu_of(send, count_statements=count_statements, kind=target)

    answer_runs, page_runs = [], []
    for position in range(1, 41):
        for cookies, csrf, token in participants:

            def show(cookies=cookies, position=position):
                status, _ = wsgi("GET", f"/s/{ANSWERS_SLUG}/item/{position}/", cookies=cookies)
                assert status.startswith("200"), status

            # URL-encoded, as browsers and the load test post forms.
            body = urlencode(
                {"csrfmiddlewaretoken": csrf, "token": token, "position": position, "value": 3}
            ).encode()

            def send(cookies=cookies, body=body):
                status, content = wsgi(
                    "POST",
                    f"/s/{ANSWERS_SLUG}/answer/",
                    body=body,
                    cookies=cookies,
                    accept="application/json",
                )
                assert status.startswith("200"), (status, content)

            last = position == 40
            page_runs.append(measured(show, target="page", count_statements=last))
            answer_runs.append(measured(send, target="answer", count_statements=last))

    def summary(runs):
        timed = [r[0] for r in runs if r[1] == 0]
        return 1000 * statistics.median(timed), max(r[1] for r in runs)

    def database_ms(kind: str, runs) -> float:
        return 1000 * database_cpu.get(kind, 0.0) / max(sum(1 for r in runs if r[1] == 0), 1)

    h_ms, h_q = summary(health_runs)
    a_ms, a_q = summary(answer_runs)
    p_ms, p_q = summary(page_runs)
    h_db, a_db, p_db = (
        database_ms("healthz", health_runs),
        database_ms("answer", answer_runs),
        database_ms("page", page_runs),
    )
    print(
        f"/healthz: median {h_ms:.3f} ms Python CPU + {h_db:.3f} ms PostgreSQL (mean), "
        f"{h_q} statements ({len(health_runs)} requests)"
    )
    print(
        f"answer:   median {a_ms:.3f} ms Python CPU + {a_db:.3f} ms PostgreSQL (mean), "
        f"up to {a_q} statements ({len(answer_runs)} answers)"
    )
    print(
        f"ratio healthz/answer: Python CPU {h_ms / a_ms:.2f}, "
        f"with PostgreSQL {(h_ms + h_db) / (a_ms + a_db):.2f}"
    )
    print(
        f"item page: median {p_ms:.3f} ms Python CPU + {p_db:.3f} ms PostgreSQL (mean), "
        f"{p_q} statements ({len(page_runs)} GETs)"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    connection.close()
    drop_database(args.database_url, args.database_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
