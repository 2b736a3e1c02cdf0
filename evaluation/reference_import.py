"""Import the release's model outputs as reference runs: averaged outputs or raw answers.

**Averaged** (``--from averaged``, the default):
``lm_evaluation/average_outputs/<model>_averaged_results.json`` holds, per item
(``portrait_id``, ``option_id``), the rating each template variant got
(``version_responses``) and the unparseable answers (``version_errors``): one valid response
per answered variant, one invalid response (with the raw error text) per failed one.

**Raw** (``--from raw``): ``lm_evaluation/outputs/final/<provider>/<model>_<variant>_results.json``
holds, per variant, a list of records with ``portrait_id``, ``option_id``, the model's
``raw_response``, the paper's ``parsed_response``/``numeric_response`` and the ``prompt``; a
record the paper could not parse or whose call failed has an ``error`` instead. Every answer
is parsed here (:func:`evaluation.parsing.parse_phrase`) and stored with its raw text, our
rating and the paper's (``reference_rating``), so the two parses can be compared answer by
answer (:func:`evaluation.selectors.parse_comparison`). A paper's parse error ("Could not
parse valid Likert response from: <text>") is an answer too: its quoted text is parsed like
any other; any other error is a failed call.

Each model becomes a reference run of a ``reference`` model configuration named ``<model>``
(one run per source and item set), scored with the given item set (default: the
``valueportrait-2025`` preset on the study's published correlations). The files are read and
checked before anything is written; a malformed file imports nothing and the error names the
file and record. Importing again changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from benchmark.models import ValidatedItemSet
from benchmark.selectors import published_run
from benchmark.services import create_preset_item_set
from evaluation.lifecycle import close_reference_run
from evaluation.parsing import parse_phrase
from survey.models import Item, Study

from .models import EvaluationRun, ModelConfiguration, Response

SUFFIX = "_averaged_results.json"
RAW_FILE = re.compile(r"^(?P<model>.+?)_(?P<variant>v[0-9]+(?:_reversed)?)_results\.json$")
PAPER_PARSE_ERROR = "Could not parse valid Likert response from: "
RELEASE_TEMPLATE_SET = "valueportrait-2025-release"
PRESET = "valueportrait-2025"
SOURCES = ("averaged", "raw")


class ImportError_(ValueError):
    """A file that cannot be imported (message names the file and record)."""


def default_item_set(*, study_slug: str = "valueportrait-2025") -> ValidatedItemSet:
    """The newest ``valueportrait-2025`` preset set on the study's published correlations,
    created when there is none."""
    study = Study.objects.filter(slug=study_slug).first()
    if study is None:
        raise ImportError_(f"study {study_slug} not found: import the release first")
    run = published_run(study=study)
    if run is None:
        raise ImportError_(f"study {study_slug} has no published correlations")
    existing = (
        ValidatedItemSet.objects.filter(preset=PRESET, correlation_run=run)
        .order_by("-version")
        .first()
    )
    return existing or create_preset_item_set(run=run, preset=PRESET)


def _read_records(path: Path) -> list[dict]:
    """A JSON list of records, each with ``portrait_id`` and ``option_id``."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImportError_(f"{path.name}: cannot read JSON ({exc})") from None
    if not isinstance(records, list):
        raise ImportError_(f"{path.name}: expected a list of items")
    seen = set()
    for index, record in enumerate(records):
        where = f"{path.name} record {index}"
        if not isinstance(record, dict) or "portrait_id" not in record or "option_id" not in record:
            raise ImportError_(f"{where}: needs portrait_id and option_id")
        try:
            key = (str(record["portrait_id"]), int(record["option_id"]))
        except (TypeError, ValueError):
            raise ImportError_(f"{where}: option_id must be a number") from None
        if key in seen:
            raise ImportError_(f"{where}: item {key[0]}/{key[1]} appears twice")
        seen.add(key)
    return records


