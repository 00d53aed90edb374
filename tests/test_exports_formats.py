"""Exports are correct for Excel and for anyone reading the CSV (casework/exports.py).

XLSX: money columns are numeric cells in the pounds format, dates are date cells shown DD/MM/YYYY
(date-times DD/MM/YYYY HH:MM), the header row is bold and frozen with an autofilter over the data,
columns are sized to their content, and formula-like text is kept exactly as recorded, as a text
cell with quotePrefix set. CSV: money always has two decimal places and dates are ISO.

The last tests walk every list page in the access matrix with ?format=xlsx and check that each
export's money columns are declared MONEY, so a new export that forgets fails here.
"""
import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from casework import exports
from casework.constants import EntryKind
from casework.exports import AUTO, DATE, MONEY, NUMBER, Column, export_response
from casework.roles import Role

from .conftest import sign_in
from .factories import LedgerEntryFactory, UserFactory
from .factories_debt import PaymentFactory, SuspensePaymentFactory
from .test_access_matrix import MATRIX, objects, url_for  # noqa: F401 (objects is a fixture)

D = Decimal
CURRENCY = '"£"#,##0.00;-"£"#,##0.00'
FORMULAS = ["=1+1", "+441234567890", "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A9)", "\t=1+1", "-12.50"]


def workbook(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content)).active


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


ROWS = [
    {"ref": "=HYPERLINK(\"http://example.invalid\")", "amount": D("300"), "paid": D("-12.5"), "on": date(2026, 11, 20),
     "at": timezone.make_aware(datetime(2026, 7, 1, 9, 5)), "count": 3, "units": D("1.25")},
    {"ref": "Mrs Ada Lovelace", "amount": D("0"), "paid": None, "on": None, "at": None, "count": 0, "units": D("0")},
    {"ref": "SC100231", "amount": D("1234567.891"), "paid": 7, "on": date(2027, 1, 2),
     "at": timezone.make_aware(datetime(2026, 12, 24, 23, 59)), "count": -1, "units": D("10")},
]
COLUMNS = [
    Column("Reference", lambda r: r["ref"]),
    Column("Amount", lambda r: r["amount"], kind=MONEY),
    Column("Paid", lambda r: r["paid"], kind=MONEY),
    Column("Received", lambda r: r["on"], kind=DATE),
    Column("Recorded", lambda r: r["at"]),
    Column("Count", lambda r: r["count"]),
    Column("Units", lambda r: r["units"], kind=NUMBER),
]


def test_xlsx_money_cells_are_numbers_in_the_pounds_format():
    sheet = workbook(export_response(ROWS, COLUMNS, "money", "xlsx"))
    amounts = [sheet.cell(row, 2) for row in range(2, 5)]
    assert [c.value for c in amounts] == [300, 0, 1234567.89]  # to the penny, half up (casework.money)
    assert all(c.data_type == "n" and c.number_format == CURRENCY for c in amounts)
    paid = [sheet.cell(2, 3), sheet.cell(4, 3)]
    assert [c.value for c in paid] == [-12.5, 7] and all(c.data_type == "n" and c.number_format == CURRENCY
                                                          for c in paid)
    assert sheet.cell(3, 3).value is None  # no amount: an empty cell, not "0" or "None"
    counts = [sheet.cell(row, 6) for row in range(2, 5)]
    assert [c.value for c in counts] == [3, 0, -1] and all(c.data_type == "n" for c in counts)
    assert all(c.number_format == "General" for c in counts)
    units = [sheet.cell(row, 7) for row in range(2, 5)]
    assert [c.value for c in units] == [1.25, 0, 10] and all(c.data_type == "n" for c in units)


