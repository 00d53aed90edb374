"""Files as real senders produce them (casework/tabular.py): every encoding, preamble lines above
the header, summary lines under the last row, the wrong separator, each UK date form, each amount
form; each bank's and card provider's sample statement through its saved mapping; and the
assessed charges, payments and provider claims imports reading the same forms."""
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from casework import tabular
from debt.models import AssessedCharge, Payment, SuspensePayment
from debt.payment_import import ImportRejected as PaymentRejected
from debt.services import billing as charges
from debt.services.payments import payment_import
from direct_payments import bank_layouts
from direct_payments.constants import StatementKind
from direct_payments.models import BankFormat, StatementLine, StatementUpload
from direct_payments.services import statement_upload
from direct_payments.statements import StatementRejected
from provider_payments.claim_files import ImportRejected as ClaimRejected
from provider_payments.constants import ClaimSource
from provider_payments.models import ClaimLine
from provider_payments.services.claims import claim_import

from .factories import ClientFactory, UserFactory
from .factories_debt import ChargeableServiceFactory
from .factories_direct import AuditFactory
from .factories_provider import CarePackageFactory, ProviderFactory, RateFactory
from .factories_provider import officer as provider_officer

D = Decimal
SAMPLES = Path(__file__).parent / "data" / "bank_statements"
MB = 1024 * 1024


def table(data, required=("date", "amount"), key="date"):
    return tabular.read_table(data, required=list(required), max_bytes=MB, key=key)


# Decoding --------------------------------------------------------------------------------------

TEXT = "Date,Description,Amount\n01/04/2025,Café £5 – “lunch”,-5.00\n"


@pytest.mark.parametrize("encoding, data, name", [
    ("utf-8", TEXT.encode("utf-8"), "utf-8"),
    ("utf-8 with a byte order mark", TEXT.encode("utf-8-sig"), "utf-8-sig"),
    ("utf-16 little-endian", TEXT.encode("utf-16-le").join([b"\xff\xfe", b""]), "utf-16"),
    ("utf-16 big-endian", TEXT.encode("utf-16-be").join([b"\xfe\xff", b""]), "utf-16"),
    ("windows-1252", TEXT.encode("cp1252"), "cp1252"),
])
def test_each_encoding_is_read_to_the_same_text(encoding, data, name):
    text, found = tabular.decode(data, max_bytes=MB)
    assert text == TEXT
    assert found == name


def test_iso_8859_1_is_read():
    data = "Date,Description,Amount\n01/04/2025,Café Señor £5,-5.00\n".encode("latin-1")
    text, _ = tabular.decode(data, max_bytes=MB)
    assert "Café Señor £5" in text


def test_a_short_windows_1252_file_is_still_read():
    assert tabular.decode("£5".encode("cp1252"), max_bytes=MB)[0] == "£5"


@pytest.mark.parametrize("data, problem", [
    (b"", "The file is empty"),
    (b"   \r\n", "The file is empty"),
    (b"Date,Amount\x00\n", "NUL (zero) bytes"),
    (b"\xef\xbb\xbfDate,\xff\xfeAmount\n", "not saved as UTF-8, UTF-16, Windows-1252 or ISO-8859-1"),
    (b"x" * (MB + 1), "larger than 1MB"),
])
def test_unreadable_bytes_are_refused_with_a_reason(data, problem):
    with pytest.raises(tabular.FileProblem) as refused:
        tabular.decode(data, max_bytes=MB)
    assert problem in refused.value.problems[0]


@pytest.mark.parametrize("line_end", ["\r\n", "\n", "\r"])
def test_each_line_end(line_end):
    data = line_end.join(["Date,Amount", "01/04/2025,1.00", "02/04/2025,2.00", ""]).encode()
    assert [(n, row) for n, row in table(data).rows] == [(2, ["01/04/2025", "1.00"]), (3, ["02/04/2025", "2.00"])]


# Header search, summary lines, separators --------------------------------------------------------

