"""Questionnaires: which instrument, and the wording of its items per language and form.

The structure and scoring key of each instrument ship as data in ``survey/instruments``;
the database holds only the wording, which is loaded from a file
(``manage.py load_instrument``) because questionnaire text belongs to its authors. An
instrument row is one instrument in one language (unique per code and language); a study
holds one row per instrument and language it offers.
"""

from django.db import models
from django.utils.translation import gettext

from survey.instruments.keys import INSTRUMENT_CODES, load_key
from survey.language_codes import SOURCE_LANGUAGE

from .item_bank import validate_language


class Instrument(models.Model):
    class Code(models.TextChoices):
        PVQ_RR = "pvq_rr", "PVQ-RR (57 items, 19 values)"
        PVQ21 = "pvq21", "PVQ-21 (21 items, 10 values)"
        BFI10 = "bfi10", "BFI-10 (10 items, Big Five)"

    code = models.CharField(max_length=10, choices=Code.choices)
    name = models.CharField(max_length=200)
    language = models.CharField(
        max_length=16,
        default=SOURCE_LANGUAGE,
        validators=[validate_language],
        help_text="The language of this wording (one row per instrument and language).",
    )
    wording_version = models.CharField(max_length=100, blank=True)
    is_placeholder = models.BooleanField(
        default=True,
        help_text="True while the wording is the project's stand-in text, not the licensed wording.",
    )
    instructions = models.TextField(blank=True)
    response_labels = models.JSONField(
        default=list,
        blank=True,
        help_text="The answer labels in this language, lowest first; empty: the key's own "
        "(English) labels.",
    )
    loaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["code", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "language"], name="instrument_unique_per_language"
            )
        ]

    def __str__(self) -> str:
        suffix = " [placeholder wording]" if self.is_placeholder else ""
        return f"{self.get_code_display()} [{self.language}]{suffix}"

    @property
    def labels(self) -> list[str]:
        """The answer labels participants see, lowest value first: the wording's own labels
        in its language when it has them, else the key's (English) labels through the
        message catalogue of the active language."""
        return list(self.response_labels) or [gettext(label) for label in self.key.response_labels]

    @property
    def key(self):
        """The shipped scoring key (``survey.instruments.keys.InstrumentKey``)."""
        return load_key(self.code)


assert set(INSTRUMENT_CODES) == {c.value for c in Instrument.Code}


class InstrumentItem(models.Model):
    # Indexed by the unique (instrument, form, number).
    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    form = models.CharField(max_length=10, help_text="male, female or neutral")
    number = models.PositiveSmallIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ["instrument", "form", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "form", "number"], name="instrument_item_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument.code} {self.form} #{self.number}"
