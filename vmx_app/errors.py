"""Domain errors: what a use case refuses, with no knowledge of HTTP or of the console.

Services raise these; the API maps each class to a status and the `{"error": …}` shape in one
exception handler (`api/errors.py`), the console maps them to messages in one helper. `code` is the
machine-readable reason (`not_found`, `last_admin`, …), `field` the path of the offending input
(`fallbackModels[1].connectionId`) when there is one.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every refusal a use case can answer with."""

    default_code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None,
                 details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.details = details


class Invalid(DomainError):
    """The input is wrong (a 400): `field` names where."""

    default_code = "invalid_request"


class NotFound(DomainError):
    default_code = "not_found"


class Conflict(DomainError):
    """The input is fine but clashes with stored state (a duplicate name, a resource in use)."""

    default_code = "conflict"


class Unauthenticated(DomainError):
    """No valid identity (bad credentials, expired session)."""

    default_code = "unauthorized"


class Forbidden(DomainError):
    """A known principal that may not do this."""

    default_code = "forbidden"


class TooLarge(DomainError):
    """A body or value over a size limit (a 413)."""

    default_code = "payload_too_large"


class RateLimited(DomainError):
    """Too many attempts; `retry_after` in seconds when known."""

    default_code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int | None = None, code: str | None = None,
                 field: str | None = None, details: Any = None) -> None:
        super().__init__(message, code=code, field=field, details=details)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A dependency outside VM-X did not answer (identity provider, database)."""

    default_code = "unavailable"


def not_found(what: str) -> NotFound:
    return NotFound(f"{what} not found")
