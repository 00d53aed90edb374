"""The subject access export holds every document held about the person, each listed in the index:
letters and statements, county court claim packs, the person's extract of each remittance advice
that names them, uploaded case documents, financial affairs documents and the bank statements
uploaded for a direct payment audit."""
import hashlib
import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from pypdf import PdfReader

from casework.affairs import services as affairs
from casework.constants import Capacity
from casework.letters import services as letters
from casework.models import Document, Letter
from casework.privacy.export import subject_access_export
from casework.roles import Role
from direct_payments.constants import StatementKind
from direct_payments.services import statement_upload
from provider_payments.models import Payment

from .factories import (
    CaseFactory,
    ClientFactory,
    DocumentFactory,
    UserFactory,
)
from .factories_direct import (
    AgreementFactory,
    AuditFactory,
    BankFormatFactory,
    bank_csv,
)
from .factories_provider import (
    CarePackageFactory,
    ProviderFactory,
    RateFactory,
    second_officer,
)
from .pdf_structure import problems
from .test_debt_legal import _invoice, _people, fee_table  # noqa: F401 (fixture)
from .test_provider_payment_run import approved_claim, start_run  # noqa: F401 (fixture)
from .test_provider_validation import ecm, visit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}
    return tmp_path


@pytest.fixture
def invoice(fee_table):  # noqa: F811
    """An overdue invoice: its client is the person whose documents are exported."""
    return _invoice(days_overdue=60)


@pytest.fixture
def shared_claim(invoice):
    """An approved claim with lines about the person and about another client, SC500002."""
    from provider_payments.constants import ClaimStatus
    from provider_payments.services.claims import claim_transition

    provider = ProviderFactory(name="Moorland Care Ltd")
    RateFactory(provider=provider, rate=Decimal("24.00"))
    CarePackageFactory(provider=provider, client=invoice.client)
    CarePackageFactory(provider=provider, client=ClientFactory(reference="SC500002"))
    claim = ecm(provider, visit(invoice.client.reference, date(2026, 3, 24)) + visit("SC500002", date(2026, 3, 25)))
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=second_officer())
    return provider, claim


def _pdf_upload(name: str):
    from casework.demo_documents import COURT, demo_document_upload

    client = ClientFactory.build(first_name="Any", last_name="One")
    return demo_document_upload(name, title="Evidence", client=client, sender=COURT, dated=date(2026, 3, 1),
                                paragraphs=["Evidence for the case."])


def test_a_person_with_one_document_of_each_kind_gets_each_file_and_the_index_lists_it(
        invoice, shared_claim, django_capture_on_commit_callbacks):
    provider, _claim = shared_claim
    person = invoice.client
    officer, leader, _ = _people()

    # A remittance advice naming the person and another client.
    start_run(django_capture_on_commit_callbacks)
    payment = Payment.objects.get(provider=provider)
    full = " ".join(page.extract_text() for page in PdfReader(default_storage.open(payment.remittance.name)).pages)
    assert person.reference in full and "SC500002" in full

    # A letter (the statement of account).
    letter = letters.letter_produce(client=person, letter_type="account_statement", on=timezone.localdate())

    # A county court claim pack.
    from debt.services import legal

    referral = legal.referral_request(client=person, invoices=[invoice], actor=officer, case=CaseFactory(client=person))
    legal.referral_approve(referral=referral, actor=leader)
    referral = legal.referral_issue_claim(referral=referral, issued_on=timezone.localdate(), actor=officer)

    # An uploaded case document and a financial affairs document (a capacity assessment).
    case_document = DocumentFactory(case=CaseFactory(client=person), client=person, original_name="bank-letter.pdf",
                                    description="Letter from the bank")
    resource_officer = UserFactory(roles=[Role.RESOURCE_MANAGEMENT_OFFICER])
    affairs.capacity_assessment_record(client=person, assessed_on=date(2026, 6, 1), assessor="Dr S Morgan",
                                       decision="Managing money", outcome=Capacity.LACKS, actor=resource_officer,
                                       upload=_pdf_upload("capacity.pdf"))
    affairs_document = Document.objects.filter(client=person).exclude(pk=case_document.pk).get()

    # A bank statement uploaded for a direct payment audit.
    audit = AuditFactory(agreement=AgreementFactory(client=person))
    statement_csv = bank_csv([(date(2026, 1, 9), "K BROWN PA WAGES", "-252.00")])
    upload = statement_upload(audit=audit, kind=StatementKind.BANK_CSV,
                              file=ContentFile(statement_csv, name="bank.csv"), actor=audit.officer,
                              bank_format=BankFormatFactory())

    sar = subject_access_export(client=person, actor=leader, reason="Letter of 3 November 2026")
    archive = zipfile.ZipFile(io.BytesIO(sar.file.read()))
    names = set(archive.namelist())

    assert hashlib.sha256(archive.read(f"letters/{letter.reference}.pdf")).hexdigest() == letter.sha256
    claim_pack = archive.read(f"claim-packs/{referral.reference}.pdf")
    assert hashlib.sha256(claim_pack).hexdigest() == referral.claim_pack_sha256
    assert archive.read(f"documents/{case_document.pk}-bank-letter.pdf") == case_document.file.open("rb").read()
    affairs_name = f"documents/{affairs_document.pk}-{affairs_document.original_name}"
    assert archive.read(affairs_name) == default_storage.open(affairs_document.file.name).read()
    assert archive.read(f"direct-payment-statements/{upload.pk}-bank.csv") == statement_csv

    extract_name = f"remittances/{payment.payment_run.reference}-{provider.supplier_number}-extract.pdf"
    extract = archive.read(extract_name)
    assert extract.startswith(b"%PDF") and problems(extract) == []
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(extract)).pages)
    assert person.reference in text and "Extract for" in text and "SC500002" not in text

    index = archive.read("index.html").decode()
    for name in (f"letters/{letter.reference}.pdf", f"claim-packs/{referral.reference}.pdf",
                 f"documents/{case_document.pk}-bank-letter.pdf", affairs_name,
                 f"direct-payment-statements/{upload.pk}-bank.csv", extract_name):
        assert name in names, name
        assert f"<td>{name}</td>" in index, name
    assert "County court claim pack" in index and "Extract of remittance advice" in index
    assert "Bank statement uploaded for the audit" in index
    # Every stored letter (the statement, and any letter the income rules sent before the claim), the
    # claim pack, two documents, the bank statement and the remittance extract.
    stored_letters = [letter for letter in Letter.objects.filter(client=person) if default_storage.exists(letter.file.name)]
    assert letter in stored_letters
    assert sar.sections["files"] == len(stored_letters) + 5
    assert sar.sections["direct_payments_statementupload"] == 1
    assert sar.sections["provider_remittances"] == 1


def test_a_remittance_that_names_only_other_people_is_not_in_the_export(approved_claim,  # noqa: F811
                                                                        django_capture_on_commit_callbacks):
    start_run(django_capture_on_commit_callbacks)
    assert Payment.objects.exists()
    stranger = ClientFactory(reference="SC500077")
    sar = subject_access_export(client=stranger, actor=UserFactory(roles=[Role.TEAM_LEADER]), reason="Request")
    names = zipfile.ZipFile(io.BytesIO(sar.file.read())).namelist()
    assert not [n for n in names if n.startswith("remittances/")]
    assert sar.sections["provider_remittances"] == 0
