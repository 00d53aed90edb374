"""Every importer against hostile and malformed files, property-based (Hypothesis).

The importers: assessed charges (debt.services.billing.charge_import), the payments file
(debt.services.payments.payment_import), direct payment bank statements and prepaid card exports
(direct_payments.services.statement_upload) and provider claims, invoice lines and call monitoring
(provider_payments.services.claims.claim_import). For each, generated files (see
tests/hostile_files.py: malformed cells, formula injection, truncation, Latin-1, Windows-1252,
UTF-16, invalid UTF-8, NUL bytes, lone CR line ends, a missing header) must be either

- accepted correctly: every data row written once, with the values of the file (a file built only
  from valid cells must be accepted), or
- refused whole: every problem names its row and the field at fault (or is a problem of the whole
  file, such as its encoding), and not one row of any model the importer writes is added;

and never raise anything but the importer's refusal. Then the same through each upload page with
the Django test client: a bad file gives the page again with the GOV.UK error summary, never a 500.
Huge files are tested deterministically: a cell over Python's csv field limit, a file over the size
limit, and thousands of rows with one bad row near the end.
"""
import hashlib
import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import event, given
from hypothesis import strategies as st

from casework.models import LedgerEntry, TimelineEntry
from casework.roles import Role
from casework.services import DomainError
from debt.constants import PaymentMethod
from debt.models import AssessedCharge, Payment, PaymentAllocation, PaymentImport, SuspensePayment
from debt.services.billing import IMPORT_COLUMNS, charge_import
from debt.services.payments import payment_import
from direct_payments.constants import StatementKind
from direct_payments.models import AuditEvent, BankFormat, Flag, StatementLine, StatementUpload
from direct_payments.services import statement_upload
from provider_payments.claim_files import ECM_COLUMNS, ECM_OPTIONAL, INVOICE_COLUMNS, INVOICE_OPTIONAL
from provider_payments.constants import ClaimSource
from provider_payments.models import Claim, ClaimLine, ProviderEvent, ProviderLedgerEntry
from provider_payments.services.claims import claim_import

from .factories import ClientFactory, UserFactory
from .factories_debt import ChargeableServiceFactory
from .factories_direct import AuditFactory, BankFormatFactory
from .factories_provider import CarePackageFactory, ProviderFactory, RateFactory
from .hostile_files import (
    PAGES,
    PROPERTY,
    check_problems,
    formula,
    hostile_files,
    huge_field_file,
    many_rows_file,
    to_csv,
)

pytestmark = pytest.mark.django_db
D = Decimal
_serial = itertools.count(1)


def counts(*models) -> tuple[int, ...]:
    return tuple(model.objects.count() for model in models)


def problems_of(exc: DomainError) -> list[str]:
    return list(getattr(exc, "problems", None) or [exc.message])


# --- cell strategies shared by the importers ----------------------------------------------------

safe_text = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 .&/'-]{0,18}[A-Za-z0-9]", fullmatch=True)
#: Free text that a spreadsheet would run as a formula: importers take it as text, exports neutralise it.
formula_text = formula.filter(lambda s: s[0] in "=+-@" and s.strip() == s and len(s) > 1)
free_text = st.one_of(safe_text, formula_text)


def money_text(low="0.01", high="99999.99"):
    amounts = st.decimals(min_value=D(low), max_value=D(high), places=2)
    return st.one_of(amounts.map(str), amounts.map(lambda a: f"£{a:,.2f}"))


def iso_or_uk(dates):
    return st.one_of(dates.map(date.isoformat), dates.map(lambda d: d.strftime("%d/%m/%Y")))


times = st.times().map(lambda t: t.strftime("%H:%M"))


# --- payments file -----------------------------------------------------------------------------

PAYMENT_HEADER = ["date", "amount", "method", "reference", "client_reference", "payer"]
PAYMENT_MODELS = (Payment, SuspensePayment, LedgerEntry, PaymentImport, PaymentAllocation, TimelineEntry)
PAYMENT_FILE_LEVEL = ("The file is empty", "not saved as UTF-8", "larger than", "has already been imported",
                      "header row but no payments", "is not a CSV file", "add up to more than", "the separator is wrong")


