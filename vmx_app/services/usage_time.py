"""Time buckets of the usage API, with PostgreSQL's `date_trunc(unit, timestamptz, zone)` semantics so
SQLite (which calls `truncate` from SQL) and Python-filled empty buckets agree with PostgreSQL:
- minute and hour keep the moment's own UTC offset (a repeated hour at a DST change is two buckets);
- day, week (Monday), month and year recompute the offset of the local start: an ambiguous local time
  takes the later (standard-time) offset, a skipped one the offset before the change.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vmx_app.errors import Invalid

UNITS = ("minute", "hour", "day", "week", "month", "year")
FIXED_STEPS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1)}
SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"unknown time zone {name!r}", field="timeZone") from None


def _exists(wall: datetime, fold: int, tz: ZoneInfo) -> bool:
    candidate = wall.replace(tzinfo=tz, fold=fold)
    return candidate.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


def resolve(wall: datetime, tz: ZoneInfo) -> datetime:
    """A naive local time as an aware one, choosing the offset like PostgreSQL does."""
    early, late = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
    if early.utcoffset() == late.utcoffset():
        return early
    if _exists(wall, 0, tz) and _exists(wall, 1, tz):
        return late  # ambiguous (clocks went back): the later offset
    return early  # skipped (clocks went forward): fold=0 carries the offset before the change


def _wall_start(local: datetime, unit: str) -> datetime:
    wall = local.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        return wall - timedelta(days=wall.weekday())
    if unit == "month":
        return wall.replace(day=1)
    if unit == "year":
        return wall.replace(month=1, day=1)
    return wall


def truncate(moment: datetime, unit: str, zone_name: str) -> datetime:
    """The start of the bucket holding `moment` (aware), as an aware time in the zone."""
    tz = zone(zone_name)
    local = moment.astimezone(tz)
    if unit == "minute":
        return local.replace(second=0, microsecond=0)
    if unit == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    return resolve(_wall_start(local, unit), tz)


def _next_wall(wall: datetime, unit: str) -> datetime:
    if unit == "day":
        return wall + timedelta(days=1)
    if unit == "week":
        return wall + timedelta(days=7)
    if unit == "month":
        return wall.replace(year=wall.year + wall.month // 12, month=wall.month % 12 + 1)
    return wall.replace(year=wall.year + 1)


def buckets(start: datetime, end: datetime, unit: str, zone_name: str) -> Iterator[datetime]:
    """Every bucket start (UTC) whose bucket overlaps [start, end)."""
    first = truncate(start, unit, zone_name)
    if unit in FIXED_STEPS:
        step, at = FIXED_STEPS[unit], first.astimezone(UTC)
        while at < end:
            yield at
            at += step
        return
    tz = zone(zone_name)
    wall = _wall_start(first, unit)
    at = first.astimezone(UTC)
    while at < end:
        yield at
        wall = _next_wall(wall, unit)
        at = resolve(wall, tz).astimezone(UTC)


def bucket_count(start: datetime, end: datetime, unit: str) -> int:
    """An upper bound on the number of buckets, checked before any is generated."""
    seconds = max((end - start).total_seconds(), 0)
    per = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400, "month": 28 * 86400,
           "year": 365 * 86400}[unit]
    return int(seconds // per) + 2