def test_the_header_is_found_under_preamble_lines_and_rows_keep_their_file_numbers():
    data = ("Account name,J EXAMPLE DP ACCOUNT\nStatement for 1 April 2025 to 30 April 2025\n\n"
            "Date,Amount\n01/04/2025,1.00\n").encode()
    found = table(data)
    assert (found.header_row, found.header, found.rows) == (4, ["Date", "Amount"], [(5, ["01/04/2025", "1.00"])])


def test_a_header_below_the_first_20_rows_is_not_looked_for():
    data = ("note\n" * 20 + "Date,Amount\n01/04/2025,1.00\n").encode()
    with pytest.raises(tabular.MissingColumns) as refused:
        table(data)
    assert refused.value.problems == ["Row 1: the header has no 'date', 'amount' column"]


def test_the_nearest_header_names_what_it_lacks():
    with pytest.raises(tabular.MissingColumns) as refused:
        table(b"Statement\nDate,Value\n01/04/2025,1.00\n")
    assert (refused.value.row, refused.value.missing) == (2, ["amount"])


def test_trailing_summary_and_blank_lines_are_left_out():
    data = ("Date,Amount\n01/04/2025,1.00\n\n02/04/2025,2.00\n,\nTotal,3.00\nClosing balance,103.00\n"
            "Number of transactions: 2\n\n").encode()
    assert [n for n, _ in table(data).rows] == [2, 4]


def test_a_row_that_only_starts_like_a_summary_but_has_a_date_is_kept():
    data = b"Total,Date,Amount\nTotal care,01/04/2025,1.00\n"
    assert len(table(data).rows) == 1


def test_a_summary_word_above_the_last_row_is_a_row():
    data = b"Date,Amount,Note\n01/04/2025,1.00,x\nTotal,2.00,y\n02/04/2025,3.00,z\n"
    assert [row[0] for _, row in table(data, key="").rows] == ["01/04/2025", "Total", "02/04/2025"]


@pytest.mark.parametrize("separator, name", [(";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars (|)")])
def test_the_wrong_separator_is_refused_by_name(separator, name):
    data = f"Statement for April\nDate{separator}Amount{separator}Description\n01/04/2025{separator}1,00{separator}x\n"
    with pytest.raises(tabular.FileProblem) as refused:
        table(data.encode())
    assert refused.value.problems == [f"The file's columns are separated by {name}, not commas: the separator is "
                                      "wrong. Save it as \"CSV UTF-8 (comma delimited)\" and try again"]


# Values ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["01/04/2025", "1/4/25", "01-04-2025", "01 Apr 2025", "1 April 2025", "2025-04-01",
                                  "01-Apr-2025", "1-apr-25", "01.04.2025", "1st April 2025", "01/04/2025 09:14",
                                  "2025-04-01T00:00:00", " 01 APR 2025 "])
def test_each_uk_date_form(text):
    assert tabular.parse_date(text) == date(2025, 4, 1)


@pytest.mark.parametrize("text", ["31/02/2026", "2026-13-01", "04/31/2025", "1 Foo 2025", "01/04", "", "Apr 1 2025",
                                  "00/00/0000", "1/4/225"])
def test_what_is_not_a_date(text):
    with pytest.raises(ValueError, match="is not a date"):
        tabular.parse_date(text)


@pytest.mark.parametrize("text, value", [
    ("1234.5", "1234.50"), ("£1,234.50", "1234.50"), ("-£12.00", "-12.00"), ("£-12.00", "-12.00"), ("+5", "5.00"),
    ("(12.00)", "-12.00"), ("(£1,250.00)", "-1250.00"), ("12.00 CR", "12.00"), ("12.00DR", "-12.00"),
    ("1,250.00 dr", "-1250.00"), ("12.00-", "-12.00"), ("GBP 5.00", "5.00"), ("5.00 GBP", "5.00"), (".50", "0.50"),
    ("1,000,000.00", "1000000.00"), ("\u00a312.00", "12.00"),
])
def test_each_amount_form(text, value):
    assert tabular.parse_amount(text) == D(value)


