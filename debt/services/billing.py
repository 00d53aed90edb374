"""Assessed charges, billing periods, invoices and credit notes: every write of billing.

Invoices are written once. A correction is a credit note (an Invoice with `corrects`), and a
back-dated change of charge becomes adjustment lines on the next invoice (debt/billing.py).
"""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from casework import tabular
from casework.calendar import WorkingCalendar, working_due_date
from casework.constants import EntryKind, TimelineKind
from casework.models import Client, ControlAction, ControlRequest, ControlRequestStatus, RunItem, TimelineEntry
from casework.money import format_pounds, to_pennies
from casework.services.system import SYSTEM_USERNAME
from casework.services import DomainError, ledger_post
from casework.services.controls import (
    control_request_raise,
    money_action_record,
    register_control,
    why_cannot_do_alone,
)
from casework.services.ledger import accounts_for_clients, ledger_rows, ledger_save

from .. import billing
from ..constants import ChargeSource, LineKind
from ..models import AssessedCharge, BillingCycle, BillingSuppression, ChargeableService, Invoice, InvoiceLine, InvoiceSequence

INVOICE_SERIES = "INV"
CREDIT_SERIES = "CRN"
IMPORT_COLUMNS = ["client_reference", "service_code", "weekly_amount", "effective_from", "effective_to",
                  "assessment_reference"]
IMPORT_MAX_BYTES = 10 * 1024 * 1024
NUL_PROBLEM = tabular.NUL_PROBLEM
ASSESSMENT_REFERENCE_LENGTH = AssessedCharge._meta.get_field("assessment_reference").max_length


def _timeline(client: Client, action: str, summary: str, actor, new=None, reason: str = "") -> None:
    TimelineEntry.objects.create(client=client, kind=TimelineKind.SYSTEM, action=action, summary=summary[:300],
                                 body=reason, new_value=new, actor=actor, occurred_at=timezone.now())


# Assessed charges ------------------------------------------------------------------------------

def _check_charge(weekly_amount: Decimal | None, effective_from: date | None, effective_to: date | None) -> None:
    if weekly_amount is None:
        raise DomainError("Enter the weekly amount", field="weekly_amount")
    if weekly_amount < 0:
        raise DomainError("The weekly amount cannot be negative", field="weekly_amount")
    if effective_from is None:
        raise DomainError("Enter the date the charge starts", field="effective_from")
    if effective_to and effective_to < effective_from:
        raise DomainError("The end date must be on or after the start date", field="effective_to")


def _previous_to_end(versions: list[AssessedCharge], start: date, end: date | None) -> AssessedCharge | None:
    """The open version the new one replaces from its start; refuses any other overlap."""
    open_before = [v for v in versions if v.effective_to is None and v.effective_from < start]
    for version in versions:
        if version in open_before[-1:]:
            continue
        if version.effective_from <= (end or date.max) and start <= (version.effective_to or date.max):
            raise DomainError(f"The dates overlap version {version.version}, which starts on "
                              f"{billing.long_date(version.effective_from)}", field="effective_from")
    return open_before[-1] if open_before else None


@transaction.atomic
def charge_create(*, client: Client, service: ChargeableService, weekly_amount: Decimal, effective_from: date,
                  effective_to: date | None = None, assessment_reference: str = "", reason: str = "", actor,
                  source: str = ChargeSource.MANUAL) -> AssessedCharge:
    """A new version of the client's charge for the service. The open version before it ends the
    day before it starts (recorded in its history); any other overlap is refused."""
    _check_charge(weekly_amount, effective_from, effective_to)
    weekly_amount = to_pennies(weekly_amount)
    versions = list(AssessedCharge.objects.select_for_update().filter(client=client, service=service)
                    .order_by("effective_from", "version"))
    previous = _previous_to_end(versions, effective_from, effective_to)
    if previous:
        previous.effective_to = effective_from - timedelta(days=1)
        previous._history_user = actor
        previous._change_reason = f"Replaced by a new version from {billing.long_date(effective_from)}"
        previous.save(update_fields=["effective_to"])
    charge = AssessedCharge(client=client, service=service, version=max((v.version for v in versions), default=0) + 1,
                            weekly_amount=weekly_amount, effective_from=effective_from, effective_to=effective_to,
                            assessment_reference=assessment_reference.strip(), reason=reason.strip()[:300],
                            source=source, created_by=actor)
    charge._history_user = actor
    charge.save()
    until = f" to {billing.long_date(effective_to)}" if effective_to else ""
    _timeline(client, "debt.charge.created",
              f"Assessed charge for {service.name}: {format_pounds(weekly_amount)} a week from "
              f"{billing.long_date(effective_from)}{until} (version {charge.version})", actor,
              new={"charge": charge.pk, "weekly_amount": str(weekly_amount), "version": charge.version}, reason=reason)
    return charge


