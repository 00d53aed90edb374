"""The aged debt report's figures: by team, by recovery stage and by service, net of payments,
credit notes and write-offs at the report date, and the collection figures. The report is one
set-based query; these tests hold it to hand-worked figures and to the per-invoice figures of
`selectors.with_outstanding` (the definition every other page uses)."""
import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.constants import CaseStatus, CaseType, EntryKind
from casework.roles import Role
from debt import reports, selectors
from debt.models import (
    DebtRecovery,
    Invoice,
    PaymentAllocation,
    RecoveryStage,
    WriteOffLine,
    WriteOffRequest,
    WriteOffStatus,
)
from debt.services.billing import credit_note_raise

from .factories import CaseFactory, ClientFactory, LedgerEntryFactory, TeamFactory, UserFactory
from .factories_debt import ChargeableServiceFactory, InvoiceFactory, InvoiceLineFactory, PaymentFactory

pytestmark = pytest.mark.django_db
D = Decimal


def _table(rows):
    return {row.group: {k: v for k, v in row.bands.items() if v} for row in rows}


def _invoice(client, due: date, lines: list, issue: date | None = None):
    inv = InvoiceFactory(client=client, total=sum((D(a) for _, a in lines), D("0")), due_date=due,
                         issue_date=issue or due - timedelta(days=14))
    for service, amount in lines:
        InvoiceLineFactory(invoice=inv, service=service, amount=D(amount))
    return inv


def _pay(inv, amount: str, on: date):
    payment = PaymentFactory(client=inv.client, account=inv.account, amount=D(amount), received_on=on)
    PaymentAllocation.objects.create(payment=payment, invoice=inv, amount=D(amount), created_by=UserFactory())
    return payment


def _write_off(inv, amount: str, decided: date):
    request = WriteOffRequest.objects.create(client=inv.client, amount=D(amount), reason="hardship", note="x",
                                             requested_by=UserFactory())
    WriteOffLine.objects.create(request=request, invoice=inv, amount=D(amount))
    # Posted on `decided` (the report reads the decision date, not the ledger entry).
    entry = LedgerEntryFactory(account=inv.account, kind=EntryKind.WRITE_OFF, amount=-D(amount), effective_date=decided)
    WriteOffRequest.objects.filter(pk=request.pk).update(
        status=WriteOffStatus.POSTED, decided_by=request.requested_by, ledger_entry=entry,
        decided_at=timezone.make_aware(datetime.combine(decided, time(12))))


@pytest.fixture
def ladder(db):
    """Two rungs of the ladder of their own (the seeded stages may have been flushed by a
    transactional test), ordered after any seeded ones."""
    top = max(RecoveryStage.objects.values_list("order", flat=True), default=0)
    return [RecoveryStage.objects.create(order=top + n, code=f"report-stage-{n}", name=name, delay_days=7,
                                         effective_from=date(2020, 1, 1))
            for n, name in ((1, "Reminder for the report"), (2, "Final notice for the report"))]


