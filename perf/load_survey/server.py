"""The system under test: a dedicated PostgreSQL database and gunicorn on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx
import psycopg

PROJECT_DIR = Path(__file__).resolve().parents[2]
SERVER_KEEPALIVE_SECONDS = 2  # gunicorn's default, stated


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(server_url: str, name: str) -> str:
    return urlunparse(urlparse(server_url)._replace(path=f"/{name}"))


def recreate_database(server_url: str, name: str) -> str:
    """Drop and create database ``name`` on the server of ``server_url``; returns its URL."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"refusing a database name that is not a plain identifier: {name!r}")
    admin = database_url(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_environment(db_url: str, celery_dir: str, entry_rate: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)  # the survey must not need Redis; none is used here
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DATABASE_URL=db_url,
        DATABASE_CONN_MAX_AGE="60",
        DJANGO_DEBUG="false",
        LOG_LEVEL="WARNING",
        CELERY_FILESYSTEM_DIR=celery_dir,
        # All simulated participants come from 127.0.0.1: the per-client entry limit
        # (which would refuse a bot flood from one address) is raised for the run.
        SURVEY_ENTRY_RATE=entry_rate,
    )
    return env


class Gunicorn:
    """gunicorn serving ``config.wsgi`` on 127.0.0.1:<free port>; a context manager."""

    def __init__(self, env: dict[str, str], *, workers: int, threads: int, log: Path):
        self.env, self.workers, self.threads, self.log_path = env, workers, threads, log
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Gunicorn:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--worker-class",
            "gthread" if self.threads > 1 else "sync",
            "--backlog",
            "2048",
            "--timeout",
            "60",
            # Explicit, because the load generator's keep-alive must stay below it.
            "--keep-alive",
            str(SERVER_KEEPALIVE_SECONDS),
        ]
        self.log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a crash test can kill it whole
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {timeout} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(child) for child in path.read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


class ServerCpu:
    """CPU seconds used by the system under test: gunicorn (master + workers) and the
    PostgreSQL backends serving its database. Unlike wall-clock throughput this does not
    depend on what else runs on a shared machine, so it gives the endpoint's cost ratio."""

    def __init__(self, gunicorn: Gunicorn, db_url: str, db_name: str):
        self.gunicorn, self.db_url, self.db_name = gunicorn, db_url, db_name
        self.seen: dict[int, float] = {}

    def _pids(self) -> list[tuple[str, int]]:
        master = self.gunicorn.process.pid
        pids = [("web", pid) for pid in (master, *_children(master))]
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            own = conn.info.backend_pid
            pids += [
                ("database", row[0])
                for row in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                    [self.db_name, own],
                )
            ]
        return pids

    def snapshot(self) -> dict[tuple[str, int], float]:
        return {key: process_cpu_seconds(key[1]) for key in self._pids()}

    @staticmethod
    def used(before: dict, after: dict, role: str | None = None) -> float:
        """CPU seconds between two snapshots (processes born in between count from 0), of
        the web server and database together or of ``role`` ("web" or "database") alone."""
        return sum(
            cpu - before.get(key, 0.0)
            for key, cpu in after.items()
            if role is None or key[0] == role
        )
