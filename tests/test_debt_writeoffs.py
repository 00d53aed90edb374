"""Limitation flags (DR-03, WE-8), write-off approval levels and the aged debt report."""
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from casework.constants import CaseType, EntryKind
from casework.models import LedgerEntry
from casework.roles import Role
from casework.services import DomainError
from debt import limitation, reports
from debt.models import (
    UNLIMITED_APPROVER_GROUP,
    PaymentAllocation,
    WriteOffLevel,
    WriteOffReason,
    WriteOffRequest,
    WriteOffStatus,
)
from debt.services.writeoffs import why_cannot_decide, writeoff_approve, writeoff_reject, writeoff_request

from .conftest import sign_in
from .factories import CaseFactory, ClientFactory, TeamFactory, UserFactory
from .factories_debt import ChargeableServiceFactory, InvoiceFactory, InvoiceLineFactory, PaymentFactory

D = Decimal


# Limitation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("due, last_day", [
    (date(2020, 3, 23), date(2026, 3, 23)),   # WE-8
    (date(2020, 4, 20), date(2026, 4, 20)),   # WE-8, the next 4-weekly invoice
    (date(2020, 2, 29), date(2026, 2, 28)),   # 29 February, no 29 February six years on
    (date(2018, 2, 28), date(2024, 2, 28)),   # into a leap year: still the 28th
    (date(2022, 2, 28), date(2028, 2, 28)),
])
def test_last_day_to_claim_is_the_sixth_anniversary_of_the_due_date(due, last_day):
    assert limitation.last_day_to_claim(due) == last_day


def test_we8_warning_and_barring_dates():
    due = date(2020, 3, 23)
    assert limitation.warning_from(due) == date(2025, 9, 23)
    assert not limitation.is_approaching(due, date(2025, 9, 22))
    assert limitation.is_approaching(due, date(2025, 9, 23))
    assert not limitation.is_barred(due, date(2026, 3, 23))       # the last day itself is still in time
    assert limitation.is_barred(due, date(2026, 3, 24))
    assert not limitation.is_barred(date(2020, 4, 20), date(2026, 3, 24))


@pytest.mark.parametrize("on", [date(2026, 2, 28), date(2026, 3, 1), date(2024, 2, 29), date(2024, 3, 1),
                                date(2026, 3, 24), date(2026, 8, 31)])
def test_database_cut_off_dates_agree_with_the_date_rules(on):
    barred_cut = limitation.barred_if_due_on_or_before(on)
    warned_cut = limitation.warned_if_due_on_or_before(on)
    for offset in range(-400, 400):
        due = on - timedelta(days=6 * 365) + timedelta(days=offset)
        assert limitation.is_barred(due, on) == (due <= barred_cut), due
        assert (limitation.warning_from(due) <= on) == (due <= warned_cut), due


@pytest.mark.django_db
def test_approaching_and_statute_barred_queues():
    barred = InvoiceFactory(due_date=date(2020, 3, 23), issue_date=date(2020, 3, 2))
    approaching = InvoiceFactory(due_date=date(2020, 4, 20), issue_date=date(2020, 3, 30))
    InvoiceFactory(due_date=date(2021, 4, 20), issue_date=date(2021, 3, 30))  # not yet in the window
    paid = InvoiceFactory(due_date=date(2020, 3, 1), issue_date=date(2020, 2, 10), total=D("50.00"))
    PaymentAllocation.objects.create(payment=PaymentFactory(client=paid.client, amount=D("50.00")), invoice=paid,
                                     amount=D("50.00"), created_by=UserFactory())
    on = date(2026, 3, 24)
    assert list(limitation.statute_barred_invoices(on)) == [barred]
    assert list(limitation.approaching_limitation(on)) == [approaching]
    assert limitation.statute_barred(barred, on) and not limitation.statute_barred(approaching, on)


