"""Categorisation rules (every seeded rule), irregularity rules with their thresholds as data, and
reconciliation of the council's payments in."""
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile

from direct_payments.constants import Category, FlagRule
from direct_payments.models import DirectPayment, Flag, IrregularityRule
from direct_payments.services import audit_analyse, category_rule_save, statement_upload
from direct_payments.services.rules import audit_recategorise

from .factories import ClientFactory, UserFactory
from .factories_direct import AgreementFactory, AuditFactory, BankFormatFactory, bank_csv

pytestmark = pytest.mark.django_db


def _upload(audit, rows, opening=Decimal("1000.00")):
    return statement_upload(audit=audit, kind="bank_csv", file=ContentFile(bank_csv(rows, opening=opening), name="s.csv"),
                            actor=audit.officer, bank_format=BankFormatFactory())


def _flags(audit) -> list[tuple[str, str]]:
    return sorted((f.rule, f.message) for f in Flag.objects.filter(audit=audit))


@pytest.mark.parametrize("description, amount, category", [
    ("NORTHMOOR COUNCIL DP DPA-000001", "1520.00", Category.COUNCIL_PAYMENT),
    ("TRANSFER FROM SMITH CONTRIBUTION", "160.00", Category.CLIENT_CONTRIBUTION),
    ("HMRC CUMBERNAULD PAYE", "-48.20", Category.HMRC),
    ("PAYROLL BUREAU LTD", "-15.00", Category.PAYROLL),
    ("K BROWN PA WAGES", "-252.00", Category.PA_WAGES),
    ("WAGES J JONES", "-200.00", Category.PA_WAGES),
    ("MORTON MICHEL EMPLOYERS INSURANCE", "-126.50", Category.INSURANCE),
    ("BRIGHTSTAR CARE AGENCY", "-300.00", Category.CARE_AGENCY),
    ("ALLIED HOMECARE", "-300.00", Category.CARE_AGENCY),
    ("NORTHMOOR HOME CARE LTD", "-300.00", Category.CARE_AGENCY),
    ("SEAVIEW RESPITE BREAK", "-400.00", Category.RESPITE),
    ("CAREMOBILITY LTD", "-89.99", Category.EQUIPMENT),
    ("EQUIPMENT FOR LIVING", "-25.00", Category.EQUIPMENT),
    ("ACCOUNT FEE", "-5.00", Category.BANK_CHARGES),
    ("BANK CHARGE OVERDRAFT", "-10.00", Category.BANK_CHARGES),
    ("CASH ATM NORTHMOOR", "-50.00", Category.CASH),
    ("LINK ATM 0923", "-50.00", Category.CASH),
    ("TRANSFER TO J SMITH", "-100.00", Category.TRANSFER_OUT),
    ("TFR TO 20-00-00 12345678", "-100.00", Category.TRANSFER_OUT),
    ("TESCO STORES 2231", "-23.10", Category.OTHER),
    ("REFUND FROM SUPPLIER", "12.00", Category.OTHER_INCOME),
])
def test_every_seeded_categorisation_rule(description, amount, category):
    audit = AuditFactory()
    _upload(audit, [(date(2026, 1, 9), description, amount)])
    assert audit.lines.get().category == category


def test_the_lowest_priority_number_wins_and_direction_is_respected():
    # "HMRC PAYROLL" matches HMRC (20) before PAYROLL (30); "CONTRIBUTION" only counts money in.
    audit = AuditFactory()
    _upload(audit, [(date(2026, 1, 9), "HMRC PAYROLL", "-10.00"), (date(2026, 1, 10), "CONTRIBUTION REFUND", "-5.00")])
    assert list(audit.lines.order_by("date").values_list("category", flat=True)) == [Category.HMRC, Category.OTHER]


def test_an_administrators_new_rule_applies_when_the_audit_is_categorised_again():
    audit = AuditFactory()
    _upload(audit, [(date(2026, 1, 9), "TESCO STORES 2231", "-23.10")])
    category_rule_save(actor=UserFactory(), pattern="tesco", category=Category.EQUIPMENT, direction="out", priority=5)
    assert audit.lines.get().category == Category.OTHER
    audit.refresh_from_db()
    result = audit_recategorise(audit=audit, actor=audit.officer)
    assert result["changed"] == 1
    assert audit.lines.get().category == Category.EQUIPMENT


def test_cash_withdrawals_over_the_threshold_are_flagged():
    audit = AuditFactory()
    _upload(audit, [(date(2026, 1, 9), "CASH ATM", "-100.00"), (date(2026, 1, 10), "CASH ATM", "-100.01")])
    assert [r for r in _flags(audit) if r[0] == FlagRule.CASH_WITHDRAWAL] == [
        (FlagRule.CASH_WITHDRAWAL, "Cash withdrawal of £100.01 is over £100.00")]


