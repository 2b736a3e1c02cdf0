"""What the participant flow refuses, as typed errors (no HTTP here).

Services and selectors raise these with a message the participant can read; the views map
each class to an HTTP status (``survey.http.STATUS_OF``), the API and commands to their own
answers. Nothing is written before one is raised.
"""

from __future__ import annotations


class FlowError(Exception):
    """A request the flow refuses; ``message`` is shown to the participant."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadAnswer(FlowError):
    """The request itself is malformed: a value off the scale, an unknown question, nothing sent."""


class ForgedToken(FlowError):
    """The session token (or signed form) is missing, forged, of another study or of nobody."""


class NotInStudy(FlowError):
    """The question, page or questionnaire asked for is not part of the participant's study."""


class NotYourTurn(FlowError):
    """An earlier step is still unanswered."""


class SessionEnded(FlowError):
    """The participant's session is over (completed, screened out, returned, declined)."""


class Expired(SessionEnded):
    """The time limit has just passed: this answer was not stored."""


class StudyClosed(FlowError):
    """The study takes no participants now (draft, paused, closed, imported, not ready)."""


class StudyFull(StudyClosed):
    """Every pool item has all the ratings it needs."""


class Incomplete(FlowError):
    """Completion was asked for while answers are missing."""


class NobodyToErase(Exception):
    """An erasure request named no stored participant (nothing was deleted)."""


class ItemPoolRefused(Exception):
    """An item pool file with problems: nothing was imported. ``problems`` lists them, each
    naming its row (``survey.item_csv.RowError``)."""

    def __init__(self, problems: list):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems
