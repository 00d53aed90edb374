"""Every answer that carries a client's personal data is logged as a view of that client.

The coverage test fetches every GET URL of the access matrix (tests/test_access_matrix.py, which
already fails for a URL pattern it does not declare), and each list's CSV export, with the matrix's
own objects, and reads the answer for every client it names: the client's social care reference,
last name or NHS number in a page, a file or a PDF, or a client id in an API answer. Every client
found must have a RecordAccess row written by that request, for that user and that path. Each URL is
declared below as LOGGED (it must log at least one client), NO_CLIENT_DATA (it must name and log
none) or RUN_PAGES; a URL in the matrix that is in none of them fails the test, so a new page, export
or API collection cannot be added without saying whether it shows client data, and saying "none"
is checked against what it shows.
"""
import io
import json
import re
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from casework.api.urls import router
from casework.models import Case, Client, RecordAccess
from casework.roles import Role
from casework.services import client_records_viewed

from .conftest import sign_in
from .factories import CaseFactory, ClientFactory, UserFactory
from .test_access_matrix import MATRIX, objects, url_for  # noqa: F401 - objects: the matrix's fixture

#: Pages, downloads and API calls that carry clients' personal data: each must log at least one client.
LOGGED = {
    # casework
    "casework:my_work", "casework:team_queue", "casework:case_list", "casework:search", "casework:client_detail",
    "casework:client_edit", "casework:client_death", "casework:client_history", "casework:client_statement",
    "casework:ledger_post", "casework:representative_add", "casework:case_create", "casework:representative_end",
    "casework:ledger_reverse", "casework:case_detail", "casework:case_note", "casework:case_status",
    "casework:case_assign", "casework:case_hold", "casework:task_create", "casework:document_upload",
    "casework:document_download", "casework:subject_access_create", "casework:subject_access_detail",
    "casework:subject_access_download", "casework:retention_queue", "casework:retention_keep",
    "casework:erasure_create", "casework:erasure_list", "casework:erasure_detail", "casework:death_list",
    "casework:death_detail", "casework:death_confirm", "casework:death_reverse", "casework:affairs_list",
    "casework:affairs_detail", "casework:affairs_step", "casework:affairs_costs", "casework:affairs_status",
    "casework:affairs_client", "casework:affairs_start", "casework:capacity_record", "letters:letter_download",
    "casework:control_request_list", "casework:control_request_detail", "casework:control_request_approve",
    "casework:control_request_reject", "casework:control_request_withdraw", "casework:separation_report",
    # income
    "debt:charge_list", "debt:charge_create", "debt:invoice_list", "debt:invoice_detail", "debt:credit_note_create",
    "debt:billing_preview", "debt:billing_suppress", "debt:payment_create", "debt:payment_list",
    "debt:payment_detail", "debt:payment_reallocate", "debt:payment_reverse", "debt:payment_import_file",
    "debt:refund_create", "debt:decisions", "debt:unbilled", "debt:recovery_list", "debt:recovery_detail",
    "debt:hold_create", "debt:moratorium_list", "debt:moratorium_create", "debt:moratorium_detail",
    "debt:moratorium_end", "debt:moratorium_review", "debt:moratorium_treatment", "debt:plan_list",
    "debt:plan_create", "debt:plan_detail", "debt:plan_cancel", "debt:writeoff_create", "debt:writeoff_list",
    "debt:writeoff_detail", "debt:writeoff_approve", "debt:writeoff_reject", "debt:limitation_list",
    "debt:investigation_create", "debt:investigation_detail", "debt:investigation_record", "debt:investigation_close",
    "debt:transfer_add", "debt:transfer_finding", "debt:third_party_liability", "debt:referral_create",
    "debt:referral_list", "debt:referral_detail", "debt:referral_approve", "debt:referral_reject",
    "debt:referral_issue", "debt:referral_judgment", "debt:referral_enforcement", "debt:referral_close",
    "debt:referral_litigation_friend",
    "debt:claim_pack_download", "debt:estate_list", "debt:estate_queue", "debt:estate_open", "debt:estate_detail",
    "debt:estate_details", "debt:estate_probate", "debt:estate_claim", "debt:estate_follow_up", "debt:estate_outcome",
    # deferred payments
    "deferred_payments:agreement_list", "deferred_payments:agreement_create", "deferred_payments:agreement_detail",
    *{f"deferred_payments:{name}" for name in ["transition", "terms", "eligibility", "refuse", "property", "valuation",
                                               "existing_charge", "legal_charge", "fee", "terminate", "redemption",
                                               "repayment", "statement"]},
    # direct payments
    "direct_payments:home", "direct_payments:agreement_list", "direct_payments:agreement_detail",
    "direct_payments:agreement_status", "direct_payments:payment_create", "direct_payments:audit_create",
    "direct_payments:payment_list", "direct_payments:audit_list", "direct_payments:audit_detail",
    "direct_payments:line_list", "direct_payments:statement_upload", "direct_payments:liability_add",
    "direct_payments:audit_outcome", "direct_payments:flag_review", "direct_payments:liability_remove",
    "direct_payments:recovery_list", "direct_payments:recovery_decide", "direct_payments:surplus_waive",
    "deferred_payments:fee_waive", "deferred_payments:entry_reverse",
    # provider payments
    "provider_payments:provider_detail", "provider_payments:package_list", "provider_payments:package_detail",
    "provider_payments:package_status", "provider_payments:claim_detail", "provider_payments:claim_line_override",
    "provider_payments:dispute_create", "provider_payments:dispute_detail", "provider_payments:remittance",
    "provider_payments:exception_list", "provider_payments:exception_detail", "provider_payments:exception_review",
    "provider_payments:exception_negotiate", "provider_payments:exception_close", "provider_payments:exception_note",
    "provider_payments:urgent_placement_record",
    # the API: every collection of clients' records, its list and its detail
    *{f"api:{name}-{view}" for view in ["list", "detail"] for name in [
        "client", "representative", "case", "ledgerentry", "assessedcharge", "payment", "invoice", "debt",
        "moratorium", "estatecase", "death", "dpa-agreement", "dpa-valuation", "dpa-statement", "dpagreement",
        "directpayment", "dpaudit", "dpstatement", "carepackage", "providerclaim", "highcostexception",
        "controlrequest", "creditnote", "refund"]},
}

#: Answers that name no client, and why.
NO_CLIENT_DATA = {
    "login": "the sign-in page", "two_factor_setup": "sign-in", "two_factor_verify": "sign-in",
    "casework:home": "sends each role to its start page", "casework:health": "service health",
    "casework:council_details": "the council's own details",
    "casework:working_days": "bank holidays and closure days", "casework:working_day_add": "an empty form",
    "casework:working_day_withdraw": "a bank holiday or closure day", "casework:working_day_restore": "a bank "
    "holiday or closure day",
    "casework:password_change": "the user's own password", "casework:session_list": "the user's own sessions",
    "casework:client_create": "an empty form", "letters:template_list": "letter wording",
    "letters:template_edit": "letter wording",
    "debt:charge_import": "an upload form", "debt:payment_import": "an upload form",
    "debt:payment_import_list": "payment files by name and total", "debt:suspense_list": "payments no client was "
    "matched to: the payer as the bank gave it", "debt:suspense_match": "one unmatched payment",
    "debt:suspense_return": "one unmatched payment", "debt:ladder": "the recovery stages and thresholds",
    "debt:aged_debt": "totals by team, stage and service",
    "direct_payments:agreement_create": "an empty form", "direct_payments:recovered_report": "totals by team",
    "direct_payments:rule_list": "categorisation rules", "direct_payments:rule_create": "a rule form",
    "direct_payments:rule_edit": "a rule", "direct_payments:bank_list": "bank statement formats",
    **{f"provider_payments:{name}": "providers, rates and payments to providers, not clients" for name in [
        "home", "provider_list", "provider_create", "provider_edit", "bank_change_request", "bank_change_decide",
        "rate_list", "rate_add", "urgent_create", "urgent_list", "urgent_decide", "urgent_paid", "overpayment_list",
        "overpayment_create", "overpayment_decide", "overpayment_receipt", "uplift_list", "uplift_create",
        "uplift_detail", "uplift_decide", "run_list", "run_start", "run_detail", "run_release", "run_file"]},
    "provider_payments:package_create": "an empty form", "provider_payments:claim_list": "claims by provider",
    "provider_payments:claim_import": "an upload form", "provider_payments:claim_approve": "a claim's totals",
    "provider_payments:dispute_list": "disputes by provider", "provider_payments:dispute_note": "a note form",
    "provider_payments:dispute_decide": "a dispute's outcome form", "provider_payments:forecast": "spend totals",
    "provider_payments:exception_report": "savings totals", "provider_payments:exception_settings": "guide prices",
    "provider_payments:guide_price_add": "reference data", "provider_payments:provider_contract_add": "reference data",
    "provider_payments:no_saving_reason_add": "reference data",
    "provider_payments:overpayment_waive": "a provider's overpayment",
    "provider_payments:run_exceptions": "payments to providers; overridden claim lines by row, not by client",
    "api:paymentrun-exceptions": "payments to providers; overridden claim lines by row, not by client",
    "api:api-root": "links", "api:schema": "the API's description", "api:docs": "the API's documentation",
    "api:dpa-rate-list": "national interest rates", "api:dpa-rate-detail": "national interest rates",
    "api:provider-list": "providers", "api:provider-detail": "providers", "api:providerrate-list": "rate cards",
    "api:providerrate-detail": "rate cards", "api:paymentrun-list": "payments to providers",
    "api:paymentrun-detail": "payments to providers", "api:committedspendforecast-list": "spend totals",
}

#: The print runs' pages and files log their own reads (casework/runs, tests/test_runs.py); here they
#: are held only to the rule every answer is held to: a client they name must be logged.
RUN_PAGES = {"casework:run_list", "casework:run_start", "casework:run_detail", "casework:run_progress",
             "casework:run_cancel", "casework:batch_hold", "casework:batch_file"}

#: List pages whose CSV export carries clients' data, with the query that asks for it.
PERSONAL_EXPORTS = {
    "casework:my_work": "format=csv", "casework:team_queue": "format=csv", "casework:case_list": "format=csv",
    "casework:search": "format=csv", "casework:client_history": "format=csv",
    "casework:client_statement": "format=csv", "casework:retention_queue": "format=csv",
    "casework:erasure_list": "format=csv", "casework:death_list": "format=csv", "casework:affairs_list": "format=csv",
    "casework:control_request_list": "format=csv", "casework:separation_report": "format=csv",
    "debt:invoice_list": "format=csv", "debt:billing_preview": "format=csv", "debt:payment_list": "format=csv",
    "debt:decisions": "format=csv", "debt:unbilled": "format=csv", "debt:recovery_list": "format=csv",
    "debt:moratorium_list": "format=csv", "debt:plan_list": "format=csv", "debt:writeoff_list": "format=csv",
    "debt:limitation_list": "format=csv", "debt:referral_list": "format=csv", "debt:estate_list": "format=csv",
    "debt:estate_queue": "format=csv", "deferred_payments:agreement_list": "format=csv",
    "direct_payments:home": "list=due&format=csv", "direct_payments:agreement_list": "format=csv",
    "direct_payments:payment_list": "format=csv", "direct_payments:audit_list": "format=csv",
    "direct_payments:line_list": "format=csv", "direct_payments:recovery_list": "format=csv",
    "provider_payments:package_list": "format=csv", "provider_payments:claim_detail": "format=csv",
    "provider_payments:exception_list": "format=csv",
}

#: Pages only one person may open: the request's maker withdraws it.
AS_USER = {"casework:control_request_withdraw": lambda objects: objects["control_request"].requested_by}

#: Signed in as the first of these roles that the URL admits (or as AS_USER says).
ROLE_ORDER = [Role.TEAM_LEADER, Role.INCOME_OFFICER, Role.DEFERRED_PAYMENT_OFFICER, Role.DIRECT_PAYMENT_OFFICER,
              Role.PROVIDER_PAYMENT_OFFICER, Role.RESOURCE_MANAGEMENT_OFFICER, Role.AUDITOR,
              Role.FINANCE_ADMINISTRATOR, Role.SYSTEM_ADMINISTRATOR, Role.SYSTEM_ACCOUNT]


def read_names() -> set[str]:
    return {name for name, (_, method, _) in MATRIX.items() if method == "GET"}