@pytest.mark.django_db
def test_limitation_page_and_export(client_as):
    InvoiceFactory(due_date=date(2020, 3, 23), issue_date=date(2020, 3, 2), number="INV-BARRED")
    http = client_as(Role.AUDITOR)
    page = http.get(reverse("debt:limitation_list"), {"on": "2026-03-24"})
    assert page.status_code == 200 and "INV-BARRED" in page.content.decode()
    csv = b"".join(http.get(reverse("debt:limitation_list"), {"on": "2026-03-24", "format": "csv"})
                   .streaming_content).decode()
    assert "Statute barred,INV-BARRED" in csv


# Write-offs ---------------------------------------------------------------------------------

@pytest.fixture
def levels(db):
    start = date(2020, 1, 1)
    WriteOffLevel.objects.create(group_name=Role.INCOME_OFFICER.value, maximum_amount=D("50.00"), effective_from=start)
    WriteOffLevel.objects.create(group_name=Role.TEAM_LEADER.value, maximum_amount=D("1000.00"), effective_from=start)
    WriteOffLevel.objects.create(group_name=UNLIMITED_APPROVER_GROUP, maximum_amount=None, effective_from=start)


def _user(name: str, role: Role, unlimited: bool = False):
    user = UserFactory(username=name, roles=[role])
    if unlimited:
        user.groups.add(Group.objects.get_or_create(name=UNLIMITED_APPROVER_GROUP)[0])
    return user


def _request(amount: str, requester=None, invoice=None):
    invoice = invoice or InvoiceFactory(total=D("5000.00"))
    return writeoff_request(client=invoice.client, lines=[(invoice, D(amount))], reason=WriteOffReason.UNECONOMICAL,
                            note="Costs more to chase than it is worth",
                            actor=requester or _user("requester", Role.INCOME_OFFICER))


@pytest.mark.parametrize("amount, role, unlimited, allowed", [
    ("50.00", Role.INCOME_OFFICER, False, True),
    ("50.01", Role.INCOME_OFFICER, False, False),
    ("1000.00", Role.TEAM_LEADER, False, True),
    ("1000.01", Role.TEAM_LEADER, False, False),
    ("4000.00", Role.TEAM_LEADER, True, True),
    ("20.00", Role.AUDITOR, False, False),
])
def test_write_off_approval_follows_the_levels(levels, amount, role, unlimited, allowed):
    request = _request(amount)
    approver = _user("approver", role, unlimited)
    if allowed:
        posted = writeoff_approve(request=request, actor=approver)
        assert posted.status == WriteOffStatus.POSTED and posted.decided_by == approver
    else:
        with pytest.raises(DomainError):
            writeoff_approve(request=request, actor=approver)
        request.refresh_from_db()
        assert request.status == WriteOffStatus.REQUESTED


def test_requester_cannot_approve_their_own_write_off(levels):
    leader = _user("leader", Role.TEAM_LEADER)
    request = _request("10.00", requester=leader)
    with pytest.raises(DomainError, match="someone else"):
        writeoff_approve(request=request, actor=leader)


def test_rejection_needs_a_reason_and_posts_nothing(levels):
    request = _request("10.00")
    leader = _user("leader", Role.TEAM_LEADER)
    with pytest.raises(DomainError):
        writeoff_reject(request=request, actor=leader, note=" ")
    rejected = writeoff_reject(request=request, actor=leader, note="Client has started paying")
    assert rejected.status == WriteOffStatus.REJECTED and rejected.ledger_entry is None
    with pytest.raises(DomainError):
        writeoff_approve(request=rejected, actor=_user("boss", Role.TEAM_LEADER, unlimited=True))


def test_approval_posts_one_write_off_entry_and_reduces_the_invoice(levels):
    invoice = InvoiceFactory(total=D("300.00"))
    request = _request("120.00", invoice=invoice)
    leader = _user("leader", Role.TEAM_LEADER)
    posted = writeoff_approve(request=request, actor=leader)
    with pytest.raises(DomainError):
        writeoff_approve(request=posted, actor=leader)
    entries = LedgerEntry.objects.filter(kind=EntryKind.WRITE_OFF)
    assert entries.count() == 1 and entries.get().amount == D("-120.00")
    assert reports.invoice_written_off(invoice) == D("120.00")
    assert reports.with_outstanding(type(invoice).objects.filter(pk=invoice.pk)).get().outstanding == D("180.00")