def payment_files(client_refs: list[str], **kwargs):
    valid = {
        "date": iso_or_uk(st.dates(date(2015, 1, 1), date(2026, 1, 1))),
        "amount": money_text(),
        "method": st.sampled_from(PaymentMethod.values).map(lambda m: m.upper() if len(m) % 2 else m),
        "reference": free_text,
        "client_reference": st.one_of(st.just(""), st.sampled_from(client_refs), safe_text.map(lambda s: s[:20])),
        "payer": st.one_of(st.just(""), free_text),
    }
    return hostile_files(PAYMENT_HEADER, valid, **kwargs)


def check_payment_import(file, actor) -> None:
    before = counts(*PAYMENT_MODELS)
    already = PaymentImport.objects.filter(sha256=hashlib.sha256(file.data).hexdigest()).exists()
    try:
        batch = payment_import(file=SimpleUploadedFile("bank.csv", file.data), source="bank", actor=actor)
    except DomainError as exc:
        event(f"refused ({file.mutation}, {'valid cells' if file.clean else 'hostile cells'})")
        assert not (file.clean and not already), f"a valid file was refused: {problems_of(exc)}"
        assert counts(*PAYMENT_MODELS) == before, "a refused file wrote rows"
        check_problems(problems_of(exc), fields=set(PAYMENT_HEADER), file_level=PAYMENT_FILE_LEVEL)
        return
    event(f"accepted ({file.mutation})")
    written = (Payment.objects.filter(import_batch=batch).count()
               + SuspensePayment.objects.filter(import_batch=batch).count())
    assert written == batch.rows
    amounts = sorted([p.amount for p in Payment.objects.filter(import_batch=batch)]
                     + [s.amount for s in SuspensePayment.objects.filter(import_batch=batch)])
    assert sum(amounts, D("0")) == batch.total
    if file.clean:
        assert batch.rows == file.data_rows
        assert amounts == sorted(D(r[1].replace("£", "").replace(",", "")) for r in file.rows)
        references = sorted([p.reference for p in Payment.objects.filter(import_batch=batch)]
                            + [s.reference for s in SuspensePayment.objects.filter(import_batch=batch)])
        assert references == sorted(r[3] for r in file.rows)


@PROPERTY
@given(data=st.data())
def test_payment_files_are_accepted_whole_or_refused_whole(data, income_officer):
    refs = [ClientFactory().reference for _ in range(2)]
    check_payment_import(data.draw(payment_files(refs)), income_officer)


# --- assessed charges --------------------------------------------------------------------------

CHARGE_MODELS = (AssessedCharge, AssessedCharge.history.model, TimelineEntry)
CHARGE_FILE_LEVEL = ("The file has no column", "The file has no rows", "not saved as UTF-8", "The file is empty",
                     "larger than", "is not a CSV file", "the separator is wrong")


def charge_rows(refs: list[str]):
    """Valid rows: one open-ended charge version per (client, start date), so none overlap."""
    starts = st.lists(st.tuples(st.sampled_from(refs), st.dates(date(2015, 1, 1), date(2030, 12, 31))),
                      min_size=1, max_size=6, unique=True)
    return starts.flatmap(lambda keys: st.tuples(*[
        st.tuples(st.just(ref), st.just("home_care"), money_text("0.00", "9999.99"), st.just(start.isoformat()),
                  st.just(""), st.one_of(st.just(""), free_text)).map(list) for ref, start in keys]).map(list))


def check_charge_import(file, actor) -> None:
    before = counts(*CHARGE_MODELS)
    try:
        created = charge_import(file=ContentFile(file.data, name="charges.csv"), actor=actor)
    except DomainError as exc:
        event(f"refused ({file.mutation}, {'valid cells' if file.clean else 'hostile cells'})")
        assert not file.clean, f"a valid file was refused: {problems_of(exc)}"
        assert counts(*CHARGE_MODELS) == before, "a refused file wrote rows"
        check_problems(problems_of(exc), fields=set(IMPORT_COLUMNS), file_level=CHARGE_FILE_LEVEL)
        return
    event(f"accepted ({file.mutation})")
    assert AssessedCharge.objects.count() == before[0] + created
    if file.clean:
        assert created == file.data_rows
        for ref, _, amount, start, _, assessment in file.rows:
            charge = AssessedCharge.objects.get(client__reference=ref, effective_from=date.fromisoformat(start))
            assert charge.weekly_amount == D(amount.replace("£", "").replace(",", ""))
            assert charge.assessment_reference == assessment


