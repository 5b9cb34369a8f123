"""Cron expressions in a time zone, parsed by croniter (a well-kept parser with DST handling and an
optional seconds field): 5 fields, or 6 with seconds first (`*/10 * * * * *`), or an alias (`@hourly`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


class CronError(ValueError):
    """A cron expression or time zone that cannot be used; the message says what to write instead."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"unknown time zone {name!r}; use an IANA name such as UTC, Europe/Berlin or "
                        "America/New_York") from None


def check(expr: str, tz: str) -> None:
    """Raise CronError saying what is wrong with the expression or the zone."""
    _iter(expr, datetime.now(zone(tz)))


def _iter(expr: str, start: datetime) -> croniter:
    text = expr.strip()
    fields = text.split()
    if not (len(fields) in (5, 6) or (len(fields) == 1 and text.lower() in ALIASES)):
        raise CronError(f"cron {expr!r} has {len(fields)} fields; write 5 (minute hour day month weekday, e.g. "
                        "'*/5 * * * *') or 6 with seconds first (e.g. '*/10 * * * * *'), or an alias such as "
                        "@hourly")
    try:
        return croniter(text, start, second_at_beginning=len(fields) == 6)
    except (CroniterError, ValueError, KeyError) as exc:
        raise CronError(f"cron {expr!r} is not valid: {exc}") from None


def next_times(expr: str, tz: str, after: datetime, n: int) -> list[datetime]:
    """The next n ticks strictly after `after`, in the schedule's zone."""
    it = _iter(expr, after.astimezone(zone(tz)))
    return [it.get_next(datetime) for _ in range(n)]


def next_after(expr: str, tz: str, after: datetime) -> datetime:
    return next_times(expr, tz, after, 1)[0]


@dataclass(frozen=True)
class Due:
    fire: list[datetime]  # ticks to fire now, oldest first
    missed: int  # ticks passed over (skip) or beyond the catch-up limit
    next_fire_at: datetime  # the first tick after now


def due(expr: str, tz: str, *, first: datetime, now: datetime, grace: timedelta, misfire: str,
        catch_up_limit: int) -> Due:
    """Which ticks from `first` (the next tick not yet fired) up to `now` fire.

    Ticks at most `grace` late fire: the scheduler was only slow. Older ones were missed (nothing was
    firing: every dispatcher was down): `skip` fires none of them, `catch_up` the newest `catch_up_limit`.
    Walks back from `now`, so a long outage costs at most the limit's steps (and a capped count)."""
    fire: list[datetime] = []
    caught_up = 0
    keep = catch_up_limit if misfire == "catch_up" else 0
    missed = 0
    back = _iter(expr, (now + timedelta(microseconds=1)).astimezone(zone(tz)))  # a tick at `now` is due
    while True:
        t: datetime = back.get_prev(datetime)
        if t < first:
            break
        if now - t <= grace:
            fire.append(t)
        elif caught_up < keep:
            fire.append(t)
            caught_up += 1
        else:
            missed = _count_between(expr, tz, first, t) + 1  # this one and every older one
            break
    return Due(sorted(fire), missed, next_after(expr, tz, now))


def _count_between(expr: str, tz: str, first: datetime, before: datetime, cap: int = 1000) -> int:
    """Ticks in [first, before), counted up to `cap` (an outage of a per-second schedule is not walked)."""
    it = _iter(expr, (first - timedelta(microseconds=1)).astimezone(zone(tz)))
    n = 0
    while n < cap and it.get_next(datetime) < before:
        n += 1
    return n
