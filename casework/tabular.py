"""Reading the CSV files that real senders produce: the one layer under every file import.

Banks, card providers, the assessment system and care providers save CSV in whatever their
software does: UTF-8 with or without a byte order mark, UTF-16, Windows-1252 or ISO-8859-1; CRLF,
LF or CR line ends; a few preamble lines (account name, period, "Statement for ...") above the
header; summary lines ("Total", "Closing balance") under the last row; amounts as "£1,234.50",
"(12.00)", "12.00 DR"; dates as "01/04/2025", "1 Apr 2025" or "2025-04-01". This module turns
the bytes into a header and numbered rows, and reads amounts and dates, so each import checks
only its own columns (formats: docs/formats.md, "Files in: encodings, preambles and amounts").

Rows are counted as a spreadsheet counts them: the first line of the file is row 1, preamble
lines included, so "Row 7" is the row the sender sees as 7.
"""
import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Iterable

from charset_normalizer import from_bytes

from casework.money import MoneyError, parse_money

#: The header must be within the file's first rows (preamble lines above it are skipped).
HEADER_SEARCH_ROWS = 20
NOT_TEXT = ("The file is not saved as UTF-8, UTF-16, Windows-1252 or ISO-8859-1 text: save it as \"CSV UTF-8\" "
            "and try again")
#: A NUL byte without a UTF-16 byte order mark means a binary file (and PostgreSQL text cannot hold one).
NUL_PROBLEM = "The file has NUL (zero) bytes, so it is not a CSV file: save it as \"CSV UTF-8\" and try again"
SEPARATOR_NAMES = {";": "semicolons", "\t": "tabs", "|": "vertical bars (|)"}
#: Lines under the last row that are the sender's totals, not rows.
SUMMARY = re.compile(r"^\s*(totals?|grand total|sub ?total|closing balance|opening balance|balance carried forward|"
                     r"balance brought forward|carried forward|brought forward|end of statement|"
                     r"number of (transactions|records|rows|lines)|record count|count)\b", re.I)
DATE_EXAMPLE = "16/11/2026, 16 Nov 2026 or 2026-11-16"


