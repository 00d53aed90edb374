"""Billing: pro-rating (WE-2 and the conventions), periods (BL-01), assessed charges and their import,
the billing run, adjustments, credit notes, the preview and the pages."""
import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from casework.constants import EntryKind
from casework.models import LedgerEntry, Letter, Run, RunItem, TimelineEntry
from casework.roles import Role
from casework.runs.services import run_start
from casework.services import DomainError
from debt import billing
from debt.constants import ChargeSource, LineKind
from debt.models import AssessedCharge, BillingCycle, Invoice, InvoiceLine, InvoiceSequence
from debt.services import billing as services

from .factories import ClientFactory, UserFactory
from .factories_debt import ChargeableServiceFactory

D = Decimal
PERIOD = billing.Period(date(2026, 10, 5), date(2026, 11, 1))  # 28 days, Monday to Sunday
NEXT = billing.Period(date(2026, 11, 2), date(2026, 11, 29))


def charge(weekly: str, start: date, end: date | None = None, version: int = 1, ref: str = "", residential=False,
           service_id: int = 1, name: str = "Home care", reason: str = "") -> billing.Charge:
    return billing.Charge(pk=version, service_id=service_id, service_name=name, residential=residential,
                          version=version, weekly_amount=D(weekly), effective_from=start, effective_to=end,
                          assessment_reference=ref, reason=reason)


def amounts(lines) -> list[tuple]:
    return [(l.date_from, l.date_to, l.days, l.amount) for l in lines]


# Pure computation ------------------------------------------------------------------------------

@pytest.mark.parametrize("case, charges, death, expected", [
    ("WE-2: a full 28-day period is four weeks", [charge("99.85", date(2026, 4, 6))], None,
     [(date(2026, 10, 5), date(2026, 11, 1), 28, D("399.40"))]),
    ("a charge starting mid-period", [charge("99.85", date(2026, 10, 19))], None,
     [(date(2026, 10, 19), date(2026, 11, 1), 14, D("199.70"))]),
    ("a charge ending mid-period", [charge("99.85", date(2026, 4, 6), date(2026, 10, 18))], None,
     [(date(2026, 10, 5), date(2026, 10, 18), 14, D("199.70"))]),
    ("a death mid-period: up to and including the date of death", [charge("99.85", date(2026, 4, 6))],
     date(2026, 10, 11), [(date(2026, 10, 5), date(2026, 10, 11), 7, D("99.85"))]),
    ("a change of charge mid-period: two lines",
     [charge("99.85", date(2026, 4, 6), date(2026, 10, 18)), charge("120.00", date(2026, 10, 19), version=2)], None,
     [(date(2026, 10, 5), date(2026, 10, 18), 14, D("199.70")), (date(2026, 10, 19), date(2026, 11, 1), 14, D("240.00"))]),
    ("a death before the period: nothing", [charge("99.85", date(2026, 4, 6))], date(2026, 10, 1), []),
    ("a charge outside the period: nothing", [charge("99.85", date(2026, 11, 2))], None, []),
])
def test_pro_rating_at_period_death_and_charge_change_boundaries(case, charges, death, expected):
    assert amounts(billing.charge_lines(PERIOD, charges, death)) == expected, case


def test_charges_run_up_to_and_including_the_date_of_death():
    lines = billing.charge_lines(PERIOD, [charge("70.00", date(2026, 4, 6))], date_of_death=date(2026, 10, 5))
    assert amounts(lines) == [(date(2026, 10, 5), date(2026, 10, 5), 1, D("10.00"))]


@pytest.mark.parametrize("weekly", ["99.85", "0.01", "412.30", "1000.03"])
def test_seven_days_is_exactly_the_weekly_amount(weekly):
    week = billing.Period(date(2026, 10, 5), date(2026, 10, 11))
    assert billing.charge_lines(week, [charge(weekly, date(2026, 1, 1))])[0].amount == D(weekly)


@pytest.mark.parametrize("weekly, days, expected", [
    ("10.00", 1, "1.43"),   # 1.428571 rounds up
    ("10.00", 3, "4.29"),   # 4.285714
    ("99.85", 1, "14.26"),  # 14.264285
    ("0.07", 1, "0.01"),
    ("0.03", 1, "0.00"),    # 0.004285 rounds down
    ("3.50", 1, "0.50"),
])
def test_part_weeks_are_weekly_times_days_over_seven_rounded_half_up_per_line(weekly, days, expected):
    assert billing.pro_rata(D(weekly), days) == D(expected)


