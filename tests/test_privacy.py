"""Data protection: record-view logging, the subject access export, retention review and approved
erasure (with the database guard on append-only rows)."""
import csv
import hashlib
import io
import json
import zipfile
from datetime import date, datetime, timedelta, timezone as dt_timezone
from decimal import Decimal

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.urls import reverse

from casework import services
from casework.constants import CaseStatus, EntryKind
from casework.letters import services as letters
from casework.models import (
    Case,
    Client,
    Document,
    ErasureRedaction,
    ErasureRequest,
    ErasureStatus,
    LedgerEntry,
    Letter,
    RecordAccess,
    RetentionReview,
    RetentionReviewStatus,
    RetentionRule,
    SubjectAccessRequest,
    TimelineEntry,
)
from casework.models.privacy import RetentionEvent
from casework.privacy import registry
from casework.privacy.erasure import erasure_decide, erasure_request
from casework.privacy.export import subject_access_export
from casework.privacy.registry import Section, register_subject_access_source
from casework.privacy.retention import ClientFacts, evaluate
from casework.privacy.sources import client_lookups, other_records
from casework.roles import Role
from casework.runs import services as runs
from casework.services import DomainError, NotAllowed

from .conftest import sign_in
from .factories import (
    AccountFactory,
    CaseFactory,
    ClientFactory,
    DocumentFactory,
    LedgerEntryFactory,
    RepresentativeFactory,
    TimelineEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
ON = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}
    return tmp_path


@pytest.fixture
def leaders(db):
    return (UserFactory(username="leader-one", roles=[Role.TEAM_LEADER]),
            UserFactory(username="leader-two", roles=[Role.TEAM_LEADER]))


@pytest.fixture
def settled_client(db):
    """A client whose account is settled (charge £412.30, payments £400.00 and £12.30), with a
    closed case, a representative, a note, a document and a statement letter."""
    client = ClientFactory(first_name="Ada", last_name="Lovelace", title="Mrs", nhs_number="9434765919",
                           phone="01632 960001", email="ada@example.org", safeguarding_note="Lives alone")
    account = AccountFactory(client=client)
    LedgerEntryFactory(account=account, amount=Decimal("412.30"), effective_date=date(2019, 3, 1))
    LedgerEntryFactory(account=account, kind=EntryKind.PAYMENT, amount=Decimal("-400.00"), effective_date=date(2019, 3, 20))
    case = CaseFactory(client=client, title="Mrs Lovelace's arrears", status=CaseStatus.CLOSED,
                       closed_at=datetime(2019, 4, 30, 12, tzinfo=dt_timezone.utc))
    RepresentativeFactory(client=client, name="Byron Lovelace", phone="01632 960002")
    TimelineEntryFactory(case=case, client=client, summary="Spoke to Byron Lovelace about the arrears",
                         body="Ada's son will pay the rest")
    DocumentFactory(case=case, client=client, original_name="lovelace-bank.pdf")
    letter = letters.letter_produce(client=client, letter_type="account_statement", on=date(2019, 3, 25))
    LedgerEntryFactory(account=account, kind=EntryKind.PAYMENT, amount=Decimal("-12.30"), effective_date=date(2019, 3, 31))
    client.letter = letter
    return client


# --- Every view of a client's record is logged -----------------------------------------------------

@pytest.mark.parametrize("name", ["client_detail", "client_history", "client_statement"])
def test_each_client_record_page_logs_the_view(client, name):
    record = ClientFactory()
    viewer = UserFactory(roles=[Role.AUDITOR])
    http = sign_in(client, viewer)
    url = reverse(f"casework:{name}", args=[record.pk])
    assert http.get(url).status_code == 200
    assert list(RecordAccess.objects.filter(client=record).values_list("user", "path")) == [(viewer.pk, url)]


def test_case_and_document_pages_log_the_view_of_the_client(client):
    document = DocumentFactory()
    viewer = UserFactory(roles=[Role.INCOME_OFFICER])
    http = sign_in(client, viewer)
    http.get(reverse("casework:case_detail", args=[document.case.pk]))
    http.get(reverse("casework:document_download", args=[document.pk]))
    assert RecordAccess.objects.filter(client=document.client, user=viewer).count() == 2


# --- Subject access export ----------------------------------------------------------------------