def _is_rating(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value <= 6


def read_outputs(path: Path) -> list[dict]:
    """An averaged-outputs file, checked."""
    records = _read_records(path)
    for index, record in enumerate(records):
        responses = record.get("version_responses", {})
        if not isinstance(responses, dict) or not all(map(_is_rating, responses.values())):
            raise ImportError_(
                f"{path.name} record {index}: version_responses must map variants to ratings 1-6"
            )
    return records


def read_raw_answers(path: Path) -> list[dict]:
    """A raw per-variant answers file, checked: every record has an answer or an error."""
    records = _read_records(path)
    for index, record in enumerate(records):
        where = f"{path.name} record {index}"
        if "error" in record:
            if not isinstance(record["error"], str):
                raise ImportError_(f"{where}: error must be text")
            continue
        if not isinstance(record.get("raw_response"), str):
            raise ImportError_(f"{where}: needs raw_response (text) or an error")
        numeric = record.get("numeric_response")
        if numeric is not None and not _is_rating(numeric):
            raise ImportError_(f"{where}: numeric_response must be a rating 1-6")
        if not isinstance(record.get("prompt", ""), str):
            raise ImportError_(f"{where}: prompt must be text")
    return records


def _find(folders: list[Path], pattern: str) -> list[Path]:
    """The files matching ``pattern`` in the first of ``folders`` that has any."""
    for folder in folders:
        files = sorted(folder.glob(pattern))
        if files:
            return files
    return []


def _item_ids(keys: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """Item bank ids of (portrait_id, option_id) keys; all must exist."""
    items = {
        (ext, opt): pk
        for pk, ext, opt in Item.objects.filter(
            scenario__external_id__in={k[0] for k in keys}
        ).values_list("id", "scenario__external_id", "option_id")
    }
    unknown = sorted(keys - set(items))
    if unknown:
        raise ImportError_(
            f"{len(unknown)} items are not in the item bank (e.g. {unknown[0][0]}/{unknown[0][1]}): "
            "import the release first"
        )
    return items


def _key(record: dict) -> tuple[str, int]:
    return str(record["portrait_id"]), int(record["option_id"])


def _reference_run(
    *, model_name: str, item_set: ValidatedItemSet, source: str, variants: list[str], params: dict
) -> EvaluationRun:
    config, _ = ModelConfiguration.objects.get_or_create(
        name=model_name,
        defaults={
            "provider": ModelConfiguration.Provider.REFERENCE,
            "model_id": model_name,
            "notes": "Imported from the Value Portrait release (reference outputs).",
        },
    )
    run, _ = EvaluationRun.objects.get_or_create(
        kind=EvaluationRun.Kind.REFERENCE,
        reference_source=source,
        model_config=config,
        item_set=item_set,
        defaults={
            "label": f"{model_name} (release {'raw answers' if source == 'raw' else 'reference'})",
            "template_set": RELEASE_TEMPLATE_SET,
            "variants": variants,
            "status": EvaluationRun.Status.SCORING,
            "use_cache": False,
            "params": params,
            "started_at": timezone.now(),
        },
    )
    return run


# Called after each model is imported with (model name, number of models), for a progress bar.
ModelProgress = Callable[[str, int], None]


def import_model_outputs(
    *,
    directory: str | Path,
    item_set: ValidatedItemSet | None = None,
    source: str = "averaged",
    progress: ModelProgress | None = None,
) -> list[EvaluationRun]:
    """Import every model's outputs under ``directory`` (the release, its ``lm_evaluation``
    or the outputs folder itself) from ``source`` (``averaged`` or ``raw``); idempotent.
    Returns the scored reference runs; ``progress(model, models)`` follows each model."""
    tick = progress or (lambda model, models: None)
    if source == "raw":
        return _import_raw(Path(directory), item_set, tick)
    if source != "averaged":
        raise ImportError_(f"unknown source {source!r}: choose one of {', '.join(SOURCES)}")
    root = Path(directory)
    files = _find(
        [root, root / "average_outputs", root / "lm_evaluation/average_outputs"], f"*{SUFFIX}"
    )
    if not files:
        raise ImportError_(f"no *{SUFFIX} files under {root}")
    parsed = {f: read_outputs(f) for f in files}  # read and check everything first
    item_set = item_set or default_item_set()
    items = _item_ids({_key(r) for rs in parsed.values() for r in rs})
    runs = []
    for path, records in parsed.items():
        model_name = path.name.removesuffix(SUFFIX)
        metadata_path = path.with_name(f"{model_name}_metadata.json")
        metadata = (
            json.loads(metadata_path.read_text(encoding="utf-8")) if metadata_path.is_file() else {}
        )
        variants = sorted(
            {
                v
                for r in records
                for v in (*r.get("version_responses", {}), *r.get("version_errors", {}))
            }
        )
        with transaction.atomic():
            run = _reference_run(
                model_name=model_name,
                item_set=item_set,
                source="averaged",
                variants=variants,
                params={"source": str(path), "release_metadata": metadata},
            )
            rows = []
            for record in records:
                item_id = items[_key(record)]
                for variant, rating in record.get("version_responses", {}).items():
                    rows.append(
                        Response(
                            run=run,
                            item_id=item_id,
                            variant=variant,
                            state=Response.State.VALID,
                            rating=float(rating),
                            parse_method="imported",
                        )
                    )
                for variant, error in (record.get("version_errors") or {}).items():
                    message = error.get("error", "") if isinstance(error, dict) else str(error)
                    rows.append(
                        Response(
                            run=run,
                            item_id=item_id,
                            variant=variant,
                            state=Response.State.INVALID,
                            raw_text=message[:20000],
                            error="unparseable in the release",
                            parse_method="imported",
                        )
                    )
            Response.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
        runs.append(close_reference_run(run=run))
        tick(model_name, len(parsed))
    return runs


def raw_answer_row(*, record: dict, run: EvaluationRun, item_id: int, variant: str) -> Response:
    """One raw release record as a response: parsed here, the paper's reading alongside."""
    prompt = record.get("prompt") or ""
    base = dict(
        run=run,
        item_id=item_id,
        variant=variant,
        prompt_sha256=hashlib.sha256(prompt.encode()).hexdigest() if prompt else "",
        attempts=1,
    )
    error = record.get("error")
    if error is not None and not error.startswith(PAPER_PARSE_ERROR):
        return Response(**base, state=Response.State.FAILED, error=error[:2000])
    text = record["raw_response"] if error is None else error.removeprefix(PAPER_PARSE_ERROR)
    parsed = parse_phrase(text)
    numeric = record.get("numeric_response") if error is None else None
    return Response(
        **base,
        state=Response.State.VALID if parsed.valid else Response.State.INVALID,
        rating=parsed.rating,
        label=parsed.label,
        parse_method=parsed.method,
        several_options=parsed.several_options,
        raw_text=text,
        reasoning=parsed.reasoning,
        error=parsed.reason,
        reference_rating=None if numeric is None else float(numeric),
        reference_label=(record.get("parsed_response") or "")[:40] if error is None else "",
    )


def _import_raw(
    root: Path, item_set: ValidatedItemSet | None, tick: ModelProgress
) -> list[EvaluationRun]:
    # <provider>/<model>_<variant>_results.json under the outputs folder, or one provider's
    # folder given directly.
    folders = [root / "lm_evaluation/outputs/final", root / "outputs/final", root / "final", root]
    files = _find(folders, "*/*_results.json") or _find([root], "*_results.json")
    models: dict[tuple[str, str], dict[str, list[dict]]] = {}
    for path in files:
        match = RAW_FILE.match(path.name)
        if match is None:
            raise ImportError_(f"{path}: expected <model>_<variant>_results.json (variant v1...)")
        records = read_raw_answers(path)  # read and check everything first
        models.setdefault((path.parent.name, match["model"]), {})[match["variant"]] = records
    if not models:
        raise ImportError_(f"no <provider>/<model>_<variant>_results.json files under {root}")
    names = [model for _, model in models]
    twice = sorted({m for m in names if names.count(m) > 1})
    if twice:
        raise ImportError_(f"model {twice[0]} is in two provider folders: keep one")
    item_set = item_set or default_item_set()
    items = _item_ids(
        {_key(r) for by_variant in models.values() for rs in by_variant.values() for r in rs}
    )
    runs = []
    for (provider, model_name), by_variant in sorted(models.items()):
        with transaction.atomic():
            run = _reference_run(
                model_name=model_name,
                item_set=item_set,
                source="raw",
                variants=sorted(by_variant),
                params={"source": str(root), "release_provider": provider},
            )
            rows = [
                raw_answer_row(record=record, run=run, item_id=items[_key(record)], variant=variant)
                for variant, records in sorted(by_variant.items())
                for record in records
            ]
            Response.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
        runs.append(close_reference_run(run=run))
        tick(model_name, len(models))
    return runs
