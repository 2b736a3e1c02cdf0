"""Who enters a correlation run and why not: the pure preparation step and the P186 rule."""

import numpy as np

from benchmark.analysis import (
    COLLISION_RULE,
    ParticipantRecord,
    prepare_inputs,
    resolve_id_collisions,
)


def _person(pk, external_id, groups=None, status="imported", flags=()):
    metadata = {"release_groups": groups} if groups is not None else {}
    if groups and len(groups) > 1:
        metadata["id_collision"] = True
    return ParticipantRecord(pk, external_id, status, tuple(flags), metadata)


def test_collision_owner_is_the_group_whose_ids_enclose_the_id():
    people = [
        _person(1, "P186", [0, 5]),
        *[_person(10 + k, f"P{500 + k}", [0]) for k in range(5)],
        *[_person(20 + k, f"P{180 + 3 * k}", [5]) for k in range(5)],  # P180..P192
        _person(30, "P300", [0, 5]),  # inside neither range
    ]
    assert resolve_id_collisions(people) == {1: 5, 30: None}


def test_prepare_inputs_records_every_exclusion_with_its_reason():
    people = [
        _person(1, "P186", [0, 5]),
        _person(2, "P500", [0]),
        _person(3, "P501", [0]),
        _person(4, "P180", [5]),
        _person(5, "P190", [5]),
        _person(6, "P182", [5], status="in_progress"),
        _person(7, "P183", [5], status="completed", flags=["too_fast"]),
        _person(8, "P184", [5], status="completed"),  # no scores
    ]
    items = [100, 101]  # item 100 in group 0, item 101 in group 5
    ratings = [(1, 100, 2), (1, 101, 3), (2, 100, 4), (3, 100, 5), (4, 101, 1), (5, 101, 6)]
    ratings += [(6, 101, 2), (7, 101, 2), (8, 101, 4)]
    scores = [(pid, "schwartz", "Power", float(pid)) for pid in (1, 2, 3, 4, 5, 6, 7)]
    inputs = prepare_inputs(
        participants=people,
        ratings=ratings,
        item_ids=items,
        item_groups={100: 0, 101: 5},
        scores=scores,
        exclude_flagged=True,
    )
    assert inputs.dimensions == [("schwartz", "Power")]
    assert inputs.exclusions["ratings"] == [
        {
            "participant": "P186",
            "release_group": 0,
            "profile_group": 5,
            "ratings": 1,
            "reason": COLLISION_RULE,
        }
    ]
    reasons = {e["participant"]: e["reason"] for e in inputs.exclusions["participants"]}
    assert reasons == {
        "P182": "not completed (status in_progress)",
        "P183": "quality flags: too_fast",
        "P184": "no scores",
    }
    # item 100 keeps P500, P501 (P186's group-0 rating left out); item 101 keeps P186, P180,
    # P190 with scores and P184 without
    filled = inputs.ratings.raters >= 0
    assert filled.sum(axis=1).tolist() == [2, 4]
    rated_101 = set(inputs.participant_ids[inputs.ratings.raters[1, filled[1]]].tolist())
    assert rated_101 == {1, 4, 5, 8}
    assert np.isnan(inputs.scores[list(inputs.participant_ids).index(8)]).all()
    assert inputs.n_participants == 5
    # flagged participants count when the study does not exclude them
    kept = prepare_inputs(
        participants=people,
        ratings=ratings,
        item_ids=items,
        item_groups={100: 0, 101: 5},
        scores=scores,
        exclude_flagged=False,
    )
    assert "P183" not in {e["participant"] for e in kept.exclusions["participants"]}
