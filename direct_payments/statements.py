"""Reading and checking a statement file (formats: docs/formats.md, "Direct payment statements").

No database here: `read_statement` turns the bytes into lines using a column mapping (a saved bank
format or the prepaid card layout) and `check_statement` applies the audit's checks. Every problem
is collected and reported at once as "Row 7, balance: ...", counting rows as a spreadsheet does
(the header is row 1); any problem refuses the whole file.
"""
import csv
import dataclasses
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache
from decimal import Decimal

from casework import tabular
from casework.letters.types import long_date
from casework.money import format_pounds, to_pennies
from casework.services import DomainError

from .constants import DateFormat

MAX_BYTES = 10 * 1024 * 1024
NUL_PROBLEM = tabular.NUL_PROBLEM


class StatementRejected(DomainError):
    """The file was refused whole; `problems` lists each one, for the error summary."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("The statement was not accepted: " + "; ".join(problems[:20]), field="file")


@dataclass(frozen=True)
class Mapping:
    """Which column holds what. Money is `amount` (signed, negative out) or `paid_in` + `paid_out`.
    `balance` is blank for a bank whose export has no balance column: the officer then gives the
    opening and closing balance and the lines must agree with them (`with_balances`)."""

    date: str
    description: str
    balance: str = ""
    date_format: str = DateFormat.UK
    payee: str = ""
    amount: str = ""
    paid_in: str = ""
    paid_out: str = ""

    def required(self) -> list[tuple[str, str]]:
        columns = [("date", self.date), ("description", self.description)]
        if self.balance:
            columns.append(("balance", self.balance))
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
    balance: Decimal | None

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


def read_header(data: bytes) -> list[str]:
    """The column names in the file's first row that is not a preamble line (to offer them when a
    new bank is mapped): the first of the first rows with three or more filled cells."""
    text, _ = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    for number in range(1, tabular.HEADER_SEARCH_ROWS + 1):
        try:
            raw = next(reader, None)
        except csv.Error as exc:
            raise StatementRejected([f"Row {number}: this row cannot be read as CSV ({exc})"]) from None
        if raw is None:
            break
        if sum(1 for cell in raw if cell.strip()) >= 3:
            return [name.strip() for name in raw]
    return []


def _decode(data: bytes) -> tuple[str, str]:
    try:
        return tabular.decode(data, max_bytes=MAX_BYTES)
    except tabular.FileProblem as exc:
        raise StatementRejected(exc.problems) from None


@dataclass
class Statement:
    """The lines as read, with what was learnt of the file on the way."""

    lines: list[Line]
    encoding: str
    header_row: int


def read_statement(data: bytes, mapping: Mapping) -> list[Line]:
    """Every line of the file in file order, or StatementRejected listing every problem."""
    return read_statement_file(data, mapping).lines


def read_statement_file(data: bytes, mapping: Mapping) -> Statement:
    """The statement's lines (file order), its encoding and header row, or StatementRejected listing
    every problem. The header may sit under preamble lines; summary lines under the last line are
    left out (casework/tabular.py)."""
    columns = mapping.required()
    try:
        table = tabular.read_table(data, required=[column for _, column in columns], max_bytes=MAX_BYTES,
                                   key=mapping.date)
    except tabular.MissingColumns as exc:
        found = {name.strip().lower() for name in exc.found}
        raise StatementRejected([f"Row {exc.row}: the header has no '{column}' column (for the {label})"
                                 for label, column in columns if column.strip().lower() not in found]) from None
    except tabular.FileProblem as exc:
        raise StatementRejected(exc.problems) from None
    index = {label: table.index[column.strip().lower()] for label, column in columns}
    lines, problems = [], []
    for number, raw in table.rows:
        line = _read_row(number, raw, index, mapping, problems)
        if line:
            lines.append(line)
    if problems:
        raise StatementRejected(problems)
    if not lines:
        raise StatementRejected(["The file has a header row but no transactions"])
    return Statement(lines, table.encoding, table.header_row)


def _cell(raw: list[str], index: dict, label: str) -> str:
    position = index.get(label)
    return raw[position].strip() if position is not None and position < len(raw) else ""


def _money(text: str, number: int, label: str, problems: list[str]) -> Decimal | None:
    try:
        return tabular.parse_amount(text)
    except ValueError:
        problems.append(f"Row {number}, {label}: '{text}' is not an amount")
        return None


def _read_row(number: int, raw: list[str], index: dict, mapping: Mapping, problems: list[str]) -> Line | None:
    before = len(problems)
    text = _cell(raw, index, "date")
    try:
        on = _parse_date(text)
    except ValueError as exc:
        problems.append(f"Row {number}, date: {exc}")
        on = None
    # NatWest and others start text cells with an apostrophe, a spreadsheet's "this is text" mark
    description = _cell(raw, index, "description").removeprefix("'").strip()
    payee = _cell(raw, index, "payee").removeprefix("'").strip()
    if not description and not payee:
        problems.append(f"Row {number}, description: the description is missing")
    amount = _row_amount(number, raw, index, mapping, problems)
    balance = _money(_cell(raw, index, "balance"), number, "balance", problems) if mapping.balance else None
    if len(problems) > before:
        return None
    return Line(number, on, (description or payee)[:300], payee[:200], amount, balance)


@lru_cache(maxsize=4096)
def _parse_date(text: str) -> date:
    """Statements repeat the same few hundred dates: parse each once (any UK form, tabular.parse_date)."""
    return tabular.parse_date(text)


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
    value = abs(value)  # some banks print money out as "-12.00" in their paid out column
    if value <= 0:
        problems.append(f"Row {number}, {label}: '{text}' is not more than zero")
        return None
    return value if paid_in else -value


def with_balances(lines: list[Line], *, opening: Decimal | None, closing: Decimal | None) -> list[Line]:
    """The lines oldest first, each with its balance. A file with a balance column keeps its own
    balances (and, if the officer gave the opening and closing balance, they must be the file's).
    A file without one needs both figures, and opening + the lines must make closing exactly; each
    line's balance is then worked out from the opening balance."""
    ordered = in_date_order(lines)
    total = sum((line.amount for line in ordered), Decimal("0.00"))
    if ordered[0].balance is not None:
        file_opening, file_closing = to_pennies(ordered[0].balance - ordered[0].amount), ordered[-1].balance
        problems = []
        if opening is not None and opening != file_opening:
            problems.append(f"The opening balance given, {format_pounds(opening)}, is not the statement's "
                            f"opening balance {format_pounds(file_opening)}")
        if closing is not None and closing != file_closing:
            problems.append(f"The closing balance given, {format_pounds(closing)}, is not the statement's "
                            f"closing balance {format_pounds(file_closing)}")
        if problems:
            raise StatementRejected(problems)
        return ordered
    if opening is None or closing is None:
        raise StatementRejected(["The file has no balance column: enter the opening and closing balance shown on "
                                 "the statement"])
    if opening + total != closing:
        raise StatementRejected([
            f"The lines do not agree with the balances given: the opening balance {format_pounds(opening)} plus "
            f"the lines ({format_pounds(total)}) makes {format_pounds(opening + total)}, not the closing balance "
            f"{format_pounds(closing)}"])
    balance, filled = opening, []
    for line in ordered:
        balance += line.amount
        filled.append(dataclasses.replace(line, balance=balance))
    return filled


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
