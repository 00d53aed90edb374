"""Reading and checking a statement file (formats: docs/formats.md, "Direct payment statements").

No database here: `read_statement` turns the bytes into lines using a column mapping (a saved bank
format or the prepaid card layout) and `check_statement` applies the audit's checks. Every problem
is collected and reported at once as "Row 7, balance: ...", counting rows as a spreadsheet does
(the header is row 1); any problem refuses the whole file.
"""
import csv
import hashlib
import io
import itertools
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property, lru_cache
from decimal import Decimal

from casework.letters.types import long_date
from casework.money import MoneyError, format_pounds, parse_money
from casework.services import DomainError

from .constants import DateFormat

MAX_BYTES = 10 * 1024 * 1024
#: A NUL byte means UTF-16 or a binary file (and PostgreSQL text cannot hold one either).
NUL_PROBLEM = "The file has NUL (zero) bytes, so it is not a CSV file: save it as \"CSV UTF-8\" and try again"


class StatementRejected(DomainError):
    """The file was refused whole; `problems` lists each one, for the error summary."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("The statement was not accepted: " + "; ".join(problems[:20]), field="file")


@dataclass(frozen=True)
class Mapping:
    """Which column holds what. Money is `amount` (signed, negative out) or `paid_in` + `paid_out`."""

    date: str
    description: str
    balance: str
    date_format: str = DateFormat.UK
    payee: str = ""
    amount: str = ""
    paid_in: str = ""
    paid_out: str = ""

    def required(self) -> list[tuple[str, str]]:
        columns = [("date", self.date), ("description", self.description), ("balance", self.balance)]
        if self.payee:
            columns.append(("payee", self.payee))
        if self.amount:
            columns.append(("amount", self.amount))
        else:
            columns += [("paid in", self.paid_in), ("paid out", self.paid_out)]
        return columns


#: The prepaid card provider's export: fixed columns.
PREPAID_CARD = Mapping(date="Transaction Date", date_format=DateFormat.UK, payee="Merchant", description="Description",
                       paid_out="Debit", paid_in="Credit", balance="Balance")


def mapping_of(bank_format) -> Mapping:
    return Mapping(date=bank_format.date_column, date_format=bank_format.date_format,
                   description=bank_format.description_column, payee=bank_format.payee_column,
                   amount=bank_format.amount_column, paid_in=bank_format.paid_in_column,
                   paid_out=bank_format.paid_out_column, balance=bank_format.balance_column)


@dataclass(frozen=True)
class Line:
    row_number: int
    date: date
    description: str
    payee: str
    amount: Decimal
    balance: Decimal

    @cached_property
    def fingerprint(self) -> str:
        text = f"{self.date.isoformat()}|{self.amount}|{self.balance}|{self.description.lower()}|{self.payee.lower()}"
        return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def storage_name(name: str, default: str) -> str:
    """The uploaded file's name made safe to store under: ASCII letters, digits, '.', '-' and '_'
    only, and its last 80 characters (a browser may send a name of any length or script; the
    storage path must fit its column and the file system). The name as sent is kept separately."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name.rsplit("/", 1)[-1]).strip("._")[-80:].lstrip("._")
    return safe or default