def test_a_line_explains_itself_in_plain_english():
    line = billing.charge_lines(PERIOD, [charge("99.85", date(2026, 10, 5), date(2026, 10, 18), version=2,
                                                ref="FA-123")])[0]
    assert line.explanation == ("Home care, 5 to 18 October 2026: 14 days at £99.85 a week = £199.70 "
                                "(assessed charge version 2, from assessment FA-123)")


@pytest.fixture
def actual_cost():
    def register(value):
        billing.register_actual_cost(lambda client, service, start, end: value)
    yield register
    billing._ACTUAL_COST.clear()


def test_non_residential_charges_are_capped_at_the_actual_cost_of_care(actual_cost):
    actual_cost(D("50.00"))
    [line] = billing.charge_lines(PERIOD, [charge("99.85", date(2026, 4, 6))], cap_lookup=lambda c, s, e:
                                  billing.actual_weekly_cost(None, c.service_id, s, e))
    assert (line.weekly_rate, line.cap, line.amount) == (D("50.00"), D("50.00"), D("200.00"))
    assert "capped at the actual cost of your care" in line.explanation


def test_residential_charges_are_never_capped_and_no_hook_means_no_cap(actual_cost):
    lookup = lambda c, s, e: billing.actual_weekly_cost(None, c.service_id, s, e)  # noqa: E731
    [uncapped] = billing.charge_lines(PERIOD, [charge("99.85", date(2026, 4, 6))], cap_lookup=lookup)
    assert uncapped.cap is None and uncapped.amount == D("399.40")
    actual_cost(D("50.00"))
    [line] = billing.charge_lines(PERIOD, [charge("242.35", date(2026, 4, 6), residential=True)], cap_lookup=lookup)
    assert line.cap is None and line.amount == D("969.40")


def billed_at(weekly: str) -> list[billing.Billed]:
    return [billing.Billed(1, PERIOD.start, PERIOD.end, D(weekly), billing.pro_rata(D(weekly), 28))]


def test_a_back_dated_increase_adds_an_adjustment_line_to_the_next_invoice():
    charges = [charge("99.85", date(2026, 4, 6), date(2026, 10, 4)),
               charge("120.00", date(2026, 10, 5), version=2, reason="reassessment")]
    draft = billing.invoice_draft(NEXT, charges, earlier=[PERIOD], billed=billed_at("99.85"))
    charge_line, adjustment = draft.lines
    assert charge_line.amount == D("480.00")
    assert (adjustment.kind, adjustment.days, adjustment.amount) == (LineKind.ADJUSTMENT, 28, D("80.60"))
    assert adjustment.explanation == ("Adjustment: your charge for Home care, 5 October to 1 November 2026 changed "
                                      "from £99.85 a week to £120.00 a week (reassessment); 28 days: £80.60 more")
    assert draft.total == D("560.60")


def test_a_back_dated_decrease_adds_a_negative_adjustment_line():
    charges = [charge("99.85", date(2026, 4, 6), date(2026, 10, 18)),
               charge("80.00", date(2026, 10, 19), version=2, reason="reassessment")]
    draft = billing.invoice_draft(NEXT, charges, earlier=[PERIOD], billed=billed_at("99.85"))
    adjustment = draft.lines[-1]
    # Now 14 days at 99.85 (199.70) + 14 days at 80.00 (160.00) = 359.70 against 399.40 billed.
    assert (adjustment.date_from, adjustment.days, adjustment.amount) == (date(2026, 10, 19), 14, D("-39.70"))
    assert adjustment.explanation.endswith("14 days: £39.70 less")


def test_no_adjustment_when_the_charges_still_agree_with_what_was_billed():
    draft = billing.invoice_draft(NEXT, [charge("99.85", date(2026, 4, 6))], earlier=[PERIOD],
                                  billed=billed_at("99.85"))
    assert [l.kind for l in draft.lines] == [LineKind.CHARGE]


