"""What invoices still owe after payments, credit notes and write-offs, and the aged debt report.

The report is one query of database aggregates computed once: payments, credit notes and posted
write-offs are summed per invoice in one grouped pass each (common table expressions joined once
to the invoices, for the report day and the collection period's opening day together), each
invoice's outstanding amount is banded by the days between its due date and the report day, and
the bands are summed per team, recovery stage and service with GROUP BY. The SQL is plain SQL that
runs unchanged on PostgreSQL and SQLite; every total is quantised to the penny.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone

from casework.constants import CaseStatus, CaseType
from casework.models import Case as CaseRecord
from casework.models import LedgerEntry, Team
from casework.money import ZERO, to_pennies

from .models import (
    ChargeableService,
    DebtRecovery,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    RecoveryStage,
    WriteOffLine,
    WriteOffRequest,
    WriteOffStatus,
)
from .selectors import invoice_written_off, with_outstanding  # noqa: F401 (re-exported)

#: (label, lowest days past due, highest days past due); None: open-ended.
BANDS = [("Not yet due", None, -1), ("0 to 30 days", 0, 30), ("31 to 60 days", 31, 60),
         ("61 to 90 days", 61, 90), ("91 to 180 days", 91, 180), ("181 to 365 days", 181, 365),
         ("Over 365 days", 366, None)]
NO_CASE = "No case"
NO_STAGE = "Not on the recovery ladder"


@dataclass
class AgedRow:
    group: str
    bands: dict[str, Decimal] = field(default_factory=lambda: {label: ZERO for label, _, _ in BANDS})

    @property
    def total(self) -> Decimal:
        return sum(self.bands.values(), ZERO)

    @property
    def band_list(self) -> list[Decimal]:
        return [self.bands[label] for label, _, _ in BANDS]


def _money(value) -> Decimal:
    """A sum from the database as money: SQLite answers decimal sums as floats, so read those
    through their shortest text form before rounding to the penny."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    return to_pennies(value or ZERO)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _date_param(day: date):
    return connection.ops.adapt_datefield_value(day)


def _band_sql(due: str, as_at: date) -> tuple[str, list]:
    """CASE giving each band's position in BANDS from the due date column `due`."""
    whens, params = [], []
    for index, (_, low, high) in enumerate(BANDS):
        # days past due = as_at − due, so "days ≥ low" is "due ≤ as_at − low".
        conditions = []
        if low is not None:
            conditions.append(f"{due} <= %s")
            params.append(_date_param(as_at - timedelta(days=low)))
        if high is not None:
            conditions.append(f"{due} >= %s")
            params.append(_date_param(as_at - timedelta(days=high)))
        whens.append(f"WHEN {' AND '.join(conditions)} THEN {index}")
    return f"CASE {' '.join(whens)} END", params


def _at_end_of(day: date):
    """The first moment after `day` (local time), for "decided by the end of that day"."""
    return connection.ops.adapt_datetimefield_value(
        timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min)))