@pytest.mark.parametrize("text", ["", "£", "12.3.4", "1,2,3", "12,00", "NaN", "1e5", "--5", "(-5)", "-5 DR", "0.001",
                                  "Infinity", "12.00 XX", "1e999999"])
def test_what_is_not_an_amount(text):
    with pytest.raises(ValueError, match="is not an amount"):
        tabular.parse_amount(text)


# Bank and card statements through their saved mappings --------------------------------------

BANK_TOTAL, BANK_OPENING, BANK_CLOSING = D("1023.10"), D("1000.00"), D("2023.10")
CARD_OPENING, CARD_CLOSING = D("250.00"), D("1689.30")
#: sample file -> (saved mapping's name, statement kind, has a balance column)
SAMPLE_BANKS = {
    "barclays.csv": ("Barclays", StatementKind.BANK_CSV, False),
    "lloyds.csv": ("Lloyds Bank", StatementKind.BANK_CSV, True),
    "halifax.csv": ("Halifax", StatementKind.BANK_CSV, True),
    "natwest.csv": ("NatWest", StatementKind.BANK_CSV, True),
    "hsbc.csv": ("HSBC UK", StatementKind.BANK_CSV, False),
    "santander.csv": ("Santander", StatementKind.BANK_CSV, True),
    "nationwide.csv": ("Nationwide", StatementKind.BANK_CSV, True),
    "tsb.csv": ("TSB", StatementKind.BANK_CSV, True),
    "monzo.csv": ("Monzo", StatementKind.BANK_CSV, False),
    "starling.csv": ("Starling Bank", StatementKind.BANK_CSV, True),
    "allpay.csv": ("Allpay prepaid card", StatementKind.PREPAID_CARD, True),
    "pfs.csv": ("PFS prepaid card", StatementKind.PREPAID_CARD, True),
}


def test_every_sample_has_a_known_layout_and_eight_banks_and_two_card_providers_are_covered():
    assert {name for name, _, _ in SAMPLE_BANKS.values()} <= set(bank_layouts.LAYOUTS)
    kinds = [kind for _, kind, _ in SAMPLE_BANKS.values()]
    assert kinds.count(StatementKind.BANK_CSV) >= 8 and kinds.count(StatementKind.PREPAID_CARD) == 2


@pytest.fixture
def april_audit(db):
    return AuditFactory(period_start=date(2025, 4, 1), period_end=date(2025, 4, 30))


def _upload(audit, sample: str, *, data: bytes | None = None, **kwargs):
    name, kind, has_balance = SAMPLE_BANKS[sample]
    card = kind == StatementKind.PREPAID_CARD
    if not has_balance:
        kwargs.setdefault("opening_balance", CARD_OPENING if card else BANK_OPENING)
        kwargs.setdefault("closing_balance", CARD_CLOSING if card else BANK_CLOSING)
    saved = BankFormat.objects.filter(name=name).first()
    return statement_upload(audit=audit, kind=kind, actor=audit.officer,
                            file=ContentFile(data if data is not None else (SAMPLES / sample).read_bytes(), name=sample),
                            bank_format=saved, new_bank=None if saved else {"name": name}, **kwargs)