@PROPERTY
@given(data=st.data())
def test_charge_files_are_accepted_whole_or_refused_whole(data, income_officer):
    ChargeableServiceFactory()
    refs = [ClientFactory().reference for _ in range(3)]
    file = data.draw(hostile_files(IMPORT_COLUMNS, {}, rows_strategy=charge_rows(refs)))
    check_charge_import(file, income_officer)


# --- direct payment statements -----------------------------------------------------------------

PREPAID_HEADER = ["Transaction Date", "Merchant", "Description", "Debit", "Credit", "Balance"]
BANK_HEADER = ["Date", "Description", "Money In", "Money Out", "Balance"]
STATEMENT_MODELS = (StatementUpload, StatementLine, BankFormat, Flag, AuditEvent, TimelineEntry)
STATEMENT_FIELDS = {"date", "description", "balance", "amount", "paid in", "paid out", "paid in and paid out"}
STATEMENT_FILE_LEVEL = ("The file is empty", "not saved as UTF-8", "larger than", "header row but no transactions",
                        "uploaded by someone else", "is not a CSV file", "the separator is wrong")
STATEMENT_FIELDLESS = ("this transaction repeats row", "was already uploaded")


@st.composite
def statement_rows(draw, prepaid: bool):
    """Valid lines inside the audit period (5 January to 29 March 2026), oldest first, balances chained."""
    n = draw(st.integers(1, 8))
    days = sorted(draw(st.lists(st.integers(0, 83), min_size=n, max_size=n)))
    amounts = draw(st.lists(st.decimals(D("-999.99"), D("999.99"), places=2).filter(lambda a: a != 0),
                            min_size=n, max_size=n))
    balance = draw(st.decimals(D("-500.00"), D("5000.00"), places=2))
    rows = []
    for i, (day, amount) in enumerate(zip(days, amounts)):
        balance += amount
        on = (date(2026, 1, 5) + timedelta(days=day)).strftime("%d/%m/%Y")
        text = f"{draw(free_text)} {i}"
        paid_in, paid_out = (f"{amount:.2f}", "") if amount > 0 else ("", f"{-amount:.2f}")
        rows.append([on, draw(free_text), text, paid_out, paid_in, f"{balance:.2f}"] if prepaid
                    else [on, text, paid_in, paid_out, f"{balance:.2f}"])
    return rows


def check_statement_upload(file, audit, kind, bank_format) -> None:
    before, status = counts(*STATEMENT_MODELS), audit.status
    try:
        upload = statement_upload(audit=audit, kind=kind, file=ContentFile(file.data, name="statement.csv"),
                                  actor=audit.officer, bank_format=bank_format)
    except DomainError as exc:
        event(f"refused ({file.mutation}, {'valid cells' if file.clean else 'hostile cells'})")
        assert not file.clean, f"a valid file was refused: {problems_of(exc)}"
        assert counts(*STATEMENT_MODELS) == before, "a refused file wrote rows"
        audit.refresh_from_db()
        assert audit.status == status
        check_problems(problems_of(exc), fields=STATEMENT_FIELDS, file_level=STATEMENT_FILE_LEVEL,
                       fieldless=STATEMENT_FIELDLESS)
        return
    event(f"accepted ({file.mutation})")
    assert StatementLine.objects.filter(upload=upload).count() == upload.rows
    if file.clean:
        assert upload.rows == file.data_rows
        assert sorted(StatementLine.objects.filter(upload=upload).values_list("balance", flat=True)) == sorted(
            D(r[-1]) for r in file.rows)


@PROPERTY
@given(data=st.data())
def test_statement_files_are_accepted_whole_or_refused_whole(data):
    prepaid = data.draw(st.booleans(), label="prepaid card export")
    audit = AuditFactory()
    header = PREPAID_HEADER if prepaid else BANK_HEADER
    file = data.draw(hostile_files(header, {}, rows_strategy=statement_rows(prepaid)))
    kind = StatementKind.PREPAID_CARD if prepaid else StatementKind.BANK_CSV
    check_statement_upload(file, audit, kind, None if prepaid else BankFormatFactory())