def test_a_request_cannot_exceed_what_is_left_to_write_off(levels):
    invoice = InvoiceFactory(total=D("100.00"))
    _request("60.00", invoice=invoice)
    with pytest.raises(DomainError, match="£40.00"):
        _request("40.01", invoice=invoice)


@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_post_only_once(levels):
    request = _request("500.00")
    approvers = [_user(f"leader{i}", Role.TEAM_LEADER) for i in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(user):
        try:
            barrier.wait()
            writeoff_approve(request=request, actor=user)
            outcomes.append("ok")
        except DomainError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(u,)) for u in approvers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert LedgerEntry.objects.filter(kind=EntryKind.WRITE_OFF).count() == 1


def test_write_off_pages(levels, client_as):
    invoice = InvoiceFactory(total=D("80.00"))
    officer = client_as(Role.INCOME_OFFICER)
    response = officer.post(reverse("debt:writeoff_create", args=[invoice.client.pk]), {
        "reason": WriteOffReason.HARDSHIP, "note": "No means to pay", f"invoice_{invoice.pk}": "30.00"})
    assert response.status_code == 302
    request = invoice.client.write_off_requests.get()
    detail = officer.get(reverse("debt:writeoff_detail", args=[request.pk])).content.decode()
    assert "someone else must decide" in detail
    leader = client_as(Role.TEAM_LEADER)
    assert leader.post(reverse("debt:writeoff_approve", args=[request.pk]), {"note": ""}).status_code == 302
    request.refresh_from_db()
    assert request.status == WriteOffStatus.POSTED
    listing = leader.get(reverse("debt:writeoff_list"), {"status": "posted", "format": "csv"})
    assert request.reference in b"".join(listing.streaming_content).decode()


# The limit is on the total written off for a client in the period -----------------------------

def _since(days: int = 365) -> str:
    return f"{timezone.localdate() - timedelta(days=days):%-d %B %Y}"


def test_a_debt_split_into_requests_under_the_limit_is_refused(levels):
    invoice = InvoiceFactory(total=D("3000.00"))
    first, second, third = (_request("600.00", invoice=invoice) for _ in range(3))
    leader, other_leader = _user("leader", Role.TEAM_LEADER), _user("other-leader", Role.TEAM_LEADER)
    writeoff_approve(request=first, actor=leader)
    message = (f"With the £600.00 already written off for this client since {_since()} this comes to £1,200.00; "
               "you may approve up to £1,000.00")
    for approver in (leader, other_leader):  # another team leader is counted the same
        assert why_cannot_decide(second, approver) == message
        with pytest.raises(DomainError) as refused:
            writeoff_approve(request=second, actor=approver)
        assert refused.value.message == message
    second.refresh_from_db()
    assert second.status == WriteOffStatus.REQUESTED
    # Someone whose level covers the total may approve it; then the total counts both.
    writeoff_approve(request=second, actor=_user("head", Role.TEAM_LEADER, unlimited=True))
    assert "£1,200.00 already written off" in why_cannot_decide(third, leader)
    assert LedgerEntry.objects.filter(kind=EntryKind.WRITE_OFF).count() == 2


def test_a_rejected_or_waiting_request_is_not_counted_and_another_clients_is_not_either(levels):
    invoice = InvoiceFactory(total=D("3000.00"))
    leader = _user("leader", Role.TEAM_LEADER)
    writeoff_reject(request=_request("900.00", invoice=invoice), actor=leader, note="Still paying")
    _request("900.00", invoice=invoice)  # waiting: not yet written off
    writeoff_approve(request=_request("900.00"), actor=leader)  # another client
    assert why_cannot_decide(_request("900.00", invoice=invoice), leader) is None


