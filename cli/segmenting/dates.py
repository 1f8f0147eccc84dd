"""Relative dates of the segment language, resolved against the as-of date.

Segments say ``within: 3 months`` or ``before: -6 months``; these are kept
as ``Span`` / ``RelativeDate`` values in the model and turned into concrete
dates only at compile time, so one parsed segment can be run at any as-of
date. Month arithmetic is calendar arithmetic, clamped to the month's last
day (31 March minus one month is 28 or 29 February), as DuckDB does.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

UNITS = ("day", "week", "month", "year")
_SPAN = re.compile(r"^\s*(\d+)\s*(day|week|month|year)s?\s*$", re.IGNORECASE)
_RELATIVE = re.compile(r"^\s*([+-])\s*(\d+)\s*(day|week|month|year)s?\s*(?:ago)?\s*$", re.IGNORECASE)
_AGO = re.compile(r"^\s*(\d+)\s*(day|week|month|year)s?\s+ago\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """A length of time: ``3 months``."""

    count: int
    unit: str

    def __str__(self) -> str:
        return f"{self.count} {self.unit}{'' if self.count == 1 else 's'}"

    def back_from(self, day: date) -> date:
        """``day`` minus this span."""
        return shift(day, -self.count, self.unit)


@dataclass(frozen=True)
class RelativeDate:
    """A date relative to the as-of date: ``-6 months``, ``today``."""

    count: int  # signed
    unit: str

    def __str__(self) -> str:
        if self.count == 0:
            return "today"
        return f"{self.count:+d} {self.unit}{'' if abs(self.count) == 1 else 's'}"

    def resolve(self, as_of: date) -> date:
        return shift(as_of, self.count, self.unit)


def shift(day: date, count: int, unit: str) -> date:
    """``day`` moved by ``count`` units (calendar months and years, clamped).

    A shift beyond the calendar (``within: 99999 years``) stops at its first
    or last day, which every date passes.

    >>> shift(date(2026, 3, 31), -1, "month")
    datetime.date(2026, 2, 28)
    >>> shift(date(2026, 3, 31), -99999, "year")
    datetime.date(1, 1, 1)
    """
    try:
        if unit == "day":
            return day + timedelta(days=count)
        if unit == "week":
            return day + timedelta(weeks=count)
        months = count * (12 if unit == "year" else 1)
        index = day.year * 12 + (day.month - 1) + months
        year, month = divmod(index, 12)
        month += 1
        return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    except (OverflowError, ValueError):
        return date.max if count > 0 else date.min


def next_day(day: date) -> date:
    """The day after ``day`` (the calendar's last day stays itself): the end of an inclusive window."""
    return day if day == date.max else day + timedelta(days=1)


def parse_span(value: object) -> Span | None:
    """``"3 months"`` -> Span(3, "month"); None when ``value`` is not a span."""
    if isinstance(value, str):
        match = _SPAN.match(value)
        if match:
            return Span(int(match.group(1)), match.group(2).lower())
    return None


def parse_date_value(value: object) -> date | RelativeDate | None:
    """A date operand: a YAML date, an ISO string, ``today`` or ``-6 months``; None otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower() == "today":
        return RelativeDate(0, "day")
    match = _RELATIVE.match(text)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        return RelativeDate(sign * int(match.group(2)), match.group(3).lower())
    match = _AGO.match(text)
    if match:
        return RelativeDate(-int(match.group(1)), match.group(2).lower())
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def resolve(value: date | RelativeDate, as_of: date) -> date:
    """A concrete date for a date operand."""
    return value.resolve(as_of) if isinstance(value, RelativeDate) else value


def birthday_keys(as_of: date, days: int) -> list[int]:
    """``month * 100 + day`` of every day from ``as_of`` to ``as_of + days`` inclusive.

    29 February birthdays are celebrated on 28 February in common years.

    >>> birthday_keys(date(2026, 2, 27), 1)
    [227, 228, 229]
    """
    keys: list[int] = []
    for offset in range(min(days, 366) + 1):
        day = as_of + timedelta(days=offset)
        keys.append(day.month * 100 + day.day)
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            keys.append(229)
    return sorted(set(keys))