def test_every_url_that_reads_is_declared_once():
    declared = [*LOGGED, *NO_CLIENT_DATA, *RUN_PAGES]
    twice = sorted({n for n in declared if declared.count(n) > 1})
    assert not twice, f"Declared more than once: {twice}"
    missing = sorted(read_names() - set(declared))
    assert not missing, ("These URLs are not declared in tests/test_record_view_coverage.py: say whether each "
                         f"answer carries clients' data (LOGGED) or not (NO_CLIENT_DATA): {missing}")
    stale = sorted(set(declared) - read_names())
    assert not stale, f"Declared URLs that the access matrix no longer has (or that are not GET): {stale}"
    assert set(PERSONAL_EXPORTS) <= LOGGED, sorted(set(PERSONAL_EXPORTS) - LOGGED)


def test_every_api_collection_says_whether_it_carries_client_data():
    """A collection's `client_path` (casework.api.views.RecordViewsMixin) agrees with its rows above."""
    wrong = []
    for prefix, viewset, basename in router.registry:
        if not any("client_path" in vars(klass) for klass in viewset.__mro__):
            wrong.append(f"{viewset.__name__} ({prefix}) has no client_path")
            continue
        names = {n for n in read_names() if n.startswith(f"api:{basename}-")}
        assert names, basename
        logged = names <= LOGGED
        if logged != (viewset.client_path is not None):
            wrong.append(f"{viewset.__name__}: client_path {viewset.client_path!r} but {sorted(names)} "
                         f"{'are' if logged else 'are not'} LOGGED")
    assert not wrong, "\n".join(wrong)


# ---------------------------------------------------------------------------------------- the answers


def _letters(n: int) -> str:
    out = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(65 + rest) + out
    return out


def client_markers() -> dict[int, re.Pattern]:
    """Each client gets a last name no page could hold by chance; any of it, the social care
    reference or the NHS number (as stored or spaced 3-3-4) in an answer names the client."""
    markers = {}
    for index, client in enumerate(Client.objects.order_by("pk")):
        last_name = f"Zedwick{_letters(index)}"
        Client.objects.filter(pk=client.pk).update(last_name=last_name)
        words = [re.escape(client.reference), re.escape(last_name)]
        if client.nhs_number:
            nhs = client.nhs_number
            words += [re.escape(nhs), re.escape(f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}")]
        markers[client.pk] = re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(words) + r")(?![A-Za-z0-9])")
    return markers


def text_of(response) -> str:
    """An answer as text: a page, CSV or JSON as it is, an XLSX's cells, a PDF's text, a ZIP's files."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if "spreadsheetml" in response.get("Content-Type", ""):
        book = load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(" ".join("" if v is None else str(v) for v in row)
                         for sheet in book for row in sheet.iter_rows(values_only=True))
    if body.startswith(b"%PDF"):
        try:
            return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)
        except Exception:  # noqa: BLE001 - the matrix's placeholder PDFs hold no pages
            return ""
    if body.startswith(b"PK"):
        try:
            archive = zipfile.ZipFile(io.BytesIO(body))
        except zipfile.BadZipFile:
            return ""
        return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return body.decode("utf-8", "replace")


def client_ids_in_json(data, found: set) -> set:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("client", "client_id") and isinstance(value, int):
                found.add(value)
            else:
                client_ids_in_json(value, found)
    elif isinstance(data, list):
        for value in data:
            client_ids_in_json(value, found)
    return found


def complete_the_lists(objects, leader) -> dict[str, str]:
    """Rows for the lists the matrix's objects leave empty, and the queries that show them."""
    from casework.services.controls import money_action_record
    from debt.models import DebtRecovery, EstateCase, Moratorium, RecoveryStage
    from direct_payments.models import StatementLine
    from provider_payments.models import Claim

    from .factories_debt import InvoiceFactory, PaymentFactory
    from .factories_direct import AgreementFactory

    client = objects["client"]
    today = timezone.localdate()
    Case.objects.filter(pk=objects["case"].pk).update(assigned_officer=leader)  # my work
    DebtRecovery.objects.update_or_create(client=client, defaults={  # the recovery list
        "stage": RecoveryStage.objects.order_by("order").first(), "stage_entered_on": today - timedelta(days=3),
        "anchor_date": today - timedelta(days=60)})
    InvoiceFactory(client=client, due_date=today - relativedelta(months=70))  # approaching limitation
    Moratorium.objects.filter(pk=objects["moratorium"].pk).update(  # a Breathing Space in force today
        start_date=today - timedelta(days=10), register_entry_date=today - timedelta(days=11),
        expected_end=today + timedelta(days=50))
    EstateCase.objects.filter(pk=objects["estate"].pk).update(next_follow_up_on=today)  # follow-ups due
    PaymentFactory(client=client, import_batch=objects["payment_import"])  # a row of the payment file
    Claim.objects.filter(pk=objects["pp_claim"].pk).update(payment=objects["pp_payment"])  # on the remittance
    AgreementFactory(client=client, start_date=today - timedelta(weeks=20))  # an audit due
    money_action_record(action="refund", amount=Decimal("12.00"), maker=leader, reference="RF-COVERAGE",
                        summary="Refund of credit", client=client)  # on the separation report
    StatementLine.objects.create(  # a line of the audit's statement
        upload=objects["dp_upload"], audit=objects["dp_audit"], agreement=objects["dp_agreement"], row_number=1,
        date=objects["dp_audit"].period_start, description="Agency care", payee="Care agency",
        amount=Decimal("-120.00"), balance=Decimal("880.00"), fingerprint="record-view-coverage")
    return {"casework:search": f"q={client.reference}"}