def test_write_offs_before_the_period_are_not_counted_and_the_period_is_data(levels):
    invoice = InvoiceFactory(total=D("3000.00"))
    leader = _user("leader", Role.TEAM_LEADER)
    old = writeoff_approve(request=_request("800.00", invoice=invoice), actor=leader)
    today = timezone.localdate()
    WriteOffRequest.objects.filter(pk=old.pk).update(
        decided_at=timezone.make_aware(timezone.datetime.combine(today - timedelta(days=40), timezone.datetime.min.time())))
    request = _request("800.00", invoice=invoice)
    assert "£800.00 already written off for this client since" in why_cannot_decide(request, leader)
    # From today the team leader's limit counts 30 days: the write-off 40 days ago falls outside.
    WriteOffLevel.objects.create(group_name=Role.TEAM_LEADER.value, maximum_amount=D("1000.00"), period_days=30,
                                 effective_from=today)
    assert why_cannot_decide(request, leader) is None
    assert writeoff_approve(request=request, actor=leader).status == WriteOffStatus.POSTED


def test_a_posted_write_off_is_recorded_with_its_maker_and_checker(levels):
    from casework.models import ControlAction, MoneyAction

    requester, leader = _user("requester", Role.INCOME_OFFICER), _user("leader", Role.TEAM_LEADER)
    posted = writeoff_approve(request=_request("120.00", requester=requester), actor=leader)
    action = MoneyAction.objects.get(action=ControlAction.WRITE_OFF)
    assert (action.amount, action.reference, action.client_id) == (D("120.00"), posted.reference, posted.client_id)
    assert (action.maker, action.checker, action.same_person) == (requester, leader, False)
    assert posted.client.last_name not in action.summary and posted.client.last_name not in action.subject


def test_the_approval_page_shows_what_changes_and_the_period_total(levels, client_as):
    invoice = InvoiceFactory(total=D("1500.00"))  # with its ledger charge: the client owes £1,500.00
    earlier = writeoff_approve(request=_request("300.00", invoice=invoice), actor=_user("boss", Role.TEAM_LEADER))
    request = _request("800.00", invoice=invoice)
    http = client_as(Role.TEAM_LEADER)
    sent_back = http.get(reverse("debt:writeoff_approve", args=[request.pk]))
    assert sent_back.status_code == 302 and sent_back["Location"] == reverse("debt:writeoff_detail", args=[request.pk])
    detail = http.get(reverse("debt:writeoff_detail", args=[request.pk])).content.decode()
    assert (f"With the £300.00 already written off for this client since {_since()} this comes to £1,100.00"
            in detail)
    assert invoice.number in detail and "£1,200.00" in detail and "£400.00" in detail  # outstanding now, after
    assert "£1,200.00, £400.00 after this write-off" in detail  # the client's balance
    assert f"Written off for this client since {_since()}" in detail and "£300.00 before this request" in detail
    assert "£1,100.00 with it" in detail
    refused = http.post(reverse("debt:writeoff_approve", args=[request.pk]), {"note": ""}, follow=True)
    assert "you may approve up to £1,000.00" in refused.content.decode()
    request.refresh_from_db()
    assert request.status == WriteOffStatus.REQUESTED and earlier.status == WriteOffStatus.POSTED
    approve = sign_in(HttpClient(), _user("head", Role.TEAM_LEADER, unlimited=True)).get(
        reverse("debt:writeoff_approve", args=[request.pk])).content.decode()
    assert "What approving changes" in approve and "£1,100.00 with it (you may approve any amount)" in approve


# Aged debt ----------------------------------------------------------------------------------

