"""Every list exports to CSV and XLSX through this one piece of code.

A page declares its columns once; `export_response` streams CSV or writes XLSX (openpyxl in
write-only mode, so large exports stay small in memory). Text that a spreadsheet would run as a
formula (starting =, +, -, @, tab or carriage return) is prefixed with an apostrophe.
"""
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Iterable

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook

FORMATS = {"csv", "xlsx"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


def requested_format(request) -> str | None:
    fmt = request.GET.get("format", "").lower()
    return fmt if fmt in FORMATS else None


def safe_text(value: Any) -> Any:
    """Neutralise spreadsheet formula injection in text; leave numbers and dates as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (Decimal, int, date)) and not isinstance(value, bool):
        if isinstance(value, datetime):
            return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
        return value
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return safe_text(str(value))


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_response(rows: Iterable[Any], columns: list[Column], filename: str, fmt: str) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    if fmt == "csv":
        writer = csv.writer(_Echo())

        def lines():
            yield "\ufeff"  # so spreadsheet programs read the file as UTF-8
            yield writer.writerow([c.header for c in columns])
            for row in rows:
                yield writer.writerow([_csv_text(_cell(c.value(row))) for c in columns])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
        return response
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=filename[:31])
    sheet.append([c.header for c in columns])
    for row in rows:
        sheet.append([_cell(c.value(row)) for c in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.xlsx"'
    return response


def _csv_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value
