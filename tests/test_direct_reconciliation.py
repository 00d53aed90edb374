"""Council payments into a direct payment account matched as real statements show them: by the
description (the council's name or the agreement reference), the amount, a date within the
policy's working days (a Friday payment arriving on Monday, an Easter payment after the bank
holidays), and one payment arriving as two lines. A correct prepaid card statement raises no
"Council payment missing" flag."""
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile

from casework.constants import AccountKind, EntryKind
from casework.services import account_for_client, ledger_post
from direct_payments import rules
from direct_payments.constants import Category, FlagRule, StatementKind
from direct_payments.models import DirectPayment, Flag, Policy
from direct_payments.services import statement_upload

from .factories_direct import AuditFactory

pytestmark = pytest.mark.django_db
D = Decimal
SAMPLES = Path(__file__).parent / "data" / "bank_statements"
COUNCIL_RULES = (FlagRule.MISSING_PAYMENT, FlagRule.UNEXPECTED_PAYMENT)


def _payment(agreement, paid_on: date, amount: str) -> DirectPayment:
    entry = ledger_post(account=account_for_client(agreement.client, AccountKind.DIRECT_PAYMENT), kind=EntryKind.PAYMENT,
                        amount=D(amount), effective_date=paid_on, reference=f"T-{paid_on}", description="test",
                        actor=agreement.created_by)
    return DirectPayment.objects.create(agreement=agreement, paid_on=paid_on, due_amount=D(amount), amount=D(amount),
                                        source="manual", ledger_entry=entry, created_by=agreement.created_by)


@pytest.fixture
def card_audit():
    """The Allpay sample's council loads: paid Friday 4 April 2025 (arrives Monday 7th), Thursday 17
    April (arrives Tuesday 22nd, after Good Friday and Easter Monday) and Tuesday 29 April (arrives
    as £500 on the 29th and £260 on the 30th)."""
    Policy.objects.update(payment_match_days=1)
    audit = AuditFactory(period_start=date(2025, 4, 1), period_end=date(2025, 4, 30))
    for paid_on in (date(2025, 4, 4), date(2025, 4, 17), date(2025, 4, 29)):
        _payment(audit.agreement, paid_on, "760.00")
    return audit


def _upload(audit, sample: str, provider: str):
    return statement_upload(audit=audit, kind=StatementKind.PREPAID_CARD, actor=audit.officer,
                            file=ContentFile((SAMPLES / sample).read_bytes(), name=sample), new_bank={"name": provider})


@pytest.mark.parametrize("sample, provider", [("allpay.csv", "Allpay prepaid card"), ("pfs.csv", "PFS prepaid card")])
def test_a_correct_prepaid_card_statement_raises_no_council_payment_flags(card_audit, sample, provider):
    _upload(card_audit, sample, provider)
    assert list(Flag.objects.filter(audit=card_audit, rule__in=COUNCIL_RULES).values_list("message", flat=True)) == []
    matched = {(l.date, l.amount, l.matched_payment.paid_on) for l in card_audit.lines.filter(matched_payment__isnull=False)}
    assert matched == {(date(2025, 4, 7), D("760.00"), date(2025, 4, 4)),
                       (date(2025, 4, 22), D("760.00"), date(2025, 4, 17)),
                       (date(2025, 4, 29), D("500.00"), date(2025, 4, 29)),
                       (date(2025, 4, 30), D("260.00"), date(2025, 4, 29))}


def test_a_payment_not_on_the_card_statement_is_still_flagged_missing(card_audit):
    extra = _payment(card_audit.agreement, date(2025, 4, 24), "150.00")
    _upload(card_audit, "allpay.csv", "Allpay prepaid card")
    missing = Flag.objects.get(audit=card_audit, rule=FlagRule.MISSING_PAYMENT)
    assert (missing.payment, missing.message) == (
        extra, "Council payment of £150.00 made on 24 April 2025 is not on the statements")


