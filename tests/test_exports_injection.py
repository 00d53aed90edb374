"""Exports neutralise spreadsheet formula injection (casework/exports.py), CSV and XLSX alike.

CSV follows OWASP's rule: a cell whose text begins with =, +, -, @, tab or carriage return is
prefixed with a single quote, so a spreadsheet shows it as text instead of running it. Numbers stay
numbers, negative ones included, and so does text that is only a negative number. XLSX has cell
types: such text is a text cell (never a formula) with the cell's quotePrefix set, its value exactly
as recorded; text with control characters (which XML cannot hold) never breaks the export.
"""
import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from casework.exports import Column, export_response, safe_text
from casework.roles import Role

from .factories_debt import SuspensePaymentFactory
from .hostile_files import PROPERTY

D = Decimal
INJECTIONS = ["=1+1", "=HYPERLINK(\"http://example.invalid\",\"Click\")", "+1+1", "+441234567890", "-1+1",
              "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "-", "=", "-£12.50", "-12.50.1"]
PLAIN = ["Mrs Ada Lovelace", "SC100231", "1+1", "a=b", "", "12.50", "£12.50", " =1+1"]
NEGATIVE_TEXT = ["-12.50", "-3", "-0.01"]
COLUMNS = [Column("Value", lambda r: r)]


def csv_cells(rows, columns=COLUMNS, filename="values") -> list[list[str]]:
    response = export_response(rows, columns, filename, "csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def xlsx_cells(rows, columns=COLUMNS, filename="values"):
    response = export_response(rows, columns, filename, "xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows()]


@pytest.mark.parametrize("text", INJECTIONS)
def test_text_a_spreadsheet_would_run_is_prefixed_with_a_quote(text):
    assert safe_text(text) == "'" + text
    assert csv_cells([text])[1] == ["'" + text]
    cell = xlsx_cells([text])[1][0]
    assert cell.data_type == "s" and cell.quotePrefix
    assert cell.value.replace("\r\n", "\n").replace("\r", "\n") == text.replace("\r", "\n")


@pytest.mark.parametrize("text", PLAIN + NEGATIVE_TEXT)
def test_other_text_and_negative_numbers_as_text_are_left_alone(text):
    assert safe_text(text) == text
    assert csv_cells([text])[1] == [text]
    if text:  # an empty cell is simply absent from the sheet
        cell = xlsx_cells([text])[1][0]
        assert cell.value == text and cell.data_type == "s"
        assert bool(cell.quotePrefix) == text.startswith("-")  # a negative number as text stays text in Excel too


def test_numbers_stay_numbers_negative_ones_included():
    values = [D("-12.50"), D("0.00"), -3, 7, -1.5, date(2026, 11, 20)]
    assert csv_cells(values)[1:] == [["-12.50"], ["0.00"], ["-3"], ["7"], ["-1.5"], ["2026-11-20"]]
    cells = [row[0] for row in xlsx_cells(values)[1:]]
    assert [c.data_type for c in cells[:5]] == ["n"] * 5
    assert [c.value for c in cells[:5]] == [-12.5, 0, -3, 7, -1.5]
    assert cells[5].is_date


def test_headers_are_neutralised_too():
    columns = [Column("=cmd|' /C calc'!A0", lambda r: r)]
    assert csv_cells(["x"], columns)[0] == ["'=cmd|' /C calc'!A0"]
    header = xlsx_cells(["x"], columns)[0][0]
    assert header.value == "=cmd|' /C calc'!A0" and header.data_type == "s" and header.quotePrefix


def test_control_characters_are_dropped_from_xlsx_before_the_formula_check():
    cells = [row[0] for row in xlsx_cells(["\x01=1+1", "\x1b[31mred", "a\x00b", "tab\tand\nnewline"])[1:]]
    assert [c.value for c in cells] == ["=1+1", "[31mred", "ab", "tab\tand\nnewline"]
    assert [bool(c.quotePrefix) for c in cells] == [True, False, False, False]


@pytest.mark.parametrize("filename", ["claim-A/B:C[1]*?", "statement-\r\nX-Injected: 1", "=cmd", "", "a" * 80])
def test_file_and_sheet_names_from_references_are_made_safe(filename):
    for fmt in ("csv", "xlsx"):
        response = export_response(["x"], COLUMNS, filename, fmt)
        disposition = response["Content-Disposition"]
        assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition
        assert disposition.startswith('attachment; filename="') and disposition.endswith(f'.{fmt}"')
    assert len(load_workbook(io.BytesIO(export_response(["x"], COLUMNS, filename, "xlsx").content)).active.title) <= 31


@PROPERTY
@given(values=st.lists(st.one_of(st.text(max_size=30), st.sampled_from(INJECTIONS),
                                 st.decimals(D("-99999.99"), D("99999.99"), places=2),
                                 st.integers(-10**6, 10**6)), min_size=1, max_size=20))
def test_no_exported_cell_can_run_as_a_formula(values):
    for row, value in zip(csv_cells(values)[1:], values):
        cell = row[0]
        if isinstance(value, str):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or re.fullmatch(r"-\d+(\.\d+)?", cell, re.A)
        else:
            assert cell == str(value)
    for row, value in zip(xlsx_cells(values)[1:], values):
        assert row[0].data_type != "f"
        if isinstance(row[0].value, str):
            assert row[0].data_type == "s"
            if row[0].value.startswith(("=", "+", "-", "@", "\t", "\r")):
                assert row[0].quotePrefix
        if isinstance(value, str) and value and not any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
            assert row[0].value.replace("\r\n", "\n").replace("\r", "\n") == value.replace("\r\n", "\n").replace("\r", "\n")


@pytest.mark.django_db
def test_a_list_page_exports_hostile_records_neutralised(client_as):
    SuspensePaymentFactory(reference="=HYPERLINK(\"http://example.invalid\")", payer="@SUM(A1:A9)", amount=D("12.50"))
    SuspensePaymentFactory(reference="-2+3+cmd|' /C calc'!A0", payer="\x1b[31mPAYER", amount=D("0.01"))
    http = client_as(Role.INCOME_OFFICER)
    url = reverse("debt:suspense_list")
    text = b"".join(http.get(url, {"format": "csv"}).streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    references = {row[3]: row for row in rows[1:]}
    assert references["'=HYPERLINK(\"http://example.invalid\")"][4] == "'@SUM(A1:A9)"
    assert references["'-2+3+cmd|' /C calc'!A0"][1] == "0.01"
    response = http.get(url, {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert ["=HYPERLINK(\"http://example.invalid\")", "@SUM(A1:A9)"] in [row[3:5] for row in values]
    assert ["-2+3+cmd|' /C calc'!A0", "[31mPAYER"] in [row[3:5] for row in values]
    hostile = [row for row in sheet.iter_rows(min_row=2) if row[3].value.startswith(("=", "-"))]
    assert len(hostile) == 2 and all(row[3].quotePrefix and row[3].data_type == "s" for row in hostile)
    assert 12.5 in [row[1] for row in values]
