"""A client's history of changes: every change to the record and the money, with who, their role,
the values and the reason; filtered by kind, paged in a bounded number of queries, exported."""
import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from casework import history, services
from casework.constants import EntryKind, RepresentativeKind, TimelineKind
from casework.history import Change, ClientHistory
from casework.letters import services as letters
from casework.models import RecordAccess
from casework.roles import READERS, Role
from debt.constants import HoldKind, PaymentMethod
from debt.models import WriteOffLevel, WriteOffReason
from debt.services.billing import charge_create, charge_import
from debt.services.payments import payment_import, payment_record
from debt.services.recovery import hold_place, hold_release
from debt.services.writeoffs import writeoff_approve, writeoff_request

from .conftest import sign_in
from .factories import CaseFactory, TimelineEntryFactory, UserFactory
from .factories_debt import ChargeableServiceFactory, InvoiceFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}
    return tmp_path


@pytest.fixture
def people(db):
    WriteOffLevel.objects.create(group_name=Role.TEAM_LEADER.value, maximum_amount=D("1000.00"),
                                 effective_from=date(2020, 1, 1))
    return {
        "officer": UserFactory(username="ifoster", first_name="Imogen", last_name="Foster", roles=[Role.INCOME_OFFICER]),
        "leader": UserFactory(username="rkhan", first_name="Rashid", last_name="Khan", roles=[Role.TEAM_LEADER]),
        "auditor": UserFactory(username="abell", first_name="Aisha", last_name="Bell", roles=[Role.AUDITOR]),
    }


def _new_client(officer, reference: str):
    return services.client_create(actor=officer, reference=reference, first_name="Edith", last_name="Wexcombe",
                                  title="Mrs", address_line_1="1 High Street", town="Northmoor", postcode="NM1 2AB",
                                  date_of_birth=date(1940, 5, 17))


@pytest.fixture
def story(people):
    """A client changed once in every way, each change made through its service."""
    officer, leader = people["officer"], people["leader"]
    today = timezone.localdate()
    client = _new_client(officer, "SC900001")
    services.client_update(client=client, actor=officer, reason="Moved house", address_line_1="2 Low Road",
                           postcode="nm1 3ab")
    services.representative_add(client=client, actor=officer, kind=RepresentativeKind.ATTORNEY,
                                name="Margaret Wexcombe", relationship="Daughter", address_line_1="3 Hill Top",
                                postcode="NM1 2AB", start_date=date(2026, 1, 5))
    account = services.account_for_client(client)
    invoice = InvoiceFactory(client=client, account=account, number="INV00000777", total=D("399.40"),
                             created_by=officer, ledger_entry__posted_by=officer)
    payment = payment_record(client=client, amount=D("150.00"), method=PaymentMethod.BANK_TRANSFER,
                             received_on=today, reference="BT-7781", actor=officer)
    extra = services.ledger_post(account=account, kind=EntryKind.CHARGE, amount=D("25.00"), effective_date=today,
                                 reference="ADJ-1", description="Missed visit charge", actor=officer)
    services.ledger_reverse(entry=extra, reason="The visit did take place", actor=leader)
    hold = hold_place(client=client, kind=HoldKind.DISPUTE, note="Says care was not received",
                      review_date=today + timedelta(days=30), actor=officer)
    hold_release(hold=hold, actor=leader, note="Care records checked")
    request = writeoff_request(client=client, lines=[(invoice, D("49.40"))], reason=WriteOffReason.UNECONOMICAL,
                               note="Costs more to chase than it is worth", actor=officer)
    writeoff_approve(request=request, actor=leader, note="Agreed at panel")
    letter = letters.letter_produce(client=client, letter_type="account_statement", on=today, actor=officer)
    return {"client": client, "invoice": invoice, "payment": payment, "request": request, "letter": letter, **people}


def _page(http, client, **params):
    response = http.get(reverse("casework:client_history", args=[client.pk]), params)
    assert response.status_code == 200
    return response


def _one(rows, text: str):
    found = [row for row in rows if text in row.summary]
    assert len(found) == 1, (text, [row.summary for row in rows])
    return found[0]


