"""The weekly sync window an admin sets on the page: a start day and time, an end day and time, and
an IANA time zone. Default: the article's Saturday 00:01 to Sunday 23:59.

The zone: what the admin chose on the page (it offers the admin's browser zone, read with
``Intl.DateTimeFormat().resolvedOptions().timeZone``), else ``KCC_TIMEZONE``, else UTC. Times
are wall-clock times of that zone, computed with ``zoneinfo``: a DST change moves nothing (a start
that falls in a skipped hour is taken as ``zoneinfo`` reads it, the hour after). A window lasts
from one minute to a whole week less one minute: the end is the first end day and time after the
start (an end equal to the start is refused).

Pure: plain values in, aware datetimes out. ``plugin.runs.jobs`` schedules the weekly run from it;
the admin page sets and shows it (``plugin.admin.schedule_view``).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_HH_MM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    """When the weekly run may run; days are 0 (Monday) to 6 (Sunday), times ``HH:MM``."""

    start_day: int = 5  # Saturday
    start: str = "00:01"
    end_day: int = 6  # Sunday
    end: str = "23:59"
    timezone: str = "UTC"

    @classmethod
    def parse(cls, values: Mapping[str, Any], default_timezone: str = "UTC") -> WeeklySchedule:
        """From the page's form or the API's JSON (days as numbers or names); ``ValueError`` in words."""
        zone = str(values.get("timezone") or "").strip() or default_timezone
        schedule = cls(
            start_day=_day(values.get("start_day", 5)),
            start=_time(values.get("start", "00:01"), "start"),
            end_day=_day(values.get("end_day", 6)),
            end=_time(values.get("end", "23:59"), "end"),
            timezone=valid_timezone(zone),
        )
        if (schedule.start_day, schedule.start) == (schedule.end_day, schedule.end):
            raise ValueError("The window must end at another time than it starts.")
        return schedule

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], default_timezone: str) -> WeeklySchedule:
        """A stored schedule (``{}``: the default days), with ``default_timezone`` when it has no zone."""
        try:
            return cls.parse(data, default_timezone)
        except ValueError:
            return cls(timezone=default_timezone)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """ "Saturday 00:01 to Sunday 23:59 (America/Chicago)"."""
        return f"{DAYS[self.start_day]} {self.start} to {DAYS[self.end_day]} {self.end} ({self.timezone})"

    def window_around(self, now: datetime) -> tuple[datetime, datetime]:
        """The window containing ``now``, or else the next one: (opens, closes), aware, in the zone."""
        zone = zoneinfo.ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        start_date = local.date() - timedelta(days=(local.weekday() - self.start_day) % 7)
        opens, closes = self._window(start_date, zone)
        if opens > local:  # today is the start day, but its start is still to come
            opens, closes = self._window(start_date - timedelta(days=7), zone)
        if local > closes:
            opens, closes = self._window(opens.date() + timedelta(days=7), zone)
        return opens, closes

    def _window(self, start_date: date, zone: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
        opens = datetime.combine(start_date, _clock(self.start), tzinfo=zone)
        end_date = start_date + timedelta(days=(self.end_day - self.start_day) % 7)
        closes = datetime.combine(end_date, _clock(self.end), tzinfo=zone)
        if closes <= opens:
            closes = datetime.combine(end_date + timedelta(days=7), _clock(self.end), tzinfo=zone)
        return opens, closes

    def in_window(self, now: datetime) -> bool:
        opens, closes = self.window_around(now)
        return opens <= now <= closes

    def next_run(self, now: datetime) -> datetime:
        """When the next weekly run should start, in UTC: now if inside a window, else the next opening."""
        opens, _ = self.window_around(now)
        return max(now, opens).astimezone(UTC)


def valid_timezone(name: str) -> str:
    """``name`` when it is an IANA time zone this machine knows, else ``ValueError`` in words."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"{name!r} is not an IANA time zone name (e.g. America/Chicago, Europe/Berlin, UTC)."
        ) from exc
    return name


def _day(value: object) -> int:
    text = str(value).strip()
    if text.isdigit() and 0 <= int(text) <= 6:
        return int(text)
    names = [day.casefold() for day in DAYS]
    if text.casefold() in names:
        return names.index(text.casefold())
    raise ValueError(f"{text!r} is not a day of the week.")


def _time(value: object, what: str) -> str:
    match = _HH_MM.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(f"The {what} time must be HH:MM (24-hour), not {str(value)!r}.")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