def _owing_sql(as_at: date, opening_on: date | None = None) -> tuple[str, list]:
    """WITH … owing(id, client_id, total, band, owed, opening): every invoice (not credit note)
    with `owed`, what it still owed at the end of `as_at` (its total less its credit notes issued,
    payments received and write-offs posted by then; 0 if issued later), and `opening`, the same
    at the end of `opening_on` (0 without it). Payments, credit notes and write-offs are each
    summed per invoice in one grouped pass, for both days at once, and joined to the invoices once."""
    days = [as_at] + ([opening_on] if opening_on else [as_at])
    latest = max(days)
    band, band_params = _band_sql("i.due_date", as_at)
    inv, alloc, pay = _table(Invoice), _table(PaymentAllocation), _table(Payment)
    line, request = _table(WriteOffLine), _table(WriteOffRequest)
    sql = f"""
        WITH paid AS (
            SELECT a.invoice_id AS invoice_id,
                   SUM(CASE WHEN p.received_on <= %s THEN a.amount ELSE 0 END) AS owed,
                   SUM(CASE WHEN p.received_on <= %s THEN a.amount ELSE 0 END) AS opening
            FROM {alloc} a INNER JOIN {pay} p ON p.id = a.payment_id
            WHERE p.received_on <= %s
            GROUP BY a.invoice_id),
        written AS (
            SELECT w.invoice_id AS invoice_id,
                   SUM(CASE WHEN r.decided_at < %s THEN w.amount ELSE 0 END) AS owed,
                   SUM(CASE WHEN r.decided_at < %s THEN w.amount ELSE 0 END) AS opening
            FROM {line} w INNER JOIN {request} r ON r.id = w.request_id
            WHERE r.status = %s AND r.decided_at < %s
            GROUP BY w.invoice_id),
        credited AS (
            SELECT c.corrects_id AS invoice_id,
                   SUM(CASE WHEN c.issue_date <= %s THEN c.total ELSE 0 END) AS owed,
                   SUM(CASE WHEN c.issue_date <= %s THEN c.total ELSE 0 END) AS opening
            FROM {inv} c
            WHERE c.corrects_id IS NOT NULL AND c.issue_date <= %s
            GROUP BY c.corrects_id),
        owing AS (
            SELECT i.id AS id, i.client_id AS client_id, i.total AS total, {band} AS band,
                   CASE WHEN i.issue_date <= %s THEN i.total + COALESCE(cr.owed, 0) - COALESCE(pd.owed, 0)
                        - COALESCE(wo.owed, 0) ELSE 0 END AS owed,
                   CASE WHEN i.issue_date <= %s THEN i.total + COALESCE(cr.opening, 0) - COALESCE(pd.opening, 0)
                        - COALESCE(wo.opening, 0) ELSE 0 END AS opening
            FROM {inv} i
            LEFT JOIN paid pd ON pd.invoice_id = i.id
            LEFT JOIN written wo ON wo.invoice_id = i.id
            LEFT JOIN credited cr ON cr.invoice_id = i.id
            WHERE i.total > 0 AND i.issue_date <= %s)
    """
    d = [_date_param(day) for day in days]
    params = [*d, _date_param(latest),
              *[_at_end_of(day) for day in days], WriteOffStatus.POSTED.value, _at_end_of(latest),
              *d, _date_param(latest),
              *band_params, *d, _date_param(latest)]
    return sql, params


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _rows(values, order=None) -> list[AgedRow]:
    rows: dict[str, AgedRow] = {}
    for group, band, amount in values:
        row = rows.setdefault(group, AgedRow(group))
        label = BANDS[band][0]
        row.bands[label] = row.bands[label] + _money(amount)
    return sorted(rows.values(), key=order or (lambda r: r.group))


@dataclass
class AgedReport:
    """The aged debt at the end of one day, by team, by recovery stage and by service, and what
    was owed at the end of an earlier day (the opening balance of a collection period)."""

    as_at: date
    by_team: list[AgedRow]
    by_stage: list[AgedRow]
    by_service: list[AgedRow]
    opening: Decimal = ZERO

    @property
    def band_totals(self) -> list[Decimal]:
        return [sum((r.bands[label] for r in self.by_team), ZERO) for label, _, _ in BANDS]

    @property
    def total(self) -> Decimal:
        return sum(self.band_totals, ZERO)


