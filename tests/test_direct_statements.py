"""Statement uploads: each check refuses the whole file with row-numbered problems; a bank's
column mapping is saved once and reused; prepaid card exports are read in their own layout."""
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile

from direct_payments.constants import AuditStatus, Category, StatementKind
from direct_payments.models import BankFormat, StatementLine, StatementUpload
from direct_payments.services import statement_upload
from direct_payments.statements import StatementRejected

from .factories import UserFactory
from .factories_direct import AuditFactory, BankFormatFactory, bank_csv, prepaid_csv, signed_csv

pytestmark = pytest.mark.django_db

NEW_BANK = {"name": "Northmoor Building Society", "date_column": "Date", "date_format": "%d/%m/%Y",
            "description_column": "Description", "paid_in_column": "Money In", "paid_out_column": "Money Out",
            "balance_column": "Balance"}


def _upload(audit, data: bytes, *, kind=StatementKind.BANK_CSV, name="statement.csv", **kwargs):
    return statement_upload(audit=audit, kind=kind, file=ContentFile(data, name=name),
                            actor=kwargs.pop("actor", None) or audit.officer, **kwargs)


def _problems(audit, data: bytes, **kwargs) -> list[str]:
    with pytest.raises(StatementRejected) as caught:
        _upload(audit, data, **kwargs)
    assert not StatementUpload.objects.filter(audit=audit).exists()
    assert not StatementLine.objects.filter(audit=audit).exists()
    return caught.value.problems


@pytest.fixture
def audit():
    return AuditFactory()


def test_a_good_statement_is_accepted_whole_with_opening_and_closing_balances(audit):
    upload = _upload(audit, bank_csv([(date(2026, 1, 9), "K BROWN PA WAGES", "-252.00"),
                                      (date(2026, 1, 16), "HMRC CUMBERNAULD", "-48.20")]), bank_format=BankFormatFactory())
    assert (upload.rows, upload.opening_balance, upload.closing_balance) == (2, Decimal("1000.00"), Decimal("699.80"))
    lines = list(audit.lines.order_by("date"))
    assert [(l.row_number, l.amount, l.balance, l.category) for l in lines] == [
        (2, Decimal("-252.00"), Decimal("748.00"), Category.PA_WAGES),
        (3, Decimal("-48.20"), Decimal("699.80"), Category.HMRC)]
    audit.refresh_from_db()
    assert audit.status == AuditStatus.IN_REVIEW


def test_dates_outside_the_audit_period_refuse_the_file(audit):
    problems = _problems(audit, bank_csv([(date(2026, 1, 4), "K BROWN PA WAGES", "-252.00"),
                                          (date(2026, 1, 9), "K BROWN PA WAGES", "-252.00"),
                                          (date(2026, 3, 30), "HMRC", "-48.20")]), bank_format=BankFormatFactory())
    assert problems == [
        "Row 2, date: 4 January 2026 is outside the audit period (5 January 2026 to 29 March 2026)",
        "Row 4, date: 30 March 2026 is outside the audit period (5 January 2026 to 29 March 2026)",
    ]


def test_a_balance_that_does_not_chain_from_the_line_before_refuses_the_file(audit):
    data = bank_csv([(date(2026, 1, 9), "K BROWN PA WAGES", "-252.00"), (date(2026, 1, 16), "HMRC", "-48.20"),
                     (date(2026, 1, 23), "PAYROLL BUREAU", "-15.00")], balances=["748.00", "690.80", "675.80"])
    assert _problems(audit, data, bank_format=BankFormatFactory()) == [
        "Row 3, balance: £690.80 does not follow from the previous balance £748.00 and the amount -£48.20 "
        "(expected £699.80)"]


def test_newest_first_exports_are_checked_oldest_first(audit):
    data = bank_csv([(date(2026, 1, 16), "HMRC", "-48.20"), (date(2026, 1, 9), "K BROWN PA WAGES", "-252.00")],
                    balances=["699.80", "748.00"])
    upload = _upload(audit, data, bank_format=BankFormatFactory())
    assert (upload.first_date, upload.opening_balance, upload.closing_balance) == (
        date(2026, 1, 9), Decimal("1000.00"), Decimal("699.80"))


def test_a_line_already_uploaded_in_another_statement_refuses_the_second_file(audit):
    bank = BankFormatFactory()
    _upload(audit, bank_csv([(date(2026, 1, 9), "K BROWN PA WAGES", "-252.00")]), bank_format=bank, name="jan.csv")
    again = bank_csv([(date(2026, 1, 9), "K BROWN PA WAGES", "-252.00"), (date(2026, 1, 16), "HMRC", "-48.20")])
    with pytest.raises(StatementRejected) as caught:
        _upload(audit, again, bank_format=bank, name="jan-feb.csv")
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(
        "Row 2: this transaction (9 January 2026, K BROWN PA WAGES, -£252.00) was already uploaded in 'jan.csv' (row 2")
    assert StatementUpload.objects.filter(audit=audit).count() == 1
    assert audit.lines.count() == 1


