"""Hypothesis strategies for hostile CSV files, shared by the importer tests.

A file is built from rows of cells. Each cell is either a valid value for its column (the
column's own strategy) or a hostile one: formula injection (= + - @ tab CR first), numbers that
are not numbers (NaN, 1e999999, 12.3.4), dates that are not dates, control characters, quotes,
right-to-left marks, overlong text. The rows are written as CSV (or joined naively, which breaks
the quoting), then the bytes may be spoiled: saved as Latin-1, Windows-1252 or UTF-16, cut short,
given invalid UTF-8 bytes, NUL bytes, lone carriage returns as line ends, or lose the header row.

`HostileFile.clean` is true when every cell came from its column's valid strategy and the bytes
were not spoiled: such a file must be accepted. Any other file may be accepted (if what was done
to it happens to leave it valid) or refused, but never half-written and never an exception.
"""
import csv
import io
import os
import re
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

#: Service-level property tests: examples per test. Page-level tests use PAGE_EXAMPLES.
EXAMPLES = int(os.environ.get("CARELEDGER_HOSTILE_EXAMPLES", "40"))
PAGE_EXAMPLES = max(EXAMPLES * 3 // 8, 1)

#: The same examples on every run (CI's gate is reproducible); CARELEDGER_RANDOM_EXAMPLES=1 draws new
#: ones each run, to hunt further (docs/reliability.md, "Hostile and malformed input").
DERANDOMIZE = os.environ.get("CARELEDGER_RANDOM_EXAMPLES", "") != "1"

#: No shrinking: each example writes to the database, and shrinking one can take minutes; a failure
#: is reported with the whole file that caused it.
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
                    phases=(Phase.explicit, Phase.reuse, Phase.generate), suppress_health_check=list(HealthCheck))
PAGES = settings(PROPERTY, max_examples=PAGE_EXAMPLES)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
formula = st.builds(lambda start, rest: start + rest, st.sampled_from(FORMULA_STARTS),
                    st.sampled_from(["1+1", "SUM(A1:A9)", "HYPERLINK(\"http://example.invalid\",\"x\")",
                                     "cmd|' /C calc'!A0", "2", "", "10.00"]))
NASTY = [
    "", " ", "NaN", "-Infinity", "Infinity", "sNaN", "1e999999", "1E+30", "-0", "0", "0.001", "-5.00",
    "99999999999.99", "100000000000", "1" * 40, "£", "£-", "1,2,3", "12.3.4", "0x10", "½", "²", "٣",
    "0001-01-01", "9999-12-31", "2026-02-30", "31/12/9999", "00/00/0000", "2026-13-01", "24:00", "23:60", "-1:00",
    "\x00", "\ufeff", "\u202e", "\x1b[31m", '"', "'", "\"\"", "a\nb", "a\r\nb", "a,b", "<script>alert(1)</script>",
    "${7*7}", "../../etc/passwd", "A" * 301, "Ω" * 70,
]
hostile_cell = st.one_of(st.sampled_from(NASTY), formula, st.text(max_size=25))
file_mutations = st.sampled_from([
    "none", "none", "none", "bom", "crlf", "cr", "latin-1", "cp1252", "utf-16", "truncate", "invalid-bytes",
    "nul", "no-header", "naive-join",
])


@dataclass
class HostileFile:
    header: list[str]
    rows: list[list[str]]
    mutation: str
    data: bytes
    clean: bool

    @property
    def data_rows(self) -> int:
        return len(self.rows)


def to_csv(header: list[str], rows: list[list[str]], *, naive: bool = False, line_end: str = "\n") -> str:
    if naive:
        return line_end.join(",".join(r) for r in [header, *rows]) + line_end
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