class FileProblem(Exception):
    """The file cannot be read as a table; `problems` says why (one line each)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


class MissingColumns(FileProblem):
    """No row within the first HEADER_SEARCH_ROWS holds every required column. `row` is the row that
    came nearest (1 when none came near) and `missing` the required names it lacks, for the import
    to word its own message."""

    def __init__(self, row: int, missing: list[str], found: list[str]):
        self.row, self.missing, self.found = row, missing, found
        super().__init__([f"Row {row}: the header has no {', '.join(repr(m) for m in missing)} column"])


@dataclass
class Table:
    header: list[str]
    header_row: int
    rows: list[tuple[int, list[str]]]
    encoding: str
    #: the position of each header name, by its lower-case name
    index: dict[str, int] = field(default_factory=dict)

    def cell(self, raw: list[str], name: str) -> str:
        position = self.index.get(name.strip().lower())
        return raw[position].strip() if position is not None and position < len(raw) else ""

    def record(self, raw: list[str]) -> dict[str, str]:
        """The row as {lower-case header name: stripped cell}; cells past the header are dropped."""
        return {name: self.cell(raw, name) for name in self.index}

    def has(self, name: str) -> bool:
        return name.strip().lower() in self.index


# Decoding --------------------------------------------------------------------------------------

def decode(data: bytes | str, *, max_bytes: int) -> tuple[str, str]:
    """(text, encoding name). UTF-8 (byte order mark or not) and UTF-16 with its byte order mark are
    read as such; anything else that is not UTF-8 is given to charset-normalizer, which may choose
    only Windows-1252 or ISO-8859-1 (the two a UK sender's spreadsheet saves as "CSV")."""
    if isinstance(data, str):
        text, encoding = data, "text"
    else:
        if len(data) > max_bytes:
            raise FileProblem([f"The file is larger than {max_bytes // (1024 * 1024)}MB"])
        if not data.strip():
            raise FileProblem(["The file is empty"])
        text, encoding = _decode_bytes(data)
    if "\x00" in text:
        raise FileProblem([NUL_PROBLEM])
    if not text.strip().strip("\ufeff"):
        raise FileProblem(["The file is empty"])
    return text.removeprefix("\ufeff"), encoding


def _decode_bytes(data: bytes) -> tuple[str, str]:
    for bom, codec, name in ((codecs.BOM_UTF8, "utf-8-sig", "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
                             (codecs.BOM_UTF16_BE, "utf-16", "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(codec), name
            except UnicodeDecodeError:
                raise FileProblem([NOT_TEXT]) from None
    if b"\x00" in data:
        raise FileProblem([NUL_PROBLEM])
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=["cp1252", "latin_1"]).best()
    if best is not None:
        return str(best), best.encoding
    try:  # too short for charset-normalizer to judge ("£5"): Windows-1252, what Excel saves on a UK PC
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise FileProblem([NOT_TEXT]) from None


# The table -------------------------------------------------------------------------------------

def _names(row: list[str]) -> list[str]:
    return [cell.strip().strip("\ufeff").strip().lower() for cell in row]


def read_table(data: bytes | str, *, required: Iterable[str], max_bytes: int, key: str = "") -> Table:
    """The header (the first of the first HEADER_SEARCH_ROWS rows holding every `required` column,
    compared without case or surrounding spaces) and the numbered rows under it. Blank rows are
    skipped; trailing summary lines are dropped: a line under the last row whose first cell is
    "Total", "Closing balance" and the like, and whose `key` column (a date column, say) holds no
    date. A header found only when split on semicolons, tabs or bars refuses the file: the sender
    saved it with the wrong separator."""
    text, encoding = decode(data, max_bytes=max_bytes)
    wanted = [name.strip().lower() for name in required]
    reader = csv.reader(io.StringIO(text, newline=""))
    first: list[tuple[int, list[str]]] = []
    header_at = None
    for number in range(1, HEADER_SEARCH_ROWS + 1):
        raw = _next(reader, number)
        if raw is None:
            break
        first.append((number, raw))
        if all(name in _names(raw) for name in wanted):
            header_at = number
            break
    if header_at is None:
        _wrong_separator(text, wanted)
        raise _missing(first, wanted)
    header_raw = first[-1][1]
    header = [cell.strip().strip("\ufeff").strip() for cell in header_raw]
    index: dict[str, int] = {}
    for position, name in enumerate(_names(header_raw)):
        if name:
            index.setdefault(name, position)
    rows = []
    number = header_at
    while True:
        number += 1
        raw = _next(reader, number)
        if raw is None:
            break
        if any(cell.strip() for cell in raw):
            rows.append((number, raw))
    table = Table(header, header_at, rows, encoding, index)
    while table.rows and _is_summary(table, table.rows[-1][1], key):
        table.rows.pop()
    return table


def _next(reader, number: int) -> list[str] | None:
    """The next row, or None at the end; a row the csv module cannot read (a cell over its field
    size limit, say) refuses the file, naming the row."""
    try:
        return next(reader, None)
    except csv.Error as exc:
        raise FileProblem([f"Row {number}: this row cannot be read as CSV ({exc})"]) from None


def _is_summary(table: Table, raw: list[str], key: str) -> bool:
    cells = [cell.strip() for cell in raw if cell.strip()]
    if not cells or not SUMMARY.match(cells[0]):
        return False
    if key:
        try:
            parse_date(table.cell(raw, key))
            return False
        except ValueError:
            return True
    return True


def _wrong_separator(text: str, wanted: list[str]) -> None:
    for line in text.splitlines()[:HEADER_SEARCH_ROWS]:
        try:
            dialect = csv.Sniffer().sniff(line, delimiters=";\t|")
        except csv.Error:
            continue
        cells = next(csv.reader([line], delimiter=dialect.delimiter), [])
        if all(name in _names(cells) for name in wanted):
            name = SEPARATOR_NAMES[dialect.delimiter]
            raise FileProblem([f"The file's columns are separated by {name}, not commas: the separator is wrong. "
                               "Save it as \"CSV UTF-8 (comma delimited)\" and try again"])


def _missing(first: list[tuple[int, list[str]]], wanted: list[str]) -> MissingColumns:
    best_row, best_found, best = 1, [], 0
    for number, raw in first:
        names = _names(raw)
        hits = sum(1 for name in wanted if name in names)
        if hits > best:
            best_row, best_found, best = number, [c.strip() for c in raw], hits
    if best == 0 and first:
        best_found = [c.strip() for c in first[0][1]]
    names = [c.lower() for c in best_found]
    return MissingColumns(best_row, [name for name in wanted if name not in names], best_found)


# Values ----------------------------------------------------------------------------------------

_NUMBER = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$|^\.\d+$")


def parse_amount(text: str) -> Decimal:
    """A signed amount to the penny from any of the forms statements and exports use: '1234.5',
    '£1,234.50', '-£12.00', '£-12.00', '+5', '(12.00)' (negative), '12.00 CR' (positive),
    '12.00 DR' (negative), '12.00-' (negative). Thousands separators must group by three.
    Raises ValueError("'...' is not an amount")."""
    original = text
    value = str(text).strip().replace("\u00a0", " ")
    negative = False
    suffix = re.search(r"\s*(CR|DR)\.?$", value, re.I)
    if suffix:
        negative = suffix.group(1).upper() == "DR"
        value = value[:suffix.start()].strip()
    signs = 0
    if value.startswith("(") and value.endswith(")"):
        negative, signs, value = True, 1, value[1:-1].strip()
    if value.endswith("-"):
        negative, signs, value = True, signs + 1, value[:-1].strip()
    for _ in range(2):  # a sign before or after the pound sign: -£12.00, £-12.00
        if value and value[0] in "+-":
            signs += 1
            negative = negative or value[0] == "-"
            value = value[1:].strip()
        for currency in ("£", "GBP"):
            if value.upper().startswith(currency):
                value = value[len(currency):].strip()
    if value.upper().endswith("GBP"):
        value = value[:-3].strip()
    if signs > 1 or (suffix and signs) or not _NUMBER.match(value):
        raise ValueError(f"'{original}' is not an amount")
    try:
        amount = parse_money(value.replace(",", ""))
    except (MoneyError, ArithmeticError) as exc:
        raise ValueError(f"'{original}' is not an amount: {exc}") from None
    return -amount if negative else amount


MONTHS = {name: number for number, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
    ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
    ("dec", "december")), start=1) for name in names}
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME + "$")
_NUMERIC = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})" + _TIME + "$")
_NAMED = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[ /-]([A-Za-z]{3,9})\.?[ /,-]+(\d{4}|\d{2})" + _TIME + "$", re.I)


def parse_date(text: str) -> date:
    """A date written the UK way, day before month: '01/04/2025', '1/4/25', '01-04-2025',
    '01.04.2025', '01 Apr 2025', '1 April 2025', '01-Apr-2025', or ISO '2025-04-01'; a time after
    it is ignored. A two-digit year is in this century. Raises ValueError naming the text."""
    value = str(text).strip()
    try:
        if match := _ISO.match(value):
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if match := _NUMERIC.match(value):
            return date(_year(match.group(4)), int(match.group(3)), int(match.group(1)))
        if (match := _NAMED.match(value)) and match.group(2).lower() in MONTHS:
            return date(_year(match.group(3)), MONTHS[match.group(2).lower()], int(match.group(1)))
    except ValueError:
        pass
    raise ValueError(f"'{text}' is not a date (use a date like {DATE_EXAMPLE})")


def _year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)
