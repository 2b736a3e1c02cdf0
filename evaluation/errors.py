"""Why an evaluation operation was refused: plain exceptions without HTTP status codes.

The run lifecycle (:mod:`evaluation.lifecycle`) raises them; each adapter maps them to its own
answer (views: a message or a form error; the API: 400/404/409/503; commands: CommandError).
Every message is meant for the person who asked, as it stands.
"""

from __future__ import annotations


class EvaluationError(Exception):
    """An evaluation operation refused; ``str(error)`` says why."""

    @property
    def messages(self) -> list[str]:
        return [str(self)]


class InvalidRunSettings(EvaluationError):
    """The settings of a new run cannot be run (unknown variant, missing templates, ...)."""


class RunNotFound(EvaluationError):
    """No run with that id."""


class RunStateConflict(EvaluationError):
    """The run's status does not allow the operation now (already queued, being scored, ...)."""


class QueueUnavailable(EvaluationError):
    """The task queue (broker) cannot be reached: nothing was queued."""


class InvalidSweep(EvaluationError):
    """A sweep file that cannot be run; the message names the bad key or combination.
    Nothing of the sweep was created."""