def _zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def test_subject_access_export_holds_every_record_set_and_the_letter_pdfs(client, settled_client, leaders):
    from tests.factories_debt import InvoiceLineFactory

    line = InvoiceLineFactory(invoice__client=settled_client, invoice__account=settled_client.accounts.get())
    http = sign_in(client, leaders[0])
    response = http.post(reverse("casework:subject_access_create", args=[settled_client.pk]),
                         {"reason": "Letter of 3 November 2026"})
    sar = SubjectAccessRequest.objects.get(client=settled_client)
    assert response.status_code == 302 and response["Location"] == reverse("casework:subject_access_detail", args=[sar.pk])

    download = http.get(reverse("casework:subject_access_download", args=[sar.pk]))
    data = b"".join(download.streaming_content)
    assert hashlib.sha256(data).hexdigest() == sar.sha256
    archive = _zip(data)
    names = set(archive.namelist())
    for code in ["client", "client_history", "representatives", "cases", "case_history", "timeline", "tasks",
                 "documents", "accounts", "ledger_entries", "letters", "record_access", "debt_invoice",
                 "debt_invoiceline"]:
        assert f"data/{code}.json" in names and f"data/{code}.csv" in names, code
    assert "index.html" in names
    letter = settled_client.letter
    pdf = archive.read(f"letters/{letter.reference}.pdf")
    assert hashlib.sha256(pdf).hexdigest() == letter.sha256
    document = Document.objects.get(client=settled_client)
    assert archive.read(f"documents/{document.pk}-lovelace-bank.pdf") == b"%PDF-1.4 test"

    entries = json.loads(archive.read("data/ledger_entries.json"))
    assert [e["amount"] for e in entries] == ["412.30", "-400.00", "-12.30", "399.40"]
    assert json.loads(archive.read("data/client.json"))[0]["nhs_number"] == "9434765919"
    assert [r["id"] for r in json.loads(archive.read("data/debt_invoiceline.json"))] == [line.pk]
    rows = list(csv.DictReader(io.StringIO(archive.read("data/ledger_entries.csv").decode("utf-8-sig"))))
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal("399.40")
    assert "Lovelace" in archive.read("index.html").decode()
    assert sar.sections["ledger_entries"] == 4 and sar.sections["files"] == 2

    # The request itself is logged: on the request, in the record-access log and on the timeline.
    assert RecordAccess.objects.filter(client=settled_client, user=leaders[0]).count() == 2  # export + download
    assert TimelineEntry.objects.filter(client=settled_client, action="client.subject_access.exported").count() == 1


def test_subject_access_export_is_for_team_leaders_only(client, settled_client):
    http = sign_in(client, UserFactory(roles=[Role.INCOME_OFFICER]))
    assert http.get(reverse("casework:subject_access_create", args=[settled_client.pk])).status_code == 403
    assert http.post(reverse("casework:subject_access_create", args=[settled_client.pk]),
                     {"reason": "x"}).status_code == 403
    assert not SubjectAccessRequest.objects.exists()


def test_an_export_needs_the_request_it_answers(client, settled_client, leaders):
    http = sign_in(client, leaders[0])
    response = http.post(reverse("casework:subject_access_create", args=[settled_client.pk]), {"reason": ""})
    assert response.status_code == 200 and "govuk-error-summary" in response.content.decode()
    assert not SubjectAccessRequest.objects.exists()


def test_export_csv_neutralises_spreadsheet_formulas(leaders):
    record = ClientFactory(first_name="=HYPERLINK(\"http://x\")")
    sar = subject_access_export(client=record, actor=leaders[0], reason="Test")
    archive = _zip(sar.file.read())
    row = next(csv.DictReader(io.StringIO(archive.read("data/client.csv").decode("utf-8-sig"))))
    assert row["first_name"] == "'=HYPERLINK(\"http://x\")"