@dataclass
class ImportRow:
    number: int
    client: Client
    service: ChargeableService
    weekly_amount: Decimal
    effective_from: date
    effective_to: date | None
    assessment_reference: str


def _parse_date(text: str) -> date:
    return tabular.parse_date(text)


def _check_row(number: int, row: dict, clients: dict, services: dict, problems: list[str]) -> ImportRow | None:
    found = len(problems)

    def problem(field: str, text: str) -> None:
        problems.append(f"Row {number}, {field}: {text}")

    client = clients.get((row.get("client_reference") or "").strip())
    if client is None:
        problem("client_reference", f"no client has the reference '{row.get('client_reference') or ''}'")
    service = services.get((row.get("service_code") or "").strip())
    if service is None:
        problem("service_code", f"'{row.get('service_code') or ''}' is not a service code")
    amount = start = end = None
    try:
        amount = tabular.parse_amount(row.get("weekly_amount") or "")
        if amount < 0:
            problem("weekly_amount", "the weekly amount cannot be negative")
    except ValueError:
        problem("weekly_amount", f"'{row.get('weekly_amount') or ''}' is not an amount")
    for field in ("effective_from", "effective_to"):
        text = (row.get(field) or "").strip()
        if not text and field == "effective_to":
            continue
        try:
            value = _parse_date(text)
        except ValueError as exc:
            problem(field, str(exc))
            continue
        start, end = (value, end) if field == "effective_from" else (start, value)
    if start and end and end < start:
        problem("effective_to", "the end date is before the start date")
    if len(problems) > found:
        return None
    assessment_reference = (row.get("assessment_reference") or "").strip()
    if len(assessment_reference) > ASSESSMENT_REFERENCE_LENGTH:
        problem("assessment_reference", f"the reference is longer than {ASSESSMENT_REFERENCE_LENGTH} characters")
    if len(problems) > found:
        return None
    return ImportRow(number, client, service, amount, start, end, assessment_reference)


