"""Writes to the working-day calendar: the published bank holidays loaded, closure days added, a day
withdrawn or restored. Each change records who, when and why (the table's history)."""
from datetime import date

from django.db import transaction

from casework.models import NonWorkingDay, NonWorkingKind

SOURCE = "GOV.UK bank holidays for England and Wales (holidays package {version})"


def published_bank_holidays(first_year: int, last_year: int) -> dict[date, str]:
    """England and Wales bank holidays as published, read from the kept ``holidays`` package."""
    import holidays
    calendar = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1),
                                         language="en_GB")
    return dict(sorted(calendar.items()))


@transaction.atomic
def load_bank_holidays(first_year: int, last_year: int, user=None) -> tuple[int, int]:
    """Adds the published bank holidays that are not yet held; a day already held (or withdrawn by a
    finance administrator) is left as it is. Returns (added, already held). A re-run adds nothing."""
    import holidays
    added = held = 0
    existing = set(NonWorkingDay.objects.filter(day__year__gte=first_year, day__year__lte=last_year)
                   .values_list("day", flat=True))
    for day, name in published_bank_holidays(first_year, last_year).items():
        if day in existing:
            held += 1
            continue
        NonWorkingDay.objects.create(day=day, name=name, kind=NonWorkingKind.BANK_HOLIDAY,
                                     source=SOURCE.format(version=holidays.__version__), changed_by=user,
                                     reason="Loaded from the published list")
        added += 1
    return added, held


@transaction.atomic
def non_working_day_add(*, day: date, name: str, kind: str, reason: str, user) -> NonWorkingDay:
    """Adds a closure day (or a bank holiday the published list does not yet hold), or restores a
    withdrawn day."""
    if not reason.strip():
        raise ValueError("Say why the day is added.")
    row = NonWorkingDay.objects.select_for_update().filter(day=day).first()
    if row is None:
        return NonWorkingDay.objects.create(day=day, name=name, kind=kind, source=f"Added by {user}",
                                            reason=reason, changed_by=user)
    row.name, row.kind, row.withdrawn, row.reason, row.changed_by = name, kind, False, reason, user
    row.save()
    return row


@transaction.atomic
def non_working_day_withdraw(*, day: NonWorkingDay, reason: str, user) -> NonWorkingDay:
    """Makes a held day a working day again (it stays in the table, marked withdrawn, with why)."""
    if not reason.strip():
        raise ValueError("Say why the day is withdrawn.")
    day.withdrawn, day.reason, day.changed_by = True, reason, user
    day.save()
    return day