@pytest.fixture
def aged(db, levels):
    """On 2026-12-31: four invoices at hand-picked ages, one part paid, one part written off."""
    as_at = date(2026, 12, 31)
    north = TeamFactory(name="North")
    with_case = ClientFactory()
    CaseFactory(client=with_case, team=north, case_type=CaseType.DEBT_RECOVERY)
    home, day = ChargeableServiceFactory(code="home_care", name="Home care"), ChargeableServiceFactory(
        code="day_care", name="Day care")

    def invoice(client, days_past_due: int, total: str, lines: list):
        inv = InvoiceFactory(client=client, total=D(total), due_date=as_at - timedelta(days=days_past_due),
                             issue_date=as_at - timedelta(days=days_past_due + 14))
        for service, amount in lines:
            InvoiceLineFactory(invoice=inv, service=service, amount=D(amount))
        return inv

    a = invoice(with_case, 30, "100.00", [(home, "100.00")])                 # 0-30
    b = invoice(with_case, 31, "200.00", [(home, "150.00"), (day, "50.00")])  # 31-60
    c = invoice(ClientFactory(), 400, "300.00", [(day, "300.00")])            # over 365, no case
    invoice(ClientFactory(), -5, "40.00", [(home, "40.00")])                 # not yet due
    PaymentAllocation.objects.create(payment=PaymentFactory(client=b.client, amount=D("100.00"),
                                                            received_on=as_at - timedelta(days=10)),
                                     invoice=b, amount=D("100.00"), created_by=UserFactory())
    posted = writeoff_approve(request=_request("60.00", invoice=c), actor=_user("leader", Role.TEAM_LEADER))
    decided = timezone.make_aware(timezone.datetime(2026, 11, 21, 12))
    WriteOffRequest.objects.filter(pk=posted.pk).update(decided_at=decided)  # pin the date for the figures
    return as_at, a, b, c


def _table(rows):
    return {row.group: {k: v for k, v in row.bands.items() if v} for row in rows}


def test_aged_debt_by_team_matches_hand_figures(aged):
    as_at = aged[0]
    assert _table(reports.aged_by_team(as_at)) == {
        "North": {"0 to 30 days": D("100.00"), "31 to 60 days": D("100.00")},   # b: 200 − 100 paid
        "No case": {"Over 365 days": D("240.00"), "Not yet due": D("40.00")},   # c: 300 − 60 written off
    }
    assert reports.total_outstanding(as_at) == D("480.00")


def test_aged_debt_by_service_shares_part_payments_by_line(aged):
    assert _table(reports.aged_by_service(aged[0])) == {
        "Home care": {"0 to 30 days": D("100.00"), "31 to 60 days": D("75.00"), "Not yet due": D("40.00")},
        "Day care": {"31 to 60 days": D("25.00"), "Over 365 days": D("240.00")},
    }


def test_balances_as_at_a_date_leave_out_later_payments_and_write_offs(aged):
    _, _, b, c = aged
    invoices = type(c).objects.filter(pk__in=[b.pk, c.pk]).order_by("pk")
    assert [i.outstanding for i in reports.with_outstanding(invoices, as_at=date(2026, 11, 20))] == [
        D("200.00"), D("300.00")]
    assert [i.outstanding for i in reports.with_outstanding(invoices, as_at=date(2026, 12, 31))] == [
        D("100.00"), D("240.00")]


def test_collection_rate_matches_hand_figures(aged):
    result = reports.collection(date(2026, 12, 1), date(2026, 12, 31))
    # Opening on 30 November: a 100 + b 200 (paid only on 21 December) + c 240 (written off 21 November).
    # Billed in December: the not-yet-due invoice, issued 22 December, 40. Collected: b's 100.
    assert (result.opening, result.billed, result.collected) == (D("540.00"), D("40.00"), D("100.00"))
    assert result.rate == D("17.2")  # 100 / 580


def test_aged_debt_page_and_exports(aged, client_as):
    http = client_as(Role.AUDITOR)
    page = http.get(reverse("debt:aged_debt"), {"from": "2026-12-01", "to": "2026-12-31"})
    body = page.content.decode()
    assert page.status_code == 200 and "<svg" in body and "North" in body and "£240.00" in body
    csv = b"".join(http.get(reverse("debt:aged_debt"), {"to": "2026-12-31", "format": "csv"})
                   .streaming_content).decode()
    assert "Team,North,0.00,100.00,100.00,0.00,0.00,0.00,0.00,200.00" in csv
    xlsx = http.get(reverse("debt:aged_debt"), {"to": "2026-12-31", "format": "xlsx"})
    import io
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.values)
    assert rows[0][0] == "Grouped by" and len(rows) == 1 + 2 + 1 + 2  # teams, recovery stages, services
    assert ("Recovery stage", "Not on the recovery ladder", 40, 100, 100, 0, 0, 0, 240, 480) in rows