class ChargeImportRejected(DomainError):
    """The charges file was refused whole; `problems` lists each one (the message joins them)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:50] + ([f"and {len(problems) - 50} more"] if len(problems) > 50 else [])
        super().__init__("; ".join(shown), field="file")


def _read_csv(file) -> list[tuple[int, dict]]:
    """The file's rows as (row number, {column: cell}), read by casework/tabular.py: any of the
    encodings senders use, the header under preamble lines, summary lines left out."""
    raw = file.read(IMPORT_MAX_BYTES + 1)
    required = [c for c in IMPORT_COLUMNS if c != "effective_to"]
    try:
        table = tabular.read_table(raw, required=required, max_bytes=IMPORT_MAX_BYTES, key="effective_from")
    except tabular.MissingColumns as exc:
        raise ChargeImportRejected([f"The file has no column {', '.join(exc.missing)}. "
                                    f"Columns: {', '.join(IMPORT_COLUMNS)}"]) from None
    except tabular.FileProblem as exc:
        raise ChargeImportRejected(exc.problems) from None
    return [(number, table.record(row)) for number, row in table.rows]


def _conflict(a: ImportRow, b: ImportRow) -> bool:
    """Two rows for one client and service clash unless the later one replaces an open-ended earlier one."""
    first, second = sorted((a, b), key=lambda r: (r.effective_from, r.number))
    overlap = second.effective_from <= (first.effective_to or date.max)
    return overlap and not (first.effective_to is None and first.effective_from < second.effective_from)


def _overlaps_in_file(rows: list[ImportRow], problems: list[str]) -> None:
    seen: dict[tuple, list[ImportRow]] = {}
    for row in sorted(rows, key=lambda r: r.number):
        earlier = seen.setdefault((row.client.pk, row.service.pk), [])
        clash = next((other for other in earlier if _conflict(other, row)), None)
        if clash:
            problems.append(f"Row {row.number}, effective_from: the dates overlap row {clash.number}")
        earlier.append(row)


def charge_import(*, file, actor) -> int:
    """Import a CSV of assessed charges (docs/formats.md): every row is checked first and any
    problem refuses the whole file, listing problems by row number and field; then all rows are
    written in one transaction. Returns how many charges were created."""
    records = _read_csv(file)
    if not records:
        raise ChargeImportRejected(["The file has no rows"])
    clients = {c.reference: c for c in Client.objects.filter(
        reference__in={(r.get("client_reference") or "").strip() for _, r in records})}
    services = {s.code: s for s in ChargeableService.objects.all()}
    problems: list[str] = []
    rows = [r for n, record in records if (r := _check_row(n, record, clients, services, problems))]
    _overlaps_in_file(rows, problems)
    if problems:
        raise ChargeImportRejected(problems)
    with transaction.atomic():
        for row in sorted(rows, key=lambda r: (r.effective_from, r.number)):
            try:
                charge_create(client=row.client, service=row.service, weekly_amount=row.weekly_amount,
                              effective_from=row.effective_from, effective_to=row.effective_to,
                              assessment_reference=row.assessment_reference, reason="Imported from the assessment system",
                              actor=actor, source=ChargeSource.IMPORT)
            except DomainError as exc:
                raise ChargeImportRejected([f"Row {row.number}, {exc.field or 'row'}: {exc.message}"]) from exc
    return len(rows)


# Periods ---------------------------------------------------------------------------------------

def cycle_on(day: date) -> BillingCycle:
    cycle = BillingCycle.objects.filter(effective_from__lte=day).order_by("-effective_from").first()
    if cycle is None:
        raise DomainError("No billing cycle is in force: a finance administrator must set one up")
    return cycle


def payment_terms_days(day: date) -> int:
    """Days to pay under the billing cycle in force (0, pay at once, if none is set up)."""
    cycle = BillingCycle.objects.filter(effective_from__lte=day).order_by("-effective_from").first()
    return cycle.payment_terms_days if cycle else 0


def period_ending_on_or_before(day: date) -> billing.Period:
    cycle = cycle_on(day)
    return billing.period_ending_on_or_before(day, anchor=cycle.anchor_date, period_days=cycle.period_days)


def due_period(business_date: date) -> billing.Period:
    """The period the billing run for this business date bills."""
    cycle = cycle_on(business_date)
    return billing.due_period(business_date, anchor=cycle.anchor_date, period_days=cycle.period_days,
                              bill_days_after=cycle.bill_days_after_period)


# Drafts: what an invoice would hold, computed from loaded rows --------------------------------

def charge_view(charge: AssessedCharge) -> billing.Charge:
    return billing.Charge(pk=charge.pk, service_id=charge.service_id, service_name=charge.service.name,
                          residential=charge.service.residential, version=charge.version,
                          weekly_amount=charge.weekly_amount, effective_from=charge.effective_from,
                          effective_to=charge.effective_to, assessment_reference=charge.assessment_reference,
                          reason=charge.reason)


def clients_to_bill(period: billing.Period) -> QuerySet:
    """Clients with a charge overlapping the period, or a charge recorded since their latest
    invoice (a back-dated change), and no invoice for the period yet."""
    overlapping = AssessedCharge.objects.filter(client=OuterRef("pk"), effective_from__lte=period.end).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=period.start))
    invoiced = Invoice.objects.filter(client=OuterRef("pk"), corrects__isnull=True, period_start=period.start)
    latest = Invoice.objects.filter(client=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
    changed = AssessedCharge.objects.filter(client=OuterRef("pk"), created_at__gt=OuterRef("last_invoiced"))
    return (Client.objects.annotate(last_invoiced=latest).filter(Exists(overlapping) | Exists(changed))
            .exclude(Exists(invoiced)).order_by("pk"))


def load_billing_data(client_ids: list[int]) -> dict[int, dict]:
    """Charges, earlier invoiced periods and billed lines for many clients, in three queries."""
    data = {pk: {"charges": [], "earlier": set(), "billed": []} for pk in client_ids}
    for charge in AssessedCharge.objects.filter(client_id__in=client_ids).select_related("service"):
        data[charge.client_id]["charges"].append(charge_view(charge))
    for start, end, client_id in Invoice.objects.filter(client_id__in=client_ids, corrects__isnull=True).values_list(
            "period_start", "period_end", "client_id"):
        data[client_id]["earlier"].add(billing.Period(start, end))
    # Credit notes are left out: a credited invoice's days count as billed, so a credit note is
    # never undone by an automatic adjustment on the next invoice.
    lines = InvoiceLine.objects.filter(invoice__client_id__in=client_ids, invoice__corrects__isnull=True).order_by(
        "invoice_id", "date_from", "id").values_list("invoice__client_id", "service_id", "date_from", "date_to",
                                                     "weekly_rate", "amount")
    for client_id, *fields in lines:
        data[client_id]["billed"].append(billing.Billed(*fields))
    # Credits for days after a death (debt.death) count as billed too, so the next run neither
    # credits those days again nor, after a death recorded in error is reversed, re-bills them twice.
    from ..death import death_adjusts_after, death_credits_billed

    for client_id, rows in death_credits_billed(client_ids).items():
        data[client_id]["billed"].extend(rows)
    for client_id, day in death_adjusts_after(client_ids).items():
        data[client_id]["death_adjusts_after"] = day
    return data


def _cap_lookup(client: Client):
    return lambda charge, start, end: billing.actual_weekly_cost(client, charge.service_id, start, end)


def draft_for(client: Client, period: billing.Period, data: dict) -> billing.Draft:
    return billing.invoice_draft(period, data["charges"], date_of_death=client.date_of_death, earlier=data["earlier"],
                                 billed=data["billed"], cap_lookup=_cap_lookup(client),
                                 death_adjusts_after=data.get("death_adjusts_after"))


def suppressions_for(period: billing.Period, client_ids: list[int]) -> dict[int, BillingSuppression]:
    return {s.client_id: s for s in BillingSuppression.objects.filter(period_start=period.start,
                                                                      client_id__in=client_ids)}


# Invoices --------------------------------------------------------------------------------------

def _lock_sequence(series: str) -> None:
    """Lock the series' row until the transaction ends (creating it on first use): whoever holds it
    is the only one numbering in the series, so checks made under it cannot race."""
    if not InvoiceSequence.objects.select_for_update().filter(series=series).exists():
        InvoiceSequence.objects.get_or_create(series=series)
        InvoiceSequence.objects.select_for_update().filter(series=series).exists()


def _take_numbers(series: str, count: int) -> list[str]:
    """The series' next `count` numbers, taken in one UPDATE … RETURNING inside the transaction that
    writes what they number: gap-free, since a rollback gives the whole block back. The caller holds
    the row lock (`_lock_sequence`)."""
    table = InvoiceSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET next_number = next_number + %s WHERE series = %s RETURNING next_number",
                       [count, series])
        after = cursor.fetchone()[0]
    return [f"{series}{number:08d}" for number in range(after - count, after)]


def _next_number(series: str) -> str:
    """Take the series' next number under a row lock: gap-free, since a rollback gives it back."""
    _lock_sequence(series)
    return _take_numbers(series, 1)[0]


