"""Concurrency with real connections on PostgreSQL: each thread has its own connection and all start
together at a barrier. The ledger must come out exact and each action must be done once."""
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from casework import services
from casework.constants import EntryKind
from casework.models import LedgerEntry
from casework.roles import Role
from casework.services import DomainError
from debt.models import Payment, PaymentAllocation, WriteOffLevel, WriteOffReason, WriteOffRequest, WriteOffStatus
from debt.services.payments import payment_record
from debt.services.writeoffs import writeoff_approve, writeoff_request

from .factories import ClientFactory, UserFactory
from .factories_debt import InvoiceFactory

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal
PAYMENTS = 40
ADJUSTMENTS = 10


def together(actions):
    """Run every action in its own thread and connection, all released at once; return the
    exceptions raised, by action index."""
    barrier = threading.Barrier(len(actions))
    errors: dict[int, Exception] = {}

    def run(index, action):
        try:
            barrier.wait(timeout=60)
            action()
        except Exception as exc:  # reported by the caller
            errors[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a thread did not finish within 3 minutes"
    return errors


def test_fifty_simultaneous_payments_and_adjustments_on_one_account_leave_the_ledger_exact():
    assert connection.vendor == "postgresql"
    client = ClientFactory()
    officer = UserFactory(username="cashier", roles=[Role.INCOME_OFFICER])
    invoices = [InvoiceFactory(client=client, total=D("100.00"), issue_date=date(2026, 7 + n, 2),
                               due_date=date(2026, 7 + n, 16)) for n in range(4)]
    account = services.account_for_client(client)

    def pay(n):
        return lambda: payment_record(client=client, amount=D("12.50"), method="bank_transfer",
                                      received_on=date(2026, 11, 20), reference=f"BT-{n:03d}", actor=officer)

    def adjust(n):
        return lambda: services.ledger_post(account=account, kind=EntryKind.ADJUSTMENT, amount=D("3.33"),
                                            effective_date=date(2026, 11, 20), reference=f"ADJ-{n:03d}",
                                            description="Rate correction", actor=officer)

    errors = together([pay(n) for n in range(PAYMENTS)] + [adjust(n) for n in range(ADJUSTMENTS)])
    assert errors == {}

    entries = LedgerEntry.objects.filter(account=account)
    # 4 invoices of £100.00, 40 payments of £12.50, 10 adjustments of £3.33.
    assert entries.count() == 4 + PAYMENTS + ADJUSTMENTS
    assert services_balance(account) == D("400.00") - D("500.00") + D("33.30") == D("-66.70")
    references = list(entries.values_list("reference", flat=True))
    assert len(references) == len(set(references))  # each action once
    assert Payment.objects.filter(client=client).count() == PAYMENTS
    # Allocation never pays an invoice twice over: £400.00 owed, £500.00 paid, £400.00 allocated.
    for invoice in invoices:
        paid = sum(PaymentAllocation.objects.filter(invoice=invoice).values_list("amount", flat=True), D("0"))
        assert paid == D("100.00"), (invoice.number, paid)
    for payment in Payment.objects.filter(client=client):
        allocated = sum(payment.allocations.values_list("amount", flat=True), D("0"))
        assert D("0") <= allocated <= D("12.50")


def services_balance(account):
    from casework.selectors import account_balance

    return account_balance(account)


@pytest.fixture
def levels():
    WriteOffLevel.objects.update_or_create(group_name=Role.TEAM_LEADER.value, effective_from=date(2020, 1, 1),
                                           defaults={"maximum_amount": D("1000.00")})


def test_two_officers_approving_the_same_write_off_at_once_approve_it_once(levels):
    invoice = InvoiceFactory(total=D("600.00"))
    requester = UserFactory(username="wo-requester", roles=[Role.INCOME_OFFICER])
    request = writeoff_request(client=invoice.client, lines=[(invoice, D("450.00"))],
                               reason=WriteOffReason.UNECONOMICAL, note="Uneconomical to pursue", actor=requester)
    leaders = [UserFactory(username=f"wo-leader-{i}", roles=[Role.TEAM_LEADER]) for i in range(2)]
    outcomes = []

    def approve(user):
        def action():
            try:
                writeoff_approve(request=request, actor=user)
                outcomes.append(("approved", user.pk))
            except DomainError as exc:
                outcomes.append(("refused", exc.message))
        return action

    assert together([approve(u) for u in leaders]) == {}
    assert sorted(o[0] for o in outcomes) == ["approved", "refused"]
    refusal = next(o[1] for o in outcomes if o[0] == "refused")
    request = WriteOffRequest.objects.get(pk=request.pk)
    # The second approver waited for the row lock, then found it already decided and written off.
    assert refusal == f"Write-off {request.reference} is written off and cannot become approved"
    assert request.status == WriteOffStatus.POSTED
    assert request.decided_by_id == next(o[1] for o in outcomes if o[0] == "approved")
    write_offs = LedgerEntry.objects.filter(kind=EntryKind.WRITE_OFF, account__client=invoice.client)
    assert list(write_offs.values_list("amount", flat=True)) == [D("-450.00")]
    assert services_balance(services.account_for_client(invoice.client)) == D("150.00")
