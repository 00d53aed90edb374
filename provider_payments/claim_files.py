"""Reading providers' claim files (formats: docs/formats.md, "Provider claims").

Every row is checked before anything is written; every problem is reported at once as
"Row 7, units: 'x' is not a number", counting rows as a spreadsheet does (the header is row 1).
An ECM file's columns may carry the provider's own names: the provider's `ecm_mapping` says which.
"""
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from casework import tabular
from casework.services import DomainError

from .constants import ClaimSource

INVOICE_COLUMNS = ("client_reference", "service_code", "service_date", "units", "unit_rate", "amount")
INVOICE_OPTIONAL = ("start_time",)
ECM_COLUMNS = ("client_reference", "service_code", "visit_date", "planned_start", "planned_minutes", "check_in",
               "check_out")
ECM_OPTIONAL = ("rate",)
MAX_BYTES = 10 * 1024 * 1024
NUL_PROBLEM = tabular.NUL_PROBLEM
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
    return tabular.parse_date(text)


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
    value = tabular.parse_amount(text)
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


def _read(data: bytes, required: list[str], key: str) -> tabular.Table:
    """The table, read by casework/tabular.py: any of the encodings senders use, the header under
    preamble lines (a provider's name and period), summary lines under the last row left out."""
    try:
        return tabular.read_table(data, required=required, max_bytes=MAX_BYTES, key=key)
    except tabular.MissingColumns as exc:
        raise ImportRejected([f"The file has no column {', '.join(repr(m) for m in exc.missing)} "
                              f"(expected {', '.join(required)})"]) from None
    except tabular.FileProblem as exc:
        raise ImportRejected(exc.problems) from None


def parse_claim_file(data: bytes, source: str, mapping: dict | None = None) -> list[ClaimRow]:
    """Every row of an invoice-lines or ECM file, or ImportRejected listing every problem."""
    mapping = {k: v for k, v in (mapping or {}).items() if v} if source == ClaimSource.ECM else {}
    required = ECM_COLUMNS if source == ClaimSource.ECM else INVOICE_COLUMNS
    column = {name: mapping.get(name, name) for name in required + (ECM_OPTIONAL + INVOICE_OPTIONAL)}
    date_column = column["visit_date" if source == ClaimSource.ECM else "service_date"]
    table = _read(data, [column[n] for n in required], date_column)
    if not table.rows:
        raise ImportRejected(["The file has a header but no rows"])
    problems: list[str] = []
    rows: list[ClaimRow] = []
    for number, record in table.rows:
        def get(name: str) -> str:
            return table.cell(record, column[name])

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
