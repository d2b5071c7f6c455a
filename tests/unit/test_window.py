"""The weekly window: by default Saturday 00:01 to Sunday 23:59 on the configured zone's wall clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plugin.config.schedule import WeeklySchedule
from plugin.runs.jobs import window_around

NY = "America/New_York"


def in_window(now: datetime, zone: str) -> bool:
    return WeeklySchedule(timezone=zone).in_window(now)


def next_weekly_run(now: datetime, zone: str) -> datetime:
    return WeeklySchedule(timezone=zone).next_run(now)


def test_window_opens_saturday_0001_local_and_closes_sunday_2359() -> None:
    opens, closes = window_around(datetime(2026, 6, 10, 12, tzinfo=UTC), NY)  # a Wednesday
    assert (opens.isoformat(), closes.isoformat()) == (
        "2026-06-13T00:01:00-04:00",
        "2026-06-14T23:59:00-04:00",
    )


def test_inside_and_outside_the_window() -> None:
    assert in_window(datetime(2026, 6, 13, 4, 2, tzinfo=UTC), NY)  # Sat 00:02 EDT
    assert not in_window(datetime(2026, 6, 13, 4, 0, tzinfo=UTC), NY)  # Sat 00:00 EDT
    assert in_window(datetime(2026, 6, 15, 3, 59, tzinfo=UTC), NY)  # Sun 23:59 EDT
    assert not in_window(datetime(2026, 6, 15, 4, 0, tzinfo=UTC), NY)  # Mon 00:00 EDT


def test_next_run_is_now_inside_a_window_else_the_next_opening() -> None:
    inside = datetime(2026, 6, 14, 12, tzinfo=UTC)
    assert next_weekly_run(inside, NY) == inside
    assert next_weekly_run(datetime(2026, 6, 15, 12, tzinfo=UTC), NY) == datetime(
        2026, 6, 20, 4, 1, tzinfo=UTC
    )


def test_dst_spring_forward_week_keeps_local_0001() -> None:
    # US DST starts Sunday 2026-03-08 02:00: the window opens Sat 00:01 EST, closes Sun 23:59 EDT.
    opens, closes = window_around(datetime(2026, 3, 5, tzinfo=UTC), NY)
    assert opens.astimezone(UTC) == datetime(2026, 3, 7, 5, 1, tzinfo=UTC)
    assert closes.astimezone(UTC) == datetime(2026, 3, 9, 3, 59, tzinfo=UTC)
    # and the window after it opens at 00:01 EDT, a 4-hour UTC offset
    assert next_weekly_run(datetime(2026, 3, 10, tzinfo=UTC), NY) == datetime(2026, 3, 14, 4, 1, tzinfo=UTC)


def test_dst_fall_back_week_keeps_local_0001() -> None:
    # US DST ends Sunday 2026-11-01 02:00: opens Sat 00:01 EDT, closes Sun 23:59 EST.
    opens, closes = window_around(datetime(2026, 10, 29, tzinfo=UTC), NY)
    assert opens.astimezone(UTC) == datetime(2026, 10, 31, 4, 1, tzinfo=UTC)
    assert closes.astimezone(UTC) == datetime(2026, 11, 2, 4, 59, tzinfo=UTC)


def test_europe_and_a_zone_without_dst() -> None:
    opens, _ = window_around(datetime(2026, 3, 28, 0, 30, tzinfo=UTC), "Europe/Berlin")  # Sat 01:30 CET
    assert opens.astimezone(UTC) == datetime(2026, 3, 27, 23, 1, tzinfo=UTC)
    assert in_window(datetime(2026, 3, 29, 21, 58, tzinfo=UTC), "Europe/Berlin")  # Sun 23:58 CEST
    assert not in_window(datetime(2026, 3, 29, 22, 0, tzinfo=UTC), "Europe/Berlin")
    assert window_around(datetime(2026, 1, 1, tzinfo=UTC), "UTC")[0] == datetime(2026, 1, 3, 0, 1, tzinfo=UTC)


# -- a schedule set on the page (``plugin.config.schedule.WeeklySchedule``) ------------------------


def test_a_saved_window_on_other_days_and_hours_in_its_own_zone() -> None:
    schedule = WeeklySchedule.parse(
        {"start_day": "Friday", "start": "22:00", "end_day": "0", "end": "6:30", "timezone": "Europe/Berlin"}
    )
    assert (schedule.start_day, schedule.start, schedule.end_day, schedule.end) == (4, "22:00", 0, "06:30")
    opens, closes = schedule.window_around(datetime(2026, 6, 14, 12, tzinfo=UTC))  # a Sunday
    assert opens.isoformat() == "2026-06-12T22:00:00+02:00"  # Friday night, across the weekend
    assert closes.isoformat() == "2026-06-15T06:30:00+02:00"  # to Monday morning
    assert not schedule.in_window(datetime(2026, 6, 15, 4, 31, tzinfo=UTC))  # Monday 06:31 CEST
    assert schedule.describe() == "Friday 22:00 to Monday 06:30 (Europe/Berlin)"


def test_a_window_on_one_day_that_has_not_opened_yet_today() -> None:
    schedule = WeeklySchedule(start_day=2, start="10:00", end_day=2, end="12:00", timezone="America/Chicago")
    wednesday_morning = datetime(2026, 6, 17, 14, 0, tzinfo=UTC)  # 09:00 CDT
    assert schedule.next_run(wednesday_morning) == datetime(2026, 6, 17, 15, 0, tzinfo=UTC)
    assert schedule.in_window(datetime(2026, 6, 17, 16, 59, tzinfo=UTC))
    after = datetime(2026, 6, 17, 17, 1, tzinfo=UTC)  # 12:01 CDT
    assert schedule.next_run(after) == datetime(2026, 6, 24, 15, 0, tzinfo=UTC)


def test_the_default_and_a_missing_zone() -> None:
    assert WeeklySchedule.from_dict({}, "America/Chicago") == WeeklySchedule(timezone="America/Chicago")
    saved = WeeklySchedule.parse({"timezone": ""}, default_timezone="Asia/Tokyo")
    assert saved.describe() == "Saturday 00:01 to Sunday 23:59 (Asia/Tokyo)"


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"timezone": "Mars/Olympus"}, "not an IANA time zone"),
        ({"timezone": "../../etc/passwd"}, "not an IANA time zone"),
        ({"start": "24:00"}, "HH:MM"),
        ({"end": "noon"}, "HH:MM"),
        ({"start_day": "Caturday"}, "not a day of the week"),
        ({"start_day": 7}, "not a day of the week"),
        ({"start_day": 3, "start": "09:00", "end_day": 3, "end": "09:00"}, "another time"),
    ],
)
def test_a_schedule_the_page_refuses(values: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        WeeklySchedule.parse(values)