def test_xlsx_dates_are_date_cells_in_uk_order():
    sheet = workbook(export_response(ROWS, COLUMNS, "dates", "xlsx"))
    received = sheet.cell(2, 4)
    assert received.is_date and received.value == datetime(2026, 11, 20) and received.number_format == "DD/MM/YYYY"
    recorded = sheet.cell(2, 5)
    assert recorded.is_date and recorded.number_format == "DD/MM/YYYY HH:MM"
    assert recorded.value == datetime(2026, 7, 1, 9, 5)  # UK local time (BST here), as the page shows it
    assert sheet.cell(4, 5).value == datetime(2026, 12, 24, 23, 59)
    assert sheet.cell(3, 4).value is None


def test_xlsx_header_is_bold_and_frozen_with_a_filter_over_the_data():
    sheet = workbook(export_response(ROWS, COLUMNS, "header", "xlsx"))
    header = [c for c in sheet[1]]
    assert [c.value for c in header] == [c.header for c in COLUMNS]
    assert all(c.font.b for c in header)
    assert not any(c.font.b for c in sheet[2])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G4"


def test_xlsx_columns_are_sized_to_their_content_within_bounds():
    rows = [{"short": "a", "long": "x" * 200, "mid": "Mrs Ada Lovelace", "money": D("1234567.89")}]
    columns = [Column("N", lambda r: r["short"]), Column("Notes", lambda r: r["long"]),
               Column("Name", lambda r: r["mid"]), Column("Balance", lambda r: r["money"], kind=MONEY)]
    sheet = workbook(export_response(rows, columns, "widths", "xlsx"))
    widths = [sheet.column_dimensions[letter].width for letter in "ABCD"]
    assert widths[0] == 8 and widths[1] == 60  # the bounds
    assert widths[2] == len("Mrs Ada Lovelace") + 2
    assert widths[3] == len("£1,234,567.89") + 2  # money as it is shown, not as stored


@pytest.mark.parametrize("text", FORMULAS)
def test_xlsx_formula_like_text_is_stored_unchanged_as_quoted_text(text):
    sheet = workbook(export_response([{"ref": text}], [Column("Reference", lambda r: r["ref"])], "f", "xlsx"))
    cell = sheet.cell(2, 1)
    assert cell.value == text and cell.data_type == "s" and cell.quotePrefix
    plain = workbook(export_response([{"ref": "a=b"}], [Column("Reference", lambda r: r["ref"])], "f", "xlsx"))
    assert plain.cell(2, 1).value == "a=b" and not plain.cell(2, 1).quotePrefix


def test_xlsx_money_column_keeps_text_it_is_given_as_text():
    rows = [{"amount": "Not assessed"}, {"amount": "=1+1"}]
    sheet = workbook(export_response(rows, [Column("Amount", lambda r: r["amount"], kind=MONEY)], "m", "xlsx"))
    assert [sheet.cell(r, 1).value for r in (2, 3)] == ["Not assessed", "=1+1"]
    assert sheet.cell(3, 1).data_type == "s" and sheet.cell(3, 1).quotePrefix


def test_csv_money_has_two_decimal_places_and_dates_are_iso():
    rows = csv_rows(export_response(ROWS, COLUMNS, "money", "csv"))
    assert rows[0] == [c.header for c in COLUMNS]
    assert [r[1] for r in rows[1:]] == ["300.00", "0.00", "1234567.89"]
    assert [r[2] for r in rows[1:]] == ["-12.50", "", "7.00"]
    assert [r[3] for r in rows[1:]] == ["2026-11-20", "", "2027-01-02"]
    assert [r[4] for r in rows[1:]] == ["2026-07-01 09:05", "", "2026-12-24 23:59"]
    assert [r[5] for r in rows[1:]] == ["3", "0", "-1"] and [r[6] for r in rows[1:]] == ["1.25", "0", "10"]
    assert rows[1][0] == "'=HYPERLINK(\"http://example.invalid\")"  # CSV keeps the apostrophe rule


def test_a_column_kind_must_be_one_the_writer_knows():
    with pytest.raises(ValueError, match="kind must be one of"):
        Column("Amount", lambda r: r, kind="pounds")
    assert Column("Amount", lambda r: r).kind == AUTO


