"""Raw answers imported, parsed here, compared with the paper's parse (issue 12, part 2)."""

import json
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command

from evaluation.models import EvaluationRun, PortraitScore, Response
from evaluation.parsing import paper_rating
from evaluation.reference_import import ImportError_, import_model_outputs
from evaluation.selectors import parse_comparison
from tests.commands import Terminal
from tests.evaluation.factories import make_item_set

pytestmark = pytest.mark.django_db
TOLERANCE = 1e-9


def _write(folder, name, records):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(records), encoding="utf-8")


def _record(item, **fields):
    return {"portrait_id": item.scenario.external_id, "option_id": item.option_id, **fields}


def _answer(item, text, *, prompt="the prompt"):
    paper = paper_rating(text)
    return _record(
        item,
        raw_response=text,
        parsed_response="" if paper is None else "a label",
        numeric_response=paper,
        prompt=prompt,
    )


def test_raw_answers_are_parsed_here_beside_the_papers_reading(tmp_path):
    item_set = make_item_set(n_items=4)
    items = [entry.item for entry in item_set.entries.order_by("item_id").distinct()]
    items = list(dict.fromkeys(items))
    final = tmp_path / "outputs" / "final" / "someprovider"
    _write(
        final,
        "my_model-1_v1_results.json",
        [
            _answer(items[0], "somewhat like me"),
            _answer(items[1], "Not really like me."),  # paper: 5 (like me); ours: 2
            _record(items[2], error="Could not parse valid Likert response from: I am unsure."),
            _record(items[3], error="HTTP 500: upstream timeout"),
        ],
    )
    _write(
        final,
        "my_model-1_v1_reversed_results.json",
        [_answer(item, "Very much like me.") for item in items],
    )
    (run,) = import_model_outputs(directory=tmp_path, item_set=item_set, source="raw")
    assert run.model_config.name == "my_model-1" and run.reference_source == "raw"
    assert run.variants == ["v1", "v1_reversed"] and run.status == EvaluationRun.Status.DONE
    assert run.params["release_provider"] == "someprovider"
    rows = {(r.item_id, r.variant): r for r in run.responses.all()}
    negated = rows[(items[1].pk, "v1")]
    assert (negated.rating, negated.reference_rating, negated.parse_method) == (2, 5, "negation")
    assert negated.raw_text == "Not really like me." and len(negated.prompt_sha256) == 64
    quoted = rows[(items[2].pk, "v1")]
    assert (quoted.state, quoted.raw_text, quoted.reference_rating) == (
        "invalid",
        "I am unsure.",
        None,
    )
    failed = rows[(items[3].pk, "v1")]
    assert failed.state == "failed" and "upstream timeout" in failed.error

    comparison = parse_comparison(run=run)
    assert (comparison["answers"], comparison["agree"], comparison["disagree"]) == (7, 6, 1)
    assert (comparison["paper_valid"], comparison["ours_valid"]) == (6, 6)
    (row,) = comparison["rows"]
    assert (row["paper"], row["ours"], row["variant"]) == (5, 2, "v1")

    # Again: nothing changes. The command does the same, its bar counting the models.
    again = import_model_outputs(directory=tmp_path, item_set=item_set, source="raw")
    assert [r.pk for r in again] == [run.pk] and run.responses.count() == 8
    terminal = Terminal()
    call_command(
        "import_model_outputs", str(tmp_path), "--from", "raw", "--item-set", str(item_set.pk),
        stdout=StringIO(), stderr=terminal,
    )  # fmt: skip
    assert "1/1" in terminal.getvalue() and "my_model-1" in terminal.getvalue()
    assert run.responses.count() == 8