@pytest.mark.parametrize("sample", sorted(SAMPLE_BANKS))
def test_each_sample_statement_is_read_through_its_saved_mapping(april_audit, sample):
    name, kind, has_balance = SAMPLE_BANKS[sample]
    upload = _upload(april_audit, sample)
    card = kind == StatementKind.PREPAID_CARD
    assert (upload.rows, upload.first_date, upload.last_date) == (9, date(2025, 4, 1) if not card else date(2025, 4, 7),
                                                                   date(2025, 4, 29) if not card else date(2025, 4, 30))
    assert (upload.opening_balance, upload.closing_balance) == (
        (CARD_OPENING, CARD_CLOSING) if card else (BANK_OPENING, BANK_CLOSING))
    assert upload.balances_entered is not has_balance
    assert upload.bank_format.name == name
    lines = list(StatementLine.objects.filter(upload=upload).order_by("date", "row_number"))
    assert sum(line.amount for line in lines) == (CARD_CLOSING - CARD_OPENING if card else BANK_TOTAL)
    assert lines[-1].balance == upload.closing_balance
    cafe = next(line for line in lines if "ROMA" in line.description.upper())
    assert (cafe.description.upper().startswith("CAFÉ ROMA"), cafe.amount) == (True, D("-8.75"))
    assert not any(line.description.startswith("'") for line in lines)
    # the second statement from the same bank uses the mapping saved by the first
    assert BankFormat.objects.filter(name=name).count() == 1


def test_sample_encodings_and_preambles_are_recorded(april_audit):
    nationwide = _upload(april_audit, "nationwide.csv")
    assert (nationwide.encoding, nationwide.header_row) == ("cp1252", 5)
    hsbc = _upload(AuditFactory(period_start=date(2025, 4, 1), period_end=date(2025, 4, 30)), "hsbc.csv")
    assert (hsbc.encoding, hsbc.header_row) == ("utf-16", 1)


def test_a_saved_mapping_serves_the_next_statement_with_nothing_to_map(april_audit):
    _upload(april_audit, "lloyds.csv")
    saved = BankFormat.objects.get(name="Lloyds Bank")
    assert (saved.paid_out_column, saved.paid_in_column, saved.balance_column) == ("Debit Amount", "Credit Amount",
                                                                                   "Balance")
    later = AuditFactory(period_start=date(2025, 4, 1), period_end=date(2025, 4, 30))
    upload = statement_upload(audit=later, kind=StatementKind.BANK_CSV, actor=later.officer, bank_format=saved,
                              file=ContentFile((SAMPLES / "halifax.csv").read_bytes(), name="h.csv"))
    assert upload.rows == 9


def test_no_balance_column_needs_the_opening_and_closing_balance(april_audit):
    with pytest.raises(StatementRejected) as refused:
        _upload(april_audit, "barclays.csv", opening_balance=None, closing_balance=None)
    assert refused.value.problems == ["The file has no balance column: enter the opening and closing balance shown on "
                                      "the statement"]
    assert StatementUpload.objects.count() == 0


def test_no_balance_column_and_balances_that_do_not_agree_are_refused_naming_both(april_audit):
    with pytest.raises(StatementRejected) as refused:
        _upload(april_audit, "monzo.csv", opening_balance=D("1000.00"), closing_balance=D("2000.00"))
    assert refused.value.problems == [
        "The lines do not agree with the balances given: the opening balance £1,000.00 plus the lines (£1,023.10) "
        "makes £2,023.10, not the closing balance £2,000.00"]
    assert StatementUpload.objects.count() == 0 and StatementLine.objects.count() == 0


def test_balances_given_for_a_file_with_a_balance_column_must_be_the_files(april_audit):
    with pytest.raises(StatementRejected) as refused:
        _upload(april_audit, "starling.csv", opening_balance=D("900.00"), closing_balance=D("2023.10"))
    assert refused.value.problems == ["The opening balance given, £900.00, is not the statement's opening balance "
                                      "£1,000.00"]


def test_a_bad_row_in_a_bank_sample_refuses_the_file_and_writes_nothing(april_audit):
    data = (SAMPLES / "nationwide.csv").read_bytes().replace("£23.45".encode("cp1252"), b"23.4.5")
    with pytest.raises(StatementRejected) as refused:
        _upload(april_audit, "nationwide.csv", data=data)
    assert refused.value.problems == ["Row 9, paid out: '23.4.5' is not an amount"]
    assert StatementUpload.objects.count() == 0 and StatementLine.objects.count() == 0