def test_every_kind_of_change_appears_with_who_their_role_the_values_and_why(client, story):
    http = sign_in(client, story["auditor"])
    response = _page(http, story["client"])
    rows = list(response.context["page_obj"])
    html = response.content.decode()

    created = _one(rows, "Client record created")
    assert (created.who, created.role, created.kind) == ("Imogen Foster", "Income officer", "record")
    assert {Change("First name", "", "Edith", False), Change("Postcode", "", "NM1 2AB", False),
            Change("Date of birth", "", "17 May 1940", False)} <= set(created.changes)

    changed = _one(rows, "Details changed")
    assert (changed.who, changed.role, changed.reason) == ("Imogen Foster", "Income officer", "Moved house")
    assert set(changed.changes) == {Change("Address line 1", "1 High Street", "2 Low Road"),
                                    Change("Postcode", "NM1 2AB", "NM1 3AB")}

    rep = _one(rows, "added: Margaret Wexcombe")
    assert rep.record == "Representative: Margaret Wexcombe" and rep.who == "Imogen Foster"
    assert Change("Relationship", "", "Daughter", False) in rep.changes

    paid = _one(rows, "Payment of £150.00 by Bank transfer received (BT-7781)")
    assert (paid.kind, paid.who, paid.role, paid.amount) == ("money", "Imogen Foster", "Income officer", D("-150.00"))
    assert Change("Amount", "", "-£150.00", False) in paid.changes
    allocated = _one(rows, "£150.00 of payment BT-7781 allocated to invoice INV00000777")
    assert allocated.kind == "money" and allocated.amount == D("150.00")

    reversed_ = _one(rows, "Charge ADJ-1 of £25.00 reversed")
    assert (reversed_.who, reversed_.role, reversed_.reason) == ("Rashid Khan", "Team leader", "The visit did take place")
    assert {Change("Amount", "", "-£25.00", False), Change("Reverses", "", "ADJ-1", False)} <= set(reversed_.changes)
    posted = _one(rows, "Charge of £25.00 posted to C-SC900001")
    assert Change("Description", "", "Missed visit charge", False) in posted.changes

    placed = _one(rows, "Recovery on hold (Dispute or query)")
    assert (placed.kind, placed.who, placed.reason) == ("holds", "Imogen Foster", "Says care was not received")
    assert Change("Kind", "", "dispute", False) in placed.changes
    released = _one(rows, "Recovery hold released")
    assert (released.kind, released.who, released.role, released.reason) == (
        "holds", "Rashid Khan", "Team leader", "Care records checked")

    reference = story["request"].reference
    asked = _one(rows, f"Write-off {reference} of £49.40 requested")
    assert (asked.kind, asked.who, asked.reason) == ("decisions", "Imogen Foster", "Costs more to chase than it is worth")
    assert Change("Amount", "", "£49.40", False) in asked.changes
    approved = _one(rows, f"Write-off {reference} of £49.40: approved")
    assert (approved.kind, approved.who, approved.role, approved.reason) == (
        "decisions", "Rashid Khan", "Team leader", "Agreed at panel")
    assert Change("Status", "requested", "approved") in approved.changes
    written_off = _one(rows, f"Write-off {reference} of £49.40 posted")
    assert written_off.kind == "money" and written_off.amount == D("-49.40")

    letter = _one(rows, "sent to Mrs Edith Wexcombe")
    assert (letter.kind, letter.who, letter.record) == ("letters", "Imogen Foster", f"Letter {story['letter'].reference}")

    # Shown once each: the timeline's own words for these are not repeated beside the records.
    assert sum("BT-7781" in row.summary for row in rows) == 2
    assert not [row for row in rows if row.summary.startswith(("Details changed: ", "Client record created"))
                and row.record != "Client record"]
    assert len([row for row in rows if "ADJ-1" in row.summary + row.changes_text]) == 2
    # Newest first, every row with a person or the system, and never a bare "(created)".
    assert [row.when for row in rows] == sorted((row.when for row in rows), reverse=True)
    assert all(row.who and row.role for row in rows)
    assert "(created)" not in html
    for text in ["Imogen Foster", "Rashid Khan", "Team leader", "Income officer", "Moved house", "NM1 3AB",
                 "The visit did take place", "Agreed at panel", "Says care was not received"]:
        assert text in html