def test_a_line_repeated_within_a_file_is_refused():
    audit = AuditFactory()
    data = bank_csv([(date(2026, 1, 9), "TFR", "10.00"), (date(2026, 1, 9), "TFR", "10.00")],
                    balances=["1010.00", "1010.00"])
    problems = _problems(audit, data, bank_format=BankFormatFactory())
    assert "Row 3: this transaction repeats row 2" in problems


def test_unreadable_cells_are_reported_by_row_and_column(audit):
    data = bank_csv([("31/02/2026", "K BROWN", "-252.00"), (date(2026, 1, 9), "", "-10.00")], balances=["x", "738.00"])
    assert _problems(audit, data, bank_format=BankFormatFactory()) == [
        "Row 2, date: '31/02/2026' is not a date (use a date like 16/11/2026, 16 Nov 2026 or 2026-11-16)",
        "Row 2, balance: 'x' is not an amount",
        "Row 3, description: the description is missing",
    ]


def test_a_row_with_both_paid_in_and_paid_out_is_refused(audit):
    data = b"Date,Description,Money In,Money Out,Balance\n09/01/2026,ODD,5.00,5.00,1000.00\n"
    assert _problems(audit, data, bank_format=BankFormatFactory()) == [
        "Row 2, paid in and paid out: fill in exactly one of them"]


def test_a_header_without_a_mapped_column_is_refused(audit):
    data = b"Date,Details,Money In,Money Out,Balance\n09/01/2026,PA,,10.00,990.00\n"
    assert _problems(audit, data, bank_format=BankFormatFactory()) == [
        "Row 1: the header has no 'Description' column (for the description)"]


def test_an_empty_file_is_refused(audit):
    assert _problems(audit, b"  ", bank_format=BankFormatFactory()) == ["The file is empty"]


def test_a_new_banks_mapping_is_saved_and_its_second_statement_needs_none(audit):
    user = UserFactory()
    _upload(audit, bank_csv([(date(2026, 1, 9), "K BROWN PA WAGES", "-252.00")]), new_bank=NEW_BANK, actor=user)
    saved = BankFormat.objects.get(name="Northmoor Building Society")
    assert (saved.date_column, saved.paid_out_column, saved.created_by) == ("Date", "Money Out", user)
    second = _upload(audit, bank_csv([(date(2026, 2, 6), "K BROWN PA WAGES", "-252.00")], opening=Decimal("748.00")),
                     bank_format=saved, name="feb.csv")
    assert second.bank_format == saved
    assert BankFormat.objects.count() == 1


def test_naming_a_saved_bank_again_uses_its_saved_mapping_not_the_typed_one(audit):
    saved = BankFormatFactory()
    typed = {**NEW_BANK, "name": "northmoor building society", "balance_column": "Wrong"}
    upload = _upload(audit, bank_csv([(date(2026, 1, 9), "K BROWN PA WAGES", "-252.00")]), new_bank=typed)
    assert upload.bank_format == saved


def test_a_bank_with_a_signed_amount_column_and_iso_dates():
    audit = AuditFactory()
    bank = BankFormat.objects.create(name="Fenland Bank", date_column="Posted", date_format="%Y-%m-%d",
                                     description_column="Details", payee_column="Payee", amount_column="Amount",
                                     balance_column="Running balance", created_by=audit.officer)
    _upload(audit, signed_csv([(date(2026, 1, 9), "K Brown", "PA WAGES JAN", "-252.00"),
                               (date(2026, 1, 12), "Northmoor Council", "DP PAYMENT", "1520.00")]), bank_format=bank)
    assert list(audit.lines.values_list("payee", "amount", "category")) == [
        ("K Brown", Decimal("-252.00"), Category.PA_WAGES),
        ("Northmoor Council", Decimal("1520.00"), Category.COUNCIL_PAYMENT)]


def test_a_prepaid_card_export_needs_no_mapping():
    audit = AuditFactory()
    upload = _upload(audit, prepaid_csv([(date(2026, 1, 9), "Brightcare Homecare", "Card payment", "-180.00"),
                                         (date(2026, 1, 10), "ATM", "Cash withdrawal", "-40.00")]),
                     kind=StatementKind.PREPAID_CARD)
    assert (upload.rows, upload.closing_balance) == (2, Decimal("280.00"))
    assert list(audit.lines.values_list("category", flat=True)) == [Category.CARE_AGENCY, Category.CASH]


def test_a_bank_statement_without_a_bank_or_mapping_is_refused(audit):
    from casework.services import DomainError

    with pytest.raises(DomainError, match="Choose the bank"):
        _upload(audit, bank_csv([(date(2026, 1, 9), "K BROWN PA WAGES", "-252.00")]))


def test_statements_cannot_be_added_once_the_audit_is_completed():
    from casework.services import DomainError

    audit = AuditFactory(status=AuditStatus.COMPLETED)
    with pytest.raises(DomainError, match="completed"):
        _upload(audit, bank_csv([(date(2026, 1, 9), "K BROWN PA WAGES", "-252.00")]), bank_format=BankFormatFactory())