def test_a_death_recorded_after_billing_credits_the_days_after_death():
    draft = billing.invoice_draft(NEXT, [charge("70.00", date(2026, 4, 6))], date_of_death=date(2026, 10, 25),
                                  earlier=[PERIOD], billed=billed_at("70.00"))
    assert amounts(draft.lines) == [(date(2026, 10, 26), date(2026, 11, 1), 7, D("-70.00"))]


@pytest.mark.parametrize("day, expected", [
    (date(2026, 11, 1), PERIOD), (date(2026, 11, 2), PERIOD), (date(2026, 11, 28), PERIOD),
    (date(2026, 11, 29), NEXT), (date(2026, 10, 31), billing.Period(date(2026, 9, 7), date(2026, 10, 4))),
])
def test_periods_run_on_from_the_anchor_bl_01(day, expected):
    assert billing.period_ending_on_or_before(day, anchor=date(2026, 3, 23), period_days=28) == expected


def test_the_run_bills_the_latest_period_ended_bill_days_before_the_business_date():
    due = lambda d: billing.due_period(d, anchor=date(2026, 3, 23), period_days=28, bill_days_after=1)  # noqa: E731
    assert due(date(2026, 11, 1)).end == date(2026, 10, 4)
    assert due(date(2026, 11, 2)) == PERIOD


# Assessed charges ------------------------------------------------------------------------------

@pytest.fixture
def officer(db):
    return UserFactory(username="billing-officer", roles=[Role.INCOME_OFFICER])


@pytest.fixture
def home_care(db):
    return ChargeableServiceFactory()


@pytest.fixture
def cycle(db):
    return BillingCycle.objects.create(name="Four-weekly", anchor_date=date(2026, 3, 23), period_days=28,
                                       payment_terms_days=14, bill_days_after_period=1, effective_from=date(2026, 3, 23))


def add(client, service, weekly: str, start: date, officer, end=None, **kw) -> AssessedCharge:
    return services.charge_create(client=client, service=service, weekly_amount=D(weekly), effective_from=start,
                                  effective_to=end, actor=officer, **kw)


def test_a_new_charge_version_ends_the_open_one_the_day_before(officer, home_care):
    client = ClientFactory()
    first = add(client, home_care, "99.85", date(2026, 4, 6), officer)
    second = add(client, home_care, "120.00", date(2026, 10, 5), officer, assessment_reference="FA-2")
    first.refresh_from_db()
    assert (first.effective_to, second.version) == (date(2026, 10, 4), 2)
    assert first.history.count() == 2
    assert TimelineEntry.objects.filter(client=client, action="debt.charge.created",
                                        summary__startswith="Assessed charge for Home care: £120.00 a week").exists()


@pytest.mark.parametrize("weekly, start, end, field", [
    ("-1.00", date(2026, 4, 6), None, "weekly_amount"),
    ("10.00", date(2026, 4, 6), date(2026, 4, 5), "effective_to"),
    ("10.00", date(2026, 3, 1), date(2026, 5, 1), "effective_from"),  # overlaps the open version's start
    ("10.00", date(2026, 4, 6), None, "effective_from"),  # same start as the open version
])
def test_charges_that_cannot_be_resolved_are_refused(officer, home_care, weekly, start, end, field):
    client = ClientFactory()
    add(client, home_care, "99.85", date(2026, 4, 6), officer)
    with pytest.raises(DomainError) as error:
        add(client, home_care, weekly, start, officer, end=end)
    assert error.value.field == field
    assert AssessedCharge.objects.filter(client=client).count() == 1


def csv_file(*rows: str) -> io.BytesIO:
    header = "client_reference,service_code,weekly_amount,effective_from,effective_to,assessment_reference"
    return io.BytesIO("\n".join([header, *rows]).encode())


def test_import_writes_every_row(officer, home_care):
    a, b = ClientFactory(reference="SC1"), ClientFactory(reference="SC2")
    count = services.charge_import(file=csv_file("SC1,home_care,99.85,2026-04-06,,FA-1",
                                                 "SC2,home_care,£120.00,2026-04-06,2026-12-31,FA-2",
                                                 "SC1,home_care,110.00,2026-10-05,,FA-3"), actor=officer)
    assert count == 3
    assert AssessedCharge.objects.filter(source=ChargeSource.IMPORT).count() == 3
    assert AssessedCharge.objects.get(client=a, version=1).effective_to == date(2026, 10, 4)
    assert AssessedCharge.objects.get(client=b).weekly_amount == D("120.00")