@pytest.mark.parametrize("kind", ["record", "money", "letters", "holds", "decisions"])
def test_the_kind_filter_shows_only_that_kind(client, story, kind):
    http = sign_in(client, story["officer"])
    everything = list(_page(http, story["client"]).context["page_obj"])
    response = _page(http, story["client"], kind=kind)
    rows = list(response.context["page_obj"])
    assert rows and all(row.kind == kind for row in rows)
    assert [row.summary for row in rows] == [row.summary for row in everything if row.kind == kind]
    assert response.context["page_obj"].paginator.count == len(rows)


def test_a_kind_or_page_it_does_not_know_is_no_error(client, story):
    http = sign_in(client, story["officer"])
    everything = _page(http, story["client"]).context["page_obj"].paginator.count
    assert _page(http, story["client"], kind="everything'--").context["page_obj"].paginator.count == everything
    assert _page(http, story["client"], page="x").context["page_obj"].number == 1
    assert _page(http, story["client"], page="99999").context["page_obj"].number == 1


def _export_rows(http, client, fmt: str, **params):
    response = http.get(reverse("casework:client_history", args=[client.pk]), {"format": fmt, **params})
    assert response.status_code == 200
    if fmt == "csv":
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text)))
    sheet = load_workbook(io.BytesIO(response.content)).active  # empty cells are blank, so read the full grid
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def test_the_export_has_the_same_rows_as_the_page_and_logs_the_view(client, story):
    http = sign_in(client, story["auditor"])
    rows = list(_page(http, story["client"]).context["page_obj"])
    expected = [[r.who, r.role, r.kind_label, r.record, r.summary, r.changes_text, r.reason] for r in rows]
    for fmt in ["csv", "xlsx"]:
        exported = _export_rows(http, story["client"], fmt)
        assert exported[0] == ["When", "Who", "Role", "Kind", "Record", "What happened", "Values", "Amount",
                               "Reason or note"]
        assert [row[1:7] + row[8:9] for row in exported[1:]] == expected, fmt
    amounts = [row[7] for row in _export_rows(http, story["client"], "xlsx")[1:]]
    assert D("-150.00") in [D(str(a)) for a in amounts if a != ""]
    paths = list(RecordAccess.objects.filter(client=story["client"], user=story["auditor"]).values_list("path", flat=True))
    assert sum("format=csv" in p for p in paths) == 1 and sum("format=xlsx" in p for p in paths) == 2


def test_the_export_keeps_the_kind_filter(client, story):
    http = sign_in(client, story["officer"])
    exported = _export_rows(http, story["client"], "csv", kind="holds")
    assert [row[3] for row in exported[1:]] == ["Holds", "Holds"]


def test_payment_and_charge_imports_that_touched_the_client_are_shown(client, people):
    officer = people["officer"]
    person = _new_client(officer, "SC900040")
    ChargeableServiceFactory(code="home_care", name="Home care")
    charges = io.BytesIO(("client_reference,service_code,weekly_amount,effective_from,effective_to,assessment_reference\n"
                          "SC900040,home_care,99.85,2026-04-06,,FA-1\n"
                          "SC900040,home_care,110.00,2026-10-05,,FA-3\n").encode())
    assert charge_import(file=charges, actor=officer) == 2
    bank = SimpleUploadedFile("bank-2026-11-05.csv", b"date,amount,method,reference,client_reference,payer\n"
                              b"2026-11-02,55.00,direct_debit,DD1,SC900040,\n", content_type="text/csv")
    payment_import(file=bank, source="bank", actor=officer)

    rows = list(_page(sign_in(client, people["auditor"]), person, kind="money").context["page_obj"])
    first = _one(rows, "Assessed charge for Home care: £99.85 a week from 6 April 2026 (version 1)")
    assert first.reason == "Imported from the assessment system" and first.who == "Imogen Foster"
    assert {Change("Source", "", "Imported from the financial assessment system", False),
            Change("Assessment reference", "", "FA-1", False)} <= set(first.changes)
    ended = _one(rows, "Assessed charge for Home care (version 1) changed")
    assert ended.changes == [Change("Effective to", "", "4 October 2026")]
    assert ended.reason == "Replaced by a new version from 5 October 2026"
    _one(rows, "Assessed charge for Home care: £110.00 a week from 5 October 2026 (version 2)")
    paid = _one(rows, "Payment of £55.00 by Direct Debit received (DD1)")
    imported = f"bank-2026-11-05.csv (Bank statement file, 1 row, £55.00, imported {history.long_date(timezone.localdate())})"
    assert Change("Imported from", "", imported, False) in paid.changes