# --- provider claims ---------------------------------------------------------------------------

CLAIM_MODELS = (Claim, ClaimLine, ProviderEvent, ProviderLedgerEntry)
CLAIM_FIELDS = set(INVOICE_COLUMNS + INVOICE_OPTIONAL + ECM_COLUMNS + ECM_OPTIONAL)
CLAIM_FILE_LEVEL = ("larger than", "not saved as UTF-8", "the separator is wrong", "The file is empty", "The file has no column",
                    "header but no rows", "was already imported", "already has a claim", "is not a CSV file")
START, END = date(2026, 3, 23), date(2026, 4, 19)
claim_dates = iso_or_uk(st.dates(START, END))
client_refs = st.one_of(st.just("SC500001"), safe_text.map(lambda s: s[:20]))
INVOICE_VALID = {
    "client_reference": client_refs, "service_code": st.sampled_from(["homecare", "daycare", "nosuchservice"]),
    "service_date": claim_dates, "units": st.decimals(D("0"), D("24"), places=2).map(str),
    "unit_rate": money_text("0.00", "99.99"), "amount": money_text("0.00", "999.99"), "start_time": times,
}
ECM_VALID = {
    "client_reference": client_refs, "service_code": st.sampled_from(["homecare", "nosuchservice"]),
    "visit_date": claim_dates, "planned_start": times, "planned_minutes": st.integers(0, 600).map(str),
    "check_in": times, "check_out": times, "rate": st.one_of(st.just(""), money_text("0.00", "99.99")),
}


@pytest.fixture
def claim_provider():
    provider = ProviderFactory()
    RateFactory(provider=provider)
    CarePackageFactory(provider=provider, client=ClientFactory(reference="SC500001"))
    return provider


def claim_files(source: str, **kwargs):
    if source == ClaimSource.ECM:
        return hostile_files(list(ECM_COLUMNS + ECM_OPTIONAL), ECM_VALID, **kwargs)
    return hostile_files(list(INVOICE_COLUMNS + INVOICE_OPTIONAL), INVOICE_VALID, **kwargs)


def check_claim_import(file, provider, source, actor) -> None:
    before = counts(*CLAIM_MODELS)
    try:
        claim = claim_import(provider=provider, source=source, reference=f"CLM-{next(_serial)}", period_start=START,
                             period_end=END, data=file.data, filename="claim.csv", actor=actor)
    except DomainError as exc:
        event(f"refused ({file.mutation}, {'valid cells' if file.clean else 'hostile cells'})")
        assert not (file.clean and not Claim.objects.filter(provider=provider).exists()), \
            f"a valid file was refused: {problems_of(exc)}"
        assert counts(*CLAIM_MODELS) == before, "a refused file wrote rows"
        check_problems(problems_of(exc), fields=CLAIM_FIELDS, file_level=CLAIM_FILE_LEVEL)
        return
    event(f"accepted ({file.mutation})")
    lines = ClaimLine.objects.filter(claim=claim)
    assert lines.count() == ClaimLine.objects.count() - before[1]
    if file.clean:
        assert lines.count() == file.data_rows
        assert sorted(lines.values_list("client_reference", flat=True)) == sorted(r[0] for r in file.rows)


@PROPERTY
@given(data=st.data())
def test_claim_files_are_accepted_whole_or_refused_whole(data, claim_provider):
    source = data.draw(st.sampled_from(ClaimSource.values), label="source")
    actor = UserFactory(roles=[Role.PROVIDER_PAYMENT_OFFICER])
    check_claim_import(data.draw(claim_files(source)), claim_provider, source, actor)


# --- huge files (deterministic) ----------------------------------------------------------------

def test_huge_payment_files_are_refused_not_crashed(income_officer):
    good = ["2025-11-02", "10.00", "card", "R1", "", ""]
    huge_column = 5
    before = counts(*PAYMENT_MODELS)
    for data, expected in [
        (huge_field_file(PAYMENT_HEADER, good, huge_column), "Row 2: this row cannot be read as CSV"),
        (to_csv(PAYMENT_HEADER, [good]).encode() + b" " * (5 * 1024 * 1024), "larger than 5MB"),
        (many_rows_file(PAYMENT_HEADER, good, ["2025-11-02", "1e999999", "card", "R1", "", ""], 5000, 4321),
         "Row 4323, amount"),
    ]:
        with pytest.raises(DomainError) as caught:
            payment_import(file=SimpleUploadedFile("bank.csv", data), source="bank", actor=income_officer)
        assert any(expected in p for p in problems_of(caught.value)), problems_of(caught.value)[:3]
    assert counts(*PAYMENT_MODELS) == before


