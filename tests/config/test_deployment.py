"""The deployable image, tested without Docker.

What Docker would do is done here with the same inputs: the build context is what
.dockerignore lets through, the wheel is built from it the way the Dockerfile's
``pip install .`` builds it, the installed wheel runs ``valueportrait`` from another folder
and collects the static files, the dependency layer's command runs on pyproject.toml alone,
and the compose services' commands and health checks run against a real gunicorn and a
real Celery worker.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import celery
import httpx
import pytest
from django.apps import apps
from django.core.management import get_commands
from django.db import connection

from config.celery import app as celery_app
from perf.load_survey.server import free_port
from tests.config.deployment import (
    DOCKERFILE,
    DOCKERIGNORE,
    build_context,
    compose_services,
    dockerfile_instructions,
    dockerignore_rules,
    ignored,
    project_files,
)
from tests.conftest import PROJECT_DIR

PYPROJECT = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())
# What a user puts in .env before `docker compose up`, as the compose file asks.
USER_ENV = {"DJANGO_SECRET_KEY": "k" * 60}
BIN = Path(sys.executable).parent


def local_app_packages() -> set[str]:
    """Top-level packages of the project's own installed apps (those whose code is in the
    repository: not Django's, not libraries, even from a virtualenv inside the checkout)."""
    own_folders = {name.split("/")[0] for name in project_files() if "/" in name}
    return {
        app.name.split(".")[0]
        for app in apps.get_app_configs()
        if Path(app.path).resolve().is_relative_to(PROJECT_DIR)
        and Path(app.path).resolve().relative_to(PROJECT_DIR).parts[0] in own_folders
    }


# --- .dockerignore ----------------------------------------------------------------------


def test_dockerignore_keeps_secrets_state_and_history_out_of_the_image():
    rules = dockerignore_rules(DOCKERIGNORE.read_text())
    for path in (
        ".env",
        ".env.production",
        ".venv/lib/python3.11/site-packages/torch/__init__.py",
        "db.sqlite3",
        "db.sqlite3-wal",
        ".git/HEAD",
        "var/celery/queue/message.msg",
        "staticfiles/css/site.css",
        "survey/__pycache__/models.cpython-311.pyc",
        "survey/instruments/__pycache__/scoring.cpython-311.pyc",
        "build/lib/config/__init__.py",
        "value_portrait.egg-info/PKG-INFO",
        "perf/out/run.json",
    ):
        assert ignored(path, rules), f"{path} would be sent into the image"


def test_dockerignore_lets_through_everything_the_installed_project_needs():
    rules = dockerignore_rules(DOCKERIGNORE.read_text())
    needed = {"pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "manage.py"}
    packages = local_app_packages() | {"config"}
    for name in project_files():
        top = name.split("/")[0]
        if top in packages or top in {"templates", "static", "locale"} or name in needed:
            assert not ignored(name, rules), f"{name} is needed by the build but ignored"


# --- Dockerfile ---------------------------------------------------------------------------


def test_dockerfile_installs_dependencies_in_a_layer_before_the_code():
    steps = dockerfile_instructions(DOCKERFILE.read_text())
    copies = [(n, args) for n, (kind, args) in enumerate(steps) if kind == "COPY"]
    first_copy_index, first_copy = copies[0]
    # The first COPY brings pyproject.toml alone: the dependency layer depends on nothing else.
    assert first_copy.split()[:-1] == ["pyproject.toml"], first_copy
    code_copy_index = next(n for n, args in copies if args.split()[0] == ".")
    dependency_runs = [
        args
        for kind, args in steps[first_copy_index:code_copy_index]
        if kind == "RUN" and "pip install" in args
    ]
    assert dependency_runs, "no dependency install between pyproject.toml and the code"
    project_installs = [
        args for kind, args in steps[code_copy_index:] if kind == "RUN" and "pip install" in args
    ]
    assert len(project_installs) == 1 and "--no-deps" in project_installs[0]
    collect = [
        n for n, (kind, args) in enumerate(steps) if kind == "RUN" and "collectstatic" in args
    ]
    assert collect and collect[0] > code_copy_index


def test_dependency_layer_installs_exactly_the_projects_dependencies(tmp_path):
    """Run the Dockerfile's own command on pyproject.toml alone, as in that layer."""
    steps = dockerfile_instructions(DOCKERFILE.read_text())
    command = next(args for kind, args in steps if kind == "RUN" and "tomllib" in args)
    first = shlex.split(command.split("&&")[0])
    assert first[:2] == ["python", "-c"] and first[3] == ">"
    (tmp_path / "pyproject.toml").write_text((PROJECT_DIR / "pyproject.toml").read_text())
    result = subprocess.run(
        [sys.executable, "-c", first[2]], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == PYPROJECT["project"]["dependencies"]
    installer = command.split("&&")[1].split()
    assert installer == ["pip", "install", "-r", first[4]]


# --- the wheel: built from the Docker build context, installed, run from elsewhere ------


@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory) -> Path:
    context = tmp_path_factory.mktemp("context")
    build_context(context)
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), "."],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = out.glob("value_portrait-*.whl")
    return wheel


