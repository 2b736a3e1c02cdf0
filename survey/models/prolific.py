"""A study's life on Prolific: its settings there, its submissions, our actions, bonus batches."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from .studies import Participant, ParticipantQuerySet, Study

# A claim on a bonus set-up older than this was left by a process that died mid-call.
STALE_CLAIM = timedelta(minutes=10)


class ProlificStudy(models.Model):
    """How a platform study is run on Prolific. The API token is never stored: only the *name*
    of the environment variable that holds it."""

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="prolific")
    api_token_env = models.CharField(
        max_length=100,
        default="PROLIFIC_API_TOKEN",
        help_text="Name of the environment variable holding the Prolific API token.",
    )
    reward_cents = models.PositiveIntegerField(
        default=0, help_text="Reward per participant in cents/pence of the account's currency."
    )
    places = models.PositiveIntegerField(default=0, help_text="Participants to recruit.")
    estimated_minutes = models.PositiveIntegerField(default=20, validators=[MinValueValidator(1)])
    prolific_study_id = models.CharField(max_length=64, blank=True, db_index=True)
    prolific_status = models.CharField(
        max_length=30, blank=True, help_text="The study's status as Prolific last reported it."
    )
    # Set while a draft is being created on Prolific (creating one is not idempotent).
    creating_since = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Prolific study"

    def __str__(self) -> str:
        return f"{self.study.slug} on Prolific ({self.prolific_study_id or 'not created'})"


class ProlificSubmissionQuerySet(models.QuerySet):
    def reviewable(self) -> ProlificSubmissionQuerySet:
        """Submissions Prolific still lets us approve or reject."""
        return self.filter(status__in=ProlificSubmission.REVIEWABLE)

    def approvable_without_flags(self) -> ProlificSubmissionQuerySet:
        """Reviewable submissions of participants who completed the study without a quality
        flag: what "approve all completed without flags" approves."""
        return (
            self.reviewable()
            .filter(participant__status=Participant.Status.COMPLETED)
            .exclude(ParticipantQuerySet.flagged_condition("participant__"))
        )


class ProlificSubmission(models.Model):
    """A submission as Prolific reports it (listed, or pushed by its webhook)."""

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        AWAITING_REVIEW = "AWAITING REVIEW", "Awaiting review"
        APPROVED = "APPROVED", "Approved"
        REJECTED = "REJECTED", "Rejected"
        RETURNED = "RETURNED", "Returned"
        TIMED_OUT = "TIMED-OUT", "Timed out"
        SCREENED_OUT = "SCREENED OUT", "Screened out"
        PARTIALLY_APPROVED = "PARTIALLY APPROVED", "Partially approved"

    REVIEWABLE = (Status.AWAITING_REVIEW,)

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="prolific_submissions")
    participant = models.ForeignKey(
        Participant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="prolific_submissions",
    )
    submission_id = models.CharField(max_length=64, unique=True)
    prolific_participant_id = models.CharField(max_length=64)
    status = models.CharField(max_length=30)
    study_code = models.CharField(
        max_length=64, blank=True, help_text="Code the participant entered."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    time_taken = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds.")
    return_requested_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProlificSubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["study", "started_at"]

    def __str__(self) -> str:
        return f"{self.submission_id} {self.status}"

    @property
    def is_reviewable(self) -> bool:
        return self.status in self.REVIEWABLE


class ProlificAction(models.Model):
    """One thing the platform asked Prolific to do: who, when, what was sent, what came back."""

    class Kind(models.TextChoices):
        CREATE_DRAFT = "create_draft", "Create draft study"
        TRANSITION = "transition", "Publish / pause / stop"
        SYNC = "sync", "Read submissions"
        APPROVE = "approve", "Approve"
        REJECT = "reject", "Reject"
        REQUEST_RETURN = "request_return", "Request return"
        BONUS_SET_UP = "bonus_set_up", "Set up bonuses"
        BONUS_PAY = "bonus_pay", "Pay bonuses"
        BONUS_CHECK = "bonus_check", "Bonus payment checked on Prolific"
        BONUS_RECONCILE = "bonus_reconcile", "Bonus outcome confirmed by hand"

    class Outcome(models.TextChoices):
        OK = "ok", "Done"
        REFUSED = "refused", "Refused by Prolific"
        FAILED = "failed", "Temporary failure"
        UNKNOWN = "unknown", "Outcome unknown"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="prolific_actions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    submission_ids = models.JSONField(default=list, blank=True)
    # Each request as sent (never the token) with Prolific's status and answer, in order.
    exchanges = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.outcome}) at {self.created_at:%Y-%m-%d %H:%M}"


class BonusBatchQuerySet(models.QuerySet):
    def stale_set_up(self, *, now=None) -> BonusBatchQuerySet:
        """Batches whose set-up was claimed by a process that never finished it."""
        return self.filter(
            state=BonusBatch.State.SETTING_UP, claimed_at__lt=(now or timezone.now()) - STALE_CLAIM
        )

    def outcome_unknown(self, *, now=None) -> BonusBatchQuerySet:
        """Batches whose payment may or may not have happened: the pay call got no clear
        answer, its payer died mid-call, or a check of Prolific died mid-way."""
        S = BonusBatch.State
        stale = (now or timezone.now()) - STALE_CLAIM
        return self.filter(
            models.Q(state=S.UNKNOWN)
            | models.Q(state__in=[S.PAYING, S.CHECKING], claimed_at__lt=stale)
        )


class BonusBatch(models.Model):
    """Bonuses to pay once. Recorded before anything is sent to Prolific; its state moves
    only by conditional updates, so two requests (a double click, a retry, a worker restarted
    after a crash) can never both pay it.

    recorded → setting_up → set_up (Prolific's bulk id stored) → paying → paid;
    paying ends in ``unknown`` when the pay call got no clear answer (it may have paid).
    An unknown batch is never paid on a click or a retry: it is ``checking`` while the bonuses
    Prolific lists on its submissions are read (``services.check_bonus_batch``, also run by
    Celery beat), then ``paid`` if they are listed, back to ``set_up`` and paid once more only
    if none is listed after the settling time, else ``unknown`` again; or a person who
    checked on Prolific confirms it either way.
    """

    class State(models.TextChoices):
        RECORDED = "recorded", "Recorded"
        SETTING_UP = "setting_up", "Being set up on Prolific"
        SET_UP = "set_up", "Set up on Prolific, not paid"
        PAYING = "paying", "Being paid"
        PAID = "paid", "Paid"
        UNKNOWN = "unknown", "Outcome unknown: check on Prolific"
        CHECKING = "checking", "Being checked on Prolific"
        REFUSED = "refused", "Refused by Prolific"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="bonus_batches")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The form's one-time key: a second submission of the same form finds this batch.
    request_key = models.CharField(max_length=64, unique=True)
    # [[submission_id, "amount"], ...] in the study's currency (decimal strings).
    bonuses = models.JSONField(default=list)
    state = models.CharField(max_length=12, choices=State.choices, default=State.RECORDED)
    claimed_at = models.DateTimeField(null=True, blank=True)
    prolific_bulk_id = models.CharField(max_length=64, blank=True)
    total_charged = models.JSONField(
        default=dict, blank=True, help_text="Prolific's amount, fees and VAT for the set-up."
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    # When the (non-idempotent) pay call was last sent: Prolific pays asynchronously, so a
    # bonus not listed soon after proves nothing.
    pay_sent_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    check_note = models.TextField(blank=True, help_text="What the last check found.")
    error = models.TextField(blank=True)

    objects = BonusBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"bonus batch {self.pk} ({self.state})"

    def csv(self) -> str:
        """Prolific's ``csv_bonuses``: ``<submission_id>,<amount>`` lines."""
        return "\n".join(f"{sid},{amount}" for sid, amount in self.bonuses)

    @property
    def total(self) -> Decimal:
        return sum((Decimal(amount) for _, amount in self.bonuses), Decimal("0"))