def test_import_is_all_or_nothing_with_row_numbered_errors(officer, home_care):
    ClientFactory(reference="SC1")
    file = csv_file("SC1,home_care,99.85,2026-04-06,,FA-1",       # row 2: fine
                    "SC1,home_care,12.3.4,2026-04-06,,FA-1",      # row 3
                    "SC404,home_care,10.00,2026-04-06,,FA-1",     # row 4
                    "SC1,no_such_care,10.00,2026-04-06,,FA-1",    # row 5
                    "SC1,home_care,10.00,31/02/2026,,FA-1",         # row 6
                    "SC1,home_care,10.00,2026-01-01,2026-05-01,") # row 7: overlaps row 2
    with pytest.raises(DomainError) as error:
        services.charge_import(file=file, actor=officer)
    message = error.value.message
    for expected in ["Row 3, weekly_amount: '12.3.4' is not an amount",
                     "Row 4, client_reference: no client has the reference 'SC404'",
                     "Row 5, service_code: 'no_such_care' is not a service code",
                     "Row 6, effective_from: '31/02/2026' is not a date (use a date like 16/11/2026, 16 Nov 2026 or 2026-11-16)",
                     "Row 7, effective_from: the dates overlap row 2"]:
        assert expected in message
    assert "Row 2" not in message.replace("overlap row 2", "")
    assert AssessedCharge.objects.count() == 0


def test_import_refuses_a_row_overlapping_a_stored_charge_and_writes_nothing(officer, home_care):
    client = ClientFactory(reference="SC1")
    add(client, home_care, "99.85", date(2026, 4, 6), officer, end=date(2026, 12, 31))
    with pytest.raises(DomainError) as error:
        services.charge_import(file=csv_file("SC1,home_care,50.00,2027-01-01,,FA-9",
                                             "SC1,home_care,10.00,2026-06-01,2026-06-30,FA-1"), actor=officer)
    assert error.value.message.startswith("Row 3, effective_from: The dates overlap version 1")
    assert AssessedCharge.objects.count() == 1


# The billing run -------------------------------------------------------------------------------

@pytest.fixture
def run_billing(django_capture_on_commit_callbacks):
    def run(on: date) -> Run:
        with django_capture_on_commit_callbacks(execute=True):
            started = run_start(job="billing", business_date=on, trigger="test")
        started.refresh_from_db()
        return started
    return run


@pytest.fixture
def billed_clients(cycle, home_care, officer):
    clients = [ClientFactory() for _ in range(3)]
    for client in clients:
        add(client, home_care, "99.85", date(2026, 4, 6), officer)
    return clients


@pytest.mark.django_db
def test_the_billing_run_raises_gap_free_numbered_invoices_posted_to_the_ledger(billed_clients, run_billing):
    run = run_billing(date(2026, 11, 2))
    invoices = list(Invoice.objects.order_by("number"))
    assert [i.number for i in invoices] == ["INV00000001", "INV00000002", "INV00000003"]
    for invoice in invoices:
        assert (invoice.period_start, invoice.period_end, invoice.total) == (PERIOD.start, PERIOD.end, D("399.40"))
        assert invoice.due_date == date(2026, 11, 16)
        assert (invoice.ledger_entry.kind, invoice.ledger_entry.amount) == (EntryKind.CHARGE, D("399.40"))
        assert invoice.ledger_entry.reference == invoice.number
        assert invoice.letter.letter_type == "invoice"
        assert invoice.lines.count() == 1
    assert run.print_batch.letter_count == 3


@pytest.mark.django_db
def test_the_billing_run_started_twice_raises_each_invoice_once(billed_clients, run_billing):
    run_billing(date(2026, 11, 2))
    run_billing(date(2026, 11, 2))
    run_billing(date(2026, 11, 3))  # the next day's run: the period is already billed
    assert Invoice.objects.count() == 3
    assert LedgerEntry.objects.filter(kind=EntryKind.CHARGE).count() == 3
    assert Letter.objects.filter(letter_type="invoice").count() == 3