@st.composite
def hostile_files(draw, header: list[str], valid: dict, *, min_rows: int = 1, max_rows: int = 8,
                  hostile_rate: float = 0.5, rows_strategy=None):
    """A HostileFile with `header`; `valid` maps each column to its valid-value strategy.
    `rows_strategy`, if given, draws whole valid rows (for files whose rows depend on each other)."""
    if rows_strategy is not None:
        rows = draw(rows_strategy)
    else:
        rows = draw(st.lists(st.tuples(*[valid[c] for c in header]).map(list), min_size=min_rows, max_size=max_rows))
    clean = True
    if draw(st.floats(0, 1)) < hostile_rate and rows:
        # spoil some cells
        for _ in range(draw(st.integers(1, 3))):
            r = draw(st.integers(0, len(rows) - 1))
            c = draw(st.integers(0, len(header) - 1))
            rows[r][c] = draw(hostile_cell)
            clean = False
        if draw(st.booleans()):
            r = draw(st.integers(0, len(rows) - 1))
            rows[r] = rows[r][:draw(st.integers(0, len(header)))] if draw(st.booleans()) else rows[r] + ["extra"]
    mutation = draw(file_mutations)
    if mutation != "none":
        clean = clean and mutation in ("bom", "crlf", "cr")
    text = to_csv(header if mutation != "no-header" else [], rows, naive=mutation == "naive-join",
                  line_end={"crlf": "\r\n", "cr": "\r"}.get(mutation, "\n"))
    if mutation == "no-header":
        text = text.split("\n", 1)[1] if "\n" in text else text
    if mutation == "bom":
        data = ("\ufeff" + text).encode()
    elif mutation in ("latin-1", "cp1252"):
        data = ("£ " + text).encode(mutation, errors="replace")
    elif mutation == "utf-16":
        data = text.encode("utf-16")
    elif mutation == "truncate":
        raw = text.encode()
        data = raw[:draw(st.integers(0, max(len(raw) - 1, 0)))]
    elif mutation == "invalid-bytes":
        raw = text.encode()
        at = draw(st.integers(0, len(raw)))
        bad = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\x80\x80"]))
        data = raw[:at] + bad + raw[at:]
    elif mutation == "nul":
        raw = text.encode()
        at = draw(st.integers(0, len(raw)))
        data = raw[:at] + b"\x00" + raw[at:]
    else:
        data = text.encode()
    return HostileFile(header, rows, mutation, data, clean)


ROW_PROBLEM = re.compile(r"^Row (\d+)(?:, (?P<field>[^:]+))?: .+", re.S)


def check_problems(problems: list[str], *, fields: set[str], file_level: tuple[str, ...],
                   fieldless: tuple[str, ...] = ()) -> None:
    """Every problem names a row and the field (column) at fault, or is one of the file-level
    problems (not UTF-8, empty, too large, a column missing...). A row the csv module cannot read
    at all (a cell over its field size limit) is named by its row alone."""
    fieldless = (*fieldless, "this row cannot be read as CSV")
    assert problems, "a refused file must say why"
    for problem in problems:
        match = ROW_PROBLEM.match(problem)
        if match:
            assert int(match.group(1)) >= 1, problem
            if match.group(1) == "1":
                continue  # the header row: a missing column is named in the message
            if match.group("field") is None:
                assert any(text in problem for text in fieldless), f"no field named: {problem!r}"
            else:
                assert match.group("field") in fields, f"unknown field in {problem!r}"
        else:
            assert any(text in problem for text in file_level), f"not row-numbered: {problem!r}"


def huge_field_file(header: list[str], row: list[str], column: int, size: int = 200_000) -> bytes:
    """A file whose one cell is longer than Python's csv field limit (128 KiB)."""
    row = list(row)
    row[column] = "A" * size
    return to_csv(header, [row]).encode()


def many_rows_file(header: list[str], good_row: list[str], bad_row: list[str], rows: int, bad_at: int) -> bytes:
    """`rows` copies of a good row with one bad row at data row `bad_at` (0-based): file row bad_at + 2."""
    body = [list(good_row) for _ in range(rows)]
    body[bad_at] = list(bad_row)
    return to_csv(header, body).encode()