@pytest.fixture
def county(db, ladder, team_leader):
    """On `as_at` (today): five clients, hand-picked ages, payments, a part credit note and a write-off.

    - Ann (North's open case, second stage): £100 home care due 10 days ago; £150 home + £50 day care
      due 45 days ago, £80 paid; a credit note of £30 on the day care line.
    - Bob (South's closed case, North's older open case, first stage): £300 day care due 400 days ago,
      £60 written off 20 days ago, £40 paid only tomorrow (after the report date).
    - Cat (no case, a recovery row with no stage): £40 home care not due for 5 days.
    - Dan (no case, not on the ladder): £75 due 100 days ago, paid in full.
    """
    as_at = timezone.localdate()
    home = ChargeableServiceFactory(code="home_care", name="Home care")
    day = ChargeableServiceFactory(code="day_care", name="Day care")
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    ann, bob, cat, dan = ClientFactory(), ClientFactory(), ClientFactory(), ClientFactory()
    CaseFactory(client=ann, team=north, case_type=CaseType.DEBT_RECOVERY)
    CaseFactory(client=bob, team=north, case_type=CaseType.DEBT_RECOVERY)
    CaseFactory(client=bob, team=south, case_type=CaseType.DEBT_RECOVERY, status=CaseStatus.CLOSED)
    DebtRecovery.objects.create(client=ann, stage=ladder[1], stage_entered_on=as_at)
    DebtRecovery.objects.create(client=bob, stage=ladder[0], stage_entered_on=as_at)
    DebtRecovery.objects.create(client=cat, stage=None)
    a1 = _invoice(ann, as_at - timedelta(days=10), [(home, "100.00")])
    a2 = _invoice(ann, as_at - timedelta(days=45), [(home, "150.00"), (day, "50.00")])
    _pay(a2, "80.00", as_at - timedelta(days=2))
    credit_note_raise(invoice=a2, reason="Day care not delivered", actor=team_leader,
                      lines=[(a2.lines.get(service=day), D("30.00"))])
    b1 = _invoice(bob, as_at - timedelta(days=400), [(day, "300.00")])
    _write_off(b1, "60.00", as_at - timedelta(days=20))
    _pay(b1, "40.00", as_at + timedelta(days=1))
    _invoice(cat, as_at + timedelta(days=5), [(home, "40.00")])
    d1 = _invoice(dan, as_at - timedelta(days=100), [(home, "75.00")])
    _pay(d1, "75.00", as_at - timedelta(days=50))
    return as_at, ladder, (a1, a2, b1)


def test_aged_debt_by_team_stage_and_service_match_hand_figures(county):
    as_at, ladder, _ = county
    report = reports.aged_report(as_at)
    assert _table(report.by_team) == {
        "North": {"0 to 30 days": D("100.00"), "31 to 60 days": D("90.00"),      # a2: 200 − 30 credited − 80 paid
                  "Over 365 days": D("240.00")},                                 # b1: 300 − 60 written off
        "No case": {"Not yet due": D("40.00")},
    }
    assert _table(report.by_stage) == {
        reports.NO_STAGE: {"Not yet due": D("40.00")},
        ladder[0].name: {"Over 365 days": D("240.00")},
        ladder[1].name: {"0 to 30 days": D("100.00"), "31 to 60 days": D("90.00")},
    }
    assert [row.group for row in report.by_stage] == [reports.NO_STAGE, ladder[0].name, ladder[1].name]
    # a2's £90 shared by its lines' original amounts: 150/200 and 50/200.
    assert _table(report.by_service) == {
        "Home care": {"0 to 30 days": D("100.00"), "31 to 60 days": D("67.50"), "Not yet due": D("40.00")},
        "Day care": {"31 to 60 days": D("22.50"), "Over 365 days": D("240.00")},
    }
    assert report.total == D("470.00") == reports.total_outstanding(as_at)
    assert report.band_totals == [D("40.00"), D("100.00"), D("90.00"), D("0.00"), D("0.00"), D("0.00"), D("240.00")]


def test_the_report_on_an_earlier_day_leaves_out_what_came_later(county):
    as_at, _, (a1, a2, b1) = county
    earlier = as_at - timedelta(days=21)   # before the write-off, the payment and the credit note
    report = reports.aged_report(earlier)
    # a1 (issued 24 days ago) is not yet due; a2 is 24 days past due; Dan had paid; Cat's is not issued.
    assert _table(report.by_team) == {"North": {"Not yet due": D("100.00"), "0 to 30 days": D("200.00"),
                                                "Over 365 days": D("300.00")}}
    # The opening figure computed alongside equals the figure for that day on its own.
    assert reports.aged_report(as_at, opening_on=earlier).opening == D("600.00") == reports.total_outstanding(earlier)


