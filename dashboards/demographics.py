"""Put survey participants and model personas into the same demographic groups (pure).

Participants answer the survey's demographic questions (``survey.forms``: an age in years,
gender codes ``female``/``male``/``non_binary``, education codes, free-text country and
first language); personas of evaluation runs use the labels of
``evaluation.personas.PERSONA_OPTIONS`` ("woman", "30-44", "United States", ...). Both are
mapped here to one canonical label per group — the persona's — so "the model as a woman"
is compared with the women who took the survey.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import stats

FIELDS: tuple[str, ...] = ("age", "gender", "country", "education", "first_language")
FIELD_LABELS = {
    "age": "Age band",
    "gender": "Gender",
    "country": "Country",
    "education": "Education",
    "first_language": "First language",
}

GENDER = {
    "female": "woman",
    "woman": "woman",
    "male": "man",
    "man": "man",
    "non_binary": "non-binary person",
    "non-binary": "non-binary person",
    "non-binary person": "non-binary person",
}
EDUCATION = {
    "secondary": "secondary school",
    "secondary school": "secondary school",
    "vocational": "vocational training",
    "vocational training": "vocational training",
    "undergraduate": "undergraduate degree",
    "undergraduate degree": "undergraduate degree",
    "graduate": "graduate degree",
    "graduate degree": "graduate degree",
}
COUNTRY_ALIASES = {
    "united states": "United States",
    "united states of america": "United States",
    "usa": "United States",
    "us": "United States",
    "u.s.": "United States",
    "u.s.a.": "United States",
    "america": "United States",
    "united kingdom": "United Kingdom",
    "uk": "United Kingdom",
    "u.k.": "United Kingdom",
    "great britain": "United Kingdom",
    "britain": "United Kingdom",
    "england": "United Kingdom",
    "scotland": "United Kingdom",
    "wales": "United Kingdom",
    "northern ireland": "United Kingdom",
    "canada": "Canada",
    "australia": "Australia",
    "germany": "Germany",
    "deutschland": "Germany",
    "south africa": "South Africa",
    "india": "India",
}
NOT_ANSWERED = {"", "undisclosed", "prefer not to say", "self_described", "none"}


def _clean_text(column: pd.Series) -> pd.Series:
    """Trimmed, lower-cased text; missing answers become ""."""
    return column.astype("string").str.strip().str.lower().fillna("").astype(object)


def participant_groups(demographics: pd.DataFrame, *, field: str) -> pd.Series:
    """Canonical group label of each participant for ``field`` (NaN: no comparable answer).

    ``demographics`` has one row per participant and a column per answered field.
    """
    if field not in FIELDS:
        raise ValueError(f"unknown demographic field {field!r}")
    if field not in demographics:
        return pd.Series(np.nan, index=demographics.index, dtype=object)
    column = demographics[field]
    if field == "age":
        return stats.age_band(column)
    text = _clean_text(column)
    if field == "gender":
        mapped = text.map(GENDER)
    elif field == "education":
        mapped = text.map(EDUCATION)
    elif field == "country":
        mapped = text.map(COUNTRY_ALIASES)
        answered = ~text.isin(NOT_ANSWERED)
        mapped = mapped.where(mapped.notna() | ~answered, "other")
    else:  # first_language
        answered = ~text.isin(NOT_ANSWERED)
        mapped = pd.Series(
            np.where(text == "english", "English", "another language"), index=text.index
        ).where(answered)
    return mapped.astype(object).where(mapped.notna(), np.nan)


def persona_group(persona: dict[str, str], *, field: str) -> str | None:
    """The canonical group a persona stands for on ``field`` (None if it does not say)."""
    value = persona.get(field)
    if value is None or value == "":
        return None
    if field == "gender":
        return GENDER.get(value.strip().lower(), value)
    if field == "education":
        return EDUCATION.get(value.strip().lower(), value)
    if field == "country":
        return COUNTRY_ALIASES.get(value.strip().lower(), value)
    return value


def single_field_personas(personas: dict[str, dict[str, str]], *, field: str) -> dict[str, str]:
    """Persona key -> group for the personas that vary ``field`` alone.

    A persona like ``{"gender": "woman"}`` is compared with all women; one that combines
    fields (``{"gender": "woman", "age": "30-44"}``) is compared with the participants who
    match every field (see :func:`matching_participants`), and is returned here too when it
    names ``field``.
    """
    return {
        key: group
        for key, persona in personas.items()
        if (group := persona_group(persona, field=field)) is not None
    }


def matching_participants(demographics: pd.DataFrame, persona: dict[str, str]) -> pd.Series:
    """Boolean mask of the participants who belong to every group the persona names."""
    mask = pd.Series(True, index=demographics.index)
    for field in FIELDS:
        wanted = persona_group(persona, field=field)
        if wanted is None:
            continue
        mask &= participant_groups(demographics, field=field) == wanted
    return mask


def persona_label(persona: dict[str, str], *, first: str) -> str:
    """Readable group name of a persona, the compared field first: "woman, 30-44"."""
    order = [first] + [f for f in FIELDS if f != first]
    return ", ".join(group for f in order if (group := persona_group(persona, field=f)) is not None)
