"""Plain-text renderings of values for state rows (the UI shows strings, computed server-side)."""

from __future__ import annotations

from datetime import UTC, datetime


def when(value: datetime | None, *, never: str = "—") -> str:
    """`2026-11-23 15:04 UTC`: one fixed zone, so every viewer reads the same time."""
    if value is None:
        return never
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def csv_list(text: str) -> list[str]:
    """`"a, b,,c"` → `["a", "b", "c"]`: labels and similar lists typed into one field."""
    return [part.strip() for part in text.split(",") if part.strip()]