def test_the_report_agrees_with_the_per_invoice_figures_on_every_day(county, team_leader):
    """Many invoices with payments, part credits and write-offs on random days: on each of several
    days, every team's and stage's total equals the sum of with_outstanding's positive amounts."""
    as_at, ladder, _ = county
    rnd = random.Random(7)
    home = ChargeableServiceFactory(code="home_care")
    teams = [TeamFactory(name=f"Team {n}") for n in range(3)]
    for n in range(24):
        client = ClientFactory()
        if n % 3:
            CaseFactory(client=client, team=teams[n % 3], case_type=CaseType.DEBT_RECOVERY)
        if n % 4:
            DebtRecovery.objects.create(client=client, stage=ladder[n % len(ladder)])
        due = as_at - timedelta(days=rnd.randint(-20, 500))
        inv = _invoice(client, due, [(home, f"{rnd.randint(1000, 90000) / 100:.2f}")])
        if n % 2:
            _pay(inv, f"{rnd.randint(1, int(inv.total * 40)) / 100:.2f}", due + timedelta(days=rnd.randint(-10, 40)))
        if n % 5 == 0:
            _write_off(inv, "5.00", due + timedelta(days=rnd.randint(0, 60)))
        if n % 6 == 0:
            credit_note_raise(invoice=inv, reason="Adjusted", actor=team_leader,
                              lines=[(inv.lines.get(), D("1.25"))])
    for day in [as_at - timedelta(days=k) for k in (0, 15, 45, 200)] + [as_at + timedelta(days=30)]:
        report = reports.aged_report(day)
        owing = list(selectors.with_outstanding(Invoice.objects.filter(total__gt=0, issue_date__lte=day), day)
                     .filter(outstanding__gt=0).values_list("client_id", "outstanding"))
        assert report.total == sum((o for _, o in owing), D("0.00"))
        stage_of = dict(DebtRecovery.objects.filter(stage__isnull=False).values_list("client_id", "stage__name"))
        by_stage: dict[str, Decimal] = {}
        for client_id, amount in owing:
            name = stage_of.get(client_id, reports.NO_STAGE)
            by_stage[name] = by_stage.get(name, D("0.00")) + amount
        assert {r.group: r.total for r in report.by_stage} == by_stage
        assert sum((r.total for r in report.by_service), D("0.00")) == report.total  # one line per invoice here


def test_collection_in_the_period(county):
    as_at, _, _ = county
    start = as_at - timedelta(days=30)
    result = reports.collection(start, as_at)
    # Collected: a2's £80 (b1's £40 comes tomorrow; d1's £75 was before the period).
    # Billed: a1 £100, a2 £200 (issued 59 days ago: no), the not-yet-due £40, and the credit note −£30.
    assert (result.collected, result.billed) == (D("80.00"), D("110.00"))
    # Opening, 31 days ago: a2 £200 (nothing paid or credited yet) and b1 £300 (not yet written off).
    assert result.opening == reports.total_outstanding(start - timedelta(days=1)) == D("500.00")
    assert result.rate == D("13.1")  # 80 / (500 + 110)


def test_a_reversed_payment_is_not_collected(county, team_leader):
    from debt.services.payments import payment_record, payment_reverse

    as_at, _, (a1, _, _) = county
    payment = payment_record(client=a1.client, amount=D("10.00"), method="cash", received_on=as_at, reference="CASH",
                             actor=team_leader)
    assert reports.collection(as_at, as_at).collected == D("10.00")
    payment_reverse(payment=payment, reason="Counterfeit", actor=team_leader)
    assert reports.collection(as_at, as_at).collected == D("0.00")


def test_the_page_shows_the_three_tables_and_the_collection(county, client_as):
    as_at, ladder, _ = county
    http = client_as(Role.AUDITOR)
    page = http.get(reverse("debt:aged_debt"), {"from": (as_at - timedelta(days=30)).isoformat(),
                                                "to": as_at.isoformat()}).content.decode()
    assert "By recovery stage" in page and ladder[1].name in page and reports.NO_STAGE in page
    assert "£470.00" in page and "£500.00" in page and "13.1%" in page
    csv = b"".join(http.get(reverse("debt:aged_debt"), {"to": as_at.isoformat(), "format": "csv"})
                   .streaming_content).decode()
    assert f"Recovery stage,{ladder[1].name},0.00,100.00,90.00,0.00,0.00,0.00,0.00,190.00" in csv
    assert "Service,Home care,40.00,100.00,67.50,0.00,0.00,0.00,0.00,207.50" in csv


def test_an_empty_report(db):
    report = reports.aged_report(date(2026, 12, 31), opening_on=date(2026, 11, 30))
    assert (report.by_team, report.by_stage, report.by_service, report.total, report.opening) == ([], [], [], 0, 0)
    assert reports.collection(date(2026, 12, 1), date(2026, 12, 31)).rate is None