@pytest.mark.django_db
def test_a_suppressed_client_is_skipped_with_the_reason(billed_clients, run_billing, officer):
    services.billing_suppress(client=billed_clients[0], period_start=PERIOD.start, reason="Charge under review",
                              actor=officer)
    run = run_billing(date(2026, 11, 2))
    item = RunItem.objects.get(run=run, subject=f"client:{billed_clients[0].pk}")
    assert item.status == "skipped"
    assert item.outcome == "Not invoiced for 5 October to 1 November 2026: Charge under review"
    assert Invoice.objects.count() == 2


@pytest.mark.django_db
def test_a_client_with_nothing_to_bill_is_skipped(cycle, home_care, officer, run_billing):
    client = ClientFactory()
    add(client, home_care, "0.00", date(2026, 4, 6), officer)
    run = run_billing(date(2026, 11, 2))
    assert RunItem.objects.get(run=run).outcome == "Nothing to bill"
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_a_back_dated_change_adds_adjustment_lines_and_never_edits_the_old_invoice(billed_clients, run_billing, officer,
                                                                                  home_care):
    run_billing(date(2026, 11, 2))
    client = billed_clients[0]
    first = Invoice.objects.get(client=client)
    before = list(first.lines.values_list("amount", "explanation"))
    add(client, home_care, "120.00", date(2026, 10, 5), officer, reason="reassessment")
    run_billing(date(2026, 11, 30))
    first.refresh_from_db()
    assert first.total == D("399.40") and list(first.lines.values_list("amount", "explanation")) == before
    second = Invoice.objects.get(client=client, period_start=NEXT.start)
    assert list(second.lines.values_list("kind", "amount")) == [(LineKind.ADJUSTMENT, D("80.60")),
                                                                 (LineKind.CHARGE, D("480.00"))]
    assert second.total == D("560.60")
    # Once adjusted, the following invoice does not adjust again.
    run_billing(date(2026, 12, 28))
    third = Invoice.objects.get(client=client, period_start=date(2026, 11, 30))
    assert list(third.lines.values_list("kind", flat=True)) == [LineKind.CHARGE]


@pytest.mark.django_db
def test_an_invoice_of_only_downward_adjustments_posts_a_credit(cycle, home_care, officer, run_billing):
    client = ClientFactory()
    add(client, home_care, "70.00", date(2026, 4, 6), officer, end=date(2026, 11, 1))
    run_billing(date(2026, 11, 2))
    client.date_of_death = date(2026, 10, 25)
    client.save()
    add(client, home_care, "0.00", date(2026, 11, 2), officer)  # a charge recorded after the invoice
    run_billing(date(2026, 11, 30))
    invoice = Invoice.objects.get(client=client, period_start=NEXT.start)
    assert invoice.total == D("-70.00")
    assert (invoice.ledger_entry.kind, invoice.ledger_entry.amount) == (EntryKind.CREDIT, D("-70.00"))


@pytest.mark.django_db
def test_a_credit_note_posts_a_credit_and_cannot_be_raised_twice(billed_clients, run_billing, team_leader):
    run_billing(date(2026, 11, 2))
    invoice = Invoice.objects.order_by("number").first()
    credit = services.credit_note_raise(invoice=invoice, reason="Care not delivered", actor=team_leader)
    assert (credit.number, credit.total, credit.corrects) == ("CRN00000001", D("-399.40"), invoice)
    assert (credit.ledger_entry.kind, credit.ledger_entry.amount) == (EntryKind.CREDIT, D("-399.40"))
    assert list(credit.lines.values_list("kind", "amount")) == [(LineKind.CREDIT, D("-399.40"))]
    with pytest.raises(DomainError, match="already been credited"):
        services.credit_note_raise(invoice=invoice, reason="Again", actor=team_leader)
    with pytest.raises(DomainError, match="cannot itself be credited"):
        services.credit_note_raise(invoice=credit, reason="Again", actor=team_leader)


def row_counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Invoice, InvoiceLine, LedgerEntry, Letter, Run, RunItem,
                                                     AssessedCharge)}


