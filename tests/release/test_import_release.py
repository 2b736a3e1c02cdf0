"""The Value Portrait release import: exact counts, idempotence, all-or-nothing."""

import json

import pytest
from django.core.management import CommandError, call_command

from benchmark.models import Correlation, CorrelationRun
from survey.models import Item, ItemRating, Participant, ParticipantScore, Scenario, Study

pytestmark = [pytest.mark.postgres, pytest.mark.shared_data, pytest.mark.django_db]


def _counts():
    return {
        "scenarios": Scenario.objects.count(),
        "items": Item.objects.count(),
        "participants": Participant.objects.count(),
        "ratings": ItemRating.objects.count(),
        "scores": ParticipantScore.objects.count(),
        "correlations": Correlation.objects.count(),
    }


def test_import_counts_and_second_import_changes_nothing(release_dir, capsys):
    call_command("import_valueportrait", str(release_dir), "--no-progress")
    out = capsys.readouterr().out
    assert _counts() == {
        "scenarios": 104,
        "items": 520,
        "participants": 569,
        "ratings": 24320,
        "scores": 569 * 19,
        "correlations": 9880,
    }
    study = Study.objects.get(slug="valueportrait-2025")
    assert study.is_imported and study.item_pool.count() == 520
    assert study.participants.filter(ratings__isnull=False).distinct().count() == 559
    assert sorted(study.instruments.values_list("code", flat=True)) == ["bfi10", "pvq21"]
    # Sources from the portrait id's first digit.
    assert Scenario.objects.get(external_id="1025").source.slug == "reddit-aita"
    assert Scenario.objects.get(external_id="4014").source.slug == "lmsys"
    assert Scenario.objects.get(external_id="4014").title == ""
    # Id collision reported and recorded; 10 score-only participants reported.
    assert (
        "id collision: P186" in out
        and "10 participant(s) have value scores but rated no item" in out
    )
    assert Participant.objects.get(external_id="P186").metadata == {
        "release_groups": [0, 5],
        "id_collision": True,
    }
    score = ParticipantScore.objects.get(participant__external_id="P321", dimension="Benevolence")
    assert score.score == pytest.approx(0.8809523809523814) and score.origin == "imported"
    run = CorrelationRun.objects.get(study=study, kind="published")
    row = run.rows.get(
        item__scenario__external_id="1008", item__option_id=1, dimension="Agreeableness"
    )
    assert (row.family, row.r, row.p) == ("big_five", 0.32522943277395866, 0.024097677180988902)

    before = _counts()
    call_command("import_valueportrait", str(release_dir), "--no-progress")
    assert "nothing changed" in capsys.readouterr().out
    assert _counts() == before
    assert CorrelationRun.objects.count() == 1


@pytest.mark.parametrize(
    "relative, corrupt, message",
    [
        (
            "data/prolific/survey/main/survey.json",
            lambda d: d[3][next(iter(d[3]))][0]["data"].append([7, "P999"]),
            "data[].rating",
        ),
        (
            "data/query-response-tagged/query-response-tagged.json",
            lambda d: d[50]["outputs"][2].pop("content"),
            "outputs[2]",
        ),
        (
            "data/prolific/value/main/value.json",
            lambda d: d["P321"]["pvq"].pop("Power"),
            "participant P321",
        ),
        (
            "data/correlation_results/bfi_correlation_results.json",
            lambda d: d[10].update(spearman_corr="high"),
            "spearman_corr",
        ),
    ],
)
def test_corrupted_release_imports_nothing_and_names_the_problem(
    release_copy, relative, corrupt, message
):
    path = release_copy / relative
    data = json.loads(path.read_text())
    corrupt(data)
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError) as excinfo:
        call_command("import_valueportrait", str(release_copy), "--no-progress")
    assert relative in str(excinfo.value) and message in str(excinfo.value)
    assert set(_counts().values()) == {0}


def test_truncated_file_imports_nothing(release_copy):
    path = release_copy / "data/prolific/value/main/value.json"
    path.write_text(path.read_text()[:5000])
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("import_valueportrait", str(release_copy), "--no-progress")
    assert set(_counts().values()) == {0}
