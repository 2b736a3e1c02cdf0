"""Reads for the researchers' exports.

Exports are lists of flat dicts (one row per rating; one row per participant) that
``csv.DictWriter``, pandas (``pd.read_csv`` / ``pd.read_json``) and R read directly, plus the
Value Portrait release's JSON shapes (``survey.json`` and ``value.json``). Participants appear
under their pseudonym; raw panel ids only when the caller asks for them (admin views).
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count

from survey.demographic_options import SELF_DESCRIPTION_FIELD
from survey.instruments import dimensions as dims
from survey.models import ItemRating, Participant, ParticipantScore, Study


def _released_participants(study: Study, include_flagged: bool | None):
    """The participants a release export holds: those counted in the study's statistics,
    or every finished one when ``include_flagged`` says so (``False``: never the flagged)."""
    if include_flagged is None:
        return Participant.objects.counted(study)
    participants = study.participants.finished()
    return participants if include_flagged else participants.unflagged()


def rating_rows(*, study: Study) -> list[dict]:
    """One row per rating, every participant status, flags beside each row."""
    rows = []
    qs = (
        ItemRating.objects.filter(participant__study=study)
        .select_related("participant__study", "item__scenario")
        .order_by("participant_id", "created_at")
    )
    for rating in qs:
        participant = rating.participant
        rows.append(
            {
                "participant": participant.pseudonym,
                "participant_status": participant.status,
                "item": rating.item.code,
                "portrait_id": rating.item.scenario.external_id or str(rating.item.scenario_id),
                "option_id": rating.item.option_id,
                "rating": rating.rating,
                "created_at": rating.created_at.isoformat(),
                "response_time_ms": rating.response_time_ms,
                "flagged": participant.is_flagged,
                "excluded": participant.is_excluded,
            }
        )
    return rows


def participant_rows(*, study: Study, raw_ids: bool = False) -> list[dict]:
    """One row per participant: status, times, demographics, scores, quality metrics, flags."""
    fields = list(study.demographic_fields or [])
    if "gender" in fields:  # the participant's own words for "I describe myself another way"
        fields.insert(fields.index("gender") + 1, SELF_DESCRIPTION_FIELD)
    scores: dict[int, dict[str, float]] = defaultdict(dict)
    for pid, family, dimension, score in ParticipantScore.objects.filter(
        participant__study=study
    ).values_list("participant_id", "family", "dimension", "score"):
        scores[pid][f"{family}.{dimension}"] = score
    score_columns = [
        f"{family}.{dimension}"
        for family in (dims.SCHWARTZ, dims.HIGHER_ORDER, dims.PVQ_RR19, dims.BIG_FIVE)
        for dimension in dims.FAMILIES[family]
    ]
    present = {c for s in scores.values() for c in s}
    score_columns = [c for c in score_columns if c in present]
    rows = []
    for p in study.participants.annotate(n_ratings=Count("ratings")).order_by("started_at"):
        q = p.quality_flags or {}
        row = {"participant": p.pseudonym}
        if raw_ids:
            row.update(
                external_id=p.external_id,
                prolific_study_id=p.prolific_study_id,
                prolific_session_id=p.prolific_session_id,
            )
        row.update(
            status=p.status,
            origin=p.origin,
            started_at=p.started_at.isoformat() if p.started_at else None,
            completed_at=p.completed_at.isoformat() if p.completed_at else None,
            total_seconds=q.get("total_seconds"),
            n_ratings=p.n_ratings,
            pvq_form=p.pvq_form,
        )
        for name in fields:
            row[name] = (p.demographics or {}).get(name)
        for column in score_columns:
            row[column] = scores[p.pk].get(column)
        row.update(
            attention_failures=q.get("attention_failures"),
            straightlining_share=q.get("straightlining_share"),
            flags=";".join(p.flags),
            flagged=p.is_flagged,
            excluded=p.is_excluded,
        )
        rows.append(row)
    return rows


def release_survey_rows(*, study: Study, include_flagged: bool | None = None) -> list[dict]:
    """The ratings a release export holds, one row each: ``portrait_id``, ``option_id``,
    ``rating``, ``participant`` (pseudonym) — completed participants only, flagged ones left
    out when the study excludes them (unless ``include_flagged``)."""
    participants = _released_participants(study, include_flagged)
    return [
        {
            "portrait_id": external or str(scenario_id),
            "option_id": option_id,
            "rating": rating,
            "participant": pseudonym,
        }
        for rating, pseudonym, external, scenario_id, option_id in (
            ItemRating.objects.filter(participant__in=participants)
            .order_by("item__scenario__external_id", "item__option_id", "participant__started_at")
            .values_list(
                "rating",
                "participant__pseudonym",
                "item__scenario__external_id",
                "item__scenario_id",
                "item__option_id",
            )
        )
    ]


def release_survey_json(*, study: Study, include_flagged: bool | None = None) -> list[dict]:
    """The release's ``survey.json`` shape: ``[{portrait_id: [{"option_id", "data": [[rating, id]]}]}]``.

    One group holding the rows of :func:`release_survey_rows`.
    """
    group: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for row in release_survey_rows(study=study, include_flagged=include_flagged):
        group[row["portrait_id"]][row["option_id"]].append([row["rating"], row["participant"]])
    return [
        {
            portrait: [{"option_id": o, "data": data} for o, data in sorted(options.items())]
            for portrait, options in group.items()
        }
    ]


def release_value_rows(*, study: Study, include_flagged: bool | None = None) -> list[dict]:
    """The scores a release export holds, one row per participant and dimension:
    ``participant``, ``key`` (the release's ``pvq``, ``higher_pvq`` or ``bfi``), ``family``,
    ``dimension``, ``score`` — the participants of :func:`release_survey_rows`."""
    participants = _released_participants(study, include_flagged)
    return [
        {
            "participant": pseudonym,
            "key": dims.RELEASE_SCORE_KEYS[family],
            "family": family,
            "dimension": dimension,
            "score": score,
        }
        for pseudonym, family, dimension, score in (
            ParticipantScore.objects.filter(
                participant__in=participants, family__in=list(dims.RELEASE_SCORE_KEYS)
            )
            .order_by("participant__started_at", "family", "dimension")
            .values_list("participant__pseudonym", "family", "dimension", "score")
        )
    ]


def release_value_json(*, study: Study, include_flagged: bool | None = None) -> dict:
    """The release's ``value.json`` shape: ``{id: {"pvq": {...}, "higher_pvq": {...}, "bfi": {...}}}``
    from the rows of :func:`release_value_rows`."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for row in release_value_rows(study=study, include_flagged=include_flagged):
        out.setdefault(row["participant"], {}).setdefault(row["key"], {})[row["dimension"]] = row[
            "score"
        ]
    return out
