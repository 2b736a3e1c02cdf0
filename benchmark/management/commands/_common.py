"""Helpers shared by the benchmark commands."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from survey.models import Study


def get_study(slug: str) -> Study:
    try:
        return Study.objects.get(slug=slug)
    except Study.DoesNotExist:
        known = ", ".join(Study.objects.order_by("slug").values_list("slug", flat=True))
        raise CommandError(f"no study {slug!r} (known: {known or 'none'})") from None


def write_text(path: str, text: str) -> Path:
    target = Path(path)
    if not target.parent.is_dir():
        raise CommandError(f"folder {target.parent} does not exist")
    target.write_text(text, encoding="utf-8")
    return target
