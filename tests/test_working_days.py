"""Dates counted in working days (Bacs, due dates) and the regulation diary (Breathing Space and
limitation dates as tasks), and the working-days page."""
from datetime import date

import pytest
from django.urls import reverse

from casework import calendar
from casework.models import Case, NonWorkingDay, NonWorkingKind, Task
from casework.roles import Role
from casework.runs.services import run_start
from casework.runs.tasks import scheduled_business_date
from casework.services import DomainError
from casework.services.working_days import non_working_day_add
from debt.letters import build as invoice_letter_values
from debt.models import BreathingSpaceRule, LimitationWarningLevel
from debt.models.relief import MoratoriumKind
from debt.relief_apps import ready as relief_ready
from debt.services import billing as billing_services
from debt.services import relief as relief_services
from provider_payments.forms import RunStartForm
from provider_payments.models import PaymentSchedule
from provider_payments.services.payment_run import scheduled_due_day

from .factories import CaseFactory, ClientFactory, UserFactory
from .factories_debt import InvoiceFactory
from .test_debt_billing import PERIOD, add, cycle, home_care, officer, requests_for  # noqa: F401 - fixtures

relief_ready()  # registers the relief jobs, the regulation diary among them

pytestmark = pytest.mark.django_db


def _date_fields(name: str, day: date) -> dict:
    return {f"{name}_0": str(day.day), f"{name}_1": str(day.month), f"{name}_2": str(day.year)}


# Bacs ------------------------------------------------------------------------------------------

def test_a_bacs_run_on_28_december_2026_is_refused_naming_tuesday_29_december_2026():
    form = RunStartForm(_date_fields("business_date", date(2026, 12, 28)))
    assert not form.is_valid()
    assert form.errors["business_date"] == [
        "28 December 2026 is not a working day (Boxing Day (observed)). "
        "The next working day is Tuesday 29 December 2026."]
    assert RunStartForm(_date_fields("business_date", date(2026, 12, 29))).is_valid()
    with pytest.raises(DomainError, match="The next working day is Tuesday 29 December 2026"):
        run_start(job="provider_payments", business_date=date(2026, 12, 28), trigger="test")


def test_the_run_form_page_refuses_a_weekend_run_date(client_as):
    page = client_as(Role.TEAM_LEADER).post(reverse("provider_payments:run_start"),
                                            _date_fields("business_date", date(2027, 3, 27)))
    assert page.status_code == 200
    assert "27 March 2027 is not a working day (Saturday). The next working day is Tuesday 30 March 2027." \
        in page.content.decode()


def test_bacs_payment_dates_over_christmas_2026_and_easter_2027():
    christmas = calendar.bacs_cycle(date(2026, 12, 24))
    assert (christmas.processing_day, christmas.entry_day) == (date(2026, 12, 29), date(2026, 12, 30))
    easter = calendar.bacs_cycle(date(2027, 3, 25))  # Good Friday 26 and Easter Monday 29 March skipped
    assert (easter.processing_day, easter.entry_day) == (date(2027, 3, 30), date(2027, 3, 31))
    plain = calendar.bacs_cycle(date(2026, 4, 20))
    assert (plain.processing_day, plain.entry_day) == (date(2026, 4, 21), date(2026, 4, 22))
    with pytest.raises(ValueError, match="Tuesday 29 December 2026"):
        calendar.bacs_cycle(date(2026, 12, 28))


def test_banks_ignore_council_closures_but_due_dates_do_not():
    closure = non_working_day_add(day=date(2026, 12, 24), name="Council closure", kind=NonWorkingKind.CLOSURE,
                                  reason="Christmas Eve closure", user=UserFactory())
    assert calendar.bacs_cycle(date(2026, 12, 24)).entry_day == date(2026, 12, 30)
    due = calendar.working_due_date(date(2026, 12, 24))
    assert due.due == date(2026, 12, 29) and due.why_moved == closure.name


def test_a_schedule_due_on_easter_monday_is_paid_by_the_next_working_days_run_and_beat_rolls_to_it():
    schedule = PaymentSchedule(name="Four-weekly", frequency=28, anchor_date=date(2027, 3, 1))
    assert schedule.is_due(date(2027, 3, 29))  # Easter Monday
    assert scheduled_due_day(schedule, date(2027, 3, 30)) == date(2027, 3, 29)
    assert scheduled_due_day(schedule, date(2027, 3, 31)) is None
    assert scheduled_due_day(schedule, date(2027, 3, 26)) is None  # Good Friday is before it
    assert scheduled_business_date("provider_payments", date(2027, 3, 29)) == date(2027, 3, 30)
    assert scheduled_business_date("provider_payments", date(2027, 3, 30)) == date(2027, 3, 30)
    assert scheduled_business_date("statements", date(2027, 3, 29)) == date(2027, 3, 29)


