"""Models of the survey app: the item bank, the questionnaires and the studies.

These are the shared vocabulary of the project: the benchmark and evaluation apps refer to
``Item``, ``Study``, ``Participant`` and ``ParticipantScore``.
"""

from .erasure import ErasureRecord
from .flow import Assignment, PageTiming, ParticipantAttempt
from .instruments import Instrument, InstrumentItem
from .item_bank import Item, ItemTranslation, Scenario, Source
from .prolific import BonusBatch, ProlificAction, ProlificStudy, ProlificSubmission
from .studies import (
    InstrumentResponse,
    ItemRating,
    Participant,
    ParticipantScore,
    Study,
)

__all__ = [
    "BonusBatch",
    "ProlificAction",
    "ProlificStudy",
    "ProlificSubmission",
    "Assignment",
    "ErasureRecord",
    "PageTiming",
    "ParticipantAttempt",
    "Instrument",
    "InstrumentItem",
    "InstrumentResponse",
    "Item",
    "ItemRating",
    "ItemTranslation",
    "Participant",
    "ParticipantScore",
    "Scenario",
    "Source",
    "Study",
]
