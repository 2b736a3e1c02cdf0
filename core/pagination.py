"""The API's pagination: DRF's limit/offset, with bounds the database can take.

DRF's ``LimitOffsetPagination`` passes any whole number through to SQL, so ``?offset=`` beyond
a 64-bit integer made PostgreSQL fail ("bigint out of range": a 500, found by schemathesis)
and SQLite overflow; a malformed value was silently read as 0. Here a malformed or
out-of-range ``limit`` or ``offset`` is refused with a 400 that names the parameter, and a
``limit`` above ``max_limit`` is capped (as DRF does). The schema states the bounds.
"""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

# The largest OFFSET PostgreSQL (bigint) and SQLite (64-bit integer) accept.
MAX_OFFSET = 2**63 - 1


def _bounded_int(request, name: str, *, minimum: int, maximum: int) -> int | None:
    """The query parameter ``name`` as an int in [minimum, maximum]; None when absent."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    digits = raw.strip()
    # Digits only, no longer than the maximum's (int() of a huge digit string is slow).
    valid = digits.isascii() and digits.isdigit() and len(digits) <= len(str(maximum))
    if not valid or not minimum <= int(digits) <= maximum:
        raise ValidationError(
            {name: [f"{name} must be a whole number from {minimum} to {maximum}."]}
        )
    return int(digits)


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 1000

    def get_limit(self, request) -> int:
        # Above max_limit, capped (DRF's behaviour); the bound only protects the database.
        limit = _bounded_int(request, self.limit_query_param, minimum=1, maximum=MAX_OFFSET)
        if limit is None:
            return self.default_limit
        return min(limit, self.max_limit)

    def get_offset(self, request) -> int:
        offset = _bounded_int(request, self.offset_query_param, minimum=0, maximum=MAX_OFFSET)
        return offset or 0

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": MAX_OFFSET},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
