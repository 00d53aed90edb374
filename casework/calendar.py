"""The working-day calendar for England and Wales: one answer to "is this a working day" and "the Nth
working day after".

A working day is a weekday that is not a bank holiday in England and Wales and, where the caller
counts council working days (``closures=True``), not a council closure day. Bank holidays and closure
days are data (`casework.models.NonWorkingDay`), loaded by ``manage.py load_bank_holidays`` and kept
by a finance administrator on the working-days page; nothing here holds a date.

Banks (Bacs) and courts count bank holidays only, so closures are off by default. Dates that a
regulation counts in calendar days (the Pre-Action Protocol's reply period, Breathing Space,
limitation) do not use this module except for the deemed day of service, which CPR 6.26 counts in
business days.

For many dates at once, build one `WorkingCalendar` for the span, which reads the table once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import dateformat

# A span of this many days past the last date asked about is read with it: ten working days never
# need more than twenty calendar days even over Christmas and Easter.
_SLACK = 21


@dataclass(frozen=True)
class WorkingCalendar:
    """The non-working days between two dates, read once."""
    start: date
    end: date
    holidays: dict  # date -> name (bank holidays)
    closures: dict  # date -> name (council closure days)

    @classmethod
    def between(cls, start: date, end: date) -> "WorkingCalendar":
        from casework.models import NonWorkingDay, NonWorkingKind
        holidays, closures = {}, {}
        rows = NonWorkingDay.objects.filter(day__gte=start, day__lte=end, withdrawn=False).values_list(
            "day", "name", "kind")
        for day, name, kind in rows:
            (closures if kind == NonWorkingKind.CLOSURE else holidays)[day] = name
        return cls(start, end, holidays, closures)

    def _covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    def why_not_working(self, day: date, closures: bool = False) -> str | None:
        """None for a working day; otherwise what the day is ("Saturday", "Boxing Day")."""
        if not self._covers(day):
            return WorkingCalendar.between(day - timedelta(days=_SLACK), day + timedelta(days=_SLACK)) \
                .why_not_working(day, closures)
        if day.weekday() >= 5:
            return dateformat.format(day, "l")
        if day in self.holidays:
            return self.holidays[day]
        if closures and day in self.closures:
            return self.closures[day]
        return None

    def is_working_day(self, day: date, closures: bool = False) -> bool:
        return self.why_not_working(day, closures) is None

    def next_working_day(self, day: date, closures: bool = False) -> date:
        """The day itself if it is a working day, otherwise the first working day after it."""
        while not self.is_working_day(day, closures):
            day += timedelta(days=1)
        return day

    def previous_working_day(self, day: date, closures: bool = False) -> date:
        """The day itself if it is a working day, otherwise the last working day before it."""
        while not self.is_working_day(day, closures):
            day -= timedelta(days=1)
        return day

    def add_working_days(self, day: date, n: int, closures: bool = False) -> date:
        """The nth working day after ``day`` (n >= 0; 0 gives ``day`` rolled to a working day)."""
        if n < 0:
            raise ValueError("count working days forward only")
        if n == 0:
            return self.next_working_day(day, closures)
        while n:
            day += timedelta(days=1)
            if self.is_working_day(day, closures):
                n -= 1
        return day


def _calendar_for(day: date, n: int = 0) -> WorkingCalendar:
    return WorkingCalendar.between(day - timedelta(days=7), day + timedelta(days=2 * n + _SLACK))


def is_working_day(day: date, closures: bool = False) -> bool:
    return _calendar_for(day).is_working_day(day, closures)


def why_not_working(day: date, closures: bool = False) -> str | None:
    return _calendar_for(day).why_not_working(day, closures)


def next_working_day(day: date, closures: bool = False) -> date:
    return _calendar_for(day).next_working_day(day, closures)


def previous_working_day(day: date, closures: bool = False) -> date:
    return WorkingCalendar.between(day - timedelta(days=_SLACK), day + timedelta(days=1)) \
        .previous_working_day(day, closures)


def add_working_days(day: date, n: int, closures: bool = False) -> date:
    return _calendar_for(day, n).add_working_days(day, n, closures)


def not_working_message(day: date, closures: bool = False) -> str | None:
    """A form's message for a day that is not a working day, naming the next working day; else None."""
    why = why_not_working(day, closures)
    if why is None:
        return None
    following = next_working_day(day, closures)
    return (f"{day:%d %B %Y} is not a working day ({why}). "
            f"The next working day is {dateformat.format(following, 'l j F Y')}.")


@dataclass(frozen=True)
class DueDate:
    """A due date rolled forward to a working day, and the sentence that says so when it moved."""
    due: date
    asked: date
    why_moved: str | None

    @property
    def moved(self) -> bool:
        return self.due != self.asked

    @property
    def sentence(self) -> str:
        if not self.moved:
            return ""
        return (f"{self.asked:%d %B %Y} is not a working day ({self.why_moved}), "
                f"so payment is due on the next working day, {dateformat.format(self.due, 'l j F Y')}.")


def working_due_date(day: date, calendar: WorkingCalendar | None = None) -> DueDate:
    """A due date that falls on a non-working day moves to the next working day (council closures count)."""
    calendar = calendar or _calendar_for(day)
    due = calendar.next_working_day(day, closures=True)
    return DueDate(due=due, asked=day, why_moved=calendar.why_not_working(day, closures=True))


@dataclass(frozen=True)
class BacsCycle:
    """The three days of a Bacs payment (PP-08): the file is submitted on the input day, processed on
    the next working day, and the money reaches the payee's account on the entry day, two working
    days after input. Banks count bank holidays only, so council closures do not move these."""
    input_day: date
    processing_day: date
    entry_day: date


def bacs_cycle(input_day: date, calendar: WorkingCalendar | None = None) -> BacsCycle:
    """The Bacs days for a file submitted on ``input_day``, which must itself be a working day
    (refuse other days with `not_working_message`). Thursday 24 December 2026: Christmas Day, the
    weekend and the Boxing Day holiday on Monday 28 December are skipped, so processing is Tuesday
    29 December and entry Wednesday 30 December 2026."""
    calendar = calendar or _calendar_for(input_day, 2)
    if not calendar.is_working_day(input_day):
        raise ValueError(not_working_message(input_day))
    return BacsCycle(input_day, calendar.add_working_days(input_day, 1), calendar.add_working_days(input_day, 2))
