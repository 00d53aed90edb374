"""Every PDF the system gives to a person is tagged for assistive technology (PDF/UA-1): a
structure tree, the document language en-GB, tables with header cells and no table inside another
table's cells, and every font embedded. tests/pdf_structure.py does the checking; the last tests
show it finds each fault."""
import io
from datetime import date, timedelta
from decimal import Decimal

import pikepdf
import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from casework.demo_documents import HOSPITAL, demo_document_pdf
from casework.letters import services as letters
from casework.letters.pdf import render_pdf
from casework.letters.types import letter_types
from casework.models import Letter
from deferred_payments.letters import STATEMENT_LETTER

from .factories import AccountFactory, CaseFactory, ClientFactory, LedgerEntryFactory
from .factories_deferred import (
    _dpa_reference_data,  # noqa: F401 (autouse)
    active_agreement,
)
from .pdf_structure import problems, structure_types
from .test_debt_legal import _invoice, _people, fee_table  # noqa: F401 (fixture)
from .test_provider_payment_run import approved_claim, start_run  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
ON = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}
    return tmp_path


def _has_table(content: bytes) -> bool:
    return "Table" in structure_types(content)


# --- Letters of every kind ---------------------------------------------------------------------------

@pytest.mark.parametrize("large_print", [False, True], ids=["standard", "large-print"])
def test_every_letter_type_with_its_default_wording_is_tagged(large_print):
    """Each registered letter type, its default wording with the type's own sample values (block
    fields such as statement tables included), remittance slip and enclosures."""
    kinds = letter_types()
    assert len(kinds) >= 10  # casework, income, deferred payments and direct payments types
    faults = {}
    for kind in kinds:
        pdf = letters.render_preview(letter_type=kind, subject=kind.default_subject, body=kind.default_body,
                                     large_print=large_print)
        found = problems(pdf)
        if found:
            faults[kind.code] = found
    assert faults == {}


def test_a_produced_statement_of_account_is_tagged_with_its_table():
    client = ClientFactory(first_name="Ada", last_name="Lovelace", title="Mrs")
    account = AccountFactory(client=client)
    LedgerEntryFactory(account=account, amount=Decimal("412.30"), effective_date=ON - timedelta(days=20))
    LedgerEntryFactory(account=account, kind="payment", amount=Decimal("-100.00"), effective_date=ON - timedelta(days=5))
    letter = letters.letter_produce(client=client, letter_type="account_statement", on=ON)
    pdf = letter.file.read()
    assert problems(pdf) == []
    kinds = structure_types(pdf)
    assert kinds.count("Table") == 2 and "TH" in kinds  # the statement and the payment slip


def test_a_deferred_payment_statement_from_the_statements_run_is_tagged(django_capture_on_commit_callbacks):
    from casework.runs.services import run_start

    agreement = active_agreement()
    for job in ("dpa_accrual", "dpa_statements"):
        with django_capture_on_commit_callbacks(execute=True):
            run = run_start(job=job, business_date=date(2024, 7, 1), trigger="test")
        run.refresh_from_db()
        assert run.status == "completed", run.error
    letter = Letter.objects.get(client=agreement.client, letter_type=STATEMENT_LETTER)
    pdf = letter.file.read()
    assert problems(pdf) == [] and _has_table(pdf)


def test_a_county_court_claim_pack_is_tagged(fee_table):  # noqa: F811
    from debt.services import legal

    officer, leader, _ = _people()
    invoice = _invoice(days_overdue=60)
    referral = legal.referral_request(client=invoice.client, invoices=[invoice], actor=officer,
                                      case=CaseFactory(client=invoice.client))
    legal.referral_approve(referral=referral, actor=leader)
    issued = legal.referral_issue_claim(referral=referral, issued_on=timezone.localdate(), actor=officer)
    pdf = default_storage.open(issued.claim_pack.name).read()
    assert problems(pdf) == [] and structure_types(pdf).count("Table") >= 2  # the figures and the statement


def test_a_remittance_advice_and_a_clients_extract_of_it_are_tagged(approved_claim,  # noqa: F811
                                                                      django_capture_on_commit_callbacks):
    from casework.models import Client
    from provider_payments.models import Payment
    from provider_payments.services.payment_run import remittance_extract

    start_run(django_capture_on_commit_callbacks)
    payment = Payment.objects.get()
    pdf = default_storage.open(payment.remittance.name).read()
    assert problems(pdf) == [] and _has_table(pdf)
    extract = remittance_extract(payment, Client.objects.get(reference="SC500001"))
    assert problems(extract) == [] and _has_table(extract)