@pytest.mark.django_db
def test_the_preview_writes_nothing_and_its_totals_are_what_the_run_raises(billed_clients, run_billing, client_as,
                                                                          officer, home_care):
    add(billed_clients[1], home_care, "120.00", date(2026, 10, 19), officer)
    http = client_as(Role.INCOME_OFFICER)
    before = row_counts()
    page = http.get(reverse("debt:billing_preview"), {"on": "2026-11-02"})
    export = http.get(reverse("debt:billing_preview"), {"on": "2026-11-02", "format": "csv"})
    assert page.status_code == 200 and export.status_code == 200
    exported = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert len(exported) == 4  # one row per line: three clients, one of them with a change of charge
    assert row_counts() == before
    previewed = {row["client"].pk: row["draft"].total for row in page.context["rows"]}
    assert previewed[billed_clients[1].pk] == D("439.70")
    run_billing(date(2026, 11, 2))
    assert dict(Invoice.objects.values_list("client_id", "total")) == previewed


@pytest.mark.django_db
def test_do_not_invoice_and_invoice_again_from_the_preview(billed_clients, client_as):
    http = client_as(Role.INCOME_OFFICER)
    client = billed_clients[0]
    url = reverse("debt:billing_suppress", args=[client.pk, "2026-10-05"])
    assert http.post(url, {"reason": "Disputed"}).status_code == 302
    assert client.billing_suppressions.get().reason == "Disputed"
    http.post(reverse("debt:billing_unsuppress", args=[client.pk, "2026-10-05"]))
    assert not client.billing_suppressions.exists()


# Pages -----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_invoice_page_explains_each_line(cycle, home_care, officer, run_billing, client_as):
    client = ClientFactory()
    add(client, home_care, "99.85", date(2026, 4, 6), officer, assessment_reference="FA-123")
    add(client, home_care, "120.00", date(2026, 10, 19), officer, assessment_reference="FA-124")
    run_billing(date(2026, 11, 2))
    invoice = Invoice.objects.get()
    page = client_as(Role.AUDITOR).get(reverse("debt:invoice_detail", args=[invoice.pk])).content.decode()
    assert ("Home care, 5 to 18 October 2026: 14 days at £99.85 a week = £199.70 "
            "(assessed charge version 1, from assessment FA-123)") in page
    assert "Home care, 19 October to 1 November 2026: 14 days at £120.00 a week = £240.00" in page
    assert reverse("letters:letter_download", args=[invoice.letter.pk]) in page
    assert "Raise a credit note" not in page
    assert "Raise a credit note" in client_as(Role.TEAM_LEADER).get(
        reverse("debt:invoice_detail", args=[invoice.pk])).content.decode()


@pytest.mark.django_db
def test_the_import_page_lists_row_errors_and_imports_nothing(client_as, home_care):
    ClientFactory(reference="SC1")
    http = client_as(Role.INCOME_OFFICER)
    upload = csv_file("SC1,home_care,12.3.4,2026-04-06,,FA-1")
    upload.name = "charges.csv"
    page = http.post(reverse("debt:charge_import"), {"file": upload}).content.decode()
    assert "Row 2, weekly_amount: &#x27;12.3.4&#x27; is not an amount" in page
    assert "govuk-error-summary" in page
    assert not AssessedCharge.objects.exists()


