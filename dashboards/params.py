"""The dashboards' query parameters, declared once for the pages and the API (a Django form,
checked in Python: no value reaches the database).

An unknown or malformed value is refused — the pages answer 400 with the form's message, the
API a 400 ``{"<parameter>": [...]}`` naming the values it takes — instead of falling back to
a default (which showed other numbers under the value asked for) or failing in the database
(a slug with a NUL byte). An absent or empty value takes the parameter's default (see each
field's ``help_text``, which the API's OpenAPI schema shows).

A view states the parameters it reads (``takes``); the ones whose values come from the
database get their choices from the view (``choices``: a list, or a callable evaluated only
when the parameter is given, so a request without it costs no query).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence

from django import forms
from django.core.exceptions import ValidationError

from survey.instruments import dimensions as dims
from survey.models import Study

from . import demographics as demo
from .selectors import DASHBOARD_FAMILIES, ModelFilters

# The values an error message lists at most (a deployment may hold many studies or runs).
LISTED_CHOICES = 20

SHAPES = ("box", "violin")
KINDS = ("live", "reference")
WEIGHTS = ("open", "closed")
# Every dimension the dashboards show (the items page's ``dimension``).
ALL_DIMENSIONS = tuple(d for f in DASHBOARD_FAMILIES for d in dims.FAMILIES[f])

# The compare and humans pages' filter bar (and the humans-vs-models endpoint).
MODEL_FILTERS = (
    "provider", "model_family", "size_min", "size_max", "open", "date_from", "date_to",
    "released_from", "released_to", "item_set", "kind", "sweep", "model",
)  # fmt: skip

Choices = Sequence | Callable[[], Sequence]


def _one_of(values: Sequence[str]) -> str:
    values = list(values)
    shown = ", ".join(values[:LISTED_CHOICES])
    more = f" and {len(values) - LISTED_CHOICES} more" if len(values) > LISTED_CHOICES else ""
    return f"{shown}{more}" if values else "none"


class OneOf(forms.ChoiceField):
    """A value among ``choices`` (plain values or ``(value, label)`` pairs); the message of an
    unknown one names the ``what`` and lists the values. ``casefold``: any case matches (and
    the value as spelt is kept, as the filter it feeds ignores case). ``schema_type``: the
    type the OpenAPI schema gives the values (ids are integers)."""

    def __init__(self, *, what: str, choices: Choices = (), casefold: bool = False,
                 schema_type: type = str, **kwargs):  # fmt: skip
        kwargs.setdefault("required", False)
        super().__init__(choices=self._pairs(choices), **kwargs)
        self.what, self.casefold, self.schema_type = what, casefold, schema_type
        self.given_as = ""  # how the required message names the value, when not ``what``
        self.static = not callable(choices) and bool(choices)

    @staticmethod
    def _pairs(choices: Choices):
        if callable(choices):
            # Looked up once per request however often the field reads its choices.
            return functools.cache(lambda: OneOf._pairs(choices()))
        return [c if isinstance(c, tuple) else (str(c), str(c)) for c in choices]

    def to_python(self, value) -> str:
        # Spaces around a value never mattered to the filters; they do not make it unknown.
        return "" if value in self.empty_values else str(value).strip()

    def set_choices(self, choices: Choices) -> None:
        self.choices = self._pairs(choices)

    def values(self) -> list[str]:
        return [str(value) for value, _ in self.choices]

    def valid_value(self, value) -> bool:
        if self.casefold:
            return str(value).casefold() in {v.casefold() for v in self.values()}
        return str(value) in self.values()

    def validate(self, value) -> None:
        if value in self.empty_values:
            if self.required:
                raise ValidationError(
                    f"Give the {self.given_as or self.what} (one of {_one_of(self.values())}).",
                    code="required",
                )
            return
        if not self.valid_value(value):
            raise ValidationError(
                f"Unknown {self.what} {value!r}: choose one of {_one_of(self.values())}.",
                code="invalid_choice",
            )


class ManyOf(OneOf):
    """Repeatable (``?model=a&model=b``): each value among the choices; empty ones dropped."""

    widget = forms.SelectMultiple

    def to_python(self, value) -> list[str]:
        return [str(v).strip() for v in value or () if str(v).strip()]

    def validate(self, value) -> None:
        for one in value:
            super().validate(one)


class Number(forms.FloatField):
    """A finite number (``1e3`` and ``2.5`` are; ``inf``, ``nan`` and ``big`` are not)."""

    schema_type = float
    default_error_messages = {"invalid": "Not a number: give one such as 7 or 2.5."}


class Day(forms.DateField):
    """A calendar date written YYYY-MM-DD (the date inputs' format, and ISO 8601's)."""

    schema_type = dt.date
    input_formats = ["%Y-%m-%d"]
    default_error_messages = {"invalid": "Not a date: use YYYY-MM-DD."}


class DashboardQuery(forms.Form):
    """The declared parameters. ``family`` is always read; ``study`` when the view passes
    the ``studies`` it can show (``study_required``: no default; ``study_what`` names them
    in the message); every other parameter when the view lists it in ``takes`` (those
    without static choices also need theirs in ``choices``). After :meth:`is_valid`, the
    ``chosen_*`` properties and :meth:`model_filters` are the values to use."""

    family = OneOf(
        what="family", choices=[(f, dims.FAMILY_LABELS[f]) for f in DASHBOARD_FAMILIES],
        help_text="Dimension family (default: schwartz).",
    )  # fmt: skip
    study = OneOf(what="study", help_text="Study slug (default: the page's first study).")
    # The bias page and the persona-comparisons endpoint.
    run = OneOf(
        what="persona run", schema_type=int,
        help_text="A finished run with personas (default on the page: the newest).",
    )  # fmt: skip
    field = OneOf(
        what="field", choices=demo.FIELDS, help_text="Demographic field to group by "
        "(default: gender).",
    )  # fmt: skip
    group = OneOf(what="group", help_text="Group whose profile is drawn (default: the first).")
    # The human-portraits endpoint: one portrait per group of this field (default: none).
    group_by = OneOf(
        what="field", choices=demo.FIELDS,
        help_text="Add one portrait per group of this demographic field (default: none).",
    )  # fmt: skip
    # The model portrait page.
    persona = OneOf(
        what="persona", help_text="Persona key (default: no persona, else the run's first)."
    )
    # The humans page.
    shape = OneOf(
        what="shape", choices=SHAPES, help_text="Participants drawn as boxes or violins "
        "(default: box).",
    )  # fmt: skip
    # The items page.
    dimension = OneOf(
        what="dimension", choices=ALL_DIMENSIONS,
        help_text="Only items in an item set that measure it (default: any).",
    )  # fmt: skip
    source = OneOf(what="source", help_text="Source slug (default: any).")
    # The model filters (compare and humans pages, humans-vs-models endpoint).
    provider = OneOf(what="provider", help_text="Provider (default: any).")
    model_family = OneOf(
        what="model family", casefold=True,
        help_text="Model card family, any case (default: any).",
    )  # fmt: skip
    size_min = Number(required=False, help_text="Billions of parameters, at least.")
    size_max = Number(required=False, help_text="Billions of parameters, at most.")
    open = OneOf(
        what="weights", choices=WEIGHTS, help_text="Open or closed weights (default: both)."
    )
    date_from = Day(required=False, help_text="Run finished on or after (YYYY-MM-DD).")
    date_to = Day(required=False, help_text="Run finished on or before (YYYY-MM-DD).")
    released_from = Day(required=False, help_text="Model released on or after (YYYY-MM-DD).")
    released_to = Day(required=False, help_text="Model released on or before (YYYY-MM-DD).")
    item_set = OneOf(
        what="item set", schema_type=int,
        help_text="Validated item set (default: the one most models ran on).",
    )  # fmt: skip
    kind = OneOf(
        what="kind", choices=KINDS,
        help_text="Our live runs or the published reference runs (default: both).",
    )  # fmt: skip
    sweep = OneOf(what="sweep", schema_type=int, help_text="Only the runs of this sweep.")
    model = ManyOf(what="model", help_text="Model names (repeatable; default: all).")

    ALWAYS = ("family",)

    def __init__(
        self, data, *, studies: Sequence[Study] | None = None, study_required: bool = False,
        study_what: str = "study", takes: Iterable[str] = (),
        choices: Mapping[str, Choices] | None = None, required: Iterable[str] = (),
    ):  # fmt: skip
        super().__init__(data)
        self.studies = list(studies) if studies is not None else None
        kept = {*self.ALWAYS, *takes, *(["study"] if self.studies is not None else [])}
        for name in list(self.fields):
            if name not in kept:
                del self.fields[name]
        for name, values in (choices or {}).items():
            self.fields[name].set_choices(values)
        for name in required:
            self.fields[name].required = True
        if self.studies is None:
            return
        field = self.fields["study"]
        field.set_choices([(s.slug, s.title) for s in self.studies])
        field.what, field.given_as = study_what, "study's slug"
        field.required = study_required

    def _given(self, name: str) -> str:
        return self.cleaned_data.get(name) or ""

    @property
    def chosen_family(self) -> str:
        return self._given("family") or dims.SCHWARTZ

    @property
    def chosen_study(self) -> Study | None:
        """The study asked for, else the view's first (None when it has none)."""
        slug = self._given("study")
        for study in self.studies or []:
            if study.slug == slug:
                return study
        return self.studies[0] if self.studies else None

    @property
    def study_given(self) -> bool:
        return bool(self._given("study"))

    @property
    def chosen_field(self) -> str:
        return self._given("field") or "gender"

    @property
    def chosen_shape(self) -> str:
        return self._given("shape") or "box"

    def chosen(self, name: str) -> str:
        """The value given, else the first of the parameter's choices ("" when none)."""
        values = self.fields[name].values()
        return self._given(name) or (values[0] if values else "")

    def model_filters(self) -> ModelFilters:
        data = self.cleaned_data
        number = {"item_set": data.get("item_set"), "sweep": data.get("sweep")}
        return ModelFilters(
            provider=self._given("provider"),
            family=self._given("model_family"),
            size_min=data.get("size_min"),
            size_max=data.get("size_max"),
            open_weights={"open": True, "closed": False}.get(self._given("open")),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            released_from=data.get("released_from"),
            released_to=data.get("released_to"),
            item_set=int(number["item_set"]) if number["item_set"] else None,
            kind=self._given("kind"),
            sweep=int(number["sweep"]) if number["sweep"] else None,
            models=tuple(data.get("model") or ()),
        )

    def messages(self) -> list[str]:
        """The errors as ``"name: message"`` lines (the pages' 400)."""
        return [f"{name}: {message}" for name, errors in self.errors.items() for message in errors]


def model_filter_choices(choices: Mapping[str, list]) -> dict[str, Choices]:
    """The filter bar's database choices (:func:`selectors.model_choices`) as the form's."""
    return {
        "provider": choices["providers"],
        "model_family": choices["model_families"],
        "item_set": [(str(pk), f"{name} v{version}") for pk, name, version in choices["item_sets"]],
        "sweep": [(str(pk), name) for pk, name in choices["sweeps"]],
    }
