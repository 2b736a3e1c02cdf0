"""A sweep file read and checked as plain data (no Django): what runs a sweep asks for.

A sweep is the product models × item sets × template sets (each with its variant groups) ×
personas × repetitions; every combination is one evaluation run. The format (TOML for the
command, the same keys as JSON for the API)::

    name = "paper-replication"          # required
    models = ["gpt-4o", "claude-3.5"]   # model configuration names, required
    item_sets = [3]                     # validated item set ids, required
    repetitions = [1]                   # an int or a list of ints (one run each)
    personas = [{}, {gender = "woman"}] # {} = no persona; a list of tables = one run asking as several
    scoring = "phrase"                  # and invalid_retries, reask_follow_up,
                                        # min_valid_probability, use_cache, batch_size: every run
    mode = "batch"                      # live (default) or batch: the providers' batch APIs
    batch_retry = "live"                # batch mode: failed/expired units in a follow-up
                                        # batch (default) or live

    [[template_sets]]                   # default: the built-in set, all its variants in one run
    name = "valueportrait-own"
    version = 1
    variants = ["v1", "v1_reversed"]    # a string: one run with that variant; a list: one run
                                        # with those variants; omitted: one run with all

Every error names the key that is wrong (``template_sets[1].variants[0]``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

DEFAULT_TEMPLATE_SET = {"name": "valueportrait-own", "version": 1}
RUN_OPTIONS = {
    "scoring": str,
    "invalid_retries": int,
    "reask_follow_up": bool,
    "min_valid_probability": (int, float),
    "use_cache": bool,
    "batch_size": int,
    "mode": str,
    "batch_retry": str,
}
TOP_KEYS = {"name", "models", "item_sets", "template_sets", "personas", "repetitions", *RUN_OPTIONS}
TEMPLATE_SET_KEYS = {"name", "version", "variants"}


class SweepSpecError(ValueError):
    """The sweep file is not valid; the message names the key."""


@dataclass(frozen=True)
class RunRequest:
    """One combination of the sweep: the arguments of one run (names and ids unresolved)."""

    model: str
    item_set: int
    template_set: str
    template_set_version: int
    variants: tuple[str, ...] | None  # None: every variant of the set
    personas: tuple[dict, ...]
    repetitions: int

    def describe(self) -> str:
        variants = ",".join(self.variants) if self.variants else "all variants"
        personas = "; ".join(
            ",".join(f"{k}={v}" for k, v in sorted(p.items())) for p in self.personas
        )
        return (
            f"{self.model} × item set {self.item_set} × {self.template_set} "
            f"v{self.template_set_version} ({variants}) × "
            f"{personas or 'no persona'} × {self.repetitions} repetition(s)"
        )


@dataclass(frozen=True)
class SweepSpec:
    name: str
    runs: tuple[RunRequest, ...]
    options: dict  # run options shared by every run (scoring, invalid_retries, ...)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _list(spec: dict, key: str, *, default=None) -> list:
    value = spec.get(key, default)
    if value is None:
        raise SweepSpecError(f"{key}: required")
    if not isinstance(value, list) or not value:
        raise SweepSpecError(f"{key}: give a non-empty list")
    return value


def _variant_groups(raw, where: str) -> list[tuple[str, ...] | None]:
    if raw is None:
        return [None]
    if not isinstance(raw, list) or not raw:
        raise SweepSpecError(f"{where}: give a non-empty list")
    groups = []
    for i, entry in enumerate(raw):
        if isinstance(entry, str) and entry:
            groups.append((entry,))
        elif isinstance(entry, list) and entry and all(isinstance(v, str) and v for v in entry):
            groups.append(tuple(entry))
        else:
            raise SweepSpecError(
                f"{where}[{i}]: a variant name or a non-empty list of variant names"
            )
    return groups


def _template_sets(raw) -> list[tuple[str, int, tuple[str, ...] | None]]:
    if raw is None:
        raw = [DEFAULT_TEMPLATE_SET]
    if not isinstance(raw, list) or not raw:
        raise SweepSpecError("template_sets: give a non-empty list of tables")
    found = []
    for i, entry in enumerate(raw):
        where = f"template_sets[{i}]"
        if not isinstance(entry, dict):
            raise SweepSpecError(f"{where}: a table with name, version, variants")
        unknown = sorted(set(entry) - TEMPLATE_SET_KEYS)
        if unknown:
            raise SweepSpecError(f"{where}.{unknown[0]}: unknown key")
        name = entry.get("name", DEFAULT_TEMPLATE_SET["name"])
        if not isinstance(name, str) or not name:
            raise SweepSpecError(f"{where}.name: a template set name")
        version = entry.get("version", 1)
        if not _is_int(version) or version < 1:
            raise SweepSpecError(f"{where}.version: a positive integer")
        for group in _variant_groups(entry.get("variants"), f"{where}.variants"):
            found.append((name, version, group))
    return found


def _personas(raw) -> list[tuple[dict, ...]]:
    if raw is None:
        return [()]
    if not isinstance(raw, list) or not raw:
        raise SweepSpecError("personas: give a non-empty list ({} = no persona)")
    groups = []
    for i, entry in enumerate(raw):
        where = f"personas[{i}]"
        members = entry if isinstance(entry, list) else [entry]
        if not members or not all(isinstance(m, dict) for m in members):
            raise SweepSpecError(f"{where}: a table (one persona, {{}} = none) or a list of tables")
        for j, member in enumerate(members):
            for field, value in member.items():
                if not isinstance(value, str):
                    raise SweepSpecError(f"{where}.{field}: a text value (got {value!r})")
            if not member and len(members) > 1:
                raise SweepSpecError(f"{where}[{j}]: an empty persona inside a list")
        groups.append(tuple(dict(m) for m in members if m))
    return groups


def parse_sweep(spec) -> SweepSpec:
    """Check a sweep (a dict read from TOML or JSON) and expand it into its runs; raise
    :class:`SweepSpecError` naming the first bad key."""
    if not isinstance(spec, dict):
        raise SweepSpecError("the sweep must be a table (a JSON object)")
    unknown = sorted(set(spec) - TOP_KEYS)
    if unknown:
        raise SweepSpecError(f"{unknown[0]}: unknown key (known: {', '.join(sorted(TOP_KEYS))})")
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SweepSpecError("name: required, a non-empty text")
    models = _list(spec, "models")
    for i, model in enumerate(models):
        if not isinstance(model, str) or not model:
            raise SweepSpecError(f"models[{i}]: a model configuration name")
    item_sets = _list(spec, "item_sets")
    for i, item_set in enumerate(item_sets):
        if not _is_int(item_set) or item_set < 1:
            raise SweepSpecError(f"item_sets[{i}]: a validated item set id (a positive integer)")
    repetitions = spec.get("repetitions", [1])
    repetitions = [repetitions] if _is_int(repetitions) else repetitions
    if not isinstance(repetitions, list) or not repetitions:
        raise SweepSpecError("repetitions: an integer or a non-empty list of integers")
    for i, count in enumerate(repetitions):
        if not _is_int(count) or not 1 <= count <= 20:
            raise SweepSpecError(f"repetitions[{i}]: an integer between 1 and 20")
    options = {}
    for key, kind in RUN_OPTIONS.items():
        if key in spec:
            value = spec[key]
            if isinstance(value, bool) and kind is not bool:
                raise SweepSpecError(f"{key}: not a true/false value")
            if not isinstance(value, kind):
                raise SweepSpecError(f"{key}: wrong type ({type(value).__name__})")
            options[key] = value
    runs = tuple(
        RunRequest(
            model=model,
            item_set=item_set,
            template_set=set_name,
            template_set_version=version,
            variants=variants,
            personas=personas,
            repetitions=count,
        )
        for model, item_set, (set_name, version, variants), personas, count in itertools.product(
            dict.fromkeys(models),
            dict.fromkeys(item_sets),
            _template_sets(spec.get("template_sets")),
            _personas(spec.get("personas")),
            dict.fromkeys(repetitions),
        )
    )
    return SweepSpec(name=name.strip(), runs=runs, options=options)
