"""Agreements, payments to recipients (the payment run, idempotent; by hand), suspension with a
reason, the statement reminders run, and the audit queues."""
from datetime import date
from decimal import Decimal

import pytest

from casework.constants import AccountKind, Capacity, EntryKind
from casework.models import LedgerEntry, Letter, Run, RunItem
from casework.runs.services import run_start
from casework.selectors import client_balance
from casework.services import DomainError
from direct_payments.constants import AgreementStatus, AuditStatus
from direct_payments.models import AgreementEvent, AuditReminder, DirectPayment
from direct_payments.selectors import audits_due, next_audit_due
from direct_payments.services import (
    agreement_create,
    agreement_transition,
    audit_request,
    payment_for_period,
    payment_record,
)

from .factories import ClientFactory, TeamFactory, UserFactory
from .factories_direct import AgreementFactory, AuditFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def run_job(django_capture_on_commit_callbacks):
    def run(job: str, on: date) -> Run:
        with django_capture_on_commit_callbacks(execute=True):
            started = run_start(job=job, business_date=on, trigger="test")
        started.refresh_from_db()
        return started
    return run


def test_an_agreement_takes_the_policy_figures_it_is_not_given():
    agreement = agreement_create(client=ClientFactory(), team=TeamFactory(), weekly_budget=D("420.00"),
                                 weekly_contribution=D("40.00"), start_date=date(2026, 1, 5), actor=UserFactory())
    assert (agreement.contingency_weeks, agreement.first_audit_weeks, agreement.audit_interval_months) == (4, 12, 12)
    assert (agreement.frequency, agreement.net_weekly, agreement.period_amount) == ("four_weekly", D("380.00"),
                                                                                  D("1520.00"))
    assert AgreementEvent.objects.get(agreement=agreement).new_status == AgreementStatus.ACTIVE


def test_an_authorised_person_needs_a_client_who_lacks_capacity():
    client = ClientFactory(capacity=Capacity.HAS)
    with pytest.raises(DomainError, match="only when the client lacks capacity"):
        agreement_create(client=client, team=TeamFactory(), weekly_budget=D("100.00"), start_date=date(2026, 1, 5),
                         recipient_kind="authorised", recipient_name="Joan Smith", actor=UserFactory())
    client.capacity = Capacity.LACKS
    client.save()
    agreement = agreement_create(client=client, team=TeamFactory(), weekly_budget=D("100.00"),
                                 start_date=date(2026, 1, 5), recipient_kind="authorised", recipient_name="Joan Smith",
                                 actor=UserFactory())
    assert agreement.recipient == "Joan Smith"


@pytest.mark.parametrize("kwargs, field", [
    ({"weekly_budget": D("0.00")}, "weekly_budget"),
    ({"weekly_contribution": D("500.00")}, "weekly_contribution"),
    ({"end_date": date(2026, 1, 4)}, "end_date"),
    ({"recipient_kind": "nominated"}, "recipient_name"),
    ({"support_plan_categories": ["casino"]}, "support_plan_categories"),
])
def test_agreement_refusals_name_their_field(kwargs, field):
    base = {"client": ClientFactory(), "team": TeamFactory(), "weekly_budget": D("420.00"),
            "start_date": date(2026, 1, 5), "actor": UserFactory()}
    with pytest.raises(DomainError) as error:
        agreement_create(**{**base, **kwargs})
    assert error.value.field == field


def test_a_payment_is_a_ledger_entry_on_the_direct_payment_account():
    agreement = AgreementFactory()
    payment = payment_for_period(agreement=agreement, period_start=date(2026, 1, 5), paid_on=date(2026, 1, 5),
                                 actor=agreement.created_by)
    entry = payment.ledger_entry
    assert (entry.account.kind, entry.kind, entry.amount, entry.reference) == (
        AccountKind.DIRECT_PAYMENT, EntryKind.PAYMENT, D("-1520.00"), f"{agreement.reference}-20260105")
    assert client_balance(agreement.client, AccountKind.DIRECT_PAYMENT) == D("-1520.00")
    assert (payment.period_start, payment.period_end) == (date(2026, 1, 5), date(2026, 2, 1))


def test_a_period_cut_short_by_the_end_date_is_paid_by_the_day():
    # 380.00 a week net × 10 days ÷ 7 = 542.857… → 542.86
    agreement = AgreementFactory(end_date=date(2026, 1, 14))
    payment = payment_for_period(agreement=agreement, period_start=date(2026, 1, 5), paid_on=date(2026, 1, 5),
                                 actor=agreement.created_by)
    assert (payment.period_end, payment.amount) == (date(2026, 1, 14), D("542.86"))


def test_a_period_cannot_be_paid_twice_or_off_its_start():
    agreement = AgreementFactory()
    payment_for_period(agreement=agreement, period_start=date(2026, 1, 5), paid_on=date(2026, 1, 5),
                       actor=agreement.created_by)
    with pytest.raises(DomainError, match="already paid"):
        payment_record(agreement=agreement, amount=D("0"), period_start=date(2026, 1, 5), paid_on=date(2026, 1, 6),
                       actor=agreement.created_by, note="")
    with pytest.raises(DomainError, match="does not start one of the agreement's payment periods"):
        payment_for_period(agreement=agreement, period_start=date(2026, 1, 6), paid_on=date(2026, 1, 6),
                           actor=agreement.created_by)
    assert DirectPayment.objects.count() == 1


def test_a_one_off_payment_by_hand_needs_a_reason():
    agreement = AgreementFactory()
    with pytest.raises(DomainError, match="Say what"):
        payment_record(agreement=agreement, amount=D("250.00"), paid_on=date(2026, 2, 1), actor=agreement.created_by,
                       note=" ")
    payment = payment_record(agreement=agreement, amount=D("250.00"), paid_on=date(2026, 2, 1),
                             actor=agreement.created_by, note="Emergency respite")
    assert (payment.period_start, payment.amount, payment.ledger_entry.amount) == (None, D("250.00"), D("-250.00"))