def _line(on: date, amount: str, description: str = "CARD LOAD NORTHMOOR CC DP", category: str = Category.OTHER_INCOME):
    return SimpleNamespace(date=on, amount=D(amount), description=description, payee="", category=category)


def _pay(on: date, amount: str, pk: int = 1):
    return SimpleNamespace(paid_on=on, amount=D(amount), pk=pk)


PATTERNS = rules.payment_patterns("DPA-000123", "Northmoor County Council")


def test_the_window_counts_working_days_not_calendar_days():
    # paid Thursday 17 April 2025: with one working day allowed it may arrive by Tuesday 22nd (Good Friday,
    # the weekend and Easter Monday are not working days), not by Wednesday 23rd
    on_time = rules.reconcile([_pay(date(2025, 4, 17), "760.00")], [_line(date(2025, 4, 22), "760.00")],
                              tolerance_days=1, patterns=PATTERNS)
    late = rules.reconcile([_pay(date(2025, 4, 17), "760.00")], [_line(date(2025, 4, 23), "760.00")],
                           tolerance_days=1, patterns=PATTERNS)
    assert (len(on_time[0]), on_time[1]) == (1, [])
    assert (late[0], len(late[1])) == ([], 1)


def test_a_friday_payment_arriving_on_monday_is_matched_with_no_days_of_tolerance_beyond_the_weekend():
    matches, missing, _ = rules.reconcile([_pay(date(2025, 4, 4), "760.00")], [_line(date(2025, 4, 7), "760.00")],
                                          tolerance_days=1, patterns=PATTERNS)
    assert (len(matches), missing) == (1, [])


def test_a_line_before_the_payment_date_is_not_the_payment():
    matches, missing, _ = rules.reconcile([_pay(date(2025, 4, 7), "760.00")], [_line(date(2025, 4, 4), "760.00")],
                                          tolerance_days=5, patterns=PATTERNS)
    assert (matches, len(missing)) == ([], 1)


@pytest.mark.parametrize("description, found", [
    ("CARD LOAD NORTHMOOR CC DP", True), ("BGC NORTHMOOR COUNCIL", True), ("FP DPA000123 JAN", True),
    ("DPA-000123", True), ("Northmoor County Council", True), ("TRANSFER FROM J SMITH", False),
])
def test_council_payments_are_recognised_by_their_description(description, found):
    matches, missing, _ = rules.reconcile([_pay(date(2025, 4, 1), "760.00")],
                                          [_line(date(2025, 4, 1), "760.00", description)], tolerance_days=2,
                                          patterns=PATTERNS)
    assert (len(matches) == 1, len(missing) == 0) == (found, found)


def test_a_payment_split_into_two_or_three_lines_is_matched_only_when_they_add_up():
    lines = [_line(date(2025, 4, 1), "400.00"), _line(date(2025, 4, 2), "200.00"), _line(date(2025, 4, 2), "160.00")]
    matches, missing, _ = rules.reconcile([_pay(date(2025, 4, 1), "760.00")], lines, tolerance_days=2,
                                          patterns=PATTERNS)
    assert (sorted(m.line.amount for m in matches), missing) == ([D("160.00"), D("200.00"), D("400.00")], [])
    matches, missing, _ = rules.reconcile([_pay(date(2025, 4, 1), "760.00")], lines[:2], tolerance_days=2,
                                          patterns=PATTERNS)
    assert (matches, len(missing)) == ([], 1)


def test_a_split_payment_uses_no_line_an_exact_payment_took():
    lines = [_line(date(2025, 4, 1), "300.00"), _line(date(2025, 4, 1), "460.00"), _line(date(2025, 4, 2), "300.00")]
    payments = [_pay(date(2025, 4, 1), "760.00", pk=1), _pay(date(2025, 4, 1), "300.00", pk=2)]
    matches, missing, _ = rules.reconcile(payments, lines, tolerance_days=2, patterns=PATTERNS)
    assert missing == []
    assert sorted((m.payment.pk, m.line.amount) for m in matches) == [(1, D("300.00")), (1, D("460.00")),
                                                                      (2, D("300.00"))]
