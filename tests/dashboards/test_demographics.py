"""Participants' answers and model personas land in the same groups."""

import pandas as pd
import pytest

from dashboards import demographics as demo
from evaluation.personas import PERSONA_OPTIONS


def test_survey_answers_map_to_persona_labels():
    answers = pd.DataFrame(
        {
            "gender": ["female", "male", "non_binary", "undisclosed", "self_described", None],
            "education": ["graduate", "secondary", "none", "vocational", "undergraduate", ""],
            "country": ["UK", "usa", "Deutschland", "France", "", None],
            "first_language": ["English", " english ", "German", "", None, "Hindi"],
            "age": [19, 44, 45, 80, None, "x"],
        }
    )
    assert demo.participant_groups(answers, field="gender").tolist()[:3] == [
        "woman",
        "man",
        "non-binary person",
    ]
    assert demo.participant_groups(answers, field="gender").iloc[3:].isna().all()
    assert demo.participant_groups(answers, field="education").tolist()[:2] == [
        "graduate degree",
        "secondary school",
    ]
    countries = demo.participant_groups(answers, field="country")
    assert countries.tolist()[:4] == ["United Kingdom", "United States", "Germany", "other"]
    assert countries.iloc[4:].isna().all()
    languages = demo.participant_groups(answers, field="first_language")
    assert languages.tolist()[:3] == ["English", "English", "another language"]
    assert languages.iloc[3:5].isna().all() and languages.iloc[5] == "another language"
    assert demo.participant_groups(answers, field="age").tolist()[:4] == [
        "18-29",
        "30-44",
        "45-59",
        "60+",
    ]
    with pytest.raises(ValueError):
        demo.participant_groups(answers, field="shoe_size")


def test_every_persona_option_is_a_group_participants_can_fall_in():
    """Each persona value has at least one survey answer that maps to it (else the
    comparison could never find humans for it)."""
    reachable = {
        "gender": set(demo.GENDER.values()),
        "education": set(demo.EDUCATION.values()),
        "country": set(demo.COUNTRY_ALIASES.values()) | {"other"},
        "first_language": {"English", "another language"},
        "age": {band[2] for band in demo.stats.AGE_BANDS},
    }
    for field, options in PERSONA_OPTIONS.items():
        assert set(options) <= reachable[field], field


def test_combined_personas_match_participants_on_every_field():
    people = pd.DataFrame(
        {"gender": ["female", "female", "male"], "age": [35, 20, 35]}, index=[10, 11, 12]
    )
    mask = demo.matching_participants(people, {"gender": "woman", "age": "30-44"})
    assert mask.tolist() == [True, False, False]
    assert demo.persona_label({"gender": "woman", "age": "30-44"}, first="age") == "30-44, woman"
