"""Read and check the Value Portrait public data release (pure Python, no Django).

``read_release(directory)`` parses the files the project imports, validates every record and
returns plain dataclasses. Nothing is written anywhere: the importer
(``release.services``) writes only after the whole release has been read
without error, so a malformed file imports nothing. Errors name the file, the record and the
field that is wrong.

Layout (as in the release):

- ``data/query-response-tagged/query-response-tagged.json``: scenarios and their responses;
- ``data/prolific/survey/main/survey.json``: a list of survey groups, each
  ``{portrait_id: [{"option_id": n, "data": [[rating, participant_id], ...]}]}``;
- ``data/prolific/value/main/value.json``: ``{participant_id: {"pvq": {...}, "higher_pvq": {...}, "bfi": {...}}}``;
- ``data/correlation_results/{pvq,higher_pvq,bfi}_correlation_results.json``: published
  Spearman r and p per (portrait_id, option_id, dimension).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from survey.instruments import dimensions as dims

ITEMS_FILE = "data/query-response-tagged/query-response-tagged.json"
SURVEY_FILE = "data/prolific/survey/main/survey.json"
VALUES_FILE = "data/prolific/value/main/value.json"
CORRELATION_FILES = {
    dims.SCHWARTZ: ("data/correlation_results/pvq_correlation_results.json", "pvq_dimension"),
    dims.HIGHER_ORDER: (
        "data/correlation_results/higher_pvq_correlation_results.json",
        "higher_pvq_dimension",
    ),
    dims.BIG_FIVE: ("data/correlation_results/bfi_correlation_results.json", "bfi_dimension"),
}
# The first digit of a portrait id names its source.
SOURCES = {
    "1": ("reddit-aita", "Reddit AITA", "titled"),
    "2": ("dear-abby", "Dear Abby", "titled"),
    "3": ("sharegpt", "ShareGPT", "chat"),
    "4": ("lmsys", "LMSYS", "chat"),
}


class ReleaseFormatError(ValueError):
    """A release file is missing or malformed; the message names file, record and field."""

    def __init__(self, file: str, record: str, field_name: str, problem: str):
        self.file, self.record, self.field, self.problem = file, record, field_name, problem
        super().__init__(f"{file}: record {record}, field {field_name!r}: {problem}")


@dataclass(frozen=True)
class ScenarioRecord:
    portrait_id: str
    source_slug: str
    title: str
    text: str
    options: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class RatingRecord:
    group: int
    portrait_id: str
    option_id: int
    participant_id: str
    rating: int


@dataclass(frozen=True)
class CorrelationRecord:
    portrait_id: str
    option_id: int
    family: str
    dimension: str
    r: float
    p: float


@dataclass
class Release:
    scenarios: list[ScenarioRecord]
    ratings: list[RatingRecord]
    scores: dict[str, dict[str, dict[str, float]]]  # participant -> family -> dimension -> score
    correlations: list[CorrelationRecord]
    groups_by_participant: dict[str, list[int]] = field(default_factory=dict)
    scenario_groups: dict[str, int] = field(default_factory=dict)

    @property
    def rater_ids(self) -> set[str]:
        return set(self.groups_by_participant)

    @property
    def id_collisions(self) -> dict[str, list[int]]:
        """Participant ids that rated items in more than one survey group.

        The release's ``value.json`` holds one profile per id, so such an id may stand for
        two different people (P186 in the main survey).
        """
        return {
            pid: groups for pid, groups in self.groups_by_participant.items() if len(groups) > 1
        }

    @property
    def raters_without_scores(self) -> list[str]:
        return sorted(self.rater_ids - set(self.scores))

    @property
    def scored_without_ratings(self) -> list[str]:
        return sorted(set(self.scores) - self.rater_ids)


def _load(directory: Path, relative: str):
    path = directory / relative
    if not path.is_file():
        raise ReleaseFormatError(relative, "-", "-", "file not found")
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReleaseFormatError(relative, "-", "-", f"not valid JSON ({exc})") from exc


def _portrait_id(value, file: str, record: str) -> str:
    text = (
        str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    )
    if not (text.isdigit() and len(text) == 4 and text[0] in SOURCES):
        raise ReleaseFormatError(
            file, record, "portrait_id", f"{value!r} is not a 4-digit id starting 1-4"
        )
    return text


def _int(value, file: str, record: str, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ReleaseFormatError(file, record, name, f"{value!r} is not a whole number")
    if not low <= int(value) <= high:
        raise ReleaseFormatError(file, record, name, f"{value!r} outside {low}..{high}")
    return int(value)


def _float(value, file: str, record: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ReleaseFormatError(file, record, name, f"{value!r} is not a finite number")
    return float(value)


def _text(value, file: str, record: str, name: str, *, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ReleaseFormatError(file, record, name, "missing or not text")
    return value


def read_scenarios(directory: Path) -> list[ScenarioRecord]:
    data = _load(directory, ITEMS_FILE)
    if not isinstance(data, list):
        raise ReleaseFormatError(ITEMS_FILE, "-", "-", "expected a list of scenarios")
    scenarios: list[ScenarioRecord] = []
    seen: set[str] = set()
    for index, entry in enumerate(data):
        record = f"#{index}"
        if not isinstance(entry, dict):
            raise ReleaseFormatError(ITEMS_FILE, record, "-", "expected an object")
        pid = _portrait_id(entry.get("portrait_id"), ITEMS_FILE, record)
        record = f"#{index} (portrait_id {pid})"
        if pid in seen:
            raise ReleaseFormatError(ITEMS_FILE, record, "portrait_id", "duplicate id")
        seen.add(pid)
        content = entry.get("content")
        if not isinstance(content, dict):
            raise ReleaseFormatError(ITEMS_FILE, record, "content", "expected an object")
        title = _text(content.get("title"), ITEMS_FILE, record, "content.title", required=False)
        text = _text(content.get("text"), ITEMS_FILE, record, "content.text", required=True)
        outputs = entry.get("outputs")
        if not isinstance(outputs, list) or not outputs:
            raise ReleaseFormatError(ITEMS_FILE, record, "outputs", "expected a non-empty list")
        options: list[tuple[int, str]] = []
        for o_index, output in enumerate(outputs):
            o_record = f"{record} outputs[{o_index}]"
            if not isinstance(output, dict):
                raise ReleaseFormatError(ITEMS_FILE, o_record, "-", "expected an object")
            option_id = _int(output.get("id"), ITEMS_FILE, o_record, "id", 1, 99)
            body = _text(output.get("content"), ITEMS_FILE, o_record, "content", required=True)
            options.append((option_id, body))
        if len({o for o, _ in options}) != len(options):
            raise ReleaseFormatError(ITEMS_FILE, record, "outputs[].id", "duplicate option id")
        scenarios.append(
            ScenarioRecord(pid, SOURCES[pid[0]][0], title or "", text, tuple(sorted(options)))
        )
    return scenarios


def read_ratings(
    directory: Path, known: dict[str, set[int]]
) -> tuple[list[RatingRecord], dict[str, int]]:
    data = _load(directory, SURVEY_FILE)
    if not isinstance(data, list):
        raise ReleaseFormatError(SURVEY_FILE, "-", "-", "expected a list of survey groups")
    ratings: list[RatingRecord] = []
    scenario_groups: dict[str, int] = {}
    seen: set[tuple[str, int, str]] = set()
    for group, entries in enumerate(data):
        if not isinstance(entries, dict):
            raise ReleaseFormatError(SURVEY_FILE, f"group {group}", "-", "expected an object")
        for raw_pid, options in entries.items():
            record = f"group {group}, portrait_id {raw_pid}"
            pid = _portrait_id(raw_pid, SURVEY_FILE, record)
            if pid not in known:
                raise ReleaseFormatError(SURVEY_FILE, record, "portrait_id", "unknown scenario")
            if pid in scenario_groups:
                raise ReleaseFormatError(
                    SURVEY_FILE, record, "portrait_id", "scenario in two groups"
                )
            scenario_groups[pid] = group
            if not isinstance(options, list):
                raise ReleaseFormatError(SURVEY_FILE, record, "-", "expected a list of options")
            for option in options:
                if not isinstance(option, dict):
                    raise ReleaseFormatError(SURVEY_FILE, record, "-", "expected an object")
                option_id = _int(option.get("option_id"), SURVEY_FILE, record, "option_id", 1, 99)
                o_record = f"{record}, option_id {option_id}"
                if option_id not in known[pid]:
                    raise ReleaseFormatError(SURVEY_FILE, o_record, "option_id", "unknown item")
                rows = option.get("data")
                if not isinstance(rows, list):
                    raise ReleaseFormatError(SURVEY_FILE, o_record, "data", "expected a list")
                for row in rows:
                    if not (isinstance(row, list) and len(row) == 2):
                        raise ReleaseFormatError(
                            SURVEY_FILE,
                            o_record,
                            "data",
                            f"{row!r} is not [rating, participant_id]",
                        )
                    rating = _int(row[0], SURVEY_FILE, o_record, "data[].rating", 1, 6)
                    participant = _text(
                        row[1], SURVEY_FILE, o_record, "data[].participant_id", required=True
                    ).strip()
                    key = (pid, option_id, participant)
                    if key in seen:
                        raise ReleaseFormatError(
                            SURVEY_FILE, o_record, "data", f"{participant} rated this item twice"
                        )
                    seen.add(key)
                    ratings.append(RatingRecord(group, pid, option_id, participant, rating))
    return ratings, scenario_groups


def read_scores(directory: Path) -> dict[str, dict[str, dict[str, float]]]:
    data = _load(directory, VALUES_FILE)
    if not isinstance(data, dict):
        raise ReleaseFormatError(
            VALUES_FILE, "-", "-", "expected an object of participant -> scores"
        )
    scores: dict[str, dict[str, dict[str, float]]] = {}
    for participant, profile in data.items():
        record = f"participant {participant}"
        if not isinstance(profile, dict):
            raise ReleaseFormatError(VALUES_FILE, record, "-", "expected an object")
        families: dict[str, dict[str, float]] = {}
        for family, release_key in dims.RELEASE_SCORE_KEYS.items():
            block = profile.get(release_key)
            if not isinstance(block, dict):
                raise ReleaseFormatError(VALUES_FILE, record, release_key, "missing")
            expected = set(dims.FAMILIES[family])
            if set(block) != expected:
                raise ReleaseFormatError(
                    VALUES_FILE,
                    record,
                    release_key,
                    f"dimensions {sorted(block)} != {sorted(expected)}",
                )
            families[family] = {
                name: _float(value, VALUES_FILE, record, f"{release_key}.{name}")
                for name, value in block.items()
            }
        scores[participant.strip()] = families
    return scores


def read_correlations(directory: Path, known: dict[str, set[int]]) -> list[CorrelationRecord]:
    records: list[CorrelationRecord] = []
    for family, (relative, dim_field) in CORRELATION_FILES.items():
        data = _load(directory, relative)
        if not isinstance(data, list):
            raise ReleaseFormatError(relative, "-", "-", "expected a list")
        seen: set[tuple[str, int, str]] = set()
        for index, entry in enumerate(data):
            record = f"#{index}"
            if not isinstance(entry, dict):
                raise ReleaseFormatError(relative, record, "-", "expected an object")
            pid = _portrait_id(entry.get("portrait_id"), relative, record)
            option_id = _int(entry.get("option_id"), relative, record, "option_id", 1, 99)
            record = f"#{index} ({pid}/{option_id})"
            if option_id not in known.get(pid, set()):
                raise ReleaseFormatError(relative, record, "portrait_id/option_id", "unknown item")
            dimension = entry.get(dim_field)
            if dimension not in dims.FAMILIES[family]:
                raise ReleaseFormatError(
                    relative, record, dim_field, f"unknown dimension {dimension!r}"
                )
            key = (pid, option_id, dimension)
            if key in seen:
                raise ReleaseFormatError(relative, record, dim_field, "duplicate row")
            seen.add(key)
            r = _float(entry.get("spearman_corr"), relative, record, "spearman_corr")
            p = _float(entry.get("spearman_p_value"), relative, record, "spearman_p_value")
            if not -1.0 - 1e-9 <= r <= 1.0 + 1e-9 or not 0.0 <= p <= 1.0 + 1e-9:
                raise ReleaseFormatError(relative, record, "spearman_corr", "r or p out of range")
            records.append(CorrelationRecord(pid, option_id, family, dimension, r, p))
    return records


def read_release(directory: str | Path) -> Release:
    """Parse and validate the whole release; raise ``ReleaseFormatError`` on the first problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ReleaseFormatError(str(directory), "-", "-", "not a directory")
    scenarios = read_scenarios(directory)
    known = {s.portrait_id: {o for o, _ in s.options} for s in scenarios}
    ratings, scenario_groups = read_ratings(directory, known)
    scores = read_scores(directory)
    correlations = read_correlations(directory, known)
    groups: dict[str, set[int]] = defaultdict(set)
    for rating in ratings:
        groups[rating.participant_id].add(rating.group)
    return Release(
        scenarios=scenarios,
        ratings=ratings,
        scores=scores,
        correlations=correlations,
        groups_by_participant={pid: sorted(g) for pid, g in groups.items()},
        scenario_groups=scenario_groups,
    )
