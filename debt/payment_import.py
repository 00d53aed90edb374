"""Reading a payment file from the bank or cash receipting (format: docs/formats.md, "Payments import").

Every row is checked before anything is written; all the problems are reported at once, each as
"Row 7, amount: '12.3.4' is not an amount", counting rows as a spreadsheet does (the header is row 1).
"""
import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone

from casework import tabular
from casework.money import DECIMAL_PLACES, MAX_DIGITS, format_pounds
from casework.services import DomainError

from .constants import PaymentMethod

REQUIRED_COLUMNS = ("date", "amount", "method", "reference")
OPTIONAL_COLUMNS = ("client_reference", "payer")
MAX_BYTES = 5 * 1024 * 1024
NUL_PROBLEM = tabular.NUL_PROBLEM
#: The file's total is stored as money (MAX_DIGITS digits, DECIMAL_PLACES of them pence).
MAX_FILE_TOTAL = Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES)


class ImportRejected(DomainError):
    """The file was refused; `problems` lists each one, for the error summary."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("The file was not imported: " + "; ".join(problems), field="file")


@dataclass(frozen=True)
class PaymentRow:
    row_number: int
    received_on: date
    amount: Decimal
    method: str
    reference: str
    client_reference: str
    payer: str


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def storage_name(name: str, default: str) -> str:
    """The uploaded file's name made safe to store under: ASCII letters, digits, '.', '-' and '_'
    only, and its last 80 characters (a browser may send a name of any length or script; the
    storage path must fit its column and the file system). The name as sent is kept separately."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name.rsplit("/", 1)[-1]).strip("._")[-80:].lstrip("._")
    return safe or default


def parse_payment_file(data: bytes) -> list[PaymentRow]:
    """Every row of the file, or ImportRejected listing every problem found. The file is read by
    casework/tabular.py: any of the encodings senders use, the header under preamble lines, summary
    lines under the last row left out, amounts and dates in the forms banks print them."""
    try:
        table = tabular.read_table(data, required=REQUIRED_COLUMNS, max_bytes=MAX_BYTES, key="date")
    except tabular.MissingColumns as exc:
        raise ImportRejected([f"Row {exc.row}: the header has no '{column}' column" for column in exc.missing]) from None
    except tabular.FileProblem as exc:
        raise ImportRejected(exc.problems) from None
    rows, problems = [], []
    for number, raw in table.rows:
        row, row_problems = _parse_row(number, table.record(raw))
        problems += row_problems
        if row:
            rows.append(row)
    if problems:
        raise ImportRejected(problems)
    if not rows:
        raise ImportRejected(["The file has a header row but no payments"])
    if sum((row.amount for row in rows), Decimal("0")) >= MAX_FILE_TOTAL:
        raise ImportRejected([f"The payments add up to more than {format_pounds(MAX_FILE_TOTAL - Decimal('0.01'))}: "
                              "split the file"])
    return rows


def _parse_row(number: int, raw: dict[str, str]) -> tuple[PaymentRow | None, list[str]]:
    problems: list[str] = []

    def problem(column: str, message: str) -> None:
        problems.append(f"Row {number}, {column}: {message}")

    received_on = _parse_date(raw.get("date", ""), problem)
    amount = _parse_amount(raw.get("amount", ""), problem)
    method = raw.get("method", "").lower()
    if method not in PaymentMethod.values:
        problem("method", f"'{method}' is not one of {', '.join(PaymentMethod.values)}")
    reference = raw.get("reference", "")
    if not reference:
        problem("reference", "the reference is missing")
    elif len(reference) > 60:
        problem("reference", "the reference is longer than 60 characters")
    client_reference, payer = raw.get("client_reference", ""), raw.get("payer", "")
    if len(client_reference) > 20:
        problem("client_reference", "the client reference is longer than 20 characters")
    if len(payer) > 200:
        problem("payer", "the payer is longer than 200 characters")
    if problems:
        return None, problems
    return PaymentRow(number, received_on, amount, method, reference, client_reference, payer), []


def _parse_date(text: str, problem) -> date | None:
    try:
        value = tabular.parse_date(text)
    except ValueError as exc:
        problem("date", str(exc))
        return None
    if value > timezone.localdate():
        problem("date", f"'{text}' is in the future")
        return None
    return value


def _parse_amount(text: str, problem) -> Decimal | None:
    try:
        amount = tabular.parse_amount(text)
    except ValueError:
        problem("amount", f"'{text}' is not an amount")
        return None
    if amount <= 0:
        problem("amount", f"'{text}' is not more than zero")
        return None
    return amount