def test_a_statement_saved_with_semicolons_is_refused_for_its_separator(april_audit):
    data = (SAMPLES / "starling.csv").read_text().replace(",", ";").encode()
    with pytest.raises(StatementRejected, match="separated by semicolons, not commas"):
        _upload(april_audit, "starling.csv", data=data)
    assert StatementUpload.objects.count() == 0


# Assessed charges, payments, provider claims ----------------------------------------------------

CHARGE_HEADER = "client_reference,service_code,weekly_amount,effective_from,effective_to,assessment_reference"


def test_assessed_charges_accept_16_11_2026_and_the_other_forms(db):
    ChargeableServiceFactory()
    for ref in ("SC1", "SC2", "SC3"):
        ClientFactory(reference=ref)
    text = "\r\n".join(["Assessment system export", "Run on 16/11/2026", "", CHARGE_HEADER,
                        "SC1,home_care,\"£1,099.85\",16/11/2026,,FA-1", "SC2,home_care,45.00,16 Nov 2026,31/03/2027,FA-2",
                        "SC3,home_care,12.5,2026-11-16,,FA-3 Café", "Total,,1157.35,,,", ""])
    created = charges.charge_import(file=io.BytesIO(text.encode("cp1252")), actor=UserFactory())
    assert created == 3
    got = {(c.client.reference, c.weekly_amount, c.effective_from, c.effective_to, c.assessment_reference)
           for c in AssessedCharge.objects.all()}
    assert got == {("SC1", D("1099.85"), date(2026, 11, 16), None, "FA-1"),
                   ("SC2", D("45.00"), date(2026, 11, 16), date(2027, 3, 31), "FA-2"),
                   ("SC3", D("12.50"), date(2026, 11, 16), None, "FA-3 Café")}


def test_an_assessed_charge_file_names_the_row_and_field(db):
    ChargeableServiceFactory()
    ClientFactory(reference="SC1")
    text = "\n".join(["Assessment system export", CHARGE_HEADER, "SC1,home_care,10.00,16/13/2026,,FA-1"])
    with pytest.raises(charges.ChargeImportRejected) as refused:
        charges.charge_import(file=io.BytesIO(text.encode()), actor=UserFactory())
    assert refused.value.problems == ["Row 3, effective_from: '16/13/2026' is not a date (use a date like 16/11/2026, "
                                      "16 Nov 2026 or 2026-11-16)"]
    assert AssessedCharge.objects.count() == 0


def test_the_payments_file_reads_bank_forms(db, income_officer):
    ClientFactory(reference="SC700001")
    text = "\r\n".join(["Northmoor Council income file", "Created 17/11/2026", "",
                        "Date,Amount,Method,Reference,Client_Reference,Payer",
                        "16/11/2026,\"£1,234.50\",bank_transfer,BACS 1,SC700001,J SMITH",
                        "16 Nov 2026,12.50 CR,card,CARD 2,,Zoë Café", "Total,\"£1,247.00\",,,,", ""])
    batch = payment_import(file=SimpleUploadedFile("pay.csv", text.encode("cp1252")), source="bank",
                           actor=income_officer)
    assert (batch.rows, batch.total) == (2, D("1247.00"))
    amounts = sorted([p.amount for p in Payment.objects.filter(import_batch=batch)]
                     + [s.amount for s in SuspensePayment.objects.filter(import_batch=batch)])
    assert amounts == [D("12.50"), D("1234.50")]
    references = {p.reference for p in Payment.objects.filter(import_batch=batch)} | {
        s.reference for s in SuspensePayment.objects.filter(import_batch=batch)}
    assert references == {"BACS 1", "CARD 2"}
    assert SuspensePayment.objects.get(import_batch=batch, reference="CARD 2").payer == "Zoë Café"


