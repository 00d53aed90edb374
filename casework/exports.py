"""Every list exports to CSV and XLSX through this one piece of code.

A page declares its columns once; `export_response` streams CSV or writes XLSX (openpyxl in
write-only mode, so large exports stay small in memory). Text that a spreadsheet would run as a
formula (starting =, +, -, @, tab or carriage return) is prefixed with an apostrophe (OWASP's rule
for CSV injection), in headers and cells alike; numbers (Decimal, int, float) stay numbers, and
so does text that is just a negative number ("-12.50"), which no spreadsheet runs. Control
characters that XLSX cannot hold are dropped from XLSX cells, and the file and sheet names keep
only characters that are safe in a header and a sheet title.

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
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMATS = {"csv", "xlsx"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NEGATIVE_NUMBER = re.compile(r"-\d+(?:\.\d+)?\Z", re.ASCII)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
security_log = logging.getLogger("careledger.security")


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


def requested_format(request) -> str | None:
    fmt = request.GET.get("format", "").lower()
    return fmt if fmt in FORMATS else None


def safe_text(value: Any) -> Any:
    """Neutralise spreadsheet formula injection in text; leave numbers and dates as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NEGATIVE_NUMBER.match(value):
        return "'" + value
    return value


def _cell(value: Any, xlsx: bool = False) -> Any:
    if value is None:
        return ""
    if isinstance(value, (Decimal, int, float, date)) and not isinstance(value, bool):
        if isinstance(value, datetime):
            return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
        return value
    if isinstance(value, bool):
        return "Yes" if value else "No"
    text = str(value)
    if xlsx:  # XLSX (XML) cannot hold most control characters: drop them (before the formula check)
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return safe_text(text)


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_response(rows: Iterable[Any], columns: list[Column], filename: str, fmt: str) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    filename = _UNSAFE_NAME.sub("-", filename).strip("-.") or "export"
    headers = [safe_text(c.header) for c in columns]
    if fmt == "csv":
        writer = csv.writer(_Echo())

        def lines():
            yield "\ufeff"  # so spreadsheet programs read the file as UTF-8
            yield writer.writerow(headers)
            for row in rows:
                yield writer.writerow([_csv_text(_cell(c.value(row))) for c in columns])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
        return response
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=filename[:31])
    sheet.append([_cell(c.header, xlsx=True) for c in columns])
    for row in rows:
        sheet.append([_cell(c.value(row), xlsx=True) for c in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.xlsx"'
    return response


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


def _csv_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value