def _with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}" if query else url


@pytest.mark.django_db
def test_every_answer_logs_the_clients_it_carries(objects):
    markers = client_markers()
    users, clients_for = {}, {}

    def http_for(role, user=None):
        key = user.pk if user is not None else role
        if key not in users:
            user = user or UserFactory(username=f"coverage-{role.name.lower()}", roles=[role])
            users[key] = user
            clients_for[key] = sign_in(HttpClient(), user)
        return users[key], clients_for[key]

    leader, _ = http_for(Role.TEAM_LEADER)
    queries = complete_the_lists(objects, leader)
    wrong = []

    def fetch(name, role, url, api):
        user, http = http_for(role, AS_USER[name](objects) if name in AS_USER else None)
        before = RecordAccess.objects.order_by("-id").values_list("id", flat=True).first() or 0
        response = http.get(url)
        rows = list(RecordAccess.objects.filter(id__gt=before).values_list("client_id", "user_id", "path"))
        logged = {client_id for client_id, _, _ in rows}
        text = text_of(response)
        named = {pk for pk, pattern in markers.items() if pattern.search(text)}
        if api and response.status_code == 200 and response["Content-Type"].startswith("application/json"):
            named |= client_ids_in_json(json.loads(text), set())
        if any((user_id, path) != (user.pk, url) for _, user_id, path in rows):
            wrong.append(f"{name} {url}: logged for another user or path: {rows}")
        if named - logged:
            wrong.append(f"{name} {url}: names clients {sorted(named - logged)} without logging them "
                         f"(logged {sorted(logged)})")
        return response, logged

    for name in sorted(read_names()):
        roles, _, kind = MATRIX[name]
        role = next(r for r in ROLE_ORDER if r in roles)
        url = _with_query(url_for(name, objects), queries.get(name, ""))
        response, logged = fetch(name, role, url, api=kind == "api")
        if name in LOGGED and (response.status_code != 200 or not logged):
            wrong.append(f"{name} {url}: {response.status_code}, logged {sorted(logged)}: expected a page "
                         f"carrying clients' data, and them logged")
        if name in NO_CLIENT_DATA and logged:
            wrong.append(f"{name} {url}: declared to carry no client's data, but logged {sorted(logged)}")
        if kind != "page" or name in RUN_PAGES:
            continue
        export_url = _with_query(url, PERSONAL_EXPORTS.get(name, "format=csv"))
        exported, logged = fetch(name, role, export_url, api=False)
        is_file = "attachment" in exported.get("Content-Disposition", "")
        if name in PERSONAL_EXPORTS and not (exported.status_code == 200 and is_file and logged):
            wrong.append(f"{name} {export_url}: {exported.status_code}, logged {sorted(logged)}: expected a file "
                         f"of clients' data, and them logged")
        elif name not in PERSONAL_EXPORTS and is_file and logged and not response.get("Content-Disposition"):
            wrong.append(f"{name} {export_url}: an export that logs clients: add it to PERSONAL_EXPORTS")
    assert not wrong, "\n".join(wrong)