def _decode(data: bytes) -> str:
    if not data.strip():
        raise StatementRejected(["The file is empty"])
    if len(data) > MAX_BYTES:
        raise StatementRejected([f"The file is larger than {MAX_BYTES // (1024 * 1024)}MB"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StatementRejected(["The file is not saved as UTF-8 text: save it as \"CSV UTF-8\" and try again"]) from None
    if "\x00" in text:
        raise StatementRejected([NUL_PROBLEM])
    return text


def _next_row(reader, number: int) -> list[str] | None:
    """The next row, or None at the end; a row Python's csv module cannot read (a cell over its
    field size limit, say) refuses the file, naming the row."""
    try:
        return next(reader, None)
    except csv.Error as exc:
        raise StatementRejected([f"Row {number}: this row cannot be read as CSV ({exc})"]) from None


def read_header(data: bytes) -> list[str]:
    """The column names in the file's first row (to offer them when a new bank is mapped)."""
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    return [name.strip() for name in _next_row(reader, 1) or []]


def _rows(reader):
    for number in itertools.count(2):
        raw = _next_row(reader, number)
        if raw is None:
            return
        yield number, raw


def read_statement(data: bytes, mapping: Mapping) -> list[Line]:
    """Every line of the file in file order, or StatementRejected listing every problem."""
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    header = [name.strip().lower() for name in _next_row(reader, 1) or []]
    index, problems = {}, []
    for label, column in mapping.required():
        if column.strip().lower() not in header:
            problems.append(f"Row 1: the header has no '{column}' column (for the {label})")
        else:
            index[label] = header.index(column.strip().lower())
    if problems:
        raise StatementRejected(problems)
    lines = []
    for number, raw in _rows(reader):
        if not any(cell.strip() for cell in raw):
            continue
        line = _read_row(number, raw, index, mapping, problems)
        if line:
            lines.append(line)
    if problems:
        raise StatementRejected(problems)
    if not lines:
        raise StatementRejected(["The file has a header row but no transactions"])
    return lines


def _cell(raw: list[str], index: dict, label: str) -> str:
    position = index.get(label)
    return raw[position].strip() if position is not None and position < len(raw) else ""


def _money(text: str, number: int, label: str, problems: list[str]) -> Decimal | None:
    try:
        return parse_money(text)
    except (MoneyError, ArithmeticError):  # ArithmeticError: decimal.InvalidOperation for '1e999999'
        problems.append(f"Row {number}, {label}: '{text}' is not an amount")
        return None


def _read_row(number: int, raw: list[str], index: dict, mapping: Mapping, problems: list[str]) -> Line | None:
    before = len(problems)
    text = _cell(raw, index, "date")
    try:
        on = _parse_date(text, mapping.date_format)
    except ValueError:
        fmt = mapping.date_format
        example = DateFormat(fmt).label if fmt in DateFormat.values else fmt
        problems.append(f"Row {number}, date: '{text}' is not a date like {example}")
        on = None
    description = _cell(raw, index, "description")
    payee = _cell(raw, index, "payee")
    if not description and not payee:
        problems.append(f"Row {number}, description: the description is missing")
    amount = _row_amount(number, raw, index, mapping, problems)
    balance = _money(_cell(raw, index, "balance"), number, "balance", problems)
    if len(problems) > before:
        return None
    return Line(number, on, (description or payee)[:300], payee[:200], amount, balance)


@lru_cache(maxsize=4096)
def _parse_date(text: str, date_format: str) -> date:
    """Statements repeat the same few hundred dates: parse each once."""
    return datetime.strptime(text, date_format).date()


def _row_amount(number: int, raw: list[str], index: dict, mapping: Mapping, problems: list[str]) -> Decimal | None:
    if mapping.amount:
        amount = _money(_cell(raw, index, "amount"), number, "amount", problems)
        if amount == 0:
            problems.append(f"Row {number}, amount: the amount is zero")
        return amount
    paid_in, paid_out = _cell(raw, index, "paid in"), _cell(raw, index, "paid out")
    if bool(paid_in) == bool(paid_out):
        problems.append(f"Row {number}, paid in and paid out: fill in exactly one of them")
        return None
    label, text = ("paid in", paid_in) if paid_in else ("paid out", paid_out)
    value = _money(text, number, label, problems)
    if value is None:
        return None
    if value <= 0:
        problems.append(f"Row {number}, {label}: '{text}' is not more than zero")
        return None
    return value if paid_in else -value


def in_date_order(lines: list[Line]) -> list[Line]:
    """Banks export oldest first or newest first; the checks read the lines oldest first."""
    return list(reversed(lines)) if len(lines) > 1 and lines[0].date > lines[-1].date else lines


def check_statement(lines: list[Line], *, period_start: date, period_end: date, existing: dict[str, str]) -> list[Line]:
    """The audit's checks, every problem reported: dates inside the period, each balance equal to
    the one before plus the line's amount, and no line already uploaded (`existing` maps
    fingerprints to where they were uploaded) or repeated in the file. Returns the lines oldest first."""
    ordered, problems = in_date_order(lines), []
    period = f"{long_date(period_start)} to {long_date(period_end)}"
    for line in ordered:
        if not period_start <= line.date <= period_end:
            problems.append(f"Row {line.row_number}, date: {long_date(line.date)} is outside the audit period ({period})")
    for previous, line in zip(ordered, ordered[1:]):
        if line.date < previous.date:
            problems.append(f"Row {line.row_number}, date: {long_date(line.date)} is out of date order")
        expected = previous.balance + line.amount
        if line.balance != expected:
            problems.append(f"Row {line.row_number}, balance: {format_pounds(line.balance)} does not follow from "
                            f"the previous balance {format_pounds(previous.balance)} and the amount "
                            f"{format_pounds(line.amount)} (expected {format_pounds(expected)})")
    seen: dict[str, int] = {}
    for line in ordered:
        key = line.fingerprint
        if key in existing:
            problems.append(f"Row {line.row_number}: this transaction ({long_date(line.date)}, {line.description}, "
                            f"{format_pounds(line.amount)}) was already uploaded in {existing[key]}")
        elif key in seen:
            problems.append(f"Row {line.row_number}: this transaction repeats row {seen[key]}")
        seen.setdefault(key, line.row_number)
    if problems:
        raise StatementRejected(sorted(problems, key=_row_of))
    return ordered


def _row_of(problem: str) -> int:
    try:
        return int(problem.split(",")[0].split(":")[0].removeprefix("Row "))
    except ValueError:
        return 0
