"""Turn a study's stored responses into the matrices the statistics need (pure, no Django).

``prepare_inputs`` decides which participants and ratings enter a correlation run and
records every exclusion with its reason:

1. **Status** — only completed (or imported) participants count.
2. **Quality flags** — participants with raised flags are left out when the study says so.
3. **Scores** — a participant without scores in a family adds nothing to that family's
   pairs (scipy would drop them too); participants with ratings but no scores at all are
   listed.
4. **Id collisions** — an id that rated items in more than one survey group of an imported
   release (``metadata["release_groups"]``) may stand for different people, while the
   release holds one value profile per id. *Rule*: the profile belongs to the group in
   which the id sits numerically among the other participants' ids (ids were issued in
   blocks per group: P186 sits inside P177–P224 of group 5, far outside P506–P552 of
   group 0); the ratings the id gave in the other groups have no profile of their own and
   are left out. If no single group contains the id in its range, all its ratings are left
   out.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from survey.counting import exclusion_reason
from survey.instruments import dimensions as dims

from .stats.correlation import PaddedRatings

COLLISION_RULE = (
    "id collision: the value profile belongs to the survey group whose other participant ids "
    "enclose this id; ratings given in other groups have no profile of their own and are "
    "left out"
)


@dataclass(frozen=True)
class ParticipantRecord:
    id: int
    external_id: str
    status: str
    flags: tuple[str, ...] = ()
    metadata: dict = field(default_factory=dict)
    # How lists of left-out people name the participant: a live participant's pseudonym (never
    # the panel id), an imported one's release id (already the release's own pseudonym).
    shown_as: str = ""

    @property
    def label(self) -> str:
        return self.shown_as or self.external_id


@dataclass
class AnalysisInputs:
    item_ids: np.ndarray  # item row -> Item.id
    participant_ids: np.ndarray  # rater row -> Participant.id
    dimensions: list[tuple[str, str]]  # score column -> (family, dimension)
    ratings: PaddedRatings
    scores: np.ndarray  # raters × dimensions, NaN where missing
    exclusions: dict
    n_participants: int  # raters with at least one score who contribute ratings


def _numeric_id(external_id: str) -> int | None:
    digits = re.findall(r"\d+", external_id or "")
    return int(digits[-1]) if digits else None


def resolve_id_collisions(
    participants: list[ParticipantRecord],
) -> dict[int, int | None]:
    """For each colliding participant: the release group its profile belongs to (or None)."""
    members: dict[int, list[int]] = defaultdict(list)
    colliding = []
    for p in participants:
        groups = (p.metadata or {}).get("release_groups") or []
        number = _numeric_id(p.external_id)
        if len(groups) > 1:
            colliding.append(p)
        elif len(groups) == 1 and number is not None:
            members[groups[0]].append(number)
    owners: dict[int, int | None] = {}
    for p in colliding:
        number = _numeric_id(p.external_id)
        enclosing = [
            g
            for g in p.metadata["release_groups"]
            if members.get(g)
            and number is not None
            and min(members[g]) <= number <= max(members[g])
        ]
        owners[p.id] = enclosing[0] if len(enclosing) == 1 else None
    return owners


def prepare_inputs(
    *,
    participants: list[ParticipantRecord],
    ratings,
    item_ids: list[int],
    item_groups: dict[int, int | None],
    scores: list[tuple[int, str, str, float]],
    exclude_flagged: bool,
) -> AnalysisInputs:
    """Build the analysis matrices.

    ``ratings``: rows (participant_id, item_id, rating), a list or an (n, 3) array, in a
    fixed order (it becomes the order of each item's raters in the matrices); ``item_ids``:
    the study's item pool (row order of the result); ``item_groups``: item_id -> release
    survey group (None for live studies); ``scores``: (participant_id, family, dimension,
    score).
    """
    by_id = {p.id: p for p in participants}
    excluded_people: dict[int, str] = {}
    for p in participants:
        reason = exclusion_reason(status=p.status, flags=p.flags, exclude_flagged=exclude_flagged)
        if reason:
            excluded_people[p.id] = reason
    owners = resolve_id_collisions(participants)

    # One vectorised pass over all ratings (a large study has about a million); only the
    # ratings of colliding ids, a handful, are looked at one by one.
    table = np.asarray(ratings, dtype=np.int64).reshape(-1, 3)
    counted = np.isin(table[:, 1], np.asarray(item_ids, dtype=np.int64)) & np.isin(
        table[:, 0], np.fromiter(by_id, dtype=np.int64, count=len(by_id))
    )
    people_ids, people_counts = np.unique(table[counted, 0], return_counts=True)
    rated_by: Counter = Counter(dict(zip(people_ids.tolist(), people_counts.tolist(), strict=True)))
    keep = counted & ~np.isin(table[:, 0], np.fromiter(excluded_people, dtype=np.int64))
    dropped_ratings: Counter = Counter()  # (participant_id, group) -> ratings left out
    colliding = keep & np.isin(table[:, 0], np.fromiter(owners, dtype=np.int64))
    for row in np.nonzero(colliding)[0].tolist():
        participant_id, item_id = int(table[row, 0]), int(table[row, 1])
        group = item_groups.get(item_id)
        if owners[participant_id] is None or group != owners[participant_id]:
            dropped_ratings[(participant_id, group)] += 1
            keep[row] = False
    kept_array = table[keep]

    present = {(s[1], s[2]) for s in scores}
    score_columns = [
        (family, dimension)
        for family, names in dims.FAMILIES.items()
        for dimension in names
        if (family, dimension) in present
    ]
    column_of = {c: j for j, c in enumerate(score_columns)}

    rater_ids = np.unique(kept_array[:, 0]).tolist()
    rater_row = {pid: k for k, pid in enumerate(rater_ids)}
    score_matrix = np.full((len(rater_ids), len(score_columns)), np.nan)
    for participant_id, family, dimension, score in scores:
        row = rater_row.get(participant_id)
        column = column_of.get((family, dimension))
        if row is not None and column is not None and score is not None:
            score_matrix[row, column] = score
    has_scores = (
        ~np.isnan(score_matrix).all(axis=1)
        if len(score_columns)
        else np.zeros(len(rater_ids), dtype=bool)
    )

    pool = np.asarray(item_ids, dtype=np.int64)
    pool_order = np.argsort(pool, kind="stable")
    item_rows = pool_order[np.searchsorted(pool[pool_order], kept_array[:, 1])]
    padded = PaddedRatings.from_long(
        item_rows,
        np.searchsorted(np.asarray(rater_ids, dtype=np.int64), kept_array[:, 0]),
        kept_array[:, 2].astype(float),
        len(item_ids),
    )

    people = [
        {
            "participant": by_id[pid].label,
            "reason": reason,
            "ratings": rated_by[pid],
        }
        for pid, reason in sorted(excluded_people.items(), key=lambda kv: by_id[kv[0]].external_id)
        if rated_by[pid]
    ]
    people += [
        {"participant": by_id[pid].label, "reason": "no scores", "ratings": rated_by[pid]}
        for pid, row in sorted(rater_row.items(), key=lambda kv: by_id[kv[0]].external_id)
        if not has_scores[row]
    ]
    dropped = [
        {
            "participant": by_id[pid].label,
            "release_group": group,
            "profile_group": owners[pid],
            "ratings": count,
            "reason": COLLISION_RULE,
        }
        for (pid, group), count in sorted(dropped_ratings.items(), key=lambda kv: str(kv[0]))
    ]
    reasons = Counter(entry["reason"].split(":")[0] for entry in people)
    exclusions = {
        "participants": people,
        "ratings": dropped,
        "collision_rule": COLLISION_RULE,
        "summary": {
            "participants_left_out": len(people),
            "ratings_left_out": sum(e["ratings"] for e in people)
            + sum(e["ratings"] for e in dropped),
            "by_reason": dict(reasons),
        },
    }
    return AnalysisInputs(
        item_ids=np.asarray(item_ids, dtype=np.int64),
        participant_ids=np.asarray(rater_ids, dtype=np.int64),
        dimensions=score_columns,
        ratings=padded,
        scores=score_matrix,
        exclusions=exclusions,
        n_participants=int(has_scores.sum()),
    )