def test_payment_amounts_whose_total_is_too_large_are_refused(income_officer):
    rows = [["2025-11-02", "99999999999.99", "card", f"R{i}", "", ""] for i in range(20)]
    before = counts(*PAYMENT_MODELS)
    with pytest.raises(DomainError) as caught:
        payment_import(file=SimpleUploadedFile("bank.csv", to_csv(PAYMENT_HEADER, rows).encode()), source="bank",
                       actor=income_officer)
    check_problems(problems_of(caught.value), fields=set(PAYMENT_HEADER), file_level=PAYMENT_FILE_LEVEL)
    assert counts(*PAYMENT_MODELS) == before


def test_huge_charge_files_are_refused_not_crashed(income_officer):
    ChargeableServiceFactory()
    ref = ClientFactory().reference
    good = [ref, "home_care", "10.00", "2026-04-06", "", "FA-1"]
    huge_column = 5
    before = counts(*CHARGE_MODELS)
    for data, expected in [
        (huge_field_file(IMPORT_COLUMNS, good, huge_column), "Row 2: this row cannot be read as CSV"),
        (to_csv(IMPORT_COLUMNS, [good]).encode() + b" " * (10 * 1024 * 1024), "larger than"),
        (many_rows_file(IMPORT_COLUMNS, good, [ref, "home_care", "NaN", "2026-04-06", "", "FA-1"], 3000, 2500),
         "Row 2502, weekly_amount"),
    ]:
        with pytest.raises(DomainError) as caught:
            charge_import(file=ContentFile(data, name="charges.csv"), actor=income_officer)
        assert any(expected in p for p in problems_of(caught.value)), problems_of(caught.value)[:3]
    assert counts(*CHARGE_MODELS) == before


def test_huge_statement_files_are_refused_not_crashed():
    audit = AuditFactory()
    good = ["09/01/2026", "Shop", "Groceries", "10.00", "", "990.00"]
    huge_column = 2
    before = counts(*STATEMENT_MODELS)
    for data, expected in [
        (huge_field_file(PREPAID_HEADER, good, huge_column), "Row 2: this row cannot be read as CSV"),
        (to_csv(PREPAID_HEADER, [good]).encode() + b" " * (10 * 1024 * 1024), "larger than"),
        (many_rows_file(PREPAID_HEADER, good, ["09/01/2026", "Shop", "Groceries", "ten", "", "990.00"], 5000, 4000),
         "Row 4002, paid out"),
    ]:
        with pytest.raises(DomainError) as caught:
            statement_upload(audit=audit, kind=StatementKind.PREPAID_CARD, file=ContentFile(data, name="s.csv"),
                             actor=audit.officer)
        assert any(expected in p for p in problems_of(caught.value)), problems_of(caught.value)[:3]
    assert counts(*STATEMENT_MODELS) == before


def test_huge_claim_files_are_refused_not_crashed(claim_provider):
    header = list(INVOICE_COLUMNS)
    good = ["SC500001", "homecare", "2026-03-23", "1", "24.00", "24.00"]
    huge_column = 0
    before = counts(*CLAIM_MODELS)
    for data, expected in [
        (huge_field_file(header, good, huge_column), "Row 2: this row cannot be read as CSV"),
        (to_csv(header, [good]).encode() + b" " * (10 * 1024 * 1024), "larger than"),
        (many_rows_file(header, good, ["SC500001", "homecare", "2026-03-23", "1e30", "24.00", "24.00"], 5000, 4998),
         "Row 5000, units"),
    ]:
        with pytest.raises(DomainError) as caught:
            claim_import(provider=claim_provider, source=ClaimSource.INVOICE, reference=f"CLM-{next(_serial)}",
                         period_start=START, period_end=END, data=data, filename="c.csv",
                         actor=UserFactory(roles=[Role.PROVIDER_PAYMENT_OFFICER]))
        assert any(expected in p for p in problems_of(caught.value)), problems_of(caught.value)[:3]
    assert counts(*CLAIM_MODELS) == before