def test_a_payments_file_with_a_bad_row_names_it_and_writes_nothing(db, income_officer):
    text = "Income file\nDate,Amount,Method,Reference\n16/11/2026,12.50 DR,card,R1\n1/4/25,5.00,card,R2\n"
    with pytest.raises(PaymentRejected) as refused:
        payment_import(file=SimpleUploadedFile("pay.csv", text.encode()), source="bank", actor=income_officer)
    assert refused.value.problems == ["Row 3, amount: '12.50 DR' is not more than zero"]
    assert Payment.objects.count() == 0 and SuspensePayment.objects.count() == 0


@pytest.fixture
def claim_provider(db):
    provider = ProviderFactory()
    RateFactory(provider=provider, rate=D("24.00"), effective_from=date(2026, 1, 1))
    CarePackageFactory(provider=provider, client=ClientFactory(reference="SC500001"), start_date=date(2026, 1, 5))
    return provider


def test_a_provider_claim_file_in_utf16_with_a_preamble_and_uk_dates(claim_provider):
    text = "\r\n".join(["Carewell Homecare Ltd - invoice lines", "Period: 23/03/2026 to 19/04/2026", "",
                        "client_reference,service_code,service_date,units,unit_rate,amount",
                        "SC500001,homecare,23 Mar 2026,2,£24.00,£48.00",
                        "SC500001,homecare,24/03/26,1,24.00,24.00", "Total,,,3,,72.00", ""])
    claim = claim_import(provider=claim_provider, source=ClaimSource.INVOICE, reference="INV-77",
                         period_start=date(2026, 3, 23), period_end=date(2026, 4, 19), data=text.encode("utf-16"),
                         filename="claim.csv", actor=provider_officer())
    assert sorted((l.service_date, l.amount) for l in ClaimLine.objects.filter(claim=claim)) == [
        (date(2026, 3, 23), D("48.00")), (date(2026, 3, 24), D("24.00"))]


def test_a_provider_claim_file_with_the_wrong_separator_is_refused(claim_provider):
    text = "client_reference;service_code;service_date;units;unit_rate;amount\nSC500001;homecare;23/03/2026;2;24,00;48,00\n"
    with pytest.raises(ClaimRejected, match="separated by semicolons"):
        claim_import(provider=claim_provider, source=ClaimSource.INVOICE, reference="INV-78",
                     period_start=date(2026, 3, 23), period_end=date(2026, 4, 19), data=text.encode(),
                     filename="claim.csv", actor=provider_officer())
    assert ClaimLine.objects.count() == 0


# The upload page ---------------------------------------------------------------------------------

def _page_upload(client, audit, sample: str, **fields):
    from django.urls import reverse

    from casework.roles import Role

    from .conftest import sign_in

    officer = UserFactory(username="dp-officer", roles=[Role.DIRECT_PAYMENT_OFFICER])
    http = sign_in(client, officer)
    return http.post(reverse("direct_payments:statement_upload", args=[audit.pk]), {
        "kind": "bank_csv", "file": SimpleUploadedFile(sample, (SAMPLES / sample).read_bytes(), "text/csv"), **fields})


def test_the_upload_page_takes_a_known_bank_by_name_and_the_balances_it_lacks(client, april_audit):
    response = _page_upload(client, april_audit, "barclays.csv", bank_name="Barclays", opening_balance="1,000.00",
                            closing_balance="£2,023.10")
    assert response.status_code == 302
    upload = april_audit.uploads.get()
    assert (upload.rows, upload.balances_entered, upload.bank_format.amount_column) == (9, True, "Amount")


def test_the_upload_page_refuses_balances_that_do_not_agree_naming_both(client, april_audit):
    response = _page_upload(client, april_audit, "barclays.csv", bank_name="Barclays", opening_balance="1000.00",
                            closing_balance="2000.00")
    assert response.status_code == 200
    page = response.content.decode()
    assert "the opening balance £1,000.00 plus the lines (£1,023.10) makes £2,023.10, not the closing balance " \
           "£2,000.00" in page
    assert not april_audit.uploads.exists()
