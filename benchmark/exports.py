"""Build the downloadable tables: correlations of a run, and the pairs of an item set.

Shared by the management commands, the staff pages and the REST API, so every download of
the same object has the same columns.
"""

from __future__ import annotations

import json

import pandas as pd

from core.tabular import records, rows_to_csv
from survey.instruments import dimensions as dims

from .pages import item_profiles
from .selectors import item_catalogue, item_set_entries, reported_correlation_frame

CORRELATION_COLUMNS = ["portrait_id", "option_id", "dimension", "r", "p", "n"]
OPTIONAL_COLUMNS = ["p_bh", "p_by", "ci_low", "ci_high"]
ITEM_COLUMNS = [
    "portrait_id",
    "option_id",
    "dimension",
    "r",
    "p",
    "scenario_title",
    "item_text",
    "source",
    "family",
]
RELEASE_KEYS = dims.RELEASE_CORRELATION_KEYS  # family -> key in query-response-tagged.json


def _portrait_id(value: str):
    return int(value) if str(value).isdigit() else value


def correlation_table(*, run) -> pd.DataFrame:
    """One row per (item, dimension): portrait_id, option_id, dimension, r, p, n, then
    p_bh, p_by, ci_low, ci_high when computed, then family, then ``r_reason`` when a pair
    has fewer raters than the study's minimum (its r, p and CI are then empty)."""
    frame = reported_correlation_frame(run=run).rename(
        columns={"scenario_external_id": "portrait_id"}
    )
    order = {
        (f, d): k
        for k, (f, d) in enumerate((f, d) for f, names in dims.FAMILIES.items() for d in names)
    }
    frame["_order"] = [
        order.get((f, d), 999) for f, d in zip(frame["family"], frame["dimension"], strict=True)
    ]
    frame = frame.sort_values(["portrait_id", "option_id", "_order"])
    # ``family`` comes last: it only disambiguates names shared by two families (PVQ-RR's
    # Stimulation vs the Schwartz value), after the release's own columns.
    optional = [c for c in OPTIONAL_COLUMNS if frame[c].notna().any()]
    columns = CORRELATION_COLUMNS + optional + ["family"]
    if frame["r_reason"].notna().any():
        columns.append("r_reason")
    table = frame[columns].reset_index(drop=True)
    table["n"] = table["n"].astype("Int64")
    return table


def item_set_table(*, item_set) -> pd.DataFrame:
    """One row per selected (item, dimension) pair, with the item's texts."""
    entries = item_set_entries(item_set=item_set)
    catalogue = item_catalogue(item_ids=entries["item_id"].unique().tolist())
    frame = entries.merge(
        catalogue.drop(columns=["scenario_external_id", "option_id"]), on="item_id", how="left"
    ).rename(columns={"scenario_external_id": "portrait_id"})
    return frame.sort_values(["family", "dimension", "portrait_id", "option_id"])[
        ITEM_COLUMNS
    ].reset_index(drop=True)


def query_response_tagged(*, item_set) -> list[dict]:
    """The selected pairs in the shape of the release's ``query-response-tagged.json``.

    One entry per scenario with a selected item, ``outputs`` holding the selected options;
    each output's ``correlations`` / ``higher_pvq_correlations`` / ``bfi_correlations``
    list only the set's (dimension, r) pairs (largest |r| first), so a script applying the
    paper's threshold to this file gets exactly this item set.
    """
    entries = item_set_entries(item_set=item_set)
    catalogue = item_catalogue(item_ids=entries["item_id"].unique().tolist()).set_index("item_id")
    scenarios: dict[str, dict] = {}
    for item_id, group in entries.groupby("item_id"):
        info = catalogue.loc[item_id]
        scenario = scenarios.setdefault(
            info.scenario_external_id,
            {
                "content": {"title": info.scenario_title, "text": info.scenario_text},
                "outputs": [],
                "portrait_id": _portrait_id(info.scenario_external_id),
            },
        )
        output = {"content": info.item_text, "id": int(info.option_id)}
        for family, key in RELEASE_KEYS.items():
            pairs = group[group["family"] == family]
            pairs = pairs.reindex(pairs["r"].abs().sort_values(ascending=False).index)
            output[key] = [
                [d, float(r)] for d, r in zip(pairs["dimension"], pairs["r"], strict=True)
            ]
        scenario["outputs"].append(output)
    for scenario in scenarios.values():
        scenario["outputs"].sort(key=lambda o: o["id"])
    return [scenarios[k] for k in sorted(scenarios, key=lambda k: (len(k), k))]


def to_csv(frame: pd.DataFrame) -> str:
    """The table as CSV, written as every export writes CSV (:mod:`core.tabular`)."""
    return rows_to_csv(records(frame))


def run_metadata(run) -> dict:
    return {
        "id": run.pk,
        "study": run.study.slug,
        "kind": run.kind,
        "method": run.method,
        "label": run.label,
        "n_participants": run.n_participants,
        "created_at": run.created_at.isoformat(),
        "parameters": run.parameters,
        "exclusions": run.exclusions,
    }


def item_set_metadata(item_set) -> dict:
    return {
        "name": item_set.name,
        "version": item_set.version,
        "study": item_set.study.slug,
        "correlation_run": item_set.correlation_run_id,
        "preset": item_set.preset,
        "rule": item_set.rule,
        "excluded_pairs": item_set.excluded_pairs,
        "created_at": item_set.created_at.isoformat(),
        "created_by": item_set.created_by.get_username() if item_set.created_by else None,
    }


def correlations_document(*, run) -> dict:
    """The run's metadata, one record per pair, and per item its best-matching value and
    whether its correlations follow Schwartz's circle."""
    return {
        "run": run_metadata(run),
        "correlations": records(correlation_table(run=run)),
        "items": item_profiles(reported_correlation_frame(run=run)),
    }


def correlations_json(*, run) -> str:
    return json.dumps(correlations_document(run=run), indent=1, ensure_ascii=False)


def chance_summary(chance: dict) -> dict:
    """The stored chance estimate of an item set as exports show it: the expected chance
    selections (mean, SD, permutations used), split-half replication, the threshold search
    of a chance-bounded rule, or why there is no estimate."""
    if not chance:
        return {"expected_chance_selections": None, "why": "not estimated (set frozen before)"}
    if "unavailable" in chance:
        return {"expected_chance_selections": None, "why": chance["unavailable"]}
    out = {
        "selected": chance["selected"],
        "expected_chance_selections": chance["expected_chance_selections"],
        "split_half_replication": chance["split_half_replication"],
    }
    for key in ("selected_with_approximate_ci", "search"):
        if key in chance:
            out[key] = chance[key]
    return out


def item_set_document(*, item_set) -> dict:
    """The set's metadata, chance estimate, one record per pair, and the pairs in the
    release's ``query-response-tagged.json`` shape."""
    return {
        "item_set": item_set_metadata(item_set),
        **chance_summary(item_set.chance),
        "pairs": records(item_set_table(item_set=item_set)),
        "query-response-tagged": query_response_tagged(item_set=item_set),
    }


def item_set_json(*, item_set) -> str:
    return json.dumps(item_set_document(item_set=item_set), indent=1, ensure_ascii=False)
