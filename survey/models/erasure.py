"""The audit trail of participants' data erased on request (right to erasure)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ErasureRecord(models.Model):
    """One participant's data erased: when, by whom, how they were identified, what went.

    Holds no personal data: not the panel id, the pseudonym, demographics or any answer;
    only counts of what was deleted and the study it belonged to. The participant's row and
    everything hanging from it are gone; this row is what remains to show the request was
    honoured.
    """

    class IdentifiedBy(models.TextChoices):
        PANEL_ID = "panel_id", "Prolific (or panel) id"
        PARTICIPANT_CODE = "participant_code", "Participant code (shown at the end of the study)"
        ADMIN_SELECTION = "admin_selection", "Selected by an admin"

    study = models.ForeignKey(
        "survey.Study", null=True, blank=True, on_delete=models.SET_NULL, related_name="erasures"
    )
    study_slug = models.SlugField(help_text="Kept if the study itself is deleted later.")
    erased_at = models.DateTimeField(default=timezone.now)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    identified_by = models.CharField(max_length=20, choices=IdentifiedBy.choices)
    participant_status = models.CharField(
        max_length=15, help_text="The participant's status when erased (completed, returned, ...)."
    )
    deleted = models.JSONField(
        default=dict, help_text="How many rows of each kind were deleted (ratings, answers, ...)."
    )
    note = models.TextField(
        blank=True, help_text="Reference of the request, without personal data."
    )

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"Erasure #{self.pk} in {self.study_slug} at {self.erased_at:%Y-%m-%d %H:%M}"