def _line_rows(invoice: Invoice, lines: list[billing.Line]) -> list[InvoiceLine]:
    return [InvoiceLine(invoice=invoice, kind=l.kind, assessed_charge_id=l.charge_pk, service_id=l.service_id,
                        date_from=l.date_from, date_to=l.date_to, days=l.days, weekly_rate=l.weekly_rate, cap=l.cap,
                        amount=l.amount, explanation=l.explanation) for l in lines]


@dataclass
class InvoiceRequest:
    """One invoice to issue: the client (with `representatives` loaded for the letter), its draft and
    the run item raising it, if any."""
    client: Client
    draft: billing.Draft
    run_item: RunItem | None = None
    representatives: list | None = None


def invoice_issue(*, client: Client, draft: billing.Draft, issue_date: date, actor, run_item: RunItem | None = None,
                  representatives=None, template=None) -> Invoice:
    """Issue one invoice (see `invoices_issue`); refuses a second invoice for the client and period."""
    issued = invoices_issue([InvoiceRequest(client, draft, run_item, representatives)], issue_date=issue_date,
                            actor=actor, template=template)[0]
    if isinstance(issued, DomainError):
        raise issued
    return issued


@transaction.atomic
def invoices_issue(requests: list[InvoiceRequest], *, issue_date: date, actor, template=None) -> list:
    """Issue many invoices set-based: for each request its Invoice, or the DomainError refusing it
    (already invoiced for the period), in the requests' order.

    Under the invoice series' row lock (which serialises issuing, so the check cannot race): one
    query finds who is already invoiced for the period, one UPDATE … RETURNING numbers only the
    invoices issued (gap-free), one query finds the accounts (opening missing ones in one INSERT).
    Each invoice letter is rendered and stored, then the letters, ledger entries (each with its
    timeline entry), invoices and lines are written in six INSERTs however many invoices there are.
    """
    from casework.letters import services as letters

    from ..letters import INVOICE_LETTER, invoice_context

    if any(r.draft.total == 0 for r in requests):
        raise DomainError("Nothing to bill")
    template = template or letters.current_template(INVOICE_LETTER)
    _lock_sequence(INVOICE_SERIES)
    invoiced = set(Invoice.objects.filter(
        client__in=[r.client for r in requests], corrects__isnull=True,
        period_start__in={r.draft.period.start for r in requests}).values_list("client_id", "period_start"))
    issuing = [r for r in requests if (r.client.pk, r.draft.period.start) not in invoiced]
    numbers = iter(_take_numbers(INVOICE_SERIES, len(issuing)) if issuing else [])
    accounts = accounts_for_clients([r.client for r in issuing])
    terms = {start: cycle_on(start).payment_terms_days for start in {r.draft.period.start for r in issuing}}
    # One read of the working-day calendar for the whole chunk: a due date on a non-working day
    # (council closures count) moves to the next working day, and the letter says so.
    longest = max(terms.values(), default=0)
    calendar = WorkingCalendar.between(issue_date, issue_date + timedelta(days=longest + 21))
    letter_actor = None if actor.username == SYSTEM_USERNAME else actor
    letter_rows, entry_rows, issued = [], [], {}
    for request in issuing:
        client, draft, number = request.client, request.draft, next(numbers)
        due = working_due_date(issue_date + timedelta(days=terms[draft.period.start]), calendar)
        invoice = Invoice(number=number, client=client, account=accounts[client.pk], period_start=draft.period.start,
                          period_end=draft.period.end, issue_date=issue_date, due_date=due.due, total=draft.total,
                          run_item=request.run_item, created_by=actor)
        # The letter first, from the unsaved invoice: an issued invoice row is never updated to link it.
        context = invoice_context(client, issue_date, invoice=invoice, lines=draft.lines,
                                  representatives=request.representatives, due=due)
        letter_rows.append(letters.letter_prepare(
            client=client, letter_type=INVOICE_LETTER, on=issue_date, run_item=request.run_item, actor=letter_actor,
            context=context, representatives=request.representatives, template=template))
        entry_rows.append(ledger_rows(account=invoice.account, kind=EntryKind.CHARGE if draft.total > 0 else EntryKind.CREDIT,
                                      amount=abs(draft.total), effective_date=issue_date, reference=number,
                                      description=f"Invoice {number} for {draft.period}", actor=actor))
        issued[id(request)] = invoice
    if issued:
        invoices = list(issued.values())
        for invoice, letter, entry in zip(invoices, letters.letters_save(letter_rows), ledger_save(entry_rows)):
            invoice.letter, invoice.ledger_entry = letter, entry
        Invoice.objects.bulk_create(invoices)
        InvoiceLine.objects.bulk_create([line for r in issuing for line in _line_rows(issued[id(r)], r.draft.lines)])
    return [issued.get(id(r)) or DomainError(f"{r.client.reference} is already invoiced for {r.draft.period}")
            for r in requests]