@pytest.mark.django_db
def test_the_suspense_list_exports_money_dates_and_hostile_text_for_excel(client_as):
    SuspensePaymentFactory(reference="=HYPERLINK(\"http://example.invalid\")", payer="@SUM(A1:A9)", amount=D("300"),
                           received_on=date(2026, 11, 3))
    SuspensePaymentFactory(reference="REF2", amount=D("0.50"), received_on=date(2026, 11, 20))
    http = client_as(Role.INCOME_OFFICER)
    url = reverse("debt:suspense_list")
    sheet = workbook(http.get(url, {"format": "xlsx"}))
    headers = [c.value for c in sheet[1]]
    amount, received, reference = headers.index("Amount") + 1, headers.index("Received") + 1, \
        headers.index("Reference") + 1
    cells = {sheet.cell(r, reference).value: r for r in range(2, sheet.max_row + 1)}
    assert set(cells) == {"=HYPERLINK(\"http://example.invalid\")", "REF2"}
    hostile = cells["=HYPERLINK(\"http://example.invalid\")"]
    assert sheet.cell(hostile, reference).quotePrefix and sheet.cell(hostile, reference).data_type == "s"
    assert sheet.cell(hostile, amount).value == 300 and sheet.cell(cells["REF2"], amount).value == 0.5
    for r in cells.values():
        assert sheet.cell(r, amount).data_type == "n" and sheet.cell(r, amount).number_format == CURRENCY
        assert sheet.cell(r, received).is_date and sheet.cell(r, received).number_format == "DD/MM/YYYY"
    assert sheet.cell(hostile, received).value == datetime(2026, 11, 3)
    assert all(c.font.b for c in sheet[1]) and sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    rows = csv_rows(http.get(url, {"format": "csv"}))
    col = rows[0].index("Amount")
    assert sorted(r[col] for r in rows[1:]) == ["0.50", "300.00"]
    assert sorted(r[rows[0].index("Received")] for r in rows[1:]) == ["2026-11-03", "2026-11-20"]


@pytest.mark.django_db
def test_the_client_statement_exports_debits_credits_and_balance_as_pounds(client_as):
    charge = LedgerEntryFactory(amount=D("300.00"), effective_date=date(2026, 10, 5))
    LedgerEntryFactory(account=charge.account, kind=EntryKind.PAYMENT, amount=D("-312.50"),
                       effective_date=date(2026, 10, 19))
    http = client_as(Role.INCOME_OFFICER)
    url = reverse("casework:client_statement", kwargs={"pk": charge.account.client_id})
    sheet = workbook(http.get(url, {"format": "xlsx"}))
    headers = [c.value for c in sheet[1]]
    data = list(sheet.iter_rows(min_row=2))
    assert len(data) == 2
    for header in ("Debit", "Credit", "Balance"):
        cells = [row[headers.index(header)] for row in data if row[headers.index(header)].value is not None]
        assert cells, header
        assert all(c.data_type == "n" and c.number_format == CURRENCY for c in cells), header
    assert [row[headers.index("Balance")].value for row in data] == [300, -12.5]
    effective = [row[headers.index("Effective date")] for row in data]
    assert all(c.is_date and c.number_format == "DD/MM/YYYY" for c in effective)
    posted = [row[headers.index("Posted")] for row in data]
    assert all(c.is_date and c.number_format == "DD/MM/YYYY HH:MM" for c in posted)
    rows = csv_rows(http.get(url, {"format": "csv"}))
    head = rows[0]
    assert [r[head.index("Debit")] for r in rows[1:]] == ["300.00", ""]
    assert [r[head.index("Credit")] for r in rows[1:]] == ["", "312.50"]
    assert [r[head.index("Balance")] for r in rows[1:]] == ["300.00", "-12.50"]
    assert [r[head.index("Effective date")] for r in rows[1:]] == ["2026-10-05", "2026-10-19"]


