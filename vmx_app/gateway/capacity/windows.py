"""UTC-aligned counting windows (DESIGN §6, §10): minute, hour, day, week (ISO, from Monday 00:00
UTC), month, lifetime. A window is named by its start, so every process derives the same counter key
for the same instant, and it ends at the next boundary (the `Retry-After` and `x-ratelimit-reset-*`
values)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime

PERIODS = ("minute", "hour", "day", "week", "month", "lifetime")
_FIXED = {"minute": 60, "hour": 3600, "day": 86400}
_EPOCH_MONDAY = 4 * 86400  # 1970-01-01 was a Thursday: Monday 1970-01-05 00:00 UTC


@dataclass(frozen=True, slots=True)
class Window:
    name: str  # the window's start as epoch seconds ("all" for lifetime)
    end: float | None  # epoch seconds; None for lifetime

    def seconds_left(self, now: float) -> float | None:
        return None if self.end is None else max(0.0, self.end - now)


def window_of(period: str, now: float) -> Window:
    """The window of `period` that contains the instant `now` (epoch seconds)."""
    size = _FIXED.get(period)
    if size is not None:
        start = int(now // size) * size
        return Window(str(start), float(start + size))
    if period == "week":
        start = int((now - _EPOCH_MONDAY) // 604800) * 604800 + _EPOCH_MONDAY
        return Window(str(start), float(start + 604800))
    if period == "month":
        at = datetime.fromtimestamp(now, UTC)
        year, month = at.year, at.month
        start = calendar.timegm((year, month, 1, 0, 0, 0))
        nxt = calendar.timegm((year + (month == 12), month % 12 + 1, 1, 0, 0, 0))
        return Window(str(start), float(nxt))
    if period == "lifetime":
        return Window("all", None)
    raise ValueError(f"unknown period {period!r}")


def duration_text(seconds: float) -> str:
    """OpenAI's reset format: `59s`, `1m30s`, `2h0m5s`, `250ms`."""
    if seconds < 1:
        return f"{max(0, int(seconds * 1000))}ms"
    s = int(round(seconds))
    hours, rest = divmod(s, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"