def _credit_key(line: InvoiceLine) -> tuple:
    """What a credit note's line keeps of the line it credits. Lines of one invoice alike in all
    of these are credited as one pool, in line order."""
    return (line.service_id, line.assessed_charge_id, line.date_from, line.date_to, line.days, line.weekly_rate,
            line.cap)


def credit_remaining_by_line(invoice: Invoice) -> dict[int, Decimal]:
    """Line id -> what its credit notes have not yet credited of it (a negative line's remainder
    is negative). A credit note's lines are matched to the invoice's lines by `_credit_key`."""
    pools: dict[tuple, Decimal] = {}
    for credit_line in InvoiceLine.objects.filter(invoice__corrects=invoice):
        key = _credit_key(credit_line)
        pools[key] = pools.get(key, Decimal("0")) - credit_line.amount
    remaining = {}
    for line in invoice.lines.order_by("id"):
        key = _credit_key(line)
        pool = pools.get(key, Decimal("0"))
        if line.amount >= 0:
            taken = min(max(pool, Decimal("0")), line.amount)
        else:
            taken = max(min(pool, Decimal("0")), line.amount)
        pools[key] = pool - taken
        remaining[line.pk] = to_pennies(line.amount - taken)
    return remaining


def _credit_lines_checked(invoice: Invoice, lines, remaining: dict[int, Decimal]) -> list[tuple[InvoiceLine, Decimal]]:
    """The officer's (line, amount) choices for a part credit, each checked against its line."""
    chosen, seen = [], set()
    for line, amount in lines:
        field = f"line_{line.pk}"
        if line.invoice_id != invoice.pk:
            raise DomainError(f"That line is not on invoice {invoice.number}", field=field)
        if line.pk in seen:
            raise DomainError("A line is listed twice", field=field)
        amount = to_pennies(amount or 0)
        if amount == 0:
            continue
        if amount < 0:
            raise DomainError("Enter an amount to credit more than £0.00", field=field)
        left = remaining.get(line.pk, Decimal("0"))
        if amount > left:
            raise DomainError(f"{format_pounds(max(left, Decimal('0')))} of this line is not yet credited: "
                              "credit no more than that", field=field)
        seen.add(line.pk)
        chosen.append((line, amount))
    if not chosen:
        raise DomainError("Enter an amount to credit on at least one line", field="lines")
    return chosen


