"""The working-day calendar: bank holidays as data, weekends, council closures, and counting."""
from datetime import date

import pytest

from casework import calendar
from casework.models import NonWorkingDay, NonWorkingKind
from casework.services.working_days import load_bank_holidays, non_working_day_add, non_working_day_withdraw

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_published_bank_holidays_are_held_and_a_reload_adds_nothing():
    assert NonWorkingDay.objects.get(day=date(2026, 12, 28)).name == "Boxing Day (observed)"
    assert load_bank_holidays(2020, 2035)[0] == 0


def test_bank_holidays_and_weekends_are_not_working_days():
    assert not calendar.is_working_day(date(2026, 12, 28))
    assert not calendar.is_working_day(date(2026, 12, 26))  # a Saturday and Boxing Day
    assert calendar.is_working_day(date(2026, 12, 29))
    assert calendar.why_not_working(date(2026, 12, 27)) == "Sunday"


def test_counting_working_days_over_christmas_and_easter():
    assert calendar.add_working_days(date(2026, 12, 24), 2) == date(2026, 12, 30)
    assert calendar.add_working_days(date(2027, 3, 25), 2) == date(2027, 3, 31)
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert calendar.next_working_day(date(2026, 12, 25)) == date(2026, 12, 29)
    assert calendar.previous_working_day(date(2026, 12, 28)) == date(2026, 12, 24)


def test_a_message_names_the_next_working_day():
    assert calendar.not_working_message(date(2026, 12, 28)) == (
        "28 December 2026 is not a working day (Boxing Day (observed)). "
        "The next working day is Tuesday 29 December 2026.")
    assert calendar.not_working_message(date(2026, 12, 29)) is None


def test_a_closure_day_counts_for_the_council_but_not_for_the_bank():
    officer = UserFactory()
    non_working_day_add(day=date(2026, 12, 31), name="Council closure", kind=NonWorkingKind.CLOSURE,
                        reason="Offices closed between Christmas and New Year", user=officer)
    assert calendar.is_working_day(date(2026, 12, 31))
    assert not calendar.is_working_day(date(2026, 12, 31), closures=True)
    due = calendar.working_due_date(date(2026, 12, 31))
    assert due.due == date(2027, 1, 4) and "Council closure" in due.sentence


def test_a_withdrawn_day_is_a_working_day_again_and_its_history_says_who_and_why():
    officer = UserFactory()
    day = NonWorkingDay.objects.get(day=date(2027, 5, 3))
    non_working_day_withdraw(day=day, reason="Moved by proclamation", user=officer)
    assert calendar.is_working_day(date(2027, 5, 3))
    assert day.history.first().reason == "Moved by proclamation"
    with pytest.raises(ValueError):
        non_working_day_withdraw(day=day, reason=" ", user=officer)
