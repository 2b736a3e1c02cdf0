"""Why a Prolific operation was refused, as typed errors (no HTTP codes here)."""

from __future__ import annotations


class ProlificOperationError(Exception):
    """Base: ``message`` is shown to the researcher."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotConfigured(ProlificOperationError):
    """The study has no Prolific settings, no Prolific study yet, or the token is not set."""


class InvalidRequest(ProlificOperationError):
    """What was asked breaks a rule before anything is sent (category, message, amount)."""


class StateConflict(ProlificOperationError):
    """Someone else is doing it already, or it was done (a draft exists, a batch is paid)."""


class ProlificRefused(ProlificOperationError):
    """Prolific answered with an error; the action log holds its answer."""