def test_a_demo_document_is_a_real_tagged_page():
    client = ClientFactory(first_name="Edith", last_name="Marsh")
    pdf = demo_document_pdf(title="Mental capacity assessment", client=client, sender=HOSPITAL, dated=ON,
                            paragraphs=["We assessed Mrs Marsh's capacity to manage her property and affairs."])
    assert problems(pdf) == []
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert len(document.pages) == 1
        assert str(document.open_metadata().get("dc:title")) == f"Mental capacity assessment: {client.full_name}"


# --- The checker finds each fault --------------------------------------------------------------------

def _element(pdf: pikepdf.Pdf, kind: str, kids: list) -> pikepdf.Dictionary:
    element = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name("/" + kind),
                                                   K=pikepdf.Array(kids)))
    for kid in kids:
        if isinstance(kid, pikepdf.Dictionary):
            kid.P = element
    return element


def _faulty_pdf(*, tagged: bool = True, lang: str | None = "en", marked: bool = True) -> bytes:
    """One page of text in Helvetica, not embedded; a table with data cells only, holding a second
    table in one of its cells; language English but not British English."""
    pdf = pikepdf.Pdf.new()
    descriptor = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.FontDescriptor, FontName=pikepdf.Name.Helvetica, Flags=32,
        FontBBox=[-166, -225, 1000, 931], ItalicAngle=0, Ascent=718, Descent=-207, CapHeight=718, StemV=88))
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.TrueType,
                                                BaseFont=pikepdf.Name.Helvetica, FontDescriptor=descriptor,
                                                FirstChar=32, LastChar=126, Widths=[500] * 95))
    page = pikepdf.Page(pikepdf.Dictionary(
        Type=pikepdf.Name.Page, MediaBox=[0, 0, 595, 842],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
        Contents=pdf.make_stream(b"/P <</MCID 0>> BDC BT /F1 12 Tf 72 770 Td (Layout) Tj ET EMC")))
    pdf.pages.append(page)
    if tagged:
        inner = _element(pdf, "Table", [_element(pdf, "TR", [_element(pdf, "TD", [0])])])
        outer = _element(pdf, "Table", [_element(pdf, "TR", [_element(pdf, "TD", [inner]), _element(pdf, "TD", [])])])
        document = _element(pdf, "Document", [outer])
        pdf.Root.StructTreeRoot = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructTreeRoot,
                                                                       K=pikepdf.Array([document])))
        document.P = pdf.Root.StructTreeRoot
    if marked:
        pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=tagged)
    if lang is not None:
        pdf.Root.Lang = pikepdf.String(lang)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_the_checker_finds_each_fault_in_a_faulty_pdf():
    found = problems(_faulty_pdf())
    assert "The document language is 'en', not 'en-GB'" in found
    assert "A Table is nested inside a table cell (TD/TH): a layout table inside a data table" in found
    assert "Table 1 has no header cells (TH)" in found and "Table 2 has no header cells (TH)" in found
    assert "Font Helvetica is not embedded (no FontFile, FontFile2 or FontFile3)" in found
    assert len(found) == 5, found


def test_the_checker_finds_an_untagged_pdf_and_a_missing_language():
    found = problems(_faulty_pdf(tagged=False, lang=None))
    assert "There is no structure tree (StructTreeRoot): the PDF is not tagged" in found
    assert "MarkInfo Marked is not true: the PDF does not say it is tagged" in found
    assert "The document language (Lang) is missing" in found
    assert "MarkInfo Marked is not true: the PDF does not say it is tagged" in problems(_faulty_pdf(marked=False))


def test_the_checker_passes_a_table_with_header_cells_and_finds_a_layout_table_in_a_cell():
    header = ('<html lang="en-GB"><title>t</title><body><table><thead><tr><th scope="col">Date</th>'
              '<th scope="col">Amount</th></tr></thead><tbody><tr><td>1 May</td><td>£1.00</td></tr></tbody></table>')
    assert problems(render_pdf(header + "</body></html>").content) == []
    nested = render_pdf(header.replace("<td>£1.00</td>", "<td><table><tr><td>£1.00</td></tr></table></td>")
                        + "</body></html>").content
    assert problems(nested) == ["A Table is nested inside a table cell (TD/TH): a layout table inside a data table",
                                "Table 2 has no header cells (TH)"]