@pytest.mark.slow
def test_wheel_carries_templates_static_files_manage_py_and_every_app(built_wheel):
    names = set(zipfile.ZipFile(built_wheel).namelist())
    for folder in ("templates", "static", "locale"):
        for source in (PROJECT_DIR / folder).rglob("*"):
            if source.is_file() and "__pycache__" not in source.parts and source.suffix != ".mo":
                inside = f"config/site/{source.relative_to(PROJECT_DIR).as_posix()}"
                assert inside in names, f"{inside} missing from the wheel"
    assert "config/site/manage.py" in names
    for package in local_app_packages() | {"config"}:
        assert f"{package}/__init__.py" in names, f"package {package} missing from the wheel"
        for migration in (PROJECT_DIR / package / "migrations").glob("0*.py"):
            assert f"{package}/migrations/{migration.name}" in names
    for data in (PROJECT_DIR / "survey" / "instruments" / "data").glob("*.json"):
        assert f"survey/instruments/data/{data.name}" in names
    assert not [n for n in names if n.startswith(("tests/", "perf/")) or "__pycache__" in n]
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    scripts = zipfile.ZipFile(built_wheel).read(entry_points).decode()
    assert "valueportrait = config.manage:main" in scripts


@pytest.mark.slow
def test_installed_wheel_runs_from_any_folder_with_its_own_templates_and_static(
    built_wheel, tmp_path
):
    """The wheel installed on its own (the checkout out of reach): ``valueportrait`` finds
    the settings, the templates and static files inside the package, and the Dockerfile's
    collectstatic step fills DJANGO_STATIC_ROOT."""
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site)]
        + [str(built_wheel)],
        check=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"}
    }
    env["PYTHONPATH"] = str(site)  # ahead of the checkout's editable install
    script = [str(site / "bin" / "valueportrait")]
    probe = (
        "import config; from django.conf import settings as s; "
        "from django.template.loader import get_template; "
        "from django.contrib.staticfiles import finders; "
        "print(config.__file__); print(s.SITE_DIR); print(s.BASE_DIR); "
        "print(get_template('home.html').origin.name); print(finders.find('css/site.css'))"
    )
    result = subprocess.run(
        [*script, "shell", "-v", "0", "-c", probe],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    module, site_dir, base_dir, template, stylesheet = result.stdout.split()
    installed_site = site / "config" / "site"
    assert Path(module).is_relative_to(site)
    assert Path(site_dir) == installed_site and Path(base_dir) == elsewhere
    assert Path(template) == installed_site / "templates" / "home.html"
    assert Path(stylesheet) == installed_site / "static" / "css" / "site.css"

    # The Dockerfile's collectstatic step, with its ENV, in a folder of ours instead of /app.
    steps = dockerfile_instructions(DOCKERFILE.read_text())
    image_env = dict(
        pair.split("=", 1) for kind, args in steps if kind == "ENV" for pair in shlex.split(args)
    )
    static_root = tmp_path / "app" / "staticfiles"
    image_env.update(VALUEPORTRAIT_HOME=str(tmp_path / "app"), DJANGO_STATIC_ROOT=str(static_root))
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    collect = next(args for kind, args in steps if kind == "RUN" and "collectstatic" in args)
    collect = collect.split("&&")[0].replace("valueportrait", shlex.quote(script[0]), 1)
    result = subprocess.run(
        collect,
        shell=True,
        cwd=workdir,
        env={**env, **image_env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (static_root / "css" / "site.css").is_file()
    assert (static_root / "plotly" / "plotly.min.js").is_file()
    assert list(workdir.iterdir()) == []  # the instance's files go to VALUEPORTRAIT_HOME

    # The Dockerfile's compilemessages step compiles the catalogues inside the package, and
    # the installed project then speaks German.
    for mo in (installed_site / "locale").rglob("*.mo"):
        mo.unlink()  # compiled in the checkout before the build: the image compiles its own
    compile_step = next(args for kind, args in steps if kind == "RUN" and "compilemessages" in args)
    compile_step = next(part for part in compile_step.split("&&") if "compilemessages" in part)
    result = subprocess.run(
        compile_step.replace("valueportrait", shlex.quote(script[0]), 1),
        shell=True,
        cwd=workdir,
        env={**env, **image_env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (installed_site / "locale" / "de" / "LC_MESSAGES" / "django.mo").is_file()
    speaks = "from django.utils import translation; translation.activate('de'); print(translation.gettext('Thank you!'))"
    result = subprocess.run(
        [*script, "shell", "-v", "0", "-c", speaks],
        cwd=workdir,
        env={
            **env,
            **image_env,
            "DJANGO_SECRET_KEY": "test-only",
            "ALLOWED_HOSTS": "localhost",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Vielen Dank!"


# --- docker-compose.yml -------------------------------------------------------------------


def test_compose_refuses_to_start_without_a_secret_key():
    with pytest.raises(ValueError, match="DJANGO_SECRET_KEY"):
        compose_services({})


def test_compose_services_run_commands_that_exist_and_restart_or_run_once():
    services = compose_services(USER_ENV)
    scripts = PYPROJECT["project"]["scripts"]
    commands = get_commands()
    for name, service in services.items():
        if "build" not in service:
            assert service["restart"] == "unless-stopped", name
            assert "healthcheck" in service, name
            continue
        command = service["command"]
        program = command[0]
        if program == "valueportrait":
            assert scripts["valueportrait"] == "config.manage:main"
            assert command[1] in commands, f"{name}: no management command {command[1]}"
        elif program == "celery":
            assert command[1:3] == ["-A", "config"]
            assert isinstance(celery_app, celery.Celery)
        elif program == "gunicorn":
            module, _, attribute = command[1].partition(":")
            assert module == "config.wsgi" and attribute == "application"
        else:
            pytest.fail(f"{name}: unknown program {program}")
        one_shot = name in {"migrate", "admin"}
        assert service["restart"] == ("no" if one_shot else "unless-stopped"), name
        if not one_shot:
            assert service["depends_on"]["migrate"]["condition"] == (
                "service_completed_successfully"
            )
            assert "healthcheck" in service, name
    assert services["admin"]["command"] == ["valueportrait", "ensure_admin"]
    assert services["admin"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    for variable in ("USERNAME", "PASSWORD", "EMAIL"):
        assert f"DJANGO_SUPERUSER_{variable}" in services["admin"]["environment"]


def test_compose_serves_plain_http_unless_told_otherwise():
    web = compose_services(USER_ENV)["web"]["environment"]
    assert (web["DJANGO_SECURE_COOKIES"], web["SECURE_SSL_REDIRECT"], web["TRUSTED_PROXY"]) == (
        "false",
        "false",
        "false",
    )
    behind_tls = compose_services(
        {**USER_ENV, "DJANGO_SECURE_COOKIES": "true", "TRUSTED_PROXY": "true"}
    )["web"]["environment"]
    assert (behind_tls["DJANGO_SECURE_COOKIES"], behind_tls["TRUSTED_PROXY"]) == ("true", "true")


def url_of_test_database() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def service_environment(service: dict, **overrides: str) -> dict[str, str]:
    """The service's environment from the compose file, run on this machine: the service
    names postgres and redis become this machine's test database and Redis."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update({key: str(value) for key, value in service["environment"].items()})
    env["DATABASE_URL"] = url_of_test_database()
    env["REDIS_URL"] = os.environ.get("REDIS_URL", "")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(overrides)
    return env


def run_healthcheck(test: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a compose health check's test here: CMD-SHELL through sh, CMD directly (with
    this environment's Python for ``python``)."""
    kind, *command = test
    if kind == "CMD-SHELL":
        command = ["sh", "-c", command[0]]
    else:
        assert kind == "CMD", kind
        if command[0] == "python":
            command = [sys.executable, *command[1:]]
    return subprocess.run(
        command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_web_healthcheck_passes_behind_a_tls_proxy_and_fails_when_the_app_is_down(tmp_path):
    """gunicorn started with the compose web service's command and environment, configured
    for a TLS proxy (HTTPS redirect, secure cookies, a public host name): the health check,
    asked over plain HTTP inside the container, still passes, while pages redirect to HTTPS
    unless the proxy says the request came over HTTPS."""
    public_host = "valueportrait.example.org"
    web = compose_services(
        {
            **USER_ENV,
            "ALLOWED_HOSTS": public_host,
            "SECURE_SSL_REDIRECT": "true",
            "DJANGO_SECURE_COOKIES": "true",
            "TRUSTED_PROXY": "true",
        }
    )["web"]
    port = free_port()
    healthcheck_url = f"http://127.0.0.1:{port}/healthz"
    env = service_environment(web, HEALTHCHECK_URL=healthcheck_url)
    command = list(web["command"])
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    command[command.index("--workers") + 1] = "1"
    command[0] = str(BIN / "gunicorn")
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            command, cwd=PROJECT_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            check = run_healthcheck(web["healthcheck"]["test"], env)
            if check.returncode == 0 or time.monotonic() > deadline or server.poll() is not None:
                break
            time.sleep(0.5)
        assert check.returncode == 0, check.stdout + check.stderr + log.read_text()

        headers = {"Host": public_host}
        plain = httpx.get(f"http://127.0.0.1:{port}/accounts/login/", headers=headers)
        assert plain.status_code == 301
        assert plain.headers["Location"] == f"https://{public_host}/accounts/login/"
        proxied = httpx.get(
            f"http://127.0.0.1:{port}/accounts/login/",
            headers={**headers, "X-Forwarded-Proto": "https"},
        )
        assert proxied.status_code == 200
        assert "secure" in proxied.headers["set-cookie"].lower()
    finally:
        server.terminate()
        server.wait(timeout=30)
    down = run_healthcheck(web["healthcheck"]["test"], env)
    assert down.returncode != 0 and "unreachable" in down.stdout


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_worker_healthcheck_pings_this_containers_worker(tmp_path):
    """The compose worker command on Redis, named as in a container (celery@<hostname>);
    the health check's ping reaches it, and fails for a container whose worker is gone."""
    worker_service = compose_services(USER_ENV)["worker"]
    hostname = socket.gethostname()
    env = service_environment(worker_service, HOSTNAME=hostname)
    command = [str(BIN / "celery"), *worker_service["command"][1:]]
    command = [part for part in command if not part.startswith("--concurrency")]
    command += ["--concurrency=1", "--pool=solo"]
    test = worker_service["healthcheck"]["test"]
    log = tmp_path / "worker.log"
    with open(log, "wb") as output:
        worker = subprocess.Popen(
            command, cwd=PROJECT_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            check = run_healthcheck(test, env)
            if check.returncode == 0 or time.monotonic() > deadline or worker.poll() is not None:
                break
            time.sleep(1)
        assert check.returncode == 0, check.stdout + check.stderr + log.read_text()
        assert f"celery@{hostname}: OK" in check.stdout
        other = run_healthcheck(test, {**env, "HOSTNAME": f"gone-{hostname}"})
        assert other.returncode != 0
    finally:
        worker.terminate()
        worker.wait(timeout=30)
