"""trigger/cron.py: which ticks fire, by the misfire policy, without any server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dymunim.trigger import cron

T0 = datetime(2026, 1, 1, tzinfo=UTC)
GRACE = timedelta(seconds=1)


def seconds(ts: list[datetime]) -> list[int]:
    return [int((t - T0).total_seconds()) for t in ts]


def test_ticks_a_little_late_all_fire_whatever_the_policy() -> None:
    for policy in ("skip", "catch_up"):
        d = cron.due("* * * * * *", "UTC", first=T0 + timedelta(seconds=9), now=T0 + timedelta(seconds=10.4),
                     grace=timedelta(seconds=2), misfire=policy, catch_up_limit=1)
        assert seconds(d.fire) == [9, 10] and d.missed == 0
        assert d.next_fire_at == T0 + timedelta(seconds=11)


def test_skip_fires_none_of_the_ticks_missed_during_an_outage() -> None:
    d = cron.due("* * * * * *", "UTC", first=T0, now=T0 + timedelta(seconds=10.5), grace=GRACE, misfire="skip",
                 catch_up_limit=3)
    assert seconds(d.fire) == [10]  # within the grace: the scheduler was only slow
    assert d.missed == 10


def test_catch_up_fires_the_newest_missed_ticks_up_to_its_limit() -> None:
    d = cron.due("* * * * * *", "UTC", first=T0, now=T0 + timedelta(seconds=10.5), grace=GRACE,
                 misfire="catch_up", catch_up_limit=3)
    assert seconds(d.fire) == [7, 8, 9, 10]
    assert d.missed == 7


def test_a_long_outage_is_not_walked_tick_by_tick() -> None:
    d = cron.due("* * * * * *", "UTC", first=T0, now=T0 + timedelta(days=30), grace=GRACE, misfire="skip",
                 catch_up_limit=1)
    assert d.missed == 1001  # counted to a cap, not 2.6 million steps
    assert d.next_fire_at == T0 + timedelta(days=30, seconds=1)


def test_five_fields_are_minutes_and_the_zone_is_honoured() -> None:
    after = datetime(2026, 3, 28, 12, tzinfo=UTC)
    times = cron.next_times("30 2 * * *", "Europe/Berlin", after, 2)
    # 2026-03-29 has no 02:30 in Berlin (clocks jump from 02:00 to 03:00)
    assert [t.astimezone(UTC).isoformat() for t in times] == ["2026-03-29T01:00:00+00:00",
                                                              "2026-03-30T00:30:00+00:00"]
    assert cron.next_times("@hourly", "UTC", T0, 1) == [T0 + timedelta(hours=1)]


@pytest.mark.parametrize(("expr", "zone", "says"), [
    ("* * *", "UTC", "has 3 fields"),
    ("* * * * * * *", "UTC", "has 7 fields"),
    ("61 * * * *", "UTC", "not valid"),
    ("* * * * mondays", "UTC", "not valid"),
    ("* * * * *", "Mars/Olympus", "unknown time zone"),
])
def test_what_cannot_be_used_is_refused_saying_why(expr: str, zone: str, says: str) -> None:
    with pytest.raises(cron.CronError, match=says):
        cron.check(expr, zone)