# ---------------------------------------------------------------------------------------- the service


@pytest.mark.django_db
def test_a_bulk_read_writes_one_row_per_distinct_client_in_one_insert():
    viewer = UserFactory(roles=[Role.INCOME_OFFICER])
    first, second = ClientFactory(), ClientFactory()
    case = CaseFactory(client=second)
    with CaptureQueriesContext(connection) as queries:
        count = client_records_viewed(clients_or_ids=[first, first.pk, case, None, second], user=viewer,
                                      path="/cases/?page=2")
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert count == 2 and len(inserts) == 1
    assert sorted(RecordAccess.objects.values_list("client_id", "user_id", "path")) == [
        (first.pk, viewer.pk, "/cases/?page=2"), (second.pk, viewer.pk, "/cases/?page=2")]
    assert client_records_viewed(clients_or_ids=[], user=viewer, path="/cases/") == 0
    with pytest.raises(TypeError):
        client_records_viewed(clients_or_ids=["SC1"], user=viewer, path="/cases/")


def _alerts(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "Unusual record viewing" in r.getMessage()]


@pytest.mark.django_db
def test_bulk_reads_count_towards_the_unusual_viewing_alert(client, settings, caplog):
    """The red team's read: API pages of clients, then a search export. Each client in each answer
    counts; the warning is logged when the count crosses the limit, once that hour."""
    settings.RECORD_VIEWS_ALERT_PER_HOUR = 5
    for _ in range(4):
        ClientFactory(last_name="Quarrington")
    http = sign_in(client, UserFactory(username="bulk-reader", roles=[Role.INCOME_OFFICER]))
    caplog.set_level("WARNING", logger="careledger.security")
    assert http.get(reverse("api:client-list"), {"limit": 3}).status_code == 200
    assert not _alerts(caplog)  # 3 of 5
    assert http.get(reverse("api:client-list"), {"limit": 3, "offset": 3}).status_code == 200
    assert not _alerts(caplog)  # 4 of 5
    export = http.get(reverse("casework:search"), {"q": "Quarrington", "format": "csv"})
    assert export.status_code == 200 and export["Content-Disposition"].startswith("attachment")
    assert _alerts(caplog) == ["Unusual record viewing: bulk-reader has viewed 8 client records in the hour from "
                               f"{timezone.now():%Y-%m-%d %H}:00 UTC"]
    assert http.get(reverse("casework:case_list")).status_code == 200
    http.get(reverse("api:client-list"))
    assert len(_alerts(caplog)) == 1  # once that hour
    assert RecordAccess.objects.filter(user__username="bulk-reader").count() == 3 + 1 + 4 + 4


# ---------------------------------------------------------------------------------------- lists and the API


@pytest.mark.django_db
def test_the_api_logs_the_clients_of_the_page_it_returns_and_of_a_filter(client):
    people = [ClientFactory(last_name=f"Pagewood{letter}") for letter in "ABCDE"]
    http = sign_in(client, UserFactory(username="api-pager", roles=[Role.SYSTEM_ACCOUNT]))
    response = http.get(reverse("api:client-list"), {"limit": 2, "offset": 2})
    returned = [row["id"] for row in response.json()["results"]]
    assert returned == [people[2].pk, people[3].pk]
    assert sorted(RecordAccess.objects.values_list("client_id", "path")) == [
        (pk, "/api/v1/clients/?limit=2&offset=2") for pk in returned]

    RecordAccess.objects.all().delete()
    response = http.get(reverse("api:client-list"), {"nhs_number": people[4].nhs_number})
    assert [row["id"] for row in response.json()["results"]] == [people[4].pk]
    assert list(RecordAccess.objects.values_list("client_id", flat=True)) == [people[4].pk]

    RecordAccess.objects.all().delete()
    assert http.get(reverse("api:client-list"), {"nhs_number": "9999999999"}).json()["results"] == []
    assert not RecordAccess.objects.exists()  # nobody returned, nobody logged


