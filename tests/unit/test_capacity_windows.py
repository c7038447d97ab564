"""UTC-aligned windows and the reset text of the x-ratelimit-reset-* headers."""

from __future__ import annotations

import calendar

import pytest

from vmx_app.gateway.capacity.windows import duration_text, window_of


def ts(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> float:
    return float(calendar.timegm((y, mo, d, h, mi, s)))


@pytest.mark.parametrize(("period", "now", "start", "end"), [
    ("minute", ts(2026, 12, 2, 10, 5, 59), ts(2026, 12, 2, 10, 5), ts(2026, 12, 2, 10, 6)),
    ("hour", ts(2026, 12, 2, 10, 59, 59), ts(2026, 12, 2, 10), ts(2026, 12, 2, 11)),
    ("day", ts(2026, 12, 2, 23, 59), ts(2026, 12, 2), ts(2026, 12, 3)),
    ("week", ts(2026, 12, 2, 12), ts(2026, 11, 30), ts(2026, 12, 7)),  # Wednesday -> Monday..Monday
    ("week", ts(2026, 11, 30, 0, 0, 0), ts(2026, 11, 30), ts(2026, 12, 7)),
    ("month", ts(2026, 12, 31, 23, 59, 59), ts(2026, 12, 1), ts(2027, 1, 1)),
    ("month", ts(2028, 2, 29, 12), ts(2028, 2, 1), ts(2028, 3, 1)),
])
def test_windows_are_utc_aligned(period: str, now: float, start: float, end: float) -> None:
    window = window_of(period, now)
    assert window.name == str(int(start)) and window.end == end
    assert window.seconds_left(now) == end - now


def test_lifetime_never_resets() -> None:
    window = window_of("lifetime", ts(2026, 1, 1))
    assert window.name == "all" and window.end is None and window.seconds_left(0) is None


@pytest.mark.parametrize(("seconds", "text"), [(0.25, "250ms"), (1, "1s"), (59.4, "59s"), (90, "1m30s"),
                                               (3725, "1h2m5s")])
def test_reset_text(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text