def test_a_registered_source_adds_its_records_and_other_apps_models_are_found_generically(leaders):
    record = ClientFactory()
    source = lambda c: [Section("extra_notes", "Extra notes", [{"client": c.pk, "text": "hello"}], ["tests.extra"])]  # noqa: E731
    register_subject_access_source(source)
    try:
        sar = subject_access_export(client=record, actor=leaders[0], reason="Test")
    finally:
        registry.SUBJECT_ACCESS_SOURCES.remove(source)
    assert json.loads(_zip(sar.file.read()).read("data/extra_notes.json")) == [{"client": record.pk, "text": "hello"}]
    from debt.models import InvoiceLine, WriteOffLine

    assert "invoice__client" in client_lookups(InvoiceLine)
    assert "request__client" in client_lookups(WriteOffLine)
    # With no source covering the income app, the generic collector still finds its models.
    codes = {s.code for s in other_records(record, covered=set())}
    assert {"debt_invoice", "debt_payment", "debt_writeoffrequest"} <= codes


# --- Retention rules ------------------------------------------------------------------------------

def _rules():
    return list(RetentionRule.objects.in_force(ON))


def test_retention_rules_are_seeded_as_data():
    rules = {(r.record_kind, r.event, r.years) for r in _rules()}
    assert rules == {("financial", "account_closed", 6), ("casework", "cases_closed", 6), ("client", "death", 6)}


FACTS = dict(balance_nil=True, last_entry=date(2019, 3, 31), open_cases=False, last_case_closed=date(2019, 4, 30),
             date_of_death=None, created=date(2018, 1, 1))


@pytest.mark.parametrize("changes, on, past, ended", [
    ({}, date(2025, 4, 30), True, date(2025, 4, 30)),
    ({}, date(2025, 4, 29), False, date(2025, 4, 30)),
    ({"balance_nil": False}, date(2030, 1, 1), False, None),
    ({"open_cases": True}, date(2030, 1, 1), False, None),
    ({"date_of_death": date(2020, 2, 29)}, date(2026, 2, 27), False, date(2026, 2, 28)),
    ({"date_of_death": date(2020, 2, 29)}, date(2026, 2, 28), True, date(2026, 2, 28)),
])
def test_retention_worked_examples(changes, on, past, ended):
    verdict = evaluate(ClientFacts(**{**FACTS, **changes}), _rules(), on)
    assert verdict.past is past
    assert verdict.ended_on == ended


def test_a_rule_not_yet_in_force_does_not_count():
    RetentionRule.objects.create(record_kind="casework", event=RetentionEvent.CASES_CLOSED, years=10,
                                 effective_from=date(2027, 1, 1))
    assert evaluate(ClientFacts(**FACTS), list(RetentionRule.objects.in_force(ON)), ON).past is True
    later = list(RetentionRule.objects.in_force(date(2027, 1, 2)))
    assert evaluate(ClientFacts(**FACTS), later, date(2027, 1, 2)).past is False


def test_the_retention_run_marks_only_clients_past_retention_once(settled_client, django_capture_on_commit_callbacks):
    Client.objects.filter(pk=settled_client.pk).update(created_at=datetime(2018, 6, 1, tzinfo=dt_timezone.utc))
    owing = ClientFactory()
    LedgerEntryFactory(account__client=owing, amount=Decimal("50.00"), effective_date=date(2018, 1, 1))
    recent = ClientFactory()  # created today: inside every period
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.run_start(job="retention_review", business_date=ON, trigger="test")
    run.refresh_from_db()
    review = RetentionReview.objects.get()
    assert review.client == settled_client and review.status == RetentionReviewStatus.PENDING
    assert review.retention_ended_on == date(2025, 4, 30)
    assert run.status == "completed"
    with django_capture_on_commit_callbacks(execute=True):
        runs.run_start(job="retention_review", business_date=ON + timedelta(days=7), trigger="test")
    assert RetentionReview.objects.count() == 1
    assert not RetentionReview.objects.filter(client__in=[owing, recent]).exists()