def test_the_cash_threshold_is_data():
    IrregularityRule.objects.filter(code=FlagRule.CASH_WITHDRAWAL).update(threshold_amount=Decimal("250.00"))
    audit = AuditFactory()
    _upload(audit, [(date(2026, 1, 9), "CASH ATM", "-200.00")])
    assert not Flag.objects.filter(rule=FlagRule.CASH_WITHDRAWAL).exists()


def test_transfers_to_the_recipients_own_or_family_accounts_are_flagged():
    agreement = AgreementFactory(client=ClientFactory(first_name="Edith", last_name="Quarrington"))
    audit = AuditFactory(agreement=agreement)
    _upload(audit, [(date(2026, 1, 9), "TRANSFER TO E QUARRINGTON", "-200.00"),
                    (date(2026, 1, 10), "TRANSFER TO MUM SAVINGS", "-50.00"),
                    (date(2026, 1, 11), "TRANSFER TO K BROWN PA", "-100.00")])
    assert [r for r in _flags(audit) if r[0] == FlagRule.FAMILY_TRANSFER] == [
        (FlagRule.FAMILY_TRANSFER, "Transfer of £200.00 to 'TRANSFER TO E QUARRINGTON' looks like the recipient's own "
                                   "or a family account ('quarrington')"),
        (FlagRule.FAMILY_TRANSFER, "Transfer of £50.00 to 'TRANSFER TO MUM SAVINGS' looks like the recipient's own or "
                                   "a family account ('savings')"),
    ]


def test_merchants_with_nothing_to_do_with_care_are_flagged():
    audit = AuditFactory()
    _upload(audit, [(date(2026, 1, 9), "BETFRED 1123 NORTHMOOR", "-45.00"), (date(2026, 1, 10), "K BROWN PA WAGES",
                                                                               "-252.00")])
    assert [r for r in _flags(audit) if r[0] == FlagRule.NON_CARE_MERCHANT] == [
        (FlagRule.NON_CARE_MERCHANT, "£45.00 at 'BETFRED 1123 NORTHMOOR', a merchant with nothing to do with care "
                                     "('betfred')")]


def test_spending_outside_the_support_plan_is_flagged_when_the_plan_lists_categories():
    audit = AuditFactory(agreement=AgreementFactory(support_plan_categories=[Category.PA_WAGES, Category.HMRC]))
    _upload(audit, [(date(2026, 1, 9), "K BROWN PA WAGES", "-252.00"), (date(2026, 1, 10), "SEAVIEW RESPITE", "-400.00"),
                    (date(2026, 1, 11), "ACCOUNT FEE", "-5.00"), (date(2026, 1, 12), "TESCO", "-20.00")])
    assert [r for r in _flags(audit) if r[0] == FlagRule.OUTSIDE_PLAN] == [
        (FlagRule.OUTSIDE_PLAN, "Other is not in the support plan (£20.00)"),
        (FlagRule.OUTSIDE_PLAN, "Respite is not in the support plan (£400.00)"),
    ]


def test_no_plan_categories_means_nothing_is_outside_the_plan():
    audit = AuditFactory()
    _upload(audit, [(date(2026, 1, 9), "TESCO", "-20.00")])
    assert not Flag.objects.filter(rule=FlagRule.OUTSIDE_PLAN).exists()


def test_runs_of_four_weeks_without_care_spending_are_flagged():
    # Period 5 Jan to 29 Mar 2026. Wages on 9 Jan, then nothing until 20 Feb (41 days from 10 Jan to 19 Feb),
    # then nothing to the end of the period (20 Feb: 21 Feb to 29 Mar is 37 days).
    audit = AuditFactory()
    _upload(audit, [(date(2026, 1, 9), "K BROWN PA WAGES", "-252.00"), (date(2026, 2, 20), "K BROWN PA WAGES", "-252.00")])
    gaps = [r for r in _flags(audit) if r[0] == FlagRule.NO_CARE_SPENDING]
    assert gaps == [
        (FlagRule.NO_CARE_SPENDING, "No care spending from 10 January 2026 to 19 February 2026 (41 days)"),
        (FlagRule.NO_CARE_SPENDING, "No care spending from 21 February 2026 to 29 March 2026 (37 days)"),
    ]
    assert Flag.objects.get(message__contains="10 January").line.date == date(2026, 2, 20)
    assert Flag.objects.get(message__contains="21 February").line is None


