"""The management commands: names and arguments are part of the interface."""

import csv
import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from benchmark.models import CorrelationRun


def _run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_recompute_then_export_correlations_csv_and_json(small_study, tmp_path):
    output = _run("recompute_correlations", "--study", small_study.slug, "--method", "spearman")
    run_id = int(re.search(r"stored correlation run id: (\d+)", output).group(1))
    run = CorrelationRun.objects.get(pk=run_id)
    assert run.status == "done" and "13 participants" in output
    target = tmp_path / "corr.csv"
    _run("export_correlations", "--study", small_study.slug, "--format", "csv", "--out", target)
    rows = list(csv.DictReader(target.open()))
    assert len(rows) == 60
    assert list(rows[0])[:6] == ["portrait_id", "option_id", "dimension", "r", "p", "n"]
    assert list(rows[0])[-1] == "family"
    assert {"p_bh", "p_by", "ci_low", "ci_high"} <= set(rows[0])
    assert "Self_Direction" in {r["dimension"] for r in rows}
    target = tmp_path / "corr.json"
    _run("export_correlations", "--study", small_study.slug, "--format", "json", "--out", target)
    data = json.loads(target.read_text())
    assert data["run"]["id"] == run_id and len(data["correlations"]) == 60
    assert len(data["items"]) == 6 and {"best_value", "circle_holds"} <= set(data["items"][0])


def test_kendall_recomputation(small_study):
    output = _run("recompute_correlations", "--study", small_study.slug, "--method", "kendall")
    assert "Kendall" in output


def test_export_items_threshold_rule_csv_and_tagged_json(small_study, tmp_path):
    _run("recompute_correlations", "--study", small_study.slug)
    target = tmp_path / "items.csv"
    out = _run(
        "export_items", "--study", small_study.slug, "--threshold", "0.3", "--mode", "pos",
        "--format", "csv", "--out", target,
    )  # fmt: skip
    rows = list(csv.DictReader(target.open()))
    assert rows and all(float(r["r"]) > 0.3 for r in rows)
    assert {"portrait_id", "option_id", "dimension", "r", "item_text"} <= set(rows[0])
    assert "v1" in out
    target = tmp_path / "items.json"
    _run(
        "export_items", "--study", small_study.slug, "--correlations", "latest",
        "--threshold", "0.3", "--mode", "pos", "--format", "json", "--out", target,
    )  # fmt: skip
    data = json.loads(target.read_text())
    assert data["item_set"]["version"] == 2  # a new frozen version, never in place
    tagged = json.loads((tmp_path / "items-query-response-tagged.json").read_text())
    assert tagged == data["query-response-tagged"]
    pairs = sum(len(o["correlations"]) for s in tagged for o in s["outputs"])
    assert pairs == len(data["pairs"]) == len(rows)


def test_command_errors_are_clear(small_study, tmp_path):
    with pytest.raises(CommandError, match="no study"):
        _run("recompute_correlations", "--study", "nope")
    with pytest.raises(CommandError, match="no latest correlation run"):
        _run("export_correlations", "--study", small_study.slug, "--format", "csv",
             "--out", tmp_path / "x.csv")  # fmt: skip
    with pytest.raises(CommandError, match="needs --mode"):
        _run("export_items", "--study", small_study.slug, "--threshold", "0.3",
             "--format", "csv", "--out", tmp_path / "x.csv")  # fmt: skip


@pytest.mark.postgres
@pytest.mark.shared_data
def test_export_items_paper_preset_from_published_correlations(imported_release, tmp_path):
    target = tmp_path / "paper.csv"
    out = _run(
        "export_items", "--study", "valueportrait-2025", "--correlations", "published",
        "--preset", "valueportrait-2025", "--format", "csv", "--out", target,
    )  # fmt: skip
    rows = list(csv.DictReader(target.open()))
    assert len(rows) == 626
    assert len({(r["portrait_id"], r["option_id"]) for r in rows}) == 317
    assert "626 pairs on 317 items" in out


def test_export_items_with_fdr_and_ci_criteria(small_study, tmp_path):
    _run("recompute_correlations", "--study", small_study.slug)
    plain, strict = tmp_path / "plain.csv", tmp_path / "strict.csv"
    _run("export_items", "--study", small_study.slug, "--threshold", "0.3", "--mode", "pos",
         "--format", "csv", "--out", plain)  # fmt: skip
    _run("export_items", "--study", small_study.slug, "--threshold", "0.3", "--mode", "pos",
         "--families", "schwartz", "--fdr-alpha", "0.05", "--ci-bound", "0.1",
         "--format", "csv", "--out", strict)  # fmt: skip
    plain_rows = list(csv.DictReader(plain.open()))
    strict_rows = list(csv.DictReader(strict.open()))
    assert 0 < len(strict_rows) < len(plain_rows)
    key = lambda r: (r["portrait_id"], r["option_id"], r["dimension"])  # noqa: E731
    assert {key(r) for r in strict_rows} < {key(r) for r in plain_rows}
    assert {r["family"] for r in strict_rows} == {"schwartz"}
    with pytest.raises(CommandError, match="go with --threshold"):
        _run("export_items", "--study", small_study.slug, "--preset", "valueportrait-2025",
             "--fdr-alpha", "0.05", "--format", "csv", "--out", strict)  # fmt: skip


def test_estimate_chance_draws_a_bar_of_its_permutations_on_a_terminal(small_study):
    from benchmark.services import recompute_now  # noqa: PLC0415
    from tests.commands import Terminal  # noqa: PLC0415

    run = recompute_now(study=small_study)
    args = ("estimate_chance", "--study", small_study.slug, "--permutations", "12",
            "--splits", "3")  # fmt: skip
    terminal, out = Terminal(), StringIO()
    call_command(*args, stdout=out, stderr=terminal)
    run.refresh_from_db()
    assert f"stored on correlation run #{run.pk}" in out.getvalue()
    drawn = terminal.getvalue()
    # The preset's estimate (12 + 3), the threshold search (12) and, when a threshold bounds
    # the share, its estimate (12 + 3): the bar ends full at whichever total applies.
    total = 42 if "unavailable" not in run.chance["bounded_rule"] else 27
    assert drawn.startswith("\r") and "chance" in drawn and f"{total}/{total}" in drawn
    assert run.chance["paper_rule"]["expected_chance_selections"]["permutations"] == 12
    quiet = Terminal()
    call_command(*args, "--no-progress", stdout=StringIO(), stderr=quiet)
    assert quiet.getvalue() == ""
    log = StringIO()  # not a terminal: no bar
    call_command(*args, stdout=StringIO(), stderr=log)
    assert log.getvalue() == ""