def test_suspending_needs_a_reason_and_stops_payments_until_resumed():
    agreement = AgreementFactory()
    officer = agreement.created_by
    with pytest.raises(DomainError, match="Give a reason"):
        agreement_transition(agreement=agreement, to=AgreementStatus.SUSPENDED, actor=officer, reason="")
    agreement_transition(agreement=agreement, to=AgreementStatus.SUSPENDED, actor=officer, reason="In hospital")
    with pytest.raises(DomainError, match="Payments are payments suspended: In hospital"):
        payment_for_period(agreement=agreement, period_start=date(2026, 1, 5), paid_on=date(2026, 1, 5), actor=officer)
    agreement_transition(agreement=agreement, to=AgreementStatus.ACTIVE, actor=officer, reason="Home again")
    agreement_transition(agreement=agreement, to=AgreementStatus.ENDED, actor=officer, reason="Moved to residential")
    with pytest.raises(DomainError, match="cannot move from ended to active"):
        agreement_transition(agreement=agreement, to=AgreementStatus.ACTIVE, actor=officer, reason="Back")
    assert list(AgreementEvent.objects.filter(agreement=agreement).values_list("new_status", flat=True)) == [
        "suspended", "active", "ended"]


def test_the_payment_run_pays_each_period_once_however_often_it_runs(run_job):
    paying = AgreementFactory(start_date=date(2026, 1, 5))
    suspended = AgreementFactory(start_date=date(2026, 1, 5), status=AgreementStatus.SUSPENDED,
                                 status_reason="Audit found no care bought")
    AgreementFactory(start_date=date(2026, 3, 1))  # not started on the business date
    run = run_job("dp-payments", date(2026, 2, 2))
    assert DirectPayment.objects.get(agreement=paying).period_start == date(2026, 2, 2)
    item = RunItem.objects.get(run=run, subject=f"agreement:{suspended.pk}:2026-02-02")
    assert (item.status, item.outcome) == ("skipped", "Payments payments suspended: Audit found no care bought")
    run_job("dp-payments", date(2026, 2, 2))
    run_job("dp-payments", date(2026, 2, 3))  # the same period: nothing more to pay
    assert DirectPayment.objects.filter(agreement=paying).count() == 1
    assert LedgerEntry.objects.filter(account__kind=AccountKind.DIRECT_PAYMENT).count() == 1
    run_job("dp-payments", date(2026, 3, 2))  # the next period
    assert list(DirectPayment.objects.filter(agreement=paying).values_list("period_start", "amount")) == [
        (date(2026, 2, 2), D("1520.00")), (date(2026, 3, 2), D("1520.00"))]


def test_requesting_statements_writes_to_the_recipient_and_refuses_a_second_open_audit():
    agreement = AgreementFactory()
    audit = audit_request(agreement=agreement, period_start=date(2026, 1, 5), period_end=date(2026, 3, 29),
                          actor=agreement.created_by, on=date(2026, 4, 1))
    assert (audit.status, audit.statements_due_on) == (AuditStatus.REQUESTED, date(2026, 4, 29))
    assert Letter.objects.filter(client=agreement.client, letter_type="dp_statement_request").count() == 1
    with pytest.raises(DomainError, match="already has an audit open"):
        audit_request(agreement=agreement, period_start=date(2026, 1, 5), period_end=date(2026, 3, 29),
                      actor=agreement.created_by, on=date(2026, 4, 1))


def test_the_reminder_run_sends_one_reminder_for_overdue_statements(run_job):
    overdue = AuditFactory(statements_due_on=date(2026, 4, 29))
    AuditFactory(statements_due_on=date(2026, 5, 2))   # not yet 7 days overdue on 6 May
    run_job("dp-reminders", date(2026, 5, 6))
    run_job("dp-reminders", date(2026, 5, 6))
    run_job("dp-reminders", date(2026, 5, 7))
    reminder = AuditReminder.objects.get()
    assert (reminder.audit, reminder.sent_on, reminder.letter.letter_type) == (overdue, date(2026, 5, 6),
                                                                               "dp_statement_reminder")
    assert Letter.objects.filter(letter_type="dp_statement_reminder").count() == 1


def test_next_audit_due_first_after_twelve_weeks_then_yearly_or_sooner_for_higher_risk():
    from direct_payments.models import Policy

    policy = Policy.objects.get()
    agreement = AgreementFactory(start_date=date(2026, 1, 5))
    assert next_audit_due(agreement, None, policy) == date(2026, 3, 30)
    assert next_audit_due(agreement, date(2026, 3, 29), policy) == date(2027, 3, 29)
    agreement.risk = "higher"
    assert next_audit_due(agreement, date(2026, 3, 29), policy) == date(2026, 9, 29)


def test_the_due_queue_lists_agreements_without_an_open_audit():
    due = AgreementFactory(start_date=date(2026, 1, 5))
    busy = AgreementFactory(start_date=date(2026, 1, 5))
    AuditFactory(agreement=busy)
    AgreementFactory(start_date=date(2026, 4, 1))  # first audit due 24 June: outside the four weeks
    rows = audits_due(date(2026, 4, 6))
    assert [(r.agreement, r.due_on, r.overdue) for r in rows] == [(due, date(2026, 3, 30), True)]
    assert audits_due(date(2026, 3, 1)) == []  # due 30 March: more than four weeks away
    assert [(r.agreement, r.overdue) for r in audits_due(date(2026, 3, 2))] == [(due, False)]