def _credit_line_row(credit: Invoice, line: InvoiceLine, amount: Decimal) -> InvoiceLine:
    if amount == line.amount:
        explanation = f"Credit for: {line.explanation}"
    else:
        explanation = (f"Credit of {format_pounds(amount)} of the line's {format_pounds(line.amount)} for: "
                       f"{line.explanation}")
    return InvoiceLine(invoice=credit, kind=LineKind.CREDIT, assessed_charge_id=line.assessed_charge_id,
                       service_id=line.service_id, date_from=line.date_from, date_to=line.date_to, days=line.days,
                       weekly_rate=line.weekly_rate, cap=line.cap, amount=-amount, explanation=explanation[:400])


def _credit_write_offs(invoice: Invoice) -> tuple[Decimal, Decimal]:
    """(posted, posted and waiting for a decision) write-offs of the invoice."""
    from django.db.models import Sum

    from ..models import WriteOffLine, WriteOffStatus

    rows = dict(WriteOffLine.objects.filter(invoice=invoice, request__status__in=[
        WriteOffStatus.REQUESTED, WriteOffStatus.APPROVED, WriteOffStatus.POSTED]).values("request__status")
        .annotate(s=Sum("amount")).values_list("request__status", "s"))
    posted = to_pennies(rows.get(WriteOffStatus.POSTED) or 0)
    return posted, to_pennies(sum((to_pennies(v or 0) for v in rows.values()), Decimal("0")))


def _credit_take_back_payments(invoice: Invoice, allowed: Decimal, credit: Invoice, actor) -> Decimal:
    """Payments allocated to the invoice beyond `allowed` (its net amount less its write-offs) are
    taken back, latest payment first, with a negative allocation each (as a reversal does): the
    money stays on the payment as unallocated credit for an officer to reallocate or refund."""
    from django.db.models import Sum

    from ..models import Payment, PaymentAllocation

    nets = {pk: to_pennies(net) for pk, net in PaymentAllocation.objects.filter(invoice=invoice).order_by()
            .values("payment_id").annotate(net=Sum("amount")).values_list("payment_id", "net")}
    nets = {pk: net for pk, net in nets.items() if net > 0}
    excess = to_pennies(sum(nets.values(), Decimal("0")) - allowed)
    freed = Decimal("0")
    if excess <= 0:
        return freed
    for payment in Payment.objects.select_for_update().filter(pk__in=list(nets)).order_by("-received_on", "-id"):
        share = min(excess - freed, nets[payment.pk])
        if share <= 0:
            break
        PaymentAllocation.objects.create(
            payment=payment, invoice=invoice, amount=-share, created_by=actor,
            reason=f"Credit note {credit.number} reduced invoice {invoice.number}: left as unallocated credit"[:300])
        freed += share
        _timeline(invoice.client, "debt.payment.unallocated",
                  f"{format_pounds(share)} of payment {payment.reference} taken off invoice {invoice.number} after "
                  f"credit note {credit.number}: left as unallocated credit", actor,
                  new={"payment": payment.pk, "invoice": invoice.pk, "credit_note": credit.pk, "amount": str(share)})
    return freed