# --- through the upload pages ------------------------------------------------------------------

upload_names = st.one_of(st.just("file.csv"), st.text(min_size=1, max_size=250).map(lambda s: s + ".csv"),
                         st.sampled_from(["../../etc/passwd", "a" * 240 + ".csv", "Ω" * 200 + ".csv", "=cmd.csv",
                                          "statement.csv\r\nX-Injected: 1", "CON", ".csv"]))


@pytest.fixture
def income_http(client_as):
    return client_as(Role.INCOME_OFFICER)


@pytest.fixture
def dp_http(client_as):
    return client_as(Role.DIRECT_PAYMENT_OFFICER)


@pytest.fixture
def provider_http(client_as):
    return client_as(Role.PROVIDER_PAYMENT_OFFICER)


def assert_refused_page(response, before, after) -> None:
    """A refused upload shows the page again with the error summary and writes nothing."""
    assert response.status_code in (200, 400), response.status_code
    assert "govuk-error-summary" in response.content.decode()
    assert after == before


@PAGES
@given(data=st.data())
def test_the_payment_import_page_never_errors(data, income_http):
    http = income_http
    file = data.draw(payment_files(["SC999999"], hostile_rate=1.0))
    name = data.draw(upload_names, label="file name")
    before = counts(*PAYMENT_MODELS)
    response = http.post(reverse("debt:payment_import"),
                         {"source": "bank", "file": SimpleUploadedFile(name, file.data)})
    if response.status_code == 302:
        assert PaymentImport.objects.count() == before[3] + 1
    else:
        assert_refused_page(response, before, counts(*PAYMENT_MODELS))


@PAGES
@given(data=st.data())
def test_the_charge_import_page_never_errors(data, income_http):
    http = income_http
    ChargeableServiceFactory()
    refs = [ClientFactory().reference]
    file = data.draw(hostile_files(IMPORT_COLUMNS, {}, rows_strategy=charge_rows(refs), hostile_rate=1.0))
    name = data.draw(upload_names, label="file name")
    before = counts(*CHARGE_MODELS)
    response = http.post(reverse("debt:charge_import"), {"file": SimpleUploadedFile(name, file.data)})
    if response.status_code == 302:
        assert AssessedCharge.objects.count() > before[0]
    else:
        assert_refused_page(response, before, counts(*CHARGE_MODELS))


@PAGES
@given(data=st.data())
def test_the_statement_upload_page_never_errors(data, dp_http):
    http = dp_http
    audit = AuditFactory()
    file = data.draw(hostile_files(PREPAID_HEADER, {}, rows_strategy=statement_rows(True), hostile_rate=1.0))
    name = data.draw(upload_names, label="file name")
    before = counts(*STATEMENT_MODELS)
    response = http.post(reverse("direct_payments:statement_upload", args=[audit.pk]), {
        "kind": StatementKind.PREPAID_CARD, "file": SimpleUploadedFile(name, file.data)})
    if response.status_code == 302:
        assert StatementUpload.objects.filter(audit=audit).count() == 1
    else:
        assert_refused_page(response, before, counts(*STATEMENT_MODELS))


@PAGES
@given(data=st.data())
def test_the_claim_import_page_never_errors(data, provider_http, claim_provider):
    http = provider_http
    source = data.draw(st.sampled_from(ClaimSource.values), label="source")
    file = data.draw(claim_files(source, hostile_rate=1.0))
    name = data.draw(upload_names, label="file name")
    before = counts(*CLAIM_MODELS)
    response = http.post(reverse("provider_payments:claim_import"), {
        "provider": claim_provider.pk, "source": source, "reference": f"CLM-{next(_serial)}",
        "period_start_0": "23", "period_start_1": "3", "period_start_2": "2026", "period_end_0": "19",
        "period_end_1": "4", "period_end_2": "2026", "file": SimpleUploadedFile(name, file.data)})
    if response.status_code == 302:
        assert Claim.objects.count() == before[0] + 1
    else:
        assert_refused_page(response, before, counts(*CLAIM_MODELS))