def test_a_gap_just_under_the_threshold_is_not_flagged():
    audit = AuditFactory(period_end=date(2026, 2, 1))
    # 5 Jan to 1 Feb is 28 days; wages on 5 Jan and 1 Feb leave 26 days between.
    _upload(audit, [(date(2026, 1, 5), "K BROWN PA WAGES", "-252.00"), (date(2026, 2, 1), "K BROWN PA WAGES", "-252.00")])
    assert not Flag.objects.filter(rule=FlagRule.NO_CARE_SPENDING).exists()


def test_an_overdrawn_balance_is_flagged():
    audit = AuditFactory()
    _upload(audit, [(date(2026, 1, 9), "K BROWN PA WAGES", "-252.00")], opening=Decimal("200.00"))
    assert (FlagRule.OVERDRAWN, "The balance was overdrawn: -£52.00") in _flags(audit)


def test_a_disabled_rule_flags_nothing():
    IrregularityRule.objects.filter(code=FlagRule.OVERDRAWN).update(enabled=False)
    audit = AuditFactory()
    _upload(audit, [(date(2026, 1, 9), "K BROWN PA WAGES", "-252.00")], opening=Decimal("200.00"))
    assert not Flag.objects.filter(rule=FlagRule.OVERDRAWN).exists()


def _payment(agreement, paid_on, amount):
    from casework.constants import AccountKind, EntryKind
    from casework.services import account_for_client, ledger_post

    entry = ledger_post(account=account_for_client(agreement.client, AccountKind.DIRECT_PAYMENT), kind=EntryKind.PAYMENT,
                        amount=Decimal(amount), effective_date=paid_on, reference=f"T-{paid_on}", description="test",
                        actor=agreement.created_by)
    return DirectPayment.objects.create(agreement=agreement, paid_on=paid_on, due_amount=Decimal(amount),
                                        amount=Decimal(amount), source="manual", ledger_entry=entry,
                                        created_by=agreement.created_by)


def test_council_payments_are_matched_and_missing_or_unexpected_ones_flagged():
    audit = AuditFactory()
    agreement = audit.agreement
    jan, feb, mar = (_payment(agreement, date(2026, 1, 5), "1520.00"), _payment(agreement, date(2026, 2, 2), "1520.00"),
                     _payment(agreement, date(2026, 3, 2), "1520.00"))
    _upload(audit, [(date(2026, 1, 7), "NORTHMOOR COUNCIL DP", "1520.00"),   # Jan, 2 days later: matched
                    (date(2026, 2, 10), "NORTHMOOR COUNCIL DP", "1520.00"),  # Feb + 6 working days: too late
                    (date(2026, 3, 2), "NORTHMOOR COUNCIL DP", "1520.00")])  # Mar: matched
    lines = {l.date: l for l in audit.lines.all()}
    assert lines[date(2026, 1, 7)].matched_payment == jan
    assert lines[date(2026, 3, 2)].matched_payment == mar
    assert lines[date(2026, 2, 10)].matched_payment is None
    missing = Flag.objects.get(rule=FlagRule.MISSING_PAYMENT)
    assert (missing.payment, missing.message) == (
        feb, "Council payment of £1,520.00 made on 2 February 2026 is not on the statements")
    unexpected = Flag.objects.get(rule=FlagRule.UNEXPECTED_PAYMENT)
    assert (unexpected.line, unexpected.message) == (
        lines[date(2026, 2, 10)], "£1,520.00 paid in on 10 February 2026 looks like a council payment but matches none "
                                 "the council made")


def test_the_matching_window_is_data():
    from direct_payments.models import Policy

    Policy.objects.update(payment_match_days=7)
    audit = AuditFactory()
    _payment(audit.agreement, date(2026, 2, 2), "1520.00")
    _upload(audit, [(date(2026, 2, 9), "NORTHMOOR COUNCIL DP", "1520.00")])
    assert audit.lines.get().matched_payment is not None
    assert not Flag.objects.filter(audit=audit, rule__in=[FlagRule.MISSING_PAYMENT, FlagRule.UNEXPECTED_PAYMENT]).exists()


def test_analysing_again_keeps_reviewed_flags_and_adds_no_duplicates():
    from direct_payments.services import flag_review

    audit = AuditFactory()
    _upload(audit, [(date(2026, 1, 9), "CASH ATM", "-300.00"), (date(2026, 1, 10), "BETFRED", "-20.00")])
    cash = Flag.objects.get(rule=FlagRule.CASH_WITHDRAWAL)
    audit.refresh_from_db()
    flag_review(flag=cash, decision="accepted", note="Paid the PA in cash; receipt seen", actor=audit.officer)
    before = Flag.objects.filter(audit=audit).count()
    audit_analyse(audit=audit)
    assert Flag.objects.filter(audit=audit).count() == before
    cash.refresh_from_db()
    assert (cash.decision, cash.note) == ("accepted", "Paid the PA in cash; receipt seen")