# Due dates --------------------------------------------------------------------------------------

def test_an_invoice_due_on_christmas_day_is_due_on_the_next_working_day_and_its_letter_says_so(
        cycle, home_care, officer):
    client = ClientFactory()
    add(client, home_care, "99.85", date(2026, 4, 6), officer)
    # 14 days' terms from Friday 11 December 2026 give Christmas Day; Boxing Day (observed) is next.
    invoice = billing_services.invoices_issue(requests_for([client]), issue_date=date(2026, 12, 11), actor=officer)[0]
    invoice.refresh_from_db()
    assert invoice.due_date == date(2026, 12, 29)
    sentence = ("25 December 2026 is not a working day (Christmas Day), so payment is due on the next working "
                "day, Tuesday 29 December 2026.")
    values = invoice_letter_values(client, invoice.issue_date, recipient=None, invoice=invoice)
    assert values["next_step"] == f"Please pay £399.40 by 29 December 2026. {sentence}"
    assert values["due_date_note"] == sentence


def test_an_invoice_due_on_a_working_day_has_no_sentence(cycle, home_care, officer):
    client = ClientFactory()
    add(client, home_care, "99.85", date(2026, 4, 6), officer)
    invoice = billing_services.invoices_issue(requests_for([client]), issue_date=date(2026, 11, 2), actor=officer)[0]
    values = invoice_letter_values(client, invoice.issue_date, recipient=None, invoice=invoice)
    assert invoice.due_date == date(2026, 11, 16) and values["due_date_note"] == ""


# Regulation diary -------------------------------------------------------------------------------

@pytest.fixture
def bs_rule():
    return BreathingSpaceRule.objects.update_or_create(
        effective_from=date(2021, 5, 4), defaults={"standard_days": 60, "review_request_days": 19, "crisis_extra_days": 30,
                                                   "midway_review_from_day": 25, "midway_review_to_day": 35})[0]


@pytest.fixture
def levels():
    for days, urgent in ((180, False), (90, False), (30, True)):
        LimitationWarningLevel.objects.get_or_create(effective_from=date(2015, 4, 1), days_before=days,
                                                     defaults={"urgent": urgent})


def diary_run(on: date, capture) -> None:
    with capture(execute=True):
        run = run_start(job="regulation_diary", business_date=on, trigger="test")
    run.refresh_from_db()
    assert run.status == "completed", run.error


def test_we7_breathing_space_dates_are_shown_and_diarised_once(bs_rule, client_as, django_capture_on_commit_callbacks):
    officer = UserFactory(username="bs-case-officer", roles=[Role.INCOME_OFFICER])
    client = ClientFactory()
    case = CaseFactory(client=client, assigned_officer=officer)
    moratorium = relief_services.moratorium_record(
        client=client, kind=MoratoriumKind.STANDARD, register_entry_date=date(2025, 5, 14), adviser_name="Sam Adviser",
        adviser_organisation="StepChange", insolvency_reference="BS123", actor=officer)
    diary_run(date(2025, 5, 16), django_capture_on_commit_callbacks)
    tasks = {t.key: t for t in Task.objects.filter(case=case)}
    key = f"breathing_space:{moratorium.pk}"
    assert {k: t.due_date for k, t in tasks.items()} == {
        f"{key}:review_request": date(2025, 6, 3), f"{key}:midway_review": date(2025, 6, 8), f"{key}:end": date(2025, 7, 14)}
    assert "8 June to 18 June 2025" in tasks[f"{key}:midway_review"].title
    diary_run(date(2025, 5, 17), django_capture_on_commit_callbacks)  # the next night's run adds nothing
    assert Task.objects.filter(key__startswith=key).count() == 3
    page = client_as(Role.INCOME_OFFICER).get(reverse("debt:moratorium_detail", args=[moratorium.pk])).content.decode()
    assert "3 June 2025" in page and "8 June 2025 to 18 June 2025" in page and "14 July 2025" in page


