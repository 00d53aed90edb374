"""Every list exports to CSV and XLSX through this one piece of code.

A page declares its columns once, each with its kind: `Column("Balance", value, kind=MONEY)`.

XLSX (what Excel opens): money columns hold numbers, never text, shown as pounds
(`"£"#,##0.00;-"£"#,##0.00`); other numbers are numbers; dates are date cells shown DD/MM/YYYY and
date-times DD/MM/YYYY HH:MM (UK local time). The header row is bold and frozen, with an autofilter
over the data, and each column is as wide as its content (8 to 60 characters). Text that a
spreadsheet would run as a formula (starting =, +, -, @, tab or carriage return) is stored exactly
as recorded, as a text cell with the cell's quotePrefix set, so Excel shows it as text and keeps it
text when edited. Control characters that XLSX cannot hold are dropped from XLSX cells.

CSV (no cell types): money always with two decimal places ("0.00", "-12.50"), dates ISO
(2026-11-20), date-times "2026-11-20 14:05" (UK local time). Text a spreadsheet would run as a
formula is prefixed with an apostrophe (OWASP's rule for CSV injection), in headers and cells
alike; text that is just a negative number ("-12.50"), which no spreadsheet runs, is left alone.
The file and sheet names keep only characters that are safe in a header and a sheet title.

An export carrying clients' personal data goes through `personal_export_response`: every client in
the file is logged as viewed (casework.services.client_records_viewed), and a file longer than
PERSONAL_DATA_EXPORT_MAX_ROWS is refused with a page asking to narrow the filter, and the refusal
logged on careledger.security.
"""
import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any, Callable, Iterable

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter

from casework.money import format_pounds, to_pennies

FORMATS = {"csv", "xlsx"}
#: What a column holds. AUTO: whatever the value is (numbers stay numbers, dates stay dates).
AUTO, MONEY, NUMBER, DATE = "auto", "money", "number", "date"
KINDS = (AUTO, MONEY, NUMBER, DATE)
MONEY_FORMAT = '"£"#,##0.00;-"£"#,##0.00'
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
MIN_WIDTH, MAX_WIDTH = 8, 60
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NEGATIVE_NUMBER = re.compile(r"-\d+(?:\.\d+)?\Z", re.ASCII)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
security_log = logging.getLogger("careledger.security")


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]
    kind: str = AUTO

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Column {self.header!r}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}")


def requested_format(request) -> str | None:
    fmt = request.GET.get("format", "").lower()
    return fmt if fmt in FORMATS else None


def formula_like(value: Any) -> bool:
    """Text a spreadsheet would run as a formula (OWASP): starts =, +, -, @, tab or carriage return."""
    return isinstance(value, str) and value.startswith(_FORMULA_START)


def safe_text(value: Any) -> Any:
    """Neutralise spreadsheet formula injection in CSV text; leave numbers and dates as they are."""
    if formula_like(value) and not _NEGATIVE_NUMBER.match(value):
        return "'" + value
    return value


def _plain(value: Any, kind: str = AUTO) -> Any:
    """The value as CSV and XLSX both see it: None, a Decimal, int, float, date, datetime (local,
    naive) or text. Money is rounded to the penny by the one rule (casework.money)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if kind == MONEY and isinstance(value, (Decimal, int)):
        return to_pennies(value)
    if isinstance(value, (Decimal, int, float, date)):
        return value
    return str(value)


def _csv_text(value: Any, kind: str = AUTO) -> Any:
    value = _plain(value, kind)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if kind == MONEY and isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, str):
        return safe_text(value)
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def _clean_filename(filename: str) -> str:
    return _UNSAFE_NAME.sub("-", filename).strip("-.") or "export"


def export_response(rows: Iterable[Any], columns: list[Column], filename: str, fmt: str) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    filename = _clean_filename(filename)
    if fmt == "csv":
        response = StreamingHttpResponse(_csv_lines(rows, columns), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(_xlsx_bytes(rows, columns, filename[:31]),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.{"csv" if fmt == "csv" else "xlsx"}"'
    return response


def _csv_lines(rows: Iterable[Any], columns: list[Column]):
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so spreadsheet programs read the file as UTF-8
    yield writer.writerow([safe_text(c.header) for c in columns])
    for row in rows:
        yield writer.writerow([_csv_text(c.value(row), c.kind) for c in columns])


def _xlsx_value(value: Any, kind: str) -> Any:
    value = _plain(value, kind)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value) or None  # XML cannot hold most control characters
    return value


def _shown_width(value: Any, kind: str) -> int:
    """How many characters the cell shows, for the column width."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if kind == MONEY and isinstance(value, (Decimal, int)):
        return len(format_pounds(value))
    if isinstance(value, str):
        return max(len(line) for line in value.splitlines() or [""])
    return len(str(value))


def _xlsx_cell(sheet, value: Any, kind: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # never a formula, whatever the text starts with
        if formula_like(value):
            cell.quotePrefix = True  # Excel shows (and keeps) it as text; the text itself is unchanged
        return cell
    cell.value = value
    if isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT
    elif kind == MONEY and isinstance(value, (Decimal, int, float)):
        cell.number_format = MONEY_FORMAT
    return cell


def _xlsx_bytes(rows: Iterable[Any], columns: list[Column], title: str) -> bytes:
    headers = [_xlsx_value(c.header, AUTO) for c in columns]
    values = [[_xlsx_value(c.value(row), c.kind) for c in columns] for row in rows]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title)
    # A write-only sheet writes its widths, panes and filter before the rows: work them out first.
    for index, column in enumerate(columns):
        widest = max([_shown_width(headers[index], AUTO)] + [_shown_width(row[index], column.kind) for row in values])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(MAX_WIDTH, max(MIN_WIDTH, widest + 2))
    if columns:
        sheet.freeze_panes = "A2"
        sheet.auto_filter = AutoFilter(ref=f"A1:{get_column_letter(len(columns))}{len(values) + 1}")
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = _xlsx_cell(sheet, header, AUTO)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in values:
        sheet.append([_xlsx_cell(sheet, value, column.kind) if value is not None else None
                      for value, column in zip(row, columns)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def personal_export_response(request, rows: Iterable[Any], columns: list[Column], filename: str, fmt: str, *,
                             client_of: Callable[[Any], Any] = lambda row: row) -> HttpResponse:
    """An export of clients' personal data. `client_of(row)` gives the row's client (a Client, a client
    id, a record with a `client_id`, or None for a row about no client); the default is the row itself.

    At most PERSONAL_DATA_EXPORT_MAX_ROWS rows: a longer export is refused (400) with a page asking
    the user to narrow the filter, and the refusal is logged; nothing is written to the file and no
    client is logged as viewed. Otherwise every client in the file is logged before it is sent."""
    from casework.services import client_records_viewed

    limit = settings.PERSONAL_DATA_EXPORT_MAX_ROWS
    rows = list(islice(iter(rows), limit + 1))
    if len(rows) > limit:
        from casework.views.errors import who

        security_log.warning("Export refused: %s asked for more than %d rows of personal data at %s", who(request),
                             limit, request.get_full_path()[:300])
        params = request.GET.copy()
        params.pop("format", None)
        query = params.urlencode()
        return render(request, "casework/export_refused.html", {
            "limit": limit, "back_url": f"{request.path}?{query}" if query else request.path,
        }, status=400)
    client_records_viewed(clients_or_ids=[client_of(row) for row in rows], user=request.user,
                          path=request.get_full_path())
    return export_response(rows, columns, filename, fmt)
