"""The one convention of the management commands (core/commands.py): ``--study SLUG``,
``--output PATH`` with ``-`` for stdout, the format from ``--format`` or the extension, the
old spellings as deprecated aliases, progress bars only on a terminal, and the
``valueportrait`` console script."""

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command, get_commands, load_command_class

from benchmark.services import recompute_now
from core.commands import ProjectCommand, legacy_dest
from tests.benchmark.conftest import build_small_study
from tests.commands import Terminal
from tests.survey.study_setup import make_study

pytestmark = [pytest.mark.django_db]

PROJECT_APPS = ("core", "survey", "release", "benchmark", "evaluation", "dashboards")


def _project_commands() -> dict[str, object]:
    return {
        name: load_command_class(app, name)
        for name, app in get_commands().items()
        if app in PROJECT_APPS
    }


def _run(*args, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_every_project_command_follows_the_convention():
    commands = _project_commands()
    assert len(commands) >= 20
    for name, command in commands.items():
        assert isinstance(command, ProjectCommand), f"{name} is not a ProjectCommand"
        parser = command.create_parser("manage.py", name)
        options = {o for action in parser._actions for o in action.option_strings}
        assert "--out" not in options or command.legacy_output_options, name
        assert "--study-slug" not in options or command.legacy_study_options, name
        if command.output_formats:
            assert {"--output", "-o", "--format"} <= options, name
        if command.long_running:
            assert "--no-progress" in options, name


@pytest.fixture
def computed(db):
    study = build_small_study()
    return study, recompute_now(study=study)


STUDY_SPELLINGS = [
    # (command, arguments before the study, how the study is given, old spelling)
    ("recompute_correlations", [], ["--study", "{slug}"], None),
    ("export_correlations", ["--output", "{tmp}/c.csv"], ["--study", "{slug}"], None),
    ("estimate_chance", ["--permutations", "2", "--splits", "1"], ["--study", "{slug}"], None),
]


@pytest.mark.parametrize("name,before,study,_", STUDY_SPELLINGS)
def test_study_commands_take_study_slug(computed, tmp_path, name, before, study, _):
    slug = computed[0].slug
    args = [a.format(slug=slug, tmp=tmp_path) for a in before + study]
    out, err = _run(name, *args)
    assert "deprecated" not in err and out
    with pytest.raises(CommandError, match="no study 'nope'"):
        _run(name, *[a.format(slug="nope", tmp=tmp_path) for a in before + study])


def test_old_study_spellings_work_with_a_warning(tmp_path):
    slug = make_study(n_items=6, slug="bots").slug
    out, err = _run("survey_bots", slug, "--participants", "1")  # old: a positional slug
    assert "a positional study slug is deprecated" in err and "use --study SLUG" in err
    assert "All bots finished as expected." in out
    out_new, err_new = _run("survey_bots", "--study", slug, "--participants", "1")
    assert "deprecated" not in err_new and out_new == out
    with pytest.raises(CommandError, match="two different studies"):
        _run("survey_bots", slug, "--study", "other")
    # The release import's --study-slug: the warning comes before the (here empty) folder
    # is read and refused.
    for spelling, warned in (("--study-slug", True), ("--study", False)):
        err = io.StringIO()
        with pytest.raises(CommandError, match="Nothing imported"):
            call_command(
                "import_valueportrait", str(tmp_path), spelling, "vp", stderr=err,
                stdout=io.StringIO(),
            )  # fmt: skip
        assert ("--study-slug is deprecated" in err.getvalue()) is warned


def test_output_dash_writes_the_data_to_stdout_and_the_summary_to_stderr(computed, tmp_path):
    slug = computed[0].slug
    out, err = _run("export_correlations", "--study", slug, "--output", "-", "--format", "json")
    assert json.loads(out)["run"]["id"] == computed[1].pk
    assert "wrote 60 rows" in err
    csv_out, _ = _run("export_correlations", "--study", slug, "-o", "-")  # default: csv
    assert csv_out.startswith("portrait_id,option_id,dimension,r,p,n")
    # The same table as the file and as the API writes it.
    _run("export_correlations", "--study", slug, "--output", str(tmp_path / "c.csv"))
    assert (tmp_path / "c.csv").read_bytes().decode() == csv_out


def test_format_from_the_extension_old_out_alias_and_unknown_extensions(computed, tmp_path):
    slug = computed[0].slug
    target = tmp_path / "corr.parquet"
    out, err = _run("export_correlations", "--study", slug, "--output", str(target))
    assert "deprecated" not in err and "wrote 60 rows" in out
    rows = pq.read_table(target).to_pylist()
    assert len(rows) == 60 and {"r", "p", "n", "family"} <= set(rows[0])
    old = tmp_path / "old.json"
    _, err = _run("export_correlations", "--study", slug, "--out", str(old))  # old spelling
    assert "--out is deprecated" in err and "use --output PATH" in err
    assert len(json.loads(old.read_text())["correlations"]) == 60
    with pytest.raises(CommandError, match="cannot tell the format of .*corr.txt"):
        _run("export_correlations", "--study", slug, "--output", str(tmp_path / "corr.txt"))
    _run(
        "export_correlations",
        "--study",
        slug,
        "--output",
        str(tmp_path / "x.txt"),
        "--format",
        "csv",
    )
    assert (tmp_path / "x.txt").read_text().startswith("portrait_id")
    with pytest.raises(CommandError, match="give the output"):
        _run("export_correlations", "--study", slug)
    with pytest.raises(CommandError, match="give the study"):
        _run("export_correlations", "--output", "-")


def test_progress_bars_only_on_a_terminal_and_not_with_no_progress(computed):
    slug = computed[0].slug
    terminal = Terminal()
    call_command("recompute_correlations", "--study", slug, stdout=io.StringIO(), stderr=terminal)
    assert "recompute" in terminal.getvalue() and "2/2" in terminal.getvalue()
    quiet = Terminal()
    call_command(
        "recompute_correlations", "--study", slug, "--no-progress",
        stdout=io.StringIO(), stderr=quiet,
    )  # fmt: skip
    assert quiet.getvalue() == ""
    _, err = _run("recompute_correlations", "--study", slug)  # stderr is no terminal
    assert err == ""


def test_the_console_script_runs_commands_from_anywhere(tmp_path):
    script = shutil.which("valueportrait", path=str(Path(sys.executable).parent))
    assert script, "the valueportrait console script is not installed (pip install -e .)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    checked = subprocess.run(
        [script, "check"], cwd="/tmp", env=env, capture_output=True, text=True, timeout=120
    )
    assert checked.returncode == 0, checked.stderr
    assert "System check identified no issues" in checked.stdout
    helped = subprocess.run(
        [script, "help", "export_correlations"],
        cwd="/tmp", env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "--output PATH" in helped.stdout and "--study SLUG" in helped.stdout


def test_every_old_output_spelling_is_an_alias_with_a_warning():
    """Each command's old ``--out`` resolves like ``--output`` (format from the extension)
    and warns; both spellings together must agree."""
    checked = 0
    for name, command in _project_commands().items():
        for old in command.legacy_output_options:
            fmt = command.output_formats[0]
            path = "model-dir" if fmt in command.directory_formats else f"export.{fmt}"
            options = {"output": None, "format": None, legacy_dest(old): path}
            err = io.StringIO()
            assert command._resolve_output(dict(options), err) == (path, fmt), name
            assert f"{old} is deprecated" in err.getvalue(), name
            options["output"] = "elsewhere." + fmt
            with pytest.raises(CommandError, match="both --output"):
                command._resolve_output(dict(options), io.StringIO())
            checked += 1
    assert checked >= 6  # export_correlations, export_items, the evaluation exports, ...
