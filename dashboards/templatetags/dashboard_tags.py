"""Template helpers of the dashboards: ``{% chart spec "id" "file-name" %}`` and labels."""

from django import template

from survey.instruments.dimensions import label

register = template.Library()


@register.inclusion_tag("dashboards/_chart.html")
def chart(spec: dict, chart_id: str, filename: str = "", caption: str = "") -> dict:
    """A chart frame, its download buttons and its figure JSON (escaped by json_script)."""
    return {
        "chart": spec,
        "chart_id": chart_id,
        "spec_id": f"{chart_id}-spec",
        "filename": filename or chart_id,
        "caption": caption,
    }


@register.filter
def dimension_label(name: str) -> str:
    return label(str(name))


@register.filter
def signed(value, digits: int = 2) -> str:
    if value is None or value != value:  # NaN
        return "–"
    return f"{float(value):+.{int(digits)}f}"


@register.filter
def number(value, digits: int = 2) -> str:
    if value is None or value != value:
        return "–"
    return f"{float(value):.{int(digits)}f}"