def _busy_client(officer, leader, reference: str, n: int):
    """A client with n changes from every source (a case's notes, client changes, representatives,
    ledger entries and reversals, payments and their allocations, charges, holds, letters)."""
    today = timezone.localdate()
    client = _new_client(officer, reference)
    account = services.account_for_client(client)
    case = CaseFactory(client=client)
    service = ChargeableServiceFactory()
    for i in range(n):
        services.client_update(client=client, actor=officer, reason=f"Change {i}", phone=f"01632 96{i:04d}")
        services.representative_add(client=client, actor=officer, kind=RepresentativeKind.FAMILY, name=f"Relative {i}",
                                    address_line_1="3 Hill Top", postcode="NM1 2AB", start_date=date(2026, 1, 5))
        entry = services.ledger_post(account=account, kind=EntryKind.CHARGE, amount=D("10.00") + i,
                                     effective_date=today, reference=f"{reference}-C{i}", description="Charge",
                                     actor=officer)
        services.ledger_reverse(entry=entry, reason="Posted in error", actor=leader)
        InvoiceFactory(client=client, account=account, total=D("20.00"), created_by=officer)
        payment_record(client=client, amount=D("20.00"), method=PaymentMethod.CASH, received_on=today,
                       reference=f"{reference}-P{i}", actor=officer)
        charge_create(client=client, service=service, weekly_amount=D("50.00") + i,
                      effective_from=date(2026, 1, 5) + timedelta(weeks=i), reason="Reassessed", actor=officer)
        TimelineEntryFactory(client=client, case=case, kind=TimelineKind.NOTE, actor=officer)
        hold_release(hold=hold_place(client=client, kind=HoldKind.DISPUTE, note="Query",
                                     review_date=today + timedelta(days=9), actor=officer), actor=leader)
    letters.letter_produce(client=client, letter_type="account_statement", on=today, actor=officer)
    return client


def _queries(http, client, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        _page(http, client, **params)
    return len(captured)


def test_a_page_costs_the_same_queries_however_long_the_history(client, people):
    small = _busy_client(people["officer"], people["leader"], "SC900010", 1)
    big = _busy_client(people["officer"], people["leader"], "SC900020", 14)
    assert ClientHistory(big).count() > 3 * 50
    http = sign_in(client, people["auditor"])
    _page(http, small)  # the first request's one-off reads (the session, the user) are not counted
    few = _queries(http, small)
    assert few <= 40
    assert _queries(http, big) <= few
    assert _queries(http, big, page=3) <= few
    assert _queries(http, big, kind="money") <= few


def test_the_pages_together_are_the_whole_history_in_order(client, people):
    busy = _busy_client(people["officer"], people["leader"], "SC900030", 6)
    http = sign_in(client, people["auditor"])
    first = _page(http, busy).context["page_obj"]
    paged = [row for number in first.paginator.page_range
             for row in _page(http, busy, page=number).context["page_obj"]]
    whole = ClientHistory(busy).all()
    assert len(paged) == first.paginator.count == len(whole) > 50
    assert [(r.when, r.summary) for r in paged] == [(r.when, r.summary) for r in whole]


@pytest.mark.parametrize("role", list(Role))
def test_the_page_and_its_export_are_open_to_the_readers_only(client, story, user_for, role):
    http = sign_in(client, user_for(role))
    url = reverse("casework:client_history", args=[story["client"].pk])
    expected = 200 if role in READERS else 403
    assert http.get(url).status_code == expected
    assert http.get(url, {"format": "csv"}).status_code == expected


def test_timeline_values_read_as_words():
    changes = history.json_changes({"status": "in_progress", "hold": 4}, {"status": "closed", "amount": "12.5",
                                                                          "review_date": "2026-05-01"})
    assert changes == [Change("Status", "in progress", "closed"), Change("Amount", "", "£12.50", False),
                       Change("Review date", "", "1 May 2026", False)]