def _credit_plan(original: Invoice, lines) -> tuple[list[tuple[InvoiceLine, Decimal]], Decimal, Decimal, Decimal]:
    """Check a credit of `original` (locked) and return (chosen lines and amounts, amount,
    uncredited before it, posted write-offs). `lines` None: whatever remains uncredited."""
    if original.is_credit_note:
        raise DomainError("A credit note cannot itself be credited")
    if original.total <= 0:
        raise DomainError(f"Invoice {original.number} has nothing to credit")
    credited = -to_pennies(sum(original.credit_notes.values_list("total", flat=True), Decimal("0")))
    uncredited = to_pennies(original.total - credited)
    if uncredited <= 0:
        raise DomainError(f"Invoice {original.number} has already been credited in full")
    remaining = credit_remaining_by_line(original)
    originals = list(original.lines.order_by("id"))
    if lines is None:
        chosen = [(line, remaining[line.pk]) for line in originals if remaining[line.pk] != 0]
    else:
        chosen = _credit_lines_checked(original, lines, remaining)
    amount = to_pennies(sum((share for _, share in chosen), Decimal("0")))
    if amount <= 0:
        raise DomainError(f"Invoice {original.number} has nothing left to credit")
    if amount > uncredited:
        raise DomainError(f"{format_pounds(uncredited)} of invoice {original.number} is not yet credited: "
                          "credit no more than that", field="lines")
    posted, written_or_waiting = _credit_write_offs(original)
    if uncredited - amount < written_or_waiting:
        raise DomainError(f"{format_pounds(written_or_waiting)} of invoice {original.number} is written off or "
                          f"waiting for a write-off decision: credit no more than "
                          f"{format_pounds(max(uncredited - written_or_waiting, Decimal('0')))}")
    return chosen, amount, uncredited, posted


@transaction.atomic
def credit_note_raise(*, invoice: Invoice, reason: str, actor, lines=None) -> Invoice:
    """Credit an invoice with a credit note (negative lines) and one ledger credit; the invoice
    itself is never edited. `lines` ([(invoice line, amount)]) credits part of it: each amount
    more than £0 and no more than what remains uncredited on its line. Without `lines`, whatever
    remains is credited. Part credits may follow one another until nothing remains: the invoice is
    then credited in full. A credit that would leave the invoice owing less than its write-offs
    (posted or waiting for a decision) is refused; payments allocated beyond the invoice's new net
    amount are taken back and left on the payment as unallocated credit.

    This carries no control of its own: it is what `credit_note_request` does once the credit is
    allowed (within the maker's limit, or approved by someone else), and what a death's confirmed
    consequence does (casework.deaths, which applies the controls on credits after a death)."""
    if not reason.strip():
        raise DomainError("Give a reason for the credit note", field="reason")
    original = Invoice.objects.select_for_update().get(pk=invoice.pk)
    chosen, amount, uncredited, posted = _credit_plan(original, lines)
    number = _next_number(CREDIT_SERIES)
    today = timezone.localdate()
    entry = ledger_post(account=original.account, kind=EntryKind.CREDIT, amount=amount, effective_date=today,
                        reference=number, description=f"Credit note {number} for invoice {original.number}",
                        actor=actor)
    credit = Invoice.objects.create(
        number=number, client=original.client, account=original.account, period_start=original.period_start,
        period_end=original.period_end, issue_date=today, due_date=today, total=-amount,
        corrects=original, reason=reason.strip()[:300], ledger_entry=entry, created_by=actor)
    InvoiceLine.objects.bulk_create([_credit_line_row(credit, line, share) for line, share in chosen])
    left = uncredited - amount
    state = ("credited in full" if left == 0
             else f"{format_pounds(left)} of {format_pounds(original.total)} not credited")
    _timeline(original.client, "debt.credit_note.raised",
              f"Credit note {number} of {format_pounds(amount)} for invoice {original.number} ({state})", actor,
              new={"invoice": original.pk, "credit_note": credit.pk, "amount": str(amount), "uncredited": str(left)},
              reason=reason.strip())
    credit.freed = _credit_take_back_payments(original, left - posted, credit, actor)
    return credit


