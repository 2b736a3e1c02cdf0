"""The live study flow: item leases (assignments), attempts and per-page server times."""

from django.db import models
from django.utils import timezone

from .item_bank import Item
from .studies import Participant


class Assignment(models.Model):
    """One position in a participant's sequence: an item to rate (a lease) or an attention check.

    Item assignments are the leases of the balanced design: an item's load is the number of
    its assignments that are completed (the participant finished) or still active
    (not released and not expired). Attention checks have no item and hold the value the
    participant was told to pick and the value they picked.
    """

    class Kind(models.TextChoices):
        ITEM = "item", "Item"
        ATTENTION = "attention", "Attention check"

    # No single-column indexes on the foreign keys: the unique (participant, position) and
    # the (item, expires_at) lease index lead with them, and every index costs each write.
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="assignments", db_index=False
    )
    position = models.PositiveSmallIntegerField(help_text="1-based place in the sequence.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ITEM)
    item = models.ForeignKey(
        Item,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
        db_index=False,
    )
    expected_value = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Attention checks: the value the participant must pick."
    )
    given_value = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Attention checks: the value picked (final once given)."
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    released_at = models.DateTimeField(
        null=True, blank=True, help_text="Lease given back early (screened out, returned)."
    )
    completed_at = models.DateTimeField(
        null=True, blank=True, help_text="The participant completed the study."
    )
    shown_at = models.DateTimeField(null=True, blank=True, help_text="First time served.")
    answered_at = models.DateTimeField(null=True, blank=True, help_text="First answer stored.")

    class Meta:
        ordering = ["participant", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "position"], name="assignment_unique_position"
            ),
            models.UniqueConstraint(
                fields=["participant", "item"],
                condition=models.Q(item__isnull=False),
                name="assignment_unique_item",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="item", item__isnull=False)
                    | models.Q(kind="attention", item__isnull=True, expected_value__isnull=False)
                ),
                name="assignment_kind_consistent",
            ),
        ]
        indexes = [models.Index(fields=["item", "expires_at"], name="assignment_item_lease")]

    def __str__(self) -> str:
        what = self.item_id if self.kind == self.Kind.ITEM else "attention"
        return f"{self.participant_id}#{self.position} {what}"

    @property
    def is_attention_check(self) -> bool:
        return self.kind == self.Kind.ATTENTION

    @property
    def attention_passed(self) -> bool | None:
        if not self.is_attention_check or self.given_value is None:
            return None
        return self.given_value == self.expected_value


class ParticipantAttempt(models.Model):
    """One arrival of a participant (a Prolific SESSION_ID, or a resume of a plain link)."""

    # Indexed by the unique (participant, session_id).
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    session_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["participant", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "session_id"], name="attempt_unique_session"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} attempt {self.session_id or '-'}"


class PageTiming(models.Model):
    """Server-side time on a non-item page (consent, demographics, questionnaire pages)."""

    # Indexed by the unique (participant, page).
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="page_timings", db_index=False
    )
    page = models.CharField(max_length=40, help_text='e.g. "consent", "pvq_rr:3".')
    shown_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["participant", "shown_at"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "page"], name="page_timing_unique")
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.page}"