def test_limitation_warnings_at_each_level_once_and_the_last_urgent_first_in_red(
        levels, django_capture_on_commit_callbacks):
    from .conftest import sign_in
    from django.test import Client as HttpClient

    officer = UserFactory(username="limitation-officer", roles=[Role.INCOME_OFFICER])
    client = ClientFactory()
    case = CaseFactory(client=client, assigned_officer=officer)
    invoice = InvoiceFactory(client=client, issue_date=date(2020, 3, 2), due_date=date(2020, 3, 23))  # WE-8
    diary_run(date(2025, 9, 20), django_capture_on_commit_callbacks)  # 184 days before: no level reached
    assert not Task.objects.filter(case=case).exists()
    diary_run(date(2025, 9, 25), django_capture_on_commit_callbacks)  # 179 days before 23 March 2026
    assert list(Task.objects.filter(case=case).values_list("key", "urgent")) == [(f"limitation:{invoice.pk}:180", False)]
    diary_run(date(2026, 2, 21), django_capture_on_commit_callbacks)  # 30 days before
    rows = list(Task.objects.filter(case=case).values_list("key", "due_date", "urgent"))
    assert rows == [(f"limitation:{invoice.pk}:30", date(2026, 2, 21), True),
                    (f"limitation:{invoice.pk}:180", date(2025, 9, 24), False),
                    (f"limitation:{invoice.pk}:90", date(2025, 12, 23), False)]
    diary_run(date(2026, 2, 22), django_capture_on_commit_callbacks)
    assert Task.objects.filter(case=case).count() == 3
    page = sign_in(HttpClient(), officer).get(reverse("casework:my_work")).content.decode()
    first_task = page.index(f"Limitation: invoice {invoice.number}")
    assert page.index("govuk-tag--red\">Urgent") < first_task < page.index("(180 days")
    assert "(30 days&#x27; warning)" in page[first_task:page.index("(180 days")]


# The working-days page --------------------------------------------------------------------------

def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("role,allowed", [(Role.FINANCE_ADMINISTRATOR, True), (Role.TEAM_LEADER, True),
                                          (Role.AUDITOR, True), (Role.INCOME_OFFICER, False),
                                          (Role.PROVIDER_PAYMENT_OFFICER, False)])
def test_the_working_days_page_is_for_finance_administrators_team_leaders_and_auditors(client_as, role, allowed):
    http = client_as(role)
    page = http.get(reverse("casework:working_days") + "?year=2026")
    assert page.status_code == (200 if allowed else 403)
    if allowed:
        text = page.content.decode()
        assert "Friday 25 December 2026" in text and "Christmas Day" in text and "GOV.UK bank holidays" in text
        assert ("Add a non-working day" in text) == (role == Role.FINANCE_ADMINISTRATOR)
        csv = _body(http.get(reverse("casework:working_days") + "?year=2026&format=csv")).decode()
        assert "2026-12-28,Monday,Boxing Day (observed)" in csv
        xlsx = http.get(reverse("casework:working_days") + "?year=2026&format=xlsx")
        assert xlsx.status_code == 200 and _body(xlsx)[:2] == b"PK"
    assert (http.get(reverse("casework:working_day_add")).status_code == 200) == (role == Role.FINANCE_ADMINISTRATOR)


def test_a_finance_administrator_adds_a_closure_withdraws_and_restores_a_day(client_as):
    http = client_as(Role.FINANCE_ADMINISTRATOR)
    refused = http.post(reverse("casework:working_day_add"), {**_date_fields("day", date(2026, 12, 24)),
                                                              "name": "Christmas Eve closure", "kind": "closure",
                                                              "reason": ""})
    assert refused.status_code == 200 and not NonWorkingDay.objects.filter(day=date(2026, 12, 24)).exists()
    added = http.post(reverse("casework:working_day_add"), {**_date_fields("day", date(2026, 12, 24)),
                                                            "name": "Christmas Eve closure", "kind": "closure",
                                                            "reason": "Agreed by the council's leadership team"})
    assert added.status_code == 302
    closure = NonWorkingDay.objects.get(day=date(2026, 12, 24))
    assert closure.kind == NonWorkingKind.CLOSURE and not calendar.is_working_day(date(2026, 12, 24), closures=True)
    boxing = NonWorkingDay.objects.get(day=date(2026, 12, 28))
    assert http.post(reverse("casework:working_day_withdraw", args=[boxing.pk]), {"reason": ""}).status_code == 200
    withdrawn = http.post(reverse("casework:working_day_withdraw", args=[boxing.pk]), {"reason": "Published in error"})
    assert withdrawn.status_code == 302 and calendar.is_working_day(date(2026, 12, 28))
    page = http.get(reverse("casework:working_days") + "?year=2026").content.decode()
    assert "Published in error" in page and reverse("casework:working_day_restore", args=[boxing.pk]) in page
    restored = http.post(reverse("casework:working_day_restore", args=[boxing.pk]), {"reason": "Withdrawn by mistake"})
    assert restored.status_code == 302 and not calendar.is_working_day(date(2026, 12, 28))
    leader = client_as(Role.TEAM_LEADER)
    assert leader.post(reverse("casework:working_day_withdraw", args=[boxing.pk]), {"reason": "x"}).status_code == 403
    assert Case.objects.count() == 0  # nothing here touches casework records