def credit_note_waiting(invoice: Invoice) -> ControlRequest | None:
    """The credit note of the invoice waiting for someone's approval, if any."""
    return ControlRequest.objects.filter(action=ControlAction.CREDIT_NOTE, status=ControlRequestStatus.REQUESTED,
                                         payload__invoice=invoice.pk).first()


@transaction.atomic
def credit_note_request(*, invoice: Invoice, reason: str, actor, lines=None) -> Invoice | ControlRequest:
    """A credit note someone asks for (the web page and the API): a team leader's decision. Within
    the maker's CREDIT_NOTE limit (ControlLimit rows, counting the client's credit notes over the
    row's period) it is raised at once and recorded as done alone; an officer's credit note, or
    one above the limit, becomes a request that someone else approves, and the credit note (with
    the lines chosen now) is raised only then. Returns the credit note, or the request."""
    if not reason.strip():
        raise DomainError("Give a reason for the credit note", field="reason")
    original = Invoice.objects.select_for_update().select_related("client").get(pk=invoice.pk)
    chosen, amount, uncredited, _ = _credit_plan(original, lines)
    client = original.client
    why = why_cannot_do_alone(actor, ControlAction.CREDIT_NOTE, amount, client=client)
    if why:
        if waiting := credit_note_waiting(original):
            raise DomainError(f"A credit note for invoice {original.number} is already waiting for a decision "
                              f"({waiting.reference}): it must be decided or withdrawn first")
        return control_request_raise(
            action=ControlAction.CREDIT_NOTE, amount=amount, client=client, subject=f"Invoice {original.number}",
            summary=f"Credit note of {format_pounds(amount)} for invoice {original.number}", reason=reason,
            actor=actor, payload={"invoice": original.pk, "lines": [[line.pk, str(share)] for line, share in chosen]},
            changes=[[f"Invoice {original.number}, not yet credited", format_pounds(uncredited),
                      format_pounds(uncredited - amount)],
                     *[[f"Credit from: {line.explanation}"[:200], "", format_pounds(share)] for line, share in chosen]])
    credit = credit_note_raise(invoice=original, reason=reason, actor=actor, lines=chosen)
    money_action_record(action=ControlAction.CREDIT_NOTE, amount=amount, client=client, reference=credit.number,
                        summary=f"Credit note {credit.number} for invoice {original.number}", maker=actor)
    return credit


def _execute_credit_note(request: ControlRequest, approver) -> str:
    """Raise the approved credit note with the lines chosen when it was asked for (checked again)."""
    invoice = Invoice.objects.get(pk=request.payload["invoice"])
    by_pk = {line.pk: line for line in InvoiceLine.objects.filter(invoice=invoice)}
    chosen = [(by_pk[pk], Decimal(amount)) for pk, amount in request.payload["lines"] if pk in by_pk]
    if len(chosen) != len(request.payload["lines"]):
        raise DomainError(f"A line of invoice {invoice.number} chosen for this credit note no longer exists")
    credit = credit_note_raise(invoice=invoice, reason=f"{request.reason} (approved, {request.reference})"[:300],
                               actor=request.requested_by, lines=chosen)
    return credit.number


register_control(ControlAction.CREDIT_NOTE, _execute_credit_note)


# Suppression -----------------------------------------------------------------------------------

@transaction.atomic
def billing_suppress(*, client: Client, period_start: date, reason: str, actor) -> BillingSuppression:
    if not reason.strip():
        raise DomainError("Give a reason for not invoicing this client", field="reason")
    suppression, created = BillingSuppression.objects.get_or_create(
        client=client, period_start=period_start, defaults={"reason": reason.strip()[:300], "created_by": actor})
    if created:
        _timeline(client, "debt.billing.suppressed",
                  f"Not to be invoiced for the period from {billing.long_date(period_start)}", actor,
                  reason=reason.strip())
    return suppression


@transaction.atomic
def billing_unsuppress(*, client: Client, period_start: date, actor) -> bool:
    suppression = BillingSuppression.objects.filter(client=client, period_start=period_start).first()
    if suppression is None:
        return False
    suppression._history_user = actor
    suppression.delete()  # the decision's history stays in its historical records
    _timeline(client, "debt.billing.unsuppressed",
              f"To be invoiced again for the period from {billing.long_date(period_start)}", actor)
    return True