def test_retention_queue_lists_and_exports_and_a_leader_can_keep_a_record(client, settled_client, leaders):
    review = RetentionReview.objects.create(client=settled_client, marked_on=ON, retention_ended_on=date(2025, 4, 30),
                                            explanation="Financial records: 6 years ended 30 April 2025")
    http = sign_in(client, UserFactory(roles=[Role.AUDITOR]))
    page = http.get(reverse("casework:retention_queue"))
    assert settled_client.reference in page.content.decode()
    exported = http.get(reverse("casework:retention_queue") + "?format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode("utf-8-sig"))))
    assert rows[1][1] == settled_client.reference and rows[1][4] == "2025-04-30"
    assert http.get(reverse("casework:retention_queue") + "?format=xlsx").status_code == 200
    assert http.post(reverse("casework:retention_keep", args=[review.pk]), {"note": "x"}).status_code == 403

    http = sign_in(client, leaders[0])
    http.post(reverse("casework:retention_keep", args=[review.pk]), {"note": "Estate still being administered"})
    review.refresh_from_db()
    assert review.status == RetentionReviewStatus.RETAINED and review.decided_by == leaders[0]


# --- Approved erasure -----------------------------------------------------------------------------

def _ledger_snapshot(client):
    return list(LedgerEntry.objects.filter(account__client=client).order_by("id")
                .values_list("id", "amount", "effective_date", "reference", "description", "kind"))


def test_approved_erasure_removes_personal_data_and_keeps_the_ledger(settled_client, leaders, media,
                                                                    django_capture_on_commit_callbacks):
    ledger_before = _ledger_snapshot(settled_client)
    letter_file = settled_client.letter.file.name
    document_file = Document.objects.get(client=settled_client).file.name
    review = RetentionReview.objects.create(client=settled_client, marked_on=ON, retention_ended_on=date(2025, 4, 30),
                                            explanation="past")
    erasure = erasure_request(client=settled_client, actor=leaders[0], reason="Past retention; no estate matters")
    assert RetentionReview.objects.get(pk=review.pk).status == RetentionReviewStatus.ERASURE_REQUESTED
    timeline_rows = TimelineEntry.objects.filter(client=settled_client).count()
    with django_capture_on_commit_callbacks(execute=True):
        erasure = erasure_decide(erasure=erasure, actor=leaders[1], approve=True, note="Checked")

    assert erasure.status == ErasureStatus.COMPLETED
    account = settled_client.accounts.get()
    assert erasure.financial_totals == {str(account.pk): {
        "kind": "client_charges", "entries": 3, "debits": "412.30", "credits": "412.30", "balance": "0.00"}}
    # The account's number was made from the client's reference: it is replaced.
    assert settled_client.accounts.get().number == f"C-ERASED-{account.pk}"
    client = Client.objects.get(pk=settled_client.pk)
    assert (client.first_name, client.last_name, client.nhs_number, client.date_of_birth, client.phone,
            client.email, client.safeguarding_note, client.postcode) == ("Erased", "client", "", None, "", "", "", "")
    assert client.reference == f"ERASED-{client.pk}"
    # The ledger is exactly as it was.
    assert _ledger_snapshot(client) == ledger_before
    # No personal text is left anywhere in the client's rows or their history.
    for text in ["Lovelace", "9434765919", "01632", "Lives alone", "ada@example.org", "Ada's son"]:
        assert not Client.history.filter(id=client.pk, last_name__contains=text).exists()
        assert not Client.history.filter(id=client.pk, nhs_number=text).exists()
        assert not TimelineEntry.objects.filter(client=client, summary__contains=text).exists()
        assert not TimelineEntry.objects.filter(client=client, body__contains=text).exists()
        assert not Case.objects.filter(client=client, title__contains=text).exists()
        assert not Case.history.filter(client_id=client.pk, title__contains=text).exists()
    assert Client.history.filter(id=client.pk).count() == 1
    rep = client.representatives.get()
    assert (rep.name, rep.phone) == ("Erased", "")
    assert not type(rep).history.filter(id=rep.pk, name__contains="Byron").exists()
    letter = Letter.objects.get(client=client)
    assert (letter.recipient_name, letter.recipient_address, letter.file.name) == ("Erased", [], "")
    assert letter.sha256 == settled_client.letter.sha256
    assert not (media / letter_file).exists() and not (media / document_file).exists()
    # Each append-only row changed was recorded by the guard.
    # (the rows before the request was decided, and the approval's own entry)
    redacted = set(ErasureRedaction.objects.filter(erasure=erasure, table_name="casework_timelineentry")
                   .values_list("row_id", flat=True))
    assert len(redacted) == timeline_rows + 1
    assert redacted == set(TimelineEntry.objects.filter(client=client, summary=f"Details erased ({erasure.reference})")
                           .values_list("pk", flat=True))
    assert ErasureRedaction.objects.filter(erasure=erasure, table_name="casework_letter").count() == 1
    assert RetentionReview.objects.get(pk=review.pk).status == RetentionReviewStatus.ERASED
    assert TimelineEntry.objects.filter(client=client, action="client.erased").count() == 1


def test_erasure_remakes_the_print_batches_that_held_the_clients_letters(leaders, media,
                                                                        django_capture_on_commit_callbacks):
    import pypdf

    from casework.models import Account, PrintBatch, RunEvent

    erased = ClientFactory(first_name="Grace", last_name="Hopper", postcode="NM1 1AA")
    kept = ClientFactory(first_name="Alan", last_name="Turing", postcode="NM2 2BB")
    for person in (erased, kept):
        LedgerEntryFactory(account__client=person, amount=Decimal("10.00"))
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.run_start(job="statements", business_date=date.today(), trigger="test")
    batch = PrintBatch.objects.get(run=run)
    old_files = [batch.pdf.name, batch.manifest.name]
    assert batch.letter_count == 2 and "Hopper" in batch.manifest.open("rb").read().decode()
    LedgerEntryFactory(account=erased.accounts.get(), amount=Decimal("-10.00"), kind=EntryKind.PAYMENT)
    erasure = erasure_request(client=erased, actor=leaders[0], reason="Past retention")
    with django_capture_on_commit_callbacks(execute=True):
        erasure = erasure_decide(erasure=erasure, actor=leaders[1], approve=True, note="Checked")

    batch.refresh_from_db()
    kept_letter = Letter.objects.get(client=kept)
    assert (batch.letter_count, batch.page_count) == (1, kept_letter.pages)
    manifest = batch.manifest.open("rb").read().decode()
    assert "Hopper" not in manifest and "NM1 1AA" not in manifest and "Turing" in manifest
    text = "".join(page.extract_text() for page in pypdf.PdfReader(batch.pdf.open("rb")).pages)
    assert len(pypdf.PdfReader(batch.pdf.open("rb")).pages) == kept_letter.pages
    assert "Turing" in text and "Hopper" not in text
    assert not any((media / name).exists() for name in old_files)
    assert erasure.erased["print_batches_remade"] == 1
    assert RunEvent.objects.filter(run=run, action="batch.remade", new_value="1").count() == 1
    account = Account.objects.get(client=erased)
    assert account.number == f"C-ERASED-{account.pk}"


def _text_holding(names: list[str]) -> dict[str, list]:
    """Every text, char and JSON column of every model of every app holding any of the names:
    {"app.model.column": [row pks]}, read from the database itself."""
    from django.apps import apps
    from django.db import models as m
    from django.db.models import Q
    from django.db.models.functions import Cast

    found = {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for f in model._meta.concrete_fields:
            if not isinstance(f, (m.CharField, m.TextField, m.JSONField)):
                continue
            rows = m.QuerySet(model=model).annotate(_text=Cast(f.attname, m.TextField()))
            condition = Q()
            for name in names:
                condition |= Q(_text__icontains=name)
            pks = list(rows.filter(condition).values_list("pk", flat=True))
            if pks:
                found[f"{model._meta.label_lower}.{f.attname}"] = pks
    return found


def test_after_an_approved_erasure_no_text_column_of_any_model_holds_the_persons_name(
        settled_client, leaders, media, django_capture_on_commit_callbacks):
    from casework.models import RunItem
    from debt.constants import HoldKind
    from debt.models import DebtHold, WriteOffRequest
    from debt.models.writeoffs import WriteOffReason

    from .factories import TaskFactory

    person, names = settled_client, ["Lovelace", "Ada Lovelace"]
    account = person.accounts.get()
    case = person.cases.get()
    # Owing again for two statement runs: one sends a letter (its outcome names the recipient), the
    # other skips the client for a hold whose reason names them.
    LedgerEntryFactory(account=account, amount=Decimal("20.00"), effective_date=date(2019, 4, 1),
                       description="Charge for Mrs Lovelace's respite week")
    held = CaseFactory(client=person, title="Ada Lovelace disputes the respite charge")
    with django_capture_on_commit_callbacks(execute=True):
        sent = runs.run_start(job="statements", business_date=date.today() - timedelta(days=1), trigger="test")
    services.case_hold(case=held, reason="Mrs Lovelace disputes the charge", review_date=date.today() + timedelta(days=9),
                       actor=leaders[0])
    with django_capture_on_commit_callbacks(execute=True):
        skipped = runs.run_start(job="statements", business_date=date.today(), trigger="test")
    assert "Lovelace" in RunItem.objects.get(run=sent).outcome and "Lovelace" in RunItem.objects.get(run=skipped).outcome
    TaskFactory(case=case, title="Ring Byron Lovelace")
    Document.objects.filter(client=person).update(description="Ada Lovelace's bank statement")
    WriteOffRequest.objects.create(client=person, amount=Decimal("1.00"), reason=WriteOffReason.values[0],
                                   note="Mrs Lovelace cannot pay", requested_by=leaders[0], status="rejected")
    DebtHold.objects.create(client=person, kind=HoldKind.values[0], note="Byron Lovelace is sorting the estate",
                            placed_by=leaders[0], placed_on=date(2019, 4, 2), review_date=date(2019, 5, 2),
                            released_on=date(2019, 4, 20), release_note="Lovelace family paid")
    LedgerEntryFactory(account=account, kind=EntryKind.PAYMENT, amount=Decimal("-20.00"), effective_date=date(2019, 4, 9),
                       description="Paid by Ada Lovelace")
    services.case_release_hold(case=held, actor=leaders[0], note="Settled with Mrs Lovelace")
    services.case_transition(case=held, to_status=CaseStatus.CLOSED, actor=leaders[0], reason="Ada Lovelace paid")
    before = _text_holding(names)
    for column in ["casework.runitem.outcome", "casework.case.title", "casework.historicalcase.hold_reason",
                   "casework.task.title", "casework.timelineentry.summary", "casework.document.description",
                   "casework.letter.recipient_name", "casework.representative.name", "debt.writeoffrequest.note",
                   "debt.debthold.note", "debt.historicaldebthold.release_note", "casework.ledgerentry.description"]:
        assert column in before, column  # the name was there to be erased

    erasure = erasure_request(client=person, actor=leaders[0], reason="Ada Lovelace's son asked: past retention")
    with django_capture_on_commit_callbacks(execute=True):
        erasure = erasure_decide(erasure=erasure, actor=leaders[1], approve=True, note="Checked Mrs Lovelace's file")

    assert erasure.status == ErasureStatus.COMPLETED
    left = _text_holding(names)
    # The ledger is kept as it was, descriptions and all: erasure never changes a financial record.
    assert left.pop("casework.ledgerentry.description") == before["casework.ledgerentry.description"]
    assert left == {}, f"The person's name is still held in {left}"
    assert "[name erased]" in RunItem.objects.get(run=sent).outcome
    assert erasure.erased["run items names"] == 2


def test_the_requester_cannot_approve_and_an_officer_cannot_decide(settled_client, leaders):
    erasure = erasure_request(client=settled_client, actor=leaders[0], reason="Past retention")
    with pytest.raises(DomainError, match="second person"):
        erasure_decide(erasure=erasure, actor=leaders[0], approve=True)
    with pytest.raises(NotAllowed):
        erasure_decide(erasure=erasure, actor=UserFactory(roles=[Role.INCOME_OFFICER]), approve=True)
    with pytest.raises(NotAllowed):
        erasure_request(client=ClientFactory(), actor=UserFactory(roles=[Role.INCOME_OFFICER]), reason="x")
    assert ErasureRequest.objects.get(pk=erasure.pk).status == ErasureStatus.REQUESTED
    assert Client.objects.get(pk=settled_client.pk).last_name == "Lovelace"


def test_a_rejection_needs_a_reason_and_erases_nothing(settled_client, leaders):
    erasure = erasure_request(client=settled_client, actor=leaders[0], reason="Past retention")
    with pytest.raises(DomainError, match="why"):
        erasure_decide(erasure=erasure, actor=leaders[1], approve=False)
    erasure = erasure_decide(erasure=erasure, actor=leaders[1], approve=False, note="Estate claim pending")
    assert erasure.status == ErasureStatus.REJECTED
    assert Client.objects.get(pk=settled_client.pk).last_name == "Lovelace"
    with pytest.raises(DomainError):
        erasure_decide(erasure=erasure, actor=leaders[1], approve=True)


def test_erasure_is_refused_while_money_is_owed_or_a_case_is_open(leaders):
    owing = ClientFactory()
    LedgerEntryFactory(account__client=owing, amount=Decimal("20.00"))
    with pytest.raises(DomainError, match="balance of £20.00"):
        erasure_request(client=owing, actor=leaders[0], reason="x")
    working = CaseFactory().client
    with pytest.raises(DomainError, match="open case"):
        erasure_request(client=working, actor=leaders[0], reason="x")


def test_erasure_pages_need_two_team_leaders(client, settled_client, leaders):
    http = sign_in(client, leaders[0])
    response = http.post(reverse("casework:erasure_create", args=[settled_client.pk]), {"reason": "Past retention"})
    erasure = ErasureRequest.objects.get()
    assert response["Location"] == reverse("casework:erasure_detail", args=[erasure.pk])
    page = http.get(reverse("casework:erasure_detail", args=[erasure.pk])).content.decode()
    assert "Waiting for a team leader other than the requester" in page
    http.post(reverse("casework:erasure_detail", args=[erasure.pk]), {"decision": "approve"})
    assert ErasureRequest.objects.get().status == ErasureStatus.REQUESTED
    http = sign_in(client, leaders[1])
    http.post(reverse("casework:erasure_detail", args=[erasure.pk]), {"decision": "approve", "note": ""})
    assert ErasureRequest.objects.get().status == ErasureStatus.COMPLETED
    page = http.get(reverse("casework:erasure_detail", args=[erasure.pk])).content.decode()
    account = settled_client.accounts.get()
    assert f"C-ERASED-{account.pk}" in page and "£412.30" in page and settled_client.reference not in page
    # Each count named for an officer, an app's step by its model's name, not its label.
    assert "Timeline entries redacted" in page and "Casework: capacity assessments, notes cleared" in page
    assert "capacityassessment" not in page
    assert http.get(reverse("casework:erasure_list") + "?format=csv").status_code == 200


# --- The guard on append-only rows (PostgreSQL) -------------------------------------------------------

def _update_timeline(entry_id, sql_set="summary = 'x'", erasure_id=None):
    with transaction.atomic(), connection.cursor() as cursor:
        if erasure_id is not None:
            cursor.execute("SELECT set_config('careledger.erasure_request', %s, true)", [str(erasure_id)])
        cursor.execute(f"UPDATE casework_timelineentry SET {sql_set} WHERE id = %s", [entry_id])


def test_the_database_refuses_redaction_without_an_approved_erasure_of_that_client(settled_client, leaders):
    assert connection.vendor == "postgresql"
    entry = TimelineEntry.objects.filter(client=settled_client).first()
    with pytest.raises((IntegrityError, InternalError), match="append-only"):
        _update_timeline(entry.pk)
    erasure = erasure_request(client=settled_client, actor=leaders[0], reason="x")
    with pytest.raises((IntegrityError, InternalError), match="append-only"):
        _update_timeline(entry.pk, erasure_id=erasure.pk)  # requested, not approved
    ErasureRequest.objects.filter(pk=erasure.pk).update(status=ErasureStatus.APPROVED)
    with pytest.raises((IntegrityError, InternalError), match="append-only"):
        _update_timeline(entry.pk, "action = 'x'", erasure_id=erasure.pk)  # not a personal text column
    other = TimelineEntryFactory()
    with pytest.raises((IntegrityError, InternalError), match="append-only"):
        _update_timeline(other.pk, erasure_id=erasure.pk)  # another client's row
    with pytest.raises((IntegrityError, InternalError), match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('careledger.erasure_request', %s, true)", [str(erasure.pk)])
            cursor.execute("DELETE FROM casework_timelineentry WHERE id = %s", [entry.pk])
    with pytest.raises((IntegrityError, InternalError), match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('careledger.erasure_request', %s, true)", [str(erasure.pk)])
            cursor.execute("UPDATE casework_ledgerentry SET description = 'x' WHERE account_id IN "
                           "(SELECT id FROM casework_account WHERE client_id = %s)", [settled_client.pk])
    _update_timeline(entry.pk, erasure_id=erasure.pk)
    assert TimelineEntry.objects.get(pk=entry.pk).summary == "x"
    assert list(ErasureRedaction.objects.values_list("erasure", "table_name", "row_id")) == [
        (erasure.pk, "casework_timelineentry", entry.pk)]