@pytest.mark.parametrize(
    "name, records, message",
    [
        ("m_v1_results.json", [{"portrait_id": "x"}], "record 0: needs portrait_id and option_id"),
        ("m_v1_results.json", [{"portrait_id": "x", "option_id": 1}], "needs raw_response"),
        (
            "m_v1_results.json",
            [
                {
                    "portrait_id": "x",
                    "option_id": 1,
                    "raw_response": "like me",
                    "numeric_response": 9,
                }
            ],
            "numeric_response must be a rating",
        ),
        (
            "m_v1_results.json",
            [{"portrait_id": "x", "option_id": 1, "error": "e"}] * 2,
            "record 1: item x/1 appears twice",
        ),
        ("m_results.json", [], "expected <model>_<variant>_results.json"),
        ("m_v1_results.json", {"not": "a list"}, "expected a list"),
    ],
)
def test_malformed_raw_files_import_nothing(tmp_path, name, records, message):
    item_set = make_item_set(n_items=2)
    _write(tmp_path / "prov", name, records)
    with pytest.raises(ImportError_, match=message):
        import_model_outputs(directory=tmp_path, item_set=item_set, source="raw")
    assert not EvaluationRun.objects.filter(kind="reference").exists()
    assert not Response.objects.exists()


def _portrait(run):
    frame = pd.DataFrame(
        list(
            run.scores.filter(basis=PortraitScore.Basis.ANSWER).values(
                "family", "dimension", "raw", "sd", "n", "centred"
            )
        )
    )
    return frame.set_index(["family", "dimension"]).sort_index()


@pytest.mark.postgres
@pytest.mark.shared_data
@pytest.mark.slow
def test_release_raw_answers_give_the_averaged_portraits(imported_release, release_dir, client):
    averaged = {r.model_config.name: r for r in import_model_outputs(directory=release_dir)}
    out = StringIO()
    call_command("import_model_outputs", str(release_dir), "--from", "raw", stdout=out)
    raw = {
        r.model_config.name: r
        for r in EvaluationRun.objects.filter(reference_source="raw").select_related("model_config")
    }
    assert (
        sorted(raw)
        == sorted(averaged)
        == [
            "claude-3-5-sonnet-20241022",
            "gpt-4o-2024-11-20",
            "llama-3.1-8b-instruct",
        ]
    )
    for name, run in raw.items():
        assert run.responses.count() == 520 * 6
        # The paper's readings stored with the raw answers are the averaged file's ratings.
        paper = run.responses.filter(reference_rating__isnull=False)
        averaged_valid = averaged[name].responses.filter(state="valid")
        assert set(paper.values_list("item_id", "variant", "reference_rating")) == set(
            averaged_valid.values_list("item_id", "variant", "rating")
        )
        ours, theirs = _portrait(run), _portrait(averaged[name])
        assert ours.index.equals(theirs.index) and len(ours) == 19
        assert (ours["n"] == theirs["n"]).all()
        deviation = (ours[["raw", "sd", "centred"]] - theirs[["raw", "sd", "centred"]]).abs()
        assert deviation.max().max() < TOLERANCE, name
        comparison = parse_comparison(run=run)
        # Every disagreement is one our rules explain: a negation the paper read as agreement
        # or another scale's label; never an answer the paper could not parse.
        assert comparison["disagree"] == len(comparison["rows"])
        for row in comparison["rows"]:
            assert row["paper"] is not None
            assert row["why"].startswith(("negated phrase", "not an answer of this scale"))

    llama = parse_comparison(run=raw["llama-3.1-8b-instruct"])
    assert (llama["answers"], llama["agree"], llama["neither"]) == (3120, 3119, 55)
    (row,) = llama["rows"]
    assert (row["item"], row["variant"], row["paper"], row["ours"]) == (
        "1038/4",
        "v3_reversed",
        6,
        None,
    )
    for name in ("claude-3-5-sonnet-20241022", "gpt-4o-2024-11-20"):
        assert parse_comparison(run=raw[name])["agree"] == 3120
    printed = out.getvalue()
    assert "3119 of 3120 answers read as the paper did" in printed
    assert "1038/4 v3_reversed: paper 6, ours unparseable (negated phrase" in printed

    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("res", password="x")
    user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    client.force_login(user)
    page = client.get(f"/evaluation/runs/{raw['llama-3.1-8b-instruct'].pk}/").content.decode()
    assert "The paper's parse and ours" in page and "3119 of 3120" in page
    assert "1038/4" in page and "very much like me" in page
