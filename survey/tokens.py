"""The participant's signed token: who they are and in which study (kept in the session and
repeated in every form, so that two tabs or a lost cookie still name the right person)."""

from __future__ import annotations

from django.core import signing
from django.utils.translation import gettext_lazy

from survey.errors import ForgedToken

TOKEN_SALT = "survey.participant-token"


def make_token(*, participant_id: int, study_id: int) -> str:
    return signing.dumps({"p": participant_id, "s": study_id}, salt=TOKEN_SALT)


def read_token(token: str | None) -> tuple[int, int]:
    """(participant id, study id) of a signed token; ``ForgedToken`` if missing or forged."""
    if not token:
        raise ForgedToken(
            gettext_lazy("Your session could not be identified. Please open the study link again.")
        )
    try:
        data = signing.loads(token, salt=TOKEN_SALT)
        return int(data["p"]), int(data["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise ForgedToken(
            gettext_lazy("This session token is not valid. Please open the study link again.")
        ) from exc