def aged_report(as_at: date, opening_on: date | None = None) -> AgedReport:
    """One query. By team: the team of the client's latest open debt recovery case; by stage: the
    client's current place on the recovery ladder; by service: an invoice's outstanding amount
    shared between its lines' services in proportion to the line amounts (a part payment is not
    tied to a line), rounded per cell, so a column can differ from the team table's by a penny."""
    owing, params = _owing_sql(as_at, opening_on)
    case, recovery, lines = _table(CaseRecord), _table(DebtRecovery), _table(InvoiceLine)
    sql = owing + f"""
        , teams AS (
            SELECT ranked.client_id AS client_id, ranked.team_id AS team_id
            FROM (SELECT c.client_id AS client_id, c.team_id AS team_id,
                         ROW_NUMBER() OVER (PARTITION BY c.client_id ORDER BY c.opened_at DESC, c.id DESC) AS position
                  FROM {case} c
                  WHERE c.case_type = %s AND c.status <> %s) ranked
            WHERE ranked.position = 1)
        SELECT 'team' AS kind, tm.team_id AS first, dr.stage_id AS second, o.band AS band, SUM(o.owed) AS amount
        FROM owing o
        LEFT JOIN teams tm ON tm.client_id = o.client_id
        LEFT JOIN {recovery} dr ON dr.client_id = o.client_id
        WHERE o.owed > 0
        GROUP BY tm.team_id, dr.stage_id, o.band
        UNION ALL
        SELECT 'service', l.service_id, NULL, o.band,
               SUM(CASE WHEN l.amount = o.total THEN o.owed ELSE 1.0 * o.owed * l.amount / o.total END)
        FROM owing o
        INNER JOIN {lines} l ON l.invoice_id = o.id
        WHERE o.owed > 0
        GROUP BY l.service_id, o.band
        UNION ALL
        SELECT 'opening', NULL, NULL, NULL, SUM(o.opening)
        FROM owing o
        WHERE o.opening > 0
    """
    rows = _fetch(sql, [*params, CaseType.DEBT_RECOVERY.value, CaseStatus.CLOSED.value])
    # Names from the small tables, so the query groups by keys rather than by text.
    team_names = dict(Team.objects.values_list("pk", "name"))
    stages = {pk: (order, name) for pk, order, name in RecoveryStage.objects.values_list("pk", "order", "name")}
    service_names = dict(ChargeableService.objects.values_list("pk", "name"))
    teams = [(team_names.get(team_id, NO_CASE), stages.get(stage_id, (-1, NO_STAGE)), band, amount)
             for kind, team_id, stage_id, band, amount in rows if kind == "team"]
    stage_order = {name: order for _, (order, name), _, _ in teams}
    by_team = _rows((team_name, band, amount) for team_name, _, band, amount in teams)
    by_stage = _rows([(name, band, amount) for _, (_, name), band, amount in teams],
                     order=lambda r: (stage_order[r.group], r.group))
    by_service = _rows((service_names[service_id], band, amount)
                       for kind, service_id, _, band, amount in rows if kind == "service")
    opening = sum((_money(amount) for kind, *_, amount in rows if kind == "opening"), ZERO)
    return AgedReport(as_at, by_team, by_stage, by_service, opening if opening_on else ZERO)


def aged_by_team(as_at: date) -> list[AgedRow]:
    return aged_report(as_at).by_team


def aged_by_stage(as_at: date) -> list[AgedRow]:
    return aged_report(as_at).by_stage


def aged_by_service(as_at: date) -> list[AgedRow]:
    return aged_report(as_at).by_service


def total_outstanding(as_at: date) -> Decimal:
    """What every invoice still owed at the end of `as_at`."""
    owing, params = _owing_sql(as_at)
    return _money(_fetch(owing + " SELECT SUM(o.owed) FROM owing o WHERE o.owed > 0", params)[0][0])


@dataclass
class Collection:
    start: date
    end: date
    opening: Decimal
    billed: Decimal
    collected: Decimal

    @property
    def rate(self) -> Decimal | None:
        """collected ÷ (opening outstanding + billed in the period), as a percentage to 1 place."""
        base = self.opening + self.billed
        if base <= 0:
            return None
        return (self.collected * 100 / base).quantize(Decimal("0.1"))


def collection(start: date, end: date, opening: Decimal | None = None) -> Collection:
    """Payments received in the period (reversed payments left out) against what was owed:
    `opening` (what was owed at the end of the day before `start`; computed if not given) and
    what was billed in the period."""
    reversed_ = LedgerEntry.objects.filter(reverses_id=OuterRef("ledger_entry_id"))
    collected = (Payment.objects.filter(received_on__range=(start, end)).filter(~Exists(reversed_))
                 .aggregate(s=Sum("amount"))["s"])
    billed = Invoice.objects.filter(issue_date__range=(start, end)).aggregate(s=Sum("total"))["s"]
    if opening is None:
        opening = total_outstanding(start - timedelta(days=1))
    return Collection(start, end, opening, to_pennies(billed or ZERO), to_pennies(collected or ZERO))
