"""``{% load minimums %}``: show a statistic, or "too few: n = 2 of 20" with its reason.

``{{ value|statistic:3 }}`` renders a number with 3 decimals (like ``floatformat``), "—" for
None/NaN, and for a ``benchmark.minimums.TooFew`` (or its stored JSON) a
``<span class="too-few" title="reason">too few: n = 2 of 20</span>``. ``{{ value|too_few_reason }}``
gives the reason alone (empty for a number).
"""

from __future__ import annotations

import math

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import format_html

from benchmark.minimums import TooFew

register = template.Library()


def _too_few(value) -> TooFew | None:
    return value if isinstance(value, TooFew) else TooFew.from_json(value)


@register.filter
def statistic(value, digits=3):
    found = _too_few(value)
    if found is not None:
        return format_html('<span class="too-few" title="{}">{}</span>', found.reason, str(found))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, int | float):
        return floatformat(value, digits)
    return value


@register.filter
def too_few_reason(value) -> str:
    found = _too_few(value)
    return found.reason if found is not None else ""


@register.filter
def is_too_few(value) -> bool:
    return _too_few(value) is not None
