"""The Bacs Standard 18 payment file (PP-08) and the finance journal. Pure text building, no database.

Layout (every label record 80 characters, every data record 100, lines ended by CRLF):
- VOL1: "VOL1", serial (6), accessibility " ", 26 spaces, owner id: 4 spaces + SUN (6) + 4 spaces,
  28 spaces, label standard "1".
- HDR1: "HDR1", file id "A" + SUN + "S" + 9 spaces (17), set id = serial (6), section "0001",
  sequence "0001", generation "    ", version "  ", creation date " YYDDD", expiry " YYDDD",
  accessibility " ", block count "000000", system code 13 spaces, 7 spaces.
- HDR2: "HDR2", "F", block length "02000", record length "00100", 35 spaces, "00", 28 spaces.
- UHL1: "UHL1", processing day " YYDDD", receiving party "999999    ", currency "00", country
  "000000", work code "1 DAILY  ", file number "001", 7 spaces, audit print id 7 spaces, 26 spaces.
- One standard record per payment: destination sort code (6), account (8), type "0",
  transaction code "99" (direct credit), originating sort code (6), account (8), 4 spaces,
  amount in pence (11, zero-filled), originator name (18), reference (18), destination name (18).
- The contra: originating sort code and account, "0", "17", originating sort code and account,
  4 spaces, total in pence (11), "CONTRA" narrative (18), reference (18), originator name (18).
- EOF1 and EOF2 repeat HDR1 and HDR2 with "EOF"; UTL1: "UTL1", debit total in pence (13),
  credit total (13), debit count (7), credit count (7), 36 spaces. The contra is the one debit;
  its value equals the credits' total.
"""
import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .models.providers import BACS_TEXT


class BacsError(ValueError):
    pass


@dataclass(frozen=True)
class BacsCredit:
    sort_code: str
    account_number: str
    name: str
    reference: str
    amount: Decimal


@dataclass(frozen=True)
class Originator:
    service_user_number: str
    sort_code: str
    account_number: str
    name: str


def _text(value: str, width: int) -> str:
    cleaned = "".join(ch if BACS_TEXT.match(ch) else " " for ch in value.upper())
    return cleaned[:width].ljust(width)


def _pence(amount: Decimal, width: int) -> str:
    pence = int((amount * 100).to_integral_value())
    if pence < 0 or len(str(pence)) > width:
        raise BacsError(f"Amount {amount} does not fit a Bacs field")
    return f"{pence:0{width}d}"


def _julian(on: date) -> str:
    return f" {on:%y}{on.timetuple().tm_yday:03d}"


def _check(record: str, width: int) -> str:
    if len(record) != width:
        raise BacsError(f"Record of {len(record)} characters, expected {width}: {record!r}")
    return record


def standard18(originator: Originator, credits: list[BacsCredit], processing_day: date, created: date,
               serial: str) -> str:
    """The whole file for a list of direct credits, with the contra debit to the council's account."""
    sun = originator.service_user_number
    if not (sun.isdigit() and len(sun) == 6):
        raise BacsError("The service user number must be 6 digits")
    serial = serial[:6].rjust(6, "0")
    hdr1 = (f"A{sun}S" + " " * 9 + serial + "0001" + "0001" + " " * 4 + " " * 2 + _julian(created)
            + _julian(created) + " " + "000000" + " " * 13 + " " * 7)
    hdr2 = "F" + "02000" + "00100" + " " * 35 + "00" + " " * 28
    records = [
        _check("VOL1" + serial + " " + " " * 26 + " " * 4 + sun + " " * 4 + " " * 28 + "1", 80),
        _check("HDR1" + hdr1, 80),
        _check("HDR2" + hdr2, 80),
        _check("UHL1" + _julian(processing_day) + "999999    " + "00" + "000000" + "1 DAILY  " + "001" + " " * 7
               + " " * 7 + " " * 26, 80),
    ]
    total = Decimal("0.00")
    for credit in credits:
        if credit.amount <= 0:
            raise BacsError(f"A credit to {credit.name} must be above zero")
        total += credit.amount
        records.append(_check(
            credit.sort_code + credit.account_number + "0" + "99" + originator.sort_code + originator.account_number
            + " " * 4 + _pence(credit.amount, 11) + _text(originator.name, 18) + _text(credit.reference, 18)
            + _text(credit.name, 18), 100))
    records.append(_check(
        originator.sort_code + originator.account_number + "0" + "17" + originator.sort_code
        + originator.account_number + " " * 4 + _pence(total, 11) + _text("CONTRA", 18) + _text(f"PAYMENTS {serial}", 18)
        + _text(originator.name, 18), 100))
    records += [
        _check("EOF1" + hdr1, 80),
        _check("EOF2" + hdr2, 80),
        _check("UTL1" + _pence(total, 13) + _pence(total, 13) + "0000001" + f"{len(credits):07d}" + " " * 36, 80),
    ]
    return "\r\n".join(records) + "\r\n"


JOURNAL_COLUMNS = ["journal_date", "reference", "cost_centre", "subjective_code", "description", "debit", "credit"]


def journal_csv(rows: list[tuple]) -> str:
    """rows: (journal_date, reference, cost_centre, subjective, description, debit, credit)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(JOURNAL_COLUMNS)
    for row in rows:
        writer.writerow([row[0].isoformat(), *row[1:5], f"{row[5]:.2f}", f"{row[6]:.2f}"])
    return out.getvalue()
