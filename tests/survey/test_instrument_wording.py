"""Wording files: checked against the key; placeholder wording gates a study."""

import json

import pytest
from django.core.management import CommandError, call_command

from survey.instruments.wording import WordingError, parse_wording
from survey.models import Instrument, Study
from survey.services.instruments import PLACEHOLDER_DIR, ensure_all_instruments


def _wording(code: str) -> dict:
    return json.loads((PLACEHOLDER_DIR / f"{code}.json").read_text())


@pytest.mark.parametrize("code", ["pvq_rr", "pvq21", "bfi10"])
def test_shipped_placeholder_wording_is_complete_and_marked(code):
    key, wording = parse_wording(_wording(code))
    assert wording.placeholder is True
    assert set(wording.forms) == set(key.forms)
    for items in wording.forms.values():
        assert list(items) == list(key.item_numbers)
        assert all(text.startswith("[Placeholder wording]") for text in items.values())


def test_missing_form_wrong_numbering_and_empty_text_are_refused():
    raw = _wording("pvq_rr")
    del raw["forms"]["female"]
    with pytest.raises(WordingError, match="forms"):
        parse_wording(raw)
    raw = _wording("pvq21")
    raw["forms"]["male"]["22"] = raw["forms"]["male"].pop("21")
    with pytest.raises(WordingError, match=r"missing \[21\], unexpected \[22\]"):
        parse_wording(raw)
    raw = _wording("bfi10")
    raw["forms"]["neutral"]["3"] = "  "
    with pytest.raises(WordingError, match="item 3 has no text"):
        parse_wording(raw)
    with pytest.raises(WordingError, match="unknown instrument"):
        parse_wording({"instrument": "mystery", "forms": {}})


@pytest.mark.django_db
def test_load_instrument_command_replaces_wording_and_clears_placeholder(tmp_path, capsys):
    ensure_all_instruments()
    raw = _wording("bfi10")
    raw.update(placeholder=False, version="licensed-2007")
    raw["forms"]["neutral"] = {str(n): f"Licensed text {n}" for n in range(1, 11)}
    path = tmp_path / "bfi10.json"
    path.write_text(json.dumps(raw))
    call_command("load_instrument", str(path))
    instrument = Instrument.objects.get(code="bfi10")
    assert instrument.is_placeholder is False
    assert instrument.wording_version == "licensed-2007"
    assert list(instrument.items.values_list("text", flat=True)) == [
        f"Licensed text {n}" for n in range(1, 11)
    ]


@pytest.mark.django_db
def test_load_instrument_refuses_bad_file_and_keeps_old_wording(tmp_path):
    ensure_all_instruments()
    before = list(Instrument.objects.get(code="pvq21").items.values_list("text", flat=True))
    raw = _wording("pvq21")
    del raw["forms"]["male"]["5"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(CommandError, match="Nothing loaded"):
        call_command("load_instrument", str(path))
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(CommandError, match="not valid UTF-8 JSON"):
        call_command("load_instrument", str(tmp_path / "broken.json"))
    assert list(Instrument.objects.get(code="pvq21").items.values_list("text", flat=True)) == before


@pytest.mark.django_db
def test_study_refuses_real_participants_while_wording_is_placeholder():
    instruments = ensure_all_instruments()
    study = Study.objects.create(title="S", slug="s", status=Study.Status.OPEN)
    study.instruments.set(instruments)
    assert "placeholder wording" in study.refusal_reason()
    study.allow_placeholder_wording = True
    assert study.refusal_reason() is None
    study.status = Study.Status.CLOSED
    assert "closed" in study.refusal_reason()


@pytest.mark.django_db
def test_each_language_has_its_own_wording_row(tmp_path):
    english = ensure_all_instruments()[1]  # pvq21 in English, placeholder
    raw = _wording("pvq21")
    raw.update(language="de", placeholder=False, version="de-2024")
    raw["response_labels"] = ["gar nicht", "nicht", "kaum", "etwas", "ähnlich", "sehr ähnlich"]
    for form in raw["forms"].values():
        for number in form:
            form[number] = f"Deutscher Text {number}"
    path = tmp_path / "pvq21-de.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(CommandError, match="the file's language is 'de', not 'ko'"):
        call_command("load_instrument", str(path), "--language", "ko")
    call_command("load_instrument", str(path), "--language", "de")
    german = Instrument.objects.get(code="pvq21", language="de")
    assert german.pk != english.pk and german.is_placeholder is False
    assert german.labels[0] == "gar nicht"
    assert german.items.filter(form="female", number=3).get().text == "Deutscher Text 3"
    english.refresh_from_db()
    assert english.is_placeholder and english.labels == list(english.key.response_labels)
    assert english.items.filter(form="male", number=3).get().text.startswith("[Placeholder")
    raw["response_labels"] = ["only", "five", "labels", "for", "six"]
    with pytest.raises(WordingError, match="must list 6 non-empty labels"):
        parse_wording(raw)


@pytest.mark.parametrize("language", ["de", "ko", "ar"])
@pytest.mark.parametrize("code", ["pvq_rr", "pvq21", "bfi10"])
def test_shipped_placeholder_wording_in_other_languages(code, language):
    raw = json.loads((PLACEHOLDER_DIR / language / f"{code}.json").read_text(encoding="utf-8"))
    key, wording = parse_wording(raw)
    english = parse_wording(_wording(code))[1]
    assert wording.language == language and wording.placeholder is True
    for form, items in wording.forms.items():
        assert list(items) == list(key.item_numbers)
        # its own language's text, one per English placeholder item, never the English one
        assert all(items[n] != english.forms[form][n] for n in items)
        mark = {"de": "Platzhalter", "ko": "임시", "ar": "نص مؤقت"}[language]
        assert all(mark in text for text in items.values())
