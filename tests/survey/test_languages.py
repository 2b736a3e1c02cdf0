"""A study's languages: the offered ones, the one a participant gets, its texts per language."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


def test_offered_languages_start_with_the_study_language_each_once():
    study = StudyFactory(language="de", languages=["en", "de", "ko"])
    assert study.offered_languages() == ["de", "en", "ko"]


@pytest.mark.parametrize(
    ("requested", "expected"),
    [("ko", "ko"), ("KO", "ko"), ("de-AT", "de"), ("fr", "en"), ("", "en"), (None, "en")],
)
def test_a_link_chooses_only_among_the_offered_languages(requested, expected):
    study = StudyFactory(language="en", languages=["de", "ko"])
    assert study.language_for(requested) == expected


def test_texts_fall_back_to_the_fields_written_in_the_study_language():
    study = StudyFactory(
        title="Values", consent_text="Agree?", translations={"de": {"title": "Werte"}}
    )
    assert study.text_in("title", "de") == "Werte"
    assert study.text_in("consent_text", "de") == "Agree?"
    assert study.text_in("title", "en") == "Values"


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"language": "xx"}, "language"),
        ({"languages": ["de", "xx"]}, "languages"),
        ({"languages": "de"}, "languages"),
        ({"translations": {"ko": {"title": "가치"}}}, "translations"),  # ko is not offered
        ({"languages": ["de"], "translations": {"de": {"colour": "rot"}}}, "translations"),
    ],
)
def test_clean_refuses_unshipped_languages_and_unknown_texts(fields, bad_field):
    study = StudyFactory.build(**fields)
    with pytest.raises(ValidationError) as refused:
        study.clean()
    assert bad_field in refused.value.message_dict


def test_clean_accepts_shipped_languages_with_their_texts():
    study = StudyFactory.build(
        language="ko", languages=["en", "de"], translations={"de": {"consent_text": "Ja?"}}
    )
    study.clean()


@pytest.mark.parametrize(
    "labels", [["a", "b", "c", "d", "e"], ["a", "b", "c", "d", "e", " "], "a b c d e f"]
)
def test_clean_wants_six_scale_labels(labels):
    study = StudyFactory.build(language="de", translations={"de": {"scale_labels": labels}})
    with pytest.raises(ValidationError) as refused:
        study.clean()
    assert "translations" in refused.value.message_dict
