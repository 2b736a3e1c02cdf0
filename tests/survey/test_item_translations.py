"""Item translations: the servable rule, CSV import (all rows or none) and export."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from core.tabular import rows_to_csv
from survey.models import Item, ItemTranslation
from survey.selectors.translations import study_coverage, translation_table
from survey.services.translations import (
    TranslationImportError,
    import_translations,
    mark_reviewed,
)
from survey.translation_csv import EXPORT_COLUMNS, parse_translation_csv
from tests.factories import ItemFactory, ScenarioFactory, StudyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank():
    """Two titled scenarios with two items each, and a reviewer account."""
    items = []
    for n in range(2):
        scenario = ScenarioFactory(external_id=f"9{n}01", title=f"Title {n}", text=f"Text {n}")
        items += [
            ItemFactory(scenario=scenario, option_id=k, text=f"Reply {n}.{k}") for k in (1, 2)
        ]
    get_user_model().objects.create_user("rita", password="x")
    return items


def csv_of(rows: list[dict]) -> str:
    header = ["portrait_id", "option_id", "scenario_title", "scenario_text", "response"]
    header += ["status", "reviewed_by"]
    return rows_to_csv([{c: row.get(c, "") for c in header} for row in rows])


def row(portrait_id="9001", option_id=1, **fields) -> dict:
    return {
        "portrait_id": portrait_id,
        "option_id": option_id,
        "scenario_title": "Titel",
        "scenario_text": "Ein Text",
        "response": "Eine Antwort",
        "status": "reviewed",
        "reviewed_by": "rita",
        **fields,
    }


def test_only_reviewed_translations_make_an_item_servable(bank):
    first, second, third, _ = bank
    ItemTranslation.objects.create(
        item=first, language="de", scenario_text="t", response="r", status="machine_draft"
    )
    import_translations(language="de", csv_text=csv_of([row(option_id=2)]))
    assert set(Item.objects.servable_in("de")) == {second}
    assert set(Item.objects.servable_in("en")) == set(bank)  # the source language
    third.scenario.language = "de"
    third.scenario.save()
    assert set(Item.objects.servable_in("de")) == {second, third, bank[3]}
    study = StudyFactory(items=bank)
    assert study_coverage(study=study, languages=["de", "ko"]) == {
        "de": {"pool": 4, "servable": 3, "drafts": 1},
        "ko": {"pool": 4, "servable": 0, "drafts": 0},
    }


def test_import_stores_reviewer_and_time_and_a_second_import_changes_nothing(bank):
    text = csv_of([row(), row(option_id=2, status="machine_draft", reviewed_by="")])
    result = import_translations(language="DE", csv_text=text)
    assert (result.language, result.created, result.updated) == ("de", 2, 0)
    reviewed = ItemTranslation.objects.get(item=bank[0])
    assert reviewed.status == "reviewed" and reviewed.reviewed_by.username == "rita"
    assert reviewed.reviewed_at is not None and reviewed.response == "Eine Antwort"
    draft = ItemTranslation.objects.get(item=bank[1])
    assert draft.reviewed_by is None and draft.reviewed_at is None
    again = import_translations(language="de", csv_text=text)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = import_translations(language="de", csv_text=csv_of([row(response="Neu")]))
    assert changed.updated == 1
    assert ItemTranslation.objects.get(item=bank[0]).response == "Neu"


def test_one_bad_row_imports_nothing_and_every_problem_is_named(bank):
    text = csv_of(
        [
            row(),  # fine on its own
            row(portrait_id="nope"),
            row(option_id="x"),
            row(option_id=2, status="approved"),
            row(portrait_id="9101", option_id=1, reviewed_by=""),
            row(portrait_id="9101", option_id=2, reviewed_by="ghost"),
            row(option_id=2, scenario_title="", status="machine_draft"),
            row(),  # duplicate of line 2
        ]
    )
    with pytest.raises(TranslationImportError) as refused:
        import_translations(language="de", csv_text=text)
    errors = refused.value.errors
    assert ItemTranslation.objects.count() == 0
    joined = "\n".join(errors)
    assert "line 3: no item nope/1" in joined
    assert "line 4: option_id 'x' is not a whole number" in joined
    assert "line 5: status 'approved'" in joined
    assert "line 6: a reviewed translation needs reviewed_by" in joined
    assert "line 7: reviewed_by 'ghost' is not a user" in joined
    assert "line 8: the scenario has a title" in joined
    assert "line 9: item 9001/1 is already on line 2" in joined
    assert len(errors) == 7


def test_translating_into_the_items_own_language_and_a_bad_code_are_refused(bank):
    with pytest.raises(TranslationImportError, match="already in 'en'"):
        import_translations(language="en", csv_text=csv_of([row()]))
    with pytest.raises(TranslationImportError, match="not a language code"):
        import_translations(language="German", csv_text=csv_of([row()]))
    with pytest.raises(
        TranslationImportError, match="lacks the columns scenario_title, .*reviewed_by"
    ):
        import_translations(language="de", csv_text="portrait_id,option_id\n9001,1\n")


def test_export_round_trips_through_import_with_formula_like_text(bank, tmp_path):
    import_translations(
        language="ko",
        csv_text=csv_of([row(response="=SUM(A1) 아니요", scenario_text="-3 도")]),
    )
    out = tmp_path / "ko.csv"
    call_command("export_translations", "--language", "ko", "--out", str(out))
    text = out.read_text(encoding="utf-8")
    records = list(csv.DictReader(io.StringIO(text)))
    assert list(records[0]) == list(EXPORT_COLUMNS)
    assert len(records) == 4  # every item, translated or not
    first = records[0]
    assert (first["source_title"], first["source_response"]) == ("Title 0", "Reply 0.1")
    assert first["response"] == "'=SUM(A1) 아니요"  # safe in a spreadsheet
    assert first["reviewed_by"] == "rita" and first["status"] == "reviewed"
    assert records[1]["response"] == "" and records[1]["status"] == ""
    parsed = parse_translation_csv(text)
    assert parsed.skipped == 3 and parsed.errors == []
    assert parsed.rows[0].response == "=SUM(A1) 아니요"  # the apostrophe is undone
    ItemTranslation.objects.all().delete()
    call_command("import_translations", str(out), "--language", "ko")
    stored = ItemTranslation.objects.get()
    assert (stored.response, stored.scenario_text) == ("=SUM(A1) 아니요", "-3 도")


def test_import_command_lists_problems_and_uses_the_default_reviewer(bank, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_of([row(portrait_id="nope")]), encoding="utf-8")
    with pytest.raises(CommandError, match="Nothing imported: 1 problem"):
        call_command("import_translations", str(bad), "--language", "de")
    good = tmp_path / "good.csv"
    good.write_text(csv_of([row(reviewed_by="")]), encoding="utf-8")
    call_command("import_translations", str(good), "--language", "de", "--reviewed-by", "rita")
    assert ItemTranslation.objects.get().reviewed_by.username == "rita"


def test_export_of_a_study_pool_and_mark_reviewed(bank):
    study = StudyFactory(items=bank[:2])
    import_translations(
        language="de", csv_text=csv_of([row(status="machine_draft", reviewed_by="")])
    )
    table = translation_table(language="de", study=study)
    assert [(r["portrait_id"], r["option_id"], r["status"]) for r in table] == [
        ("9001", 1, "machine_draft"),
        ("9001", 2, ""),
    ]
    rita = get_user_model().objects.get(username="rita")
    assert mark_reviewed(translations=ItemTranslation.objects.all(), reviewer=rita) == 1
    assert list(Item.objects.servable_in("de")) == [bank[0]]
    with pytest.raises(ValueError):
        mark_reviewed(translations=ItemTranslation.objects.all(), reviewer=rita, status="draft")


def test_admin_imports_a_file_or_lists_its_problems_and_reviews(bank, client):
    admin_user = get_user_model().objects.create_superuser("boss", password="pw")
    client.force_login(admin_user)
    url = reverse("admin:survey_itemtranslation_import")
    assert client.get(url).status_code == 200
    bad = SimpleUploadedFile("de.csv", csv_of([row(), row(portrait_id="nope")]).encode())
    refused = client.post(url, {"language": "de", "file": bad})
    assert refused.status_code == 400
    assert "line 3: no item nope/1" in refused.content.decode()
    assert ItemTranslation.objects.count() == 0
    good = SimpleUploadedFile("de.csv", csv_of([row(reviewed_by=""), row(option_id=2)]).encode())
    done = client.post(url, {"language": "de", "file": good, "reviewed_by_me": "on"})
    assert done.status_code == 302
    reviewers = dict(ItemTranslation.objects.values_list("item_id", "reviewed_by__username"))
    assert reviewers == {bank[0].pk: "boss", bank[1].pk: "rita"}
    changelist = reverse("admin:survey_itemtranslation_changelist")
    client.post(
        changelist,
        {
            "action": "mark_back_translated_by_me",
            "_selected_action": [t.pk for t in ItemTranslation.objects.all()],
        },
    )
    assert set(ItemTranslation.objects.values_list("status", flat=True)) == {"back_translated"}
    download = client.post(
        changelist,
        {"action": "export_language_csv", "_selected_action": [ItemTranslation.objects.first().pk]},
    )
    assert download["Content-Disposition"] == 'attachment; filename="translations-de.csv"'
    assert len(download.content.decode().strip().splitlines()) == 1 + 4
