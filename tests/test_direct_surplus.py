"""The surplus working (DPy-05, worked example WE-12) to the penny, the outcome rules, a team
leader's approval before anything is recovered, and both recovery routes."""
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile

from casework.constants import AccountKind, EntryKind
from casework.models import Letter
from casework.roles import Role
from casework.services import DomainError
from debt.models import Invoice
from direct_payments.constants import AuditStatus, Outcome, RecoveryStatus
from direct_payments.models import DirectPayment, Flag, Recovery
from direct_payments.services import (
    audit_record_outcome,
    flag_review,
    liability_add,
    payment_for_period,
    recovery_approve,
    recovery_reject,
    recovery_remaining,
    statement_upload,
    working_for,
)
from direct_payments.surplus import Working, contribution_overpaid

from .factories import UserFactory
from .factories_direct import AuditFactory, BankFormatFactory, bank_csv

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.mark.parametrize("weeks, refund, recoverable", [
    (4, "0.00", "3820.00"),    # WE-12: 6,100.00 − 480.00 − 120.00 − 4 × 420.00
    (4, "150.00", "3670.00"),  # WE-12: the client's overpaid contribution refunded first
    (8, "0.00", "2140.00"),    # WE-12: an 8-week contingency (3,360.00)
    (14, "0.00", "0.00"),      # contingency above the balance: nothing to recover, never negative
])
def test_surplus_working_we12(weeks, refund, recoverable):
    working = Working(closing_balance=D("6100.00"), liabilities=(("PA wages owed", D("480.00")),
                                                                 ("HMRC PAYE due", D("120.00"))),
                      weekly_budget=D("420.00"), contingency_weeks=weeks, contribution_refund=D(refund))
    assert working.recoverable == D(recoverable)
    assert working.liabilities_total == D("600.00")


def test_the_working_is_shown_step_by_step():
    working = Working(closing_balance=D("6100.00"), liabilities=(("PA wages owed", D("480.00")),
                                                                 ("HMRC PAYE due", D("120.00"))),
                      weekly_budget=D("420.00"), contingency_weeks=4, contribution_refund=D("150.00"))
    assert working.steps() == [
        ("Closing balance", "£6,100.00"), ("Less PA wages owed", "-£480.00"), ("Less HMRC PAYE due", "-£120.00"),
        ("Less contingency: 4 weeks × £420.00", "-£1,680.00"), ("Surplus", "£3,820.00"),
        ("Less client contribution overpaid, refunded to the client first", "-£150.00"), ("To recover", "£3,670.00")]


def test_contribution_overpaid_is_what_was_paid_above_the_assessed_contribution():
    # 84 days at £40.00 a week = £480.00 expected; £630.00 paid in.
    assert contribution_overpaid(paid_in=D("630.00"), weekly_contribution=D("40.00"), days=84) == D("150.00")
    assert contribution_overpaid(paid_in=D("400.00"), weekly_contribution=D("40.00"), days=84) == D("0.00")
    # 10 days at £35.00 a week = £50.00 exactly; 11 days = £55.00.
    assert contribution_overpaid(paid_in=D("60.00"), weekly_contribution=D("35.00"), days=11) == D("5.00")


@pytest.fixture
def leader():
    return UserFactory(username="tleader", roles=[Role.TEAM_LEADER])


@pytest.fixture
def we12_audit():
    """An audit whose statement closes at £6,100.00 with £480.00 wages and £120.00 HMRC still due;
    the client paid in £630.00 of contributions against £480.00 assessed (84 days at £40.00)."""
    officer = UserFactory(username="dpofficer", roles=[Role.DIRECT_PAYMENT_OFFICER])
    audit = AuditFactory(officer=officer)
    rows = [(date(2026, 1, 6), "TRANSFER FROM CLIENT CONTRIBUTION", "630.00"),
            (date(2026, 3, 27), "K BROWN PA WAGES", "-30.00")]
    statement_upload(audit=audit, kind="bank_csv", file=ContentFile(bank_csv(rows, opening=D("5500.00")), name="s.csv"),
                     actor=officer, bank_format=BankFormatFactory())
    audit.refresh_from_db()
    liability_add(audit=audit, kind="wages", description="PA wages owed", amount=D("480.00"), actor=officer)
    liability_add(audit=audit, kind="hmrc", description="HMRC PAYE due", amount=D("120.00"), actor=officer)
    for flag in audit.flags.all():
        flag_review(flag=flag, decision="accepted", note="Checked against the timesheets", actor=officer)
    return audit