@pytest.mark.django_db
def test_a_list_page_logs_the_clients_on_the_page_shown(client):
    cases = [CaseFactory(client=ClientFactory(last_name=f"Listwood{n:02d}")) for n in range(52)]
    http = sign_in(client, UserFactory(username="lister", roles=[Role.AUDITOR]))
    assert http.get(reverse("casework:case_list"), {"page": 2}).status_code == 200
    shown = set(RecordAccess.objects.values_list("client_id", flat=True))
    assert len(shown) == 2 and shown <= {c.client_id for c in cases}  # page 2 of 50 a page
    assert set(RecordAccess.objects.values_list("path", flat=True)) == {"/cases/?page=2"}


# ---------------------------------------------------------------------------------------- the export cap


@pytest.mark.django_db
def test_an_export_over_the_cap_is_refused_logged_and_names_nobody(client, settings, caplog):
    settings.PERSONAL_DATA_EXPORT_MAX_ROWS = 3
    for _ in range(4):
        ClientFactory(last_name="Capworth")
    http = sign_in(client, UserFactory(username="exporter", roles=[Role.INCOME_OFFICER]))
    caplog.set_level("WARNING", logger="careledger.security")
    response = http.get(reverse("casework:search"), {"q": "Capworth", "format": "xlsx"})
    page = response.content.decode()
    assert response.status_code == 400 and "Content-Disposition" not in response
    assert "This download is too large" in page and "at most 3 rows" in page
    assert 'href="/search/?q=Capworth"' in page  # back to the list, to narrow it
    assert "Capworth" not in page.replace("q=Capworth", "")
    assert not RecordAccess.objects.exists()
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("Export refused")] == [
        "Export refused: exporter asked for more than 3 rows of personal data at /search/?q=Capworth&format=xlsx"]

    settings.PERSONAL_DATA_EXPORT_MAX_ROWS = 4
    response = http.get(reverse("casework:search"), {"q": "Capworth", "format": "xlsx"})
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    rows = list(load_workbook(io.BytesIO(response.content), read_only=True).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 4
    assert RecordAccess.objects.filter(path="/search/?q=Capworth&format=xlsx").count() == 4


def test_the_export_cap_is_a_setting_with_a_default_of_5000():
    from django.conf import settings

    from config.settings import base

    assert base.PERSONAL_DATA_EXPORT_MAX_ROWS == 5000
    assert settings.PERSONAL_DATA_EXPORT_MAX_ROWS == 5000


# ---------------------------------------------------------------------------------------- subject access


@pytest.mark.django_db
def test_the_subject_access_export_reports_every_view_with_how_it_was_seen(client):
    person = ClientFactory(last_name="Viewmore")
    CaseFactory(client=person)
    reader = UserFactory(username="reader-one", roles=[Role.INCOME_OFFICER])
    leader = UserFactory(username="leader-one", roles=[Role.TEAM_LEADER])
    http = sign_in(client, reader)
    http.get(reverse("casework:client_detail", args=[person.pk]))
    http.get(reverse("casework:case_list"))
    http.get(reverse("casework:search"), {"q": "Viewmore", "format": "csv"})
    http.get(reverse("api:client-list"), {"nhs_number": person.nhs_number})
    http = sign_in(HttpClient(), leader)
    response = http.post(reverse("casework:subject_access_create", args=[person.pk]), {"reason": "Letter of 1 Dec"})
    assert response.status_code == 302
    download = http.get(response["Location"] + "download/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    views = json.loads(archive.read("data/record_access.json"))
    assert [(v["viewed_by"], v["how"], v["path"]) for v in views] == [
        ("reader-one", "Page", f"/clients/{person.pk}/"),
        ("reader-one", "Page", "/cases/"),
        ("reader-one", "Export (CSV)", "/search/?q=Viewmore&format=csv"),
        ("reader-one", "API", f"/api/v1/clients/?nhs_number={person.nhs_number}"),
        ("leader-one", "Page", f"/clients/{person.pk}/subject-access/"),
    ]
    index = archive.read("index.html").decode()
    assert "Who viewed the record" in index
    assert index.count("reader-one") == 4 and "/search/?q=Viewmore&amp;format=csv" in index