@pytest.mark.django_db
def test_officers_add_charges_and_see_them_on_the_client_page(client_as, home_care):
    client = ClientFactory()
    http = client_as(Role.INCOME_OFFICER)
    response = http.post(reverse("debt:charge_create", args=[client.pk]), {
        "service": home_care.pk, "weekly_amount": "99.85", "effective_from_0": "6", "effective_from_1": "4",
        "effective_from_2": "2026"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "£99.85 a week from 6 Apr 2026" in http.get(reverse("casework:client_detail", args=[client.pk])).content.decode()


@pytest.mark.django_db
def test_the_invoice_list_filters_and_exports(billed_clients, run_billing, client_as):
    run_billing(date(2026, 11, 2))
    http = client_as(Role.AUDITOR)
    page = http.get(reverse("debt:invoice_list"), {"number": "INV00000002"})
    assert [i.number for i in page.context["page_obj"]] == ["INV00000002"]
    export = http.get(reverse("debt:invoice_list"), {"format": "xlsx"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_invoice_letter_asks_for_payment_only_when_something_is_owed(db):  # the council details are data
    from casework.letters.types import get_letter_type

    letter = get_letter_type("invoice")
    context = letter.sample_context()
    assert context["next_step"] == "Please pay £399.40 by 16 November 2026."
    assert letter.wants_payment(context)
    assert not letter.wants_payment({**context, "total_amount": D("-10.00")})


# The billing run set-based -----------------------------------------------------------------------

def requests_for(clients, period=PERIOD) -> list[services.InvoiceRequest]:
    data = services.load_billing_data([c.pk for c in clients])
    return [services.InvoiceRequest(c, services.draft_for(c, period, data[c.pk]), None, []) for c in clients]


@pytest.mark.django_db
def test_a_group_of_invoices_takes_the_same_few_statements_however_many_there_are(cycle, home_care, officer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clients = [ClientFactory() for _ in range(8)]
    for client in clients:
        add(client, home_care, "99.85", date(2026, 4, 6), officer)
    services.invoices_issue(requests_for(clients[:1]), issue_date=date(2026, 11, 2), actor=officer)  # the first
    counted = []  # (which also creates the series' row and the letter's wording version 1)
    for group in (clients[1:3], clients[3:]):
        requests = requests_for(group)
        with CaptureQueriesContext(connection) as queries:
            services.invoices_issue(requests, issue_date=date(2026, 11, 2), actor=officer)
        counted.append(len(queries))
    # Wording, lock, already-invoiced check, numbers, accounts (read, open the missing, read back),
    # cycle, letters, their timeline entries, ledger entries, theirs, invoices, lines, and the
    # savepoint and its release: the same for two invoices as for five.
    assert counted == [17, 17]  # the working-day calendar is read once for the chunk
    assert [i.number for i in Invoice.objects.order_by("number")] == [f"INV0000000{n}" for n in range(1, 9)]


@pytest.mark.django_db
def test_each_invoice_of_a_group_has_its_own_entry_letter_lines_and_timeline(billed_clients, run_billing):
    run = run_billing(date(2026, 11, 2))
    for invoice in Invoice.objects.select_related("ledger_entry", "letter"):
        assert invoice.run_item.run == run and invoice.letter.run_item == invoice.run_item
        assert invoice.letter.client_id == invoice.client_id == invoice.account.client_id
        assert invoice.ledger_entry.account_id == invoice.account_id
        assert invoice.ledger_entry.description == f"Invoice {invoice.number} for 5 October to 1 November 2026"
        posted = TimelineEntry.objects.get(client=invoice.client, action="ledger.charge.posted")
        assert posted.new_value == {"entry": invoice.ledger_entry_id, "amount": "399.40", "effective_date": "2026-11-02"}
        assert posted.summary == f"Charge of £399.40 posted to {invoice.account.number} ({invoice.number})"
        sent = TimelineEntry.objects.get(client=invoice.client, action="letter.produced")
        assert sent.letter_id == invoice.letter_id and sent.new_value["letter"] == invoice.letter_id
        assert list(invoice.lines.values_list("days", "amount")) == [(28, D("399.40"))]
        assert invoice.letter.file.name.startswith("letters/2026/11/")
    assert (run.print_batch.letter_count, run.print_batch.page_count) == (3, 6)  # two pages each
    # The joined PDF holds every letter's pages, in the manifest's order, each still A4 with its text.
    from pypdf import PdfReader

    with run.print_batch.pdf.open("rb") as handle:
        joined = PdfReader(io.BytesIO(handle.read()))
    with run.print_batch.manifest.open("rb") as handle:
        order = [row["postcode"] for row in csv.DictReader(io.StringIO(handle.read().decode("utf-8")))]
    assert len(joined.pages) == 6 and len(order) == 3
    assert [round(float(joined.pages[i].mediabox.width)) for i in range(6)] == [595] * 6
    assert order == sorted(order)
    for index, postcode in enumerate(order):
        assert postcode in joined.pages[2 * index].extract_text()


@pytest.mark.django_db
def test_a_group_numbers_only_the_invoices_it_issues(billed_clients, run_billing, officer, home_care):
    """In one group: a suppressed client, a client with nothing to bill and a client invoiced by hand
    before the run are skipped with their reasons, and the numbers stay gap-free."""
    nothing, by_hand = ClientFactory(), ClientFactory()
    add(nothing, home_care, "0.00", date(2026, 4, 6), officer)
    add(by_hand, home_care, "50.00", date(2026, 4, 6), officer)
    services.billing_suppress(client=billed_clients[1], period_start=PERIOD.start, reason="Disputed", actor=officer)
    [request] = requests_for([by_hand])
    first = services.invoice_issue(client=by_hand, draft=request.draft, issue_date=date(2026, 11, 2), actor=officer,
                                   representatives=[])
    assert first.number == "INV00000001" and first.total == D("200.00")
    with pytest.raises(DomainError, match="already invoiced for 5 October to 1 November 2026"):
        services.invoice_issue(client=by_hand, draft=request.draft, issue_date=date(2026, 11, 2), actor=officer)
    from debt.jobs import prepare_billing, process_billing_group

    run = Run.objects.create(job="billing", business_date=date(2026, 11, 2), trigger="test")
    clients = [*billed_clients, nothing, by_hand]
    items = [RunItem.objects.create(run=run, subject=f"client:{c.pk}", chunk=0) for c in clients]
    answers = process_billing_group(run, items, prepare_billing(run, [i.subject for i in items]))
    outcomes = [a.reason if isinstance(a, Exception) else a for a in (answers[i.pk] for i in items)]
    assert outcomes == ["Invoice INV00000002 for £399.40", "Not invoiced for 5 October to 1 November 2026: Disputed",
                        "Invoice INV00000003 for £399.40", "Nothing to bill",
                        f"{by_hand.reference} is already invoiced for 5 October to 1 November 2026"]
    assert InvoiceSequence.objects.get(series="INV").next_number == 4


@pytest.mark.django_db
def test_a_failed_group_gives_its_numbers_back_and_its_items_are_done_one_by_one(billed_clients, run_billing,
                                                                                 monkeypatch):
    real = services.invoices_issue

    def refuse_groups(requests, **kwargs):
        issued = real(requests, **kwargs)  # writes, then fails: the group's savepoint must undo all of it
        if len(requests) > 1:
            raise RuntimeError("the group fails after writing")
        return issued

    monkeypatch.setattr(services, "invoices_issue", refuse_groups)
    run = run_billing(date(2026, 11, 2))
    assert run.status == "completed"
    assert [i.number for i in Invoice.objects.order_by("number")] == ["INV00000001", "INV00000002", "INV00000003"]
    assert LedgerEntry.objects.filter(kind=EntryKind.CHARGE).count() == 3
    assert Letter.objects.filter(letter_type="invoice").count() == 3 and run.print_batch.letter_count == 3


@pytest.mark.django_db
def test_a_failed_item_retried_is_invoiced_once(billed_clients, run_billing, monkeypatch,
                                                django_capture_on_commit_callbacks):
    from casework.runs.services import run_retry_failed

    bad = billed_clients[1]
    real = services.invoices_issue

    def fail_for_one(requests, **kwargs):
        if any(r.client.pk == bad.pk for r in requests):
            raise RuntimeError("storage unavailable")
        return real(requests, **kwargs)

    monkeypatch.setattr(services, "invoices_issue", fail_for_one)
    run = run_billing(date(2026, 11, 2))
    assert run.status == "completed_with_errors"
    assert RunItem.objects.get(run=run, subject=f"client:{bad.pk}").status == "failed"
    assert Invoice.objects.count() == 2
    monkeypatch.setattr(services, "invoices_issue", real)
    with django_capture_on_commit_callbacks(execute=True):
        run_retry_failed(run=run, actor=UserFactory(roles=[Role.TEAM_LEADER]))
    run.refresh_from_db()
    assert run.status == "completed"
    run_billing(date(2026, 11, 2))  # started again as well: nothing more
    assert sorted(Invoice.objects.values_list("number", flat=True)) == ["INV00000001", "INV00000002", "INV00000003"]
    assert Invoice.objects.filter(client=bad).count() == 1
    assert Letter.objects.filter(letter_type="invoice", client=bad).count() == 1
