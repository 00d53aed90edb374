"""Reading providers' claim files (formats: docs/formats.md, "Provider claims").

Every row is checked before anything is written; every problem is reported at once as
"Row 7, units: 'x' is not a number", counting rows as a spreadsheet does (the header is row 1).
An ECM file's columns may carry the provider's own names: the provider's `ecm_mapping` says which.
"""
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from casework.money import MoneyError, parse_money
from casework.services import DomainError

from .constants import ClaimSource

INVOICE_COLUMNS = ("client_reference", "service_code", "service_date", "units", "unit_rate", "amount")
INVOICE_OPTIONAL = ("start_time",)
ECM_COLUMNS = ("client_reference", "service_code", "visit_date", "planned_start", "planned_minutes", "check_in",
               "check_out")
ECM_OPTIONAL = ("rate",)
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
MAX_BYTES = 10 * 1024 * 1024
#: A NUL byte means UTF-16 or a binary file (and PostgreSQL text cannot hold one either).
NUL_PROBLEM = "The file has NUL (zero) bytes, so it is not a CSV file: save it as \"CSV UTF-8\" and try again"
#: What a claim line can hold (ClaimLine's columns): longer or larger values are refused by row.
CLIENT_REFERENCE_LENGTH, SERVICE_CODE_LENGTH = 20, 30
MAX_UNITS, UNIT_PLACES = Decimal(1_000_000), Decimal("0.0001")
MAX_RATE = Decimal(100_000)
MAX_MINUTES = 24 * 60


class ImportRejected(DomainError):
    """The file was refused; `problems` lists each one, for the error summary."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:20] + ([f"and {len(problems) - 20} more problems"] if len(problems) > 20 else [])
        super().__init__("The file was not imported: " + "; ".join(shown), field="file")


@dataclass
class ClaimRow:
    row_number: int
    client_reference: str
    service_code: str
    service_date: date
    units: Decimal | None = None
    unit_rate: Decimal | None = None
    amount: Decimal | None = None
    start_time: time | None = None
    planned_minutes: int | None = None
    actual_minutes: int | None = None


def _date(text: str) -> date:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a date (use YYYY-MM-DD or DD/MM/YYYY)")


def _time(text: str) -> time:
    try:
        return datetime.strptime(text.strip(), "%H:%M").time()
    except ValueError:
        raise ValueError(f"'{text}' is not a time (use HH:MM)") from None


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"'{text}' is not a number") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"'{text}' is not a number of zero or more")
    if value >= MAX_UNITS or value != value.quantize(UNIT_PLACES):
        raise ValueError(f"'{text}' is not a number less than {MAX_UNITS:,} with at most 4 decimal places")
    return value


def _money(text: str) -> Decimal:
    try:
        value = parse_money(text)
    except MoneyError as exc:
        raise ValueError(f"'{text}': {exc}") from None
    except ArithmeticError:  # decimal.InvalidOperation from parse_money for '1e999999'
        raise ValueError(f"'{text}' is not an amount") from None
    if abs(value) >= MAX_RATE:
        raise ValueError(f"'{text}' is more than the most a line may claim (£{MAX_RATE:,})")
    return value


def _minutes(text: str) -> int:
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_MINUTES:
        raise ValueError(f"'{text}' is not a whole number of minutes from 0 to {MAX_MINUTES}")
    return int(text)


def _text(length: int):
    def parse(text: str) -> str:
        if len(text) > length:
            raise ValueError(f"'{text[:20]}…' is longer than {length} characters")
        return text
    return parse


def _read(data: bytes) -> tuple[list[str], list[dict]]:
    if len(data) > MAX_BYTES:
        raise ImportRejected([f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected(["The file is not a UTF-8 CSV file"]) from None
    if "\x00" in text:
        raise ImportRejected([NUL_PROBLEM])
    reader = csv.DictReader(io.StringIO(text, newline=""))
    records: list[dict] = []
    headers: list[str] | None = None
    try:
        if not reader.fieldnames:
            raise ImportRejected(["The file is empty"])
        headers = [h.strip() for h in reader.fieldnames]
        reader.fieldnames = headers
        for record in reader:
            records.append(record)
    except csv.Error as exc:  # a cell over the csv module's field size limit, say
        row = 1 if headers is None else len(records) + 2
        raise ImportRejected([f"Row {row}: this row cannot be read as CSV ({exc})"]) from None
    return headers, records


def parse_claim_file(data: bytes, source: str, mapping: dict | None = None) -> list[ClaimRow]:
    """Every row of an invoice-lines or ECM file, or ImportRejected listing every problem."""
    headers, records = _read(data)
    mapping = {k: v for k, v in (mapping or {}).items() if v} if source == ClaimSource.ECM else {}
    required = ECM_COLUMNS if source == ClaimSource.ECM else INVOICE_COLUMNS
    column = {name: mapping.get(name, name) for name in required + (ECM_OPTIONAL + INVOICE_OPTIONAL)}
    missing = [column[name] for name in required if column[name] not in headers]
    if missing:
        raise ImportRejected([f"The file has no column {', '.join(repr(m) for m in missing)} "
                              f"(expected {', '.join(column[n] for n in required)})"])
    if not records:
        raise ImportRejected(["The file has a header but no rows"])
    problems: list[str] = []
    rows: list[ClaimRow] = []
    for number, record in enumerate(records, start=2):
        def get(name: str) -> str:
            return (record.get(column[name]) or "").strip()

        row_problems = []
        values = {}

        def parse(name: str, fn, optional: bool = False):
            text = get(name)
            if not text:
                if not optional:
                    row_problems.append(f"Row {number}, {column[name]}: enter a value")
                return None
            try:
                return fn(text)
            except ValueError as exc:
                row_problems.append(f"Row {number}, {column[name]}: {exc}")
                return None

        values["client_reference"] = parse("client_reference", _text(CLIENT_REFERENCE_LENGTH))
        values["service_code"] = parse("service_code", _text(SERVICE_CODE_LENGTH))
        if source == ClaimSource.ECM:
            values["service_date"] = parse("visit_date", _date)
            values["start_time"] = parse("planned_start", _time)
            values["planned_minutes"] = parse("planned_minutes", _minutes)
            check_in, check_out = parse("check_in", _time), parse("check_out", _time)
            values["unit_rate"] = parse("rate", _money, optional=True)
            if check_in and check_out:
                minutes = (check_out.hour * 60 + check_out.minute) - (check_in.hour * 60 + check_in.minute)
                values["actual_minutes"] = minutes if minutes >= 0 else minutes + 24 * 60
        else:
            values["service_date"] = parse("service_date", _date)
            values["units"] = parse("units", _decimal)
            values["unit_rate"] = parse("unit_rate", _money)
            values["amount"] = parse("amount", _money)
            values["start_time"] = parse("start_time", _time, optional=True)
        if row_problems:
            problems.extend(row_problems)
            continue
        rows.append(ClaimRow(row_number=number, **values))
    if problems:
        raise ImportRejected(problems)
    return rows