def test_the_audit_working_takes_the_closing_balance_liabilities_and_contribution_refund(we12_audit):
    working = working_for(we12_audit)
    assert (working.closing_balance, working.liabilities_total, working.contingency, working.contribution_refund,
            working.recoverable) == (D("6100.00"), D("600.00"), D("1680.00"), D("150.00"), D("3670.00"))


def test_an_outcome_cannot_be_recorded_while_flags_wait_for_review():
    audit = AuditFactory()
    statement_upload(audit=audit, kind="bank_csv", file=ContentFile(bank_csv([(date(2026, 1, 9), "BETFRED", "-20.00")]),
                                                                    name="s.csv"),
                     actor=audit.officer, bank_format=BankFormatFactory())
    audit.refresh_from_db()
    waiting = Flag.objects.filter(audit=audit, decision="").count()
    with pytest.raises(DomainError, match=f"Review every flagged line first: {waiting} still to review"):
        audit_record_outcome(audit=audit, outcome=Outcome.SATISFACTORY, note="", actor=audit.officer)


def test_a_surplus_outcome_waits_for_approval_and_recovers_nothing_until_then(we12_audit):
    audit = audit_record_outcome(audit=we12_audit, outcome=Outcome.SURPLUS, note="Balance well above contingency",
                                 route="invoice", actor=we12_audit.officer)
    assert audit.status == AuditStatus.AWAITING_APPROVAL
    recovery = Recovery.objects.get(audit=audit)
    assert (recovery.status, recovery.amount, recovery.contingency, recovery.contribution_refund) == (
        RecoveryStatus.PENDING, D("3670.00"), D("1680.00"), D("150.00"))
    assert not Invoice.objects.filter(client=audit.agreement.client).exists()
    assert not Letter.objects.filter(letter_type="dp_recovery").exists()


def test_only_a_team_leader_other_than_the_officer_may_approve(we12_audit, leader):
    audit_record_outcome(audit=we12_audit, outcome=Outcome.SURPLUS, note="Surplus", route="invoice",
                         actor=we12_audit.officer)
    recovery = Recovery.objects.get(audit=we12_audit)
    with pytest.raises(DomainError, match="Only a team leader"):
        recovery_approve(recovery=recovery, actor=we12_audit.officer)
    both = UserFactory(username="actingtl", roles=[Role.TEAM_LEADER, Role.DIRECT_PAYMENT_OFFICER])
    recovery.requested_by = both
    recovery.save(update_fields=["requested_by"])
    with pytest.raises(DomainError, match="someone else must approve it"):
        recovery_approve(recovery=recovery, actor=both)
    assert Recovery.objects.get(pk=recovery.pk).status == RecoveryStatus.PENDING


def test_an_approved_invoice_recovery_raises_an_invoice_on_the_debt_ledger_with_letters(we12_audit, leader):
    audit_record_outcome(audit=we12_audit, outcome=Outcome.SURPLUS, note="Surplus", route="invoice",
                         actor=we12_audit.officer)
    recovery = recovery_approve(recovery=Recovery.objects.get(audit=we12_audit), actor=leader, note="Agreed",
                                on=date(2026, 4, 20))
    invoice = recovery.invoice
    assert (invoice.total, invoice.period_start, invoice.period_end, invoice.issue_date) == (
        D("3670.00"), date(2026, 1, 5), date(2026, 3, 29), date(2026, 4, 20))
    assert invoice.account.kind == AccountKind.CLIENT_CHARGES
    assert (invoice.ledger_entry.kind, invoice.ledger_entry.amount) == (EntryKind.CHARGE, D("3670.00"))
    assert invoice.letter.letter_type == "invoice"
    assert recovery.letter.letter_type == "dp_recovery"
    assert invoice.lines.get().service.code == "DP-RECOVERY"
    we12_audit.refresh_from_db()
    assert we12_audit.status == AuditStatus.COMPLETED


def test_an_approved_reduction_is_taken_from_the_next_payments_until_recovered(we12_audit, leader):
    # Net payment: (420.00 − 40.00) × 4 = 1,520.00 a period; 3,670.00 to recover takes 1,520.00, 1,520.00, 630.00.
    audit_record_outcome(audit=we12_audit, outcome=Outcome.SURPLUS, note="Surplus", route="reduce",
                         actor=we12_audit.officer)
    recovery = recovery_approve(recovery=Recovery.objects.get(audit=we12_audit), actor=leader)
    assert recovery.invoice is None and recovery.letter.letter_type == "dp_recovery"
    agreement = we12_audit.agreement
    paid = [payment_for_period(agreement=agreement, period_start=start, paid_on=start, actor=leader)
            for start in (date(2026, 4, 27), date(2026, 5, 25), date(2026, 6, 22), date(2026, 7, 20))]
    assert [(p.due_amount, p.reduction, p.amount) for p in paid] == [
        (D("1520.00"), D("1520.00"), D("0.00")), (D("1520.00"), D("1520.00"), D("0.00")),
        (D("1520.00"), D("630.00"), D("890.00")), (D("1520.00"), D("0.00"), D("1520.00"))]
    assert paid[0].ledger_entry is None
    assert paid[2].ledger_entry.amount == D("-890.00")
    assert recovery_remaining(recovery) == D("0.00")


