"""The ledger: append-only, balances from entries, reversals once with a reason."""
from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from casework import selectors, services
from casework.constants import EntryKind
from casework.models import LedgerEntry, TimelineEntry
from casework.models.base import ImmutableError
from casework.roles import Role

from .factories import AccountFactory, ClientFactory, LedgerEntryFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    return UserFactory(username="poster", roles=[Role.INCOME_OFFICER])


@pytest.fixture
def account():
    return AccountFactory()


def post(account, officer, kind, amount, on=date(2026, 4, 1), ref="R1"):
    return services.ledger_post(account=account, kind=kind, amount=Decimal(amount), effective_date=on,
                                reference=ref, description="test", actor=officer)


@pytest.mark.parametrize(
    "kind, typed, stored",
    [
        (EntryKind.CHARGE, "125.50", "125.50"),
        (EntryKind.CHARGE, "-125.50", "125.50"),
        (EntryKind.PAYMENT, "50.00", "-50.00"),
        (EntryKind.CREDIT, "10.01", "-10.01"),
        (EntryKind.WRITE_OFF, "3.33", "-3.33"),
        (EntryKind.INTEREST, "0.01", "0.01"),
        (EntryKind.FEE, "95", "95.00"),
        (EntryKind.REFUND, "20", "20.00"),
        (EntryKind.ADJUSTMENT, "-7.25", "-7.25"),
        (EntryKind.ADJUSTMENT, "7.25", "7.25"),
    ],
)
def test_the_sign_of_an_entry_follows_its_kind(account, officer, kind, typed, stored):
    assert post(account, officer, kind, typed).amount == Decimal(stored)


def test_balance_is_the_sum_of_entries_to_the_penny(account, officer):
    for i in range(30):
        post(account, officer, EntryKind.CHARGE, "33.33", ref=f"C{i}")
    post(account, officer, EntryKind.PAYMENT, "100.00", ref="P1")
    assert selectors.account_balance(account) == Decimal("899.90")
    assert selectors.client_balance(account.client) == Decimal("899.90")


def test_balance_as_of_a_date_counts_only_entries_effective_by_then(account, officer):
    post(account, officer, EntryKind.CHARGE, "100", on=date(2026, 1, 1), ref="A")
    post(account, officer, EntryKind.CHARGE, "50", on=date(2026, 2, 1), ref="B")
    assert selectors.account_balance(account, as_of=date(2026, 1, 31)) == Decimal("100.00")


def test_statement_runs_a_balance_from_the_opening_balance(account, officer):
    post(account, officer, EntryKind.CHARGE, "100", on=date(2026, 1, 1), ref="A")
    post(account, officer, EntryKind.PAYMENT, "40", on=date(2026, 2, 1), ref="B")
    post(account, officer, EntryKind.CHARGE, "25.50", on=date(2026, 3, 1), ref="C")
    result = selectors.statement(account, start=date(2026, 2, 1), end=date(2026, 3, 31))
    assert result.opening == Decimal("100.00")
    assert [line.balance for line in result.lines] == [Decimal("60.00"), Decimal("85.50")]
    assert result.closing == Decimal("85.50")
    assert result.debits == Decimal("25.50") and result.credits == Decimal("40.00")


def test_a_zero_amount_is_refused(account, officer):
    with pytest.raises(services.DomainError) as exc:
        post(account, officer, EntryKind.CHARGE, "0")
    assert exc.value.field == "amount"


def test_posting_records_who_and_the_timeline(account, officer):
    entry = post(account, officer, EntryKind.PAYMENT, "12.00")
    assert entry.posted_by == officer and entry.posted_at
    assert TimelineEntry.objects.filter(client=account.client, action="ledger.payment.posted").exists()


def test_a_posted_entry_cannot_be_changed_or_deleted_through_the_model(account, officer):
    entry = post(account, officer, EntryKind.CHARGE, "10")
    entry.amount = Decimal("1.00")
    with pytest.raises(ImmutableError):
        entry.save()
    with pytest.raises(ImmutableError):
        entry.delete()
    with pytest.raises(ImmutableError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1.00"))
    with pytest.raises(ImmutableError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()


@pytest.mark.parametrize("sql", [
    "UPDATE casework_ledgerentry SET amount = 1 WHERE id = %s",
    "DELETE FROM casework_ledgerentry WHERE id = %s",
    "UPDATE casework_timelineentry SET summary = 'x' WHERE client_id = (SELECT client_id FROM casework_account a JOIN casework_ledgerentry e ON e.account_id = a.id WHERE e.id = %s)",
])
def test_raw_sql_update_or_delete_of_a_posted_entry_fails_on_postgresql(account, officer, sql):
    assert connection.vendor == "postgresql"
    entry = post(account, officer, EntryKind.CHARGE, "10")
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).amount == Decimal("10.00")


def test_a_reversal_is_equal_and_opposite_with_a_reason(account, officer):
    entry = post(account, officer, EntryKind.PAYMENT, "50")
    reversal = services.ledger_reverse(entry=entry, reason="Cheque bounced", actor=officer)
    assert reversal.amount == Decimal("50.00") and reversal.reverses == entry and reversal.reason == "Cheque bounced"
    assert selectors.account_balance(account) == Decimal("0.00")


def test_an_entry_is_reversed_at_most_once(account, officer):
    entry = post(account, officer, EntryKind.CHARGE, "50")
    services.ledger_reverse(entry=entry, reason="Raised in error", actor=officer)
    with pytest.raises(services.DomainError, match="already been reversed"):
        services.ledger_reverse(entry=entry, reason="Again", actor=officer)


def test_a_reversal_cannot_itself_be_reversed(account, officer):
    reversal = services.ledger_reverse(entry=post(account, officer, EntryKind.CHARGE, "5"), reason="x", actor=officer)
    with pytest.raises(services.DomainError, match="cannot itself be reversed"):
        services.ledger_reverse(entry=reversal, reason="y", actor=officer)


def test_a_reversal_needs_a_reason(account, officer):
    with pytest.raises(services.DomainError) as exc:
        services.ledger_reverse(entry=post(account, officer, EntryKind.CHARGE, "5"), reason="  ", actor=officer)
    assert exc.value.field == "reason"


def test_the_database_refuses_a_reversal_without_a_reason(account, officer):
    entry = LedgerEntryFactory(account=account)
    with pytest.raises(Exception):
        with transaction.atomic():
            LedgerEntry.objects.create(account=account, kind=entry.kind, amount=-entry.amount, effective_date=entry.effective_date,
                                       posted_by=officer, reference="X", description="x", reverses=entry, reason="")


def test_each_client_has_one_charges_account(officer):
    client = ClientFactory()
    assert services.account_for_client(client) == services.account_for_client(client)
    assert services.account_for_client(client).number == f"C-{client.reference}"
