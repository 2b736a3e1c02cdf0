"""Demographic personas a run can prepend to every prompt (pure: no Django imports).

A persona is a dict with some of the survey's demographic fields (``age``, ``gender``,
``country``, ``education``, ``first_language``). Each field's allowed values come from a
configurable list (``PERSONA_OPTIONS``; a deployment can pass its own to
:func:`validate_persona`) matching the survey's answer options, so a model's portrait "as a
woman aged 30-44" can be compared with the real women aged 30-44 who took the survey.
"""

from __future__ import annotations

from collections.abc import Mapping

PERSONA_FIELDS: tuple[str, ...] = ("age", "gender", "country", "education", "first_language")

PERSONA_OPTIONS: dict[str, tuple[str, ...]] = {
    "age": ("18-29", "30-44", "45-59", "60+"),
    "gender": ("woman", "man", "non-binary person"),
    "country": (
        "United States",
        "United Kingdom",
        "Canada",
        "Australia",
        "Germany",
        "South Africa",
        "India",
        "other",
    ),
    "education": (
        "secondary school",
        "vocational training",
        "undergraduate degree",
        "graduate degree",
    ),
    "first_language": ("English", "another language"),
}


class PersonaError(ValueError):
    pass


def validate_persona(
    persona: Mapping[str, str], options: Mapping[str, tuple[str, ...]] = PERSONA_OPTIONS
) -> dict[str, str]:
    """Return the persona with fields in canonical order; raise :class:`PersonaError`."""
    if not persona:
        raise PersonaError("a persona needs at least one field")
    unknown = sorted(set(persona) - set(options))
    if unknown:
        raise PersonaError(f"unknown persona field(s): {', '.join(unknown)}")
    clean = {}
    for field in options:
        if field in persona:
            value = str(persona[field])
            if value not in options[field]:
                raise PersonaError(
                    f"{field} must be one of: {', '.join(options[field])} (got {value!r})"
                )
            clean[field] = value
    return clean


def persona_key(persona: Mapping[str, str] | None) -> str:
    """A stable short key (``age=30-44;gender=woman``); ``""`` for no persona."""
    if not persona:
        return ""
    return ";".join(f"{field}={persona[field]}" for field in PERSONA_FIELDS if field in persona)


def parse_persona_key(key: str) -> dict[str, str]:
    """Inverse of :func:`persona_key` (``age=30-44;gender=woman`` -> dict)."""
    if not key:
        return {}
    try:
        return dict(part.split("=", 1) for part in key.split(";"))
    except ValueError:
        raise PersonaError(f"malformed persona {key!r}: use field=value;field=value") from None


def persona_preamble(persona: Mapping[str, str] | None) -> str:
    """The sentence prepended to the prompt, e.g. "Answer as a woman aged 30-44 ..."."""
    if not persona:
        return ""
    who = persona.get("gender", "person")
    words = [("an " if who[0].lower() in "aeiou" else "a ") + who]
    if "age" in persona:
        words.append(f"aged {persona['age']}")
    if "country" in persona:
        words.append(
            "from another country"
            if persona["country"] == "other"
            else f"from {persona['country']}"
        )
    if "first_language" in persona:
        words.append(
            "whose first language is English"
            if persona["first_language"] == "English"
            else "whose first language is not English"
        )
    details = f" (highest education: {persona['education']})" if "education" in persona else ""
    return f"Answer the following as {' '.join(words)}{details} would answer it.\n\n"
