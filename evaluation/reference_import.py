"""Import the release's per-model averaged outputs as reference runs.

``lm_evaluation/average_outputs/<model>_averaged_results.json`` holds, per item
(``portrait_id``, ``option_id``), the rating each template variant got
(``version_responses``) and the unparseable answers (``version_errors``). Each file becomes
a reference run of a ``reference`` model configuration named ``<model>``: one valid response
per answered variant, one invalid response (with the raw error text) per failed one, then
scored with the given item set (default: the ``valueportrait-2025`` preset on the study's
published correlations).
"""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from benchmark.models import ValidatedItemSet
from survey.models import Item

from .models import EvaluationRun, ModelConfiguration, Response

SUFFIX = "_averaged_results.json"
RELEASE_TEMPLATE_SET = "valueportrait-2025-release"
PRESET = "valueportrait-2025"


class ImportError_(ValueError):
    """A file that cannot be imported (message names the file and record)."""


def default_item_set(*, study_slug: str = "valueportrait-2025") -> ValidatedItemSet:
    """The newest ``valueportrait-2025`` preset set on the study's published correlations,
    created when there is none."""
    from benchmark.selectors import published_run
    from benchmark.services import create_preset_item_set
    from survey.models import Study

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


def read_outputs(path: Path) -> list[dict]:
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImportError_(f"{path.name}: cannot read JSON ({exc})") from None
    if not isinstance(records, list):
        raise ImportError_(f"{path.name}: expected a list of items")
    for index, record in enumerate(records):
        where = f"{path.name} record {index}"
        if not isinstance(record, dict) or "portrait_id" not in record or "option_id" not in record:
            raise ImportError_(f"{where}: needs portrait_id and option_id")
        responses = record.get("version_responses", {})
        if not isinstance(responses, dict) or not all(
            isinstance(v, int | float) and 1 <= v <= 6 for v in responses.values()
        ):
            raise ImportError_(f"{where}: version_responses must map variants to ratings 1-6")
    return records


def import_model_outputs(
    *, directory: str | Path, item_set: ValidatedItemSet | None = None
) -> list[EvaluationRun]:
    """Import every ``*_averaged_results.json`` under ``directory`` (or its
    ``lm_evaluation/average_outputs``); idempotent. Returns the scored reference runs."""
    from .services import score_run

    root = Path(directory)
    for candidate in (root, root / "average_outputs", root / "lm_evaluation" / "average_outputs"):
        files = sorted(candidate.glob(f"*{SUFFIX}"))
        if files:
            break
    else:
        raise ImportError_(f"no *{SUFFIX} files under {root}")
    parsed = {f: read_outputs(f) for f in files}  # read and check everything first
    item_set = item_set or default_item_set()
    wanted = {(str(r["portrait_id"]), int(r["option_id"])) for rs in parsed.values() for r in rs}
    items = {
        (ext, opt): pk
        for pk, ext, opt in Item.objects.filter(
            scenario__external_id__in={w[0] for w in wanted}
        ).values_list("id", "scenario__external_id", "option_id")
    }
    unknown = sorted(wanted - set(items))
    if unknown:
        raise ImportError_(
            f"{len(unknown)} items are not in the item bank (e.g. {unknown[0][0]}/{unknown[0][1]}): "
            "import the release first"
        )
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
                model_config=config,
                item_set=item_set,
                defaults={
                    "label": f"{model_name} (release reference)",
                    "template_set": RELEASE_TEMPLATE_SET,
                    "variants": variants,
                    "status": EvaluationRun.Status.SCORING,
                    "use_cache": False,
                    "params": {"source": str(path), "release_metadata": metadata},
                    "started_at": timezone.now(),
                },
            )
            rows = []
            for record in records:
                item_id = items[(str(record["portrait_id"]), int(record["option_id"]))]
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
        score_run(run=run)
        EvaluationRun.objects.filter(pk=run.pk).update(
            status=EvaluationRun.Status.DONE, finished_at=timezone.now()
        )
        run.refresh_from_db()
        runs.append(run)
    return runs
