"""The console's one translation of a refusal into the text a user reads (never a stack trace)."""

from __future__ import annotations

from pydantic import ValidationError

from vmx_app.errors import Conflict, DomainError, Invalid


def error_text(exc: Exception) -> str:
    """A domain refusal's message (with the offending fields for bad input), or pydantic's field errors.
    Anything else is a bug and is raised again."""
    if isinstance(exc, DomainError):
        details = exc.details if isinstance(exc.details, list) else []
        fields = [f"{d.get('field')}: {d.get('message')}" for d in details
                  if isinstance(d, dict) and d.get("field")]
        return f"{exc.message} ({'; '.join(fields)})" if fields and isinstance(exc, Invalid | Conflict) else exc.message
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()))
            parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid")))
        return "; ".join(parts) or "Invalid input"
    raise exc