def test_rejecting_sends_the_audit_back_to_the_officer(we12_audit, leader):
    audit_record_outcome(audit=we12_audit, outcome=Outcome.SURPLUS, note="Surplus", route="invoice",
                         actor=we12_audit.officer)
    recovery = Recovery.objects.get(audit=we12_audit)
    with pytest.raises(DomainError, match="Say why"):
        recovery_reject(recovery=recovery, actor=leader, note=" ")
    recovery_reject(recovery=recovery, actor=leader, note="Wages for March were paid late: add them")
    we12_audit.refresh_from_db()
    assert (we12_audit.status, we12_audit.outcome) == (AuditStatus.IN_REVIEW, "")
    assert not Invoice.objects.exists()
    # The officer can then record a new outcome.
    audit_record_outcome(audit=we12_audit, outcome=Outcome.ADVICE, note="Keep timesheets", actor=we12_audit.officer)
    we12_audit.refresh_from_db()
    assert we12_audit.status == AuditStatus.COMPLETED


def test_no_surplus_means_no_recovery():
    audit = AuditFactory()
    statement_upload(audit=audit, kind="bank_csv", file=ContentFile(bank_csv(
        [(date(2026, 3, 27), "K BROWN PA WAGES", "-252.00")], opening=D("1500.00")), name="s.csv"),
        actor=audit.officer, bank_format=BankFormatFactory())
    audit.refresh_from_db()
    for flag in audit.flags.all():
        flag_review(flag=flag, decision="accepted", note="Fine", actor=audit.officer)
    with pytest.raises(DomainError, match="There is nothing to recover: the working gives £0.00"):
        audit_record_outcome(audit=audit, outcome=Outcome.SURPLUS, note="x", route="invoice", actor=audit.officer)


def test_misuse_to_recovery_recovers_the_lines_marked_as_misuse(leader):
    officer = UserFactory(username="dpo2", roles=[Role.DIRECT_PAYMENT_OFFICER])
    audit = AuditFactory(officer=officer)
    statement_upload(audit=audit, kind="bank_csv", file=ContentFile(bank_csv(
        [(date(2026, 1, 9), "BETFRED 1123", "-45.00"), (date(2026, 1, 10), "CASH ATM", "-300.00"),
         (date(2026, 1, 11), "K BROWN PA WAGES", "-252.00")]), name="s.csv"),
        actor=officer, bank_format=BankFormatFactory())
    audit.refresh_from_db()
    for flag in audit.flags.all():
        decision = "misuse" if flag.rule in ("non_care_merchant", "cash_withdrawal") else "accepted"
        flag_review(flag=flag, decision=decision, note="Recipient confirmed", actor=officer)
    audit_record_outcome(audit=audit, outcome=Outcome.MISUSE, note="Gambling and unexplained cash", route="reduce",
                         misuse_referral="recovery", actor=officer)
    recovery = Recovery.objects.get(audit=audit)
    assert (recovery.basis, recovery.misuse_total, recovery.amount) == ("misuse", D("345.00"), D("345.00"))


def test_suspended_outcome_suspends_the_agreements_payments():
    audit = AuditFactory()
    statement_upload(audit=audit, kind="bank_csv", file=ContentFile(bank_csv(
        [(date(2026, 3, 27), "K BROWN PA WAGES", "-252.00")]), name="s.csv"),
        actor=audit.officer, bank_format=BankFormatFactory())
    audit.refresh_from_db()
    for flag in audit.flags.all():
        flag_review(flag=flag, decision="queried", note="Asked about February", actor=audit.officer)
    audit_record_outcome(audit=audit, outcome=Outcome.SUSPENDED, note="No care bought for weeks", actor=audit.officer)
    audit.agreement.refresh_from_db()
    assert (audit.agreement.status, audit.agreement.status_reason) == (
        "suspended", f"Audit {audit.reference}: No care bought for weeks")
    assert DirectPayment.objects.count() == 0