@pytest.mark.django_db
def test_the_payments_list_exports_amounts_and_allocations_as_pounds(client_as):
    PaymentFactory(amount=D("45.10"))
    sheet = workbook(client_as(Role.INCOME_OFFICER).get(reverse("debt:payment_list"), {"format": "xlsx"}))
    headers = [c.value for c in sheet[1]]
    row = list(sheet.iter_rows(min_row=2))[0]
    amount = row[headers.index("Amount")]
    assert amount.value == 45.1 and amount.data_type == "n" and amount.number_format == CURRENCY
    assert row[headers.index("Received")].is_date


# --- Every export declares its money columns -------------------------------------------------------

#: A header that names money. A column with such a header must be declared MONEY.
MONEY_HEADER = re.compile(
    r"£|\b(amount|balance|total|paid|owed|debit|credit|gross|net|offset|rate|cost|saving|fee|interest|budget|"
    r"contribution|charge|outstanding|value|deferral|instalment|payable|claimed|allocated|waived|reduction|"
    r"outturn|forecast|refund|arrears|price|income|capital)\b", re.IGNORECASE)
#: Headers that name money but hold something else, and why.
NOT_MONEY = {
    "Paid on": "the date a payment was made",
    "Amount column": "the name of the bank file's column (bank formats)",
    "Paid in column": "the name of the bank file's column (bank formats)",
    "Paid out column": "the name of the bank file's column (bank formats)",
    "Balance column": "the name of the bank file's column (bank formats)",
    "No-saving reason": "why a closed exception saved nothing (text)",
    "With a saving": "how many closed exceptions saved money (a count)",
}
#: Exports that need a query to produce their file.
EXPORT_PARAMS = {"debt:billing_preview": {"on": "2026-11-02"}}


@pytest.fixture
def captured(monkeypatch):
    """Every XLSX export written while the test runs: (columns, rows)."""
    seen = []
    real = exports._xlsx_bytes

    def record(rows, columns, title):
        rows = list(rows)
        seen.append((columns, rows))
        return real(rows, columns, title)

    monkeypatch.setattr(exports, "_xlsx_bytes", record)
    return seen


@pytest.fixture
def every_export(objects, captured, settings):  # noqa: F811 (objects is the access matrix's fixture)
    """{url name: (columns, rows)} for every GET page that answers ?format=xlsx with a spreadsheet."""
    settings.PERSONAL_DATA_EXPORT_MAX_ROWS = 10_000
    users = {}
    found = {}
    for name, (roles, method, kind) in sorted(MATRIX.items()):
        if method != "GET" or kind != "page" or not roles or name.startswith("admin:"):
            continue
        role = sorted((r for r in roles if isinstance(r, Role)), key=lambda r: r.name)[:1]
        if not role:
            continue
        role = role[0]
        if role not in users:
            users[role] = sign_in(HttpClient(), UserFactory(username=f"exports-{role.name}", roles=[role]))
        before = len(captured)
        response = users[role].get(url_for(name, objects), {"format": "xlsx", **EXPORT_PARAMS.get(name, {})})
        if response.status_code == 200 and response.get("Content-Type", "").startswith("application/vnd.openxml"):
            assert len(captured) == before + 1, name
            found[name] = captured[-1]
    return found


@pytest.mark.django_db
def test_every_export_declares_its_money_columns(every_export):
    """A header that names money is declared MONEY; and a column that exported a Decimal says what it
    holds (MONEY or NUMBER), so money under a header such as "Due" or "Cap" is not left a plain number."""
    assert len(every_export) >= 50, sorted(every_export)  # the walk reaches the exports (54 today)
    wrong = []
    for name, (columns, rows) in sorted(every_export.items()):
        for column in columns:
            if MONEY_HEADER.search(column.header) and column.header not in NOT_MONEY and column.kind != MONEY:
                wrong.append(f"{name}: {column.header!r} names money but is declared {column.kind}")
            elif column.kind not in (MONEY, NUMBER) and any(isinstance(column.value(row), Decimal) for row in rows):
                wrong.append(f"{name}: {column.header!r} holds decimals but is declared {column.kind}")
    assert not wrong, "\n".join(wrong)
