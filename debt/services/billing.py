"""Assessed charges, billing periods, invoices and credit notes: every write of billing.

Invoices are written once. A correction is a credit note (an Invoice with `corrects`), and a
back-dated change of charge becomes adjustment lines on the next invoice (debt/billing.py).
"""
import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from casework.constants import EntryKind, TimelineKind
from casework.models import Client, RunItem, TimelineEntry
from casework.money import MoneyError, format_pounds, parse_money, to_pennies
from casework.services.system import SYSTEM_USERNAME
from casework.services import DomainError, account_for_client, ledger_post

from .. import billing
from ..constants import ChargeSource, LineKind
from ..models import AssessedCharge, BillingCycle, BillingSuppression, ChargeableService, Invoice, InvoiceLine, InvoiceSequence

INVOICE_SERIES = "INV"
CREDIT_SERIES = "CRN"
IMPORT_COLUMNS = ["client_reference", "service_code", "weekly_amount", "effective_from", "effective_to",
                  "assessment_reference"]


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
    return date.fromisoformat(text.strip())


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
        amount = parse_money(row.get("weekly_amount") or "")
        if amount < 0:
            problem("weekly_amount", "the weekly amount cannot be negative")
    except MoneyError:
        problem("weekly_amount", f"'{row.get('weekly_amount') or ''}' is not an amount")
    for field in ("effective_from", "effective_to"):
        text = (row.get(field) or "").strip()
        if not text and field == "effective_to":
            continue
        try:
            value = _parse_date(text)
        except ValueError:
            problem(field, f"'{text}' is not a date in the form YYYY-MM-DD")
            continue
        start, end = (value, end) if field == "effective_from" else (start, value)
    if start and end and end < start:
        problem("effective_to", "the end date is before the start date")
    if len(problems) > found:
        return None
    return ImportRow(number, client, service, amount, start, end, (row.get("assessment_reference") or "").strip())


def _read_csv(file) -> list[dict]:
    raw = file.read()
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in IMPORT_COLUMNS if c != "effective_to" and c not in (reader.fieldnames or [])]
    if missing:
        raise DomainError(f"The file has no column {', '.join(missing)}. Columns: {', '.join(IMPORT_COLUMNS)}",
                          field="file")
    return list(reader)


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
        raise DomainError("The file has no rows", field="file")
    clients = {c.reference: c for c in Client.objects.filter(
        reference__in={(r.get("client_reference") or "").strip() for r in records})}
    services = {s.code: s for s in ChargeableService.objects.all()}
    problems: list[str] = []
    rows = [r for n, record in enumerate(records, start=2)  # row 1 is the header
            if (r := _check_row(n, record, clients, services, problems))]
    _overlaps_in_file(rows, problems)
    if problems:
        raise DomainError("; ".join(problems[:50]) + (f"; and {len(problems) - 50} more" if len(problems) > 50 else ""),
                          field="file")
    with transaction.atomic():
        for row in sorted(rows, key=lambda r: (r.effective_from, r.number)):
            try:
                charge_create(client=row.client, service=row.service, weekly_amount=row.weekly_amount,
                              effective_from=row.effective_from, effective_to=row.effective_to,
                              assessment_reference=row.assessment_reference, reason="Imported from the assessment system",
                              actor=actor, source=ChargeSource.IMPORT)
            except DomainError as exc:
                raise DomainError(f"Row {row.number}, {exc.field or 'row'}: {exc.message}", field="file") from exc
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
    return data


def _cap_lookup(client: Client):
    return lambda charge, start, end: billing.actual_weekly_cost(client, charge.service_id, start, end)


def draft_for(client: Client, period: billing.Period, data: dict) -> billing.Draft:
    return billing.invoice_draft(period, data["charges"], date_of_death=client.date_of_death, earlier=data["earlier"],
                                 billed=data["billed"], cap_lookup=_cap_lookup(client))


def suppressions_for(period: billing.Period, client_ids: list[int]) -> dict[int, BillingSuppression]:
    return {s.client_id: s for s in BillingSuppression.objects.filter(period_start=period.start,
                                                                      client_id__in=client_ids)}


# Invoices --------------------------------------------------------------------------------------

def _next_number(series: str) -> str:
    """Take the series' next number under a row lock: gap-free, since a rollback gives it back."""
    InvoiceSequence.objects.get_or_create(series=series)
    sequence = InvoiceSequence.objects.select_for_update().get(series=series)
    number = sequence.next_number
    sequence.next_number = number + 1
    sequence.save(update_fields=["next_number"])
    return f"{series}{number:08d}"


def _line_rows(invoice: Invoice, lines: list[billing.Line]) -> list[InvoiceLine]:
    return [InvoiceLine(invoice=invoice, kind=l.kind, assessed_charge_id=l.charge_pk, service_id=l.service_id,
                        date_from=l.date_from, date_to=l.date_to, days=l.days, weekly_rate=l.weekly_rate, cap=l.cap,
                        amount=l.amount, explanation=l.explanation) for l in lines]


def _post(account, number: str, total: Decimal, on: date, description: str, actor):
    kind = EntryKind.CHARGE if total > 0 else EntryKind.CREDIT
    return ledger_post(account=account, kind=kind, amount=abs(total), effective_date=on, reference=number,
                       description=description, actor=actor)


@transaction.atomic
def invoice_issue(*, client: Client, draft: billing.Draft, issue_date: date, actor, run_item: RunItem | None = None,
                  letter_context: dict | None = None, representatives=None, template=None) -> Invoice:
    """Number the invoice, post one ledger entry for its total, write it and its lines, and
    produce the invoice letter. Refuses a second invoice for the client and period."""
    if draft.total == 0:
        raise DomainError("Nothing to bill")
    number = _next_number(INVOICE_SERIES)  # also serialises issuing, so the check below cannot race
    if Invoice.objects.filter(client=client, corrects__isnull=True, period_start=draft.period.start).exists():
        raise DomainError(f"{client.reference} is already invoiced for {draft.period}")
    account = account_for_client(client)
    terms = cycle_on(draft.period.start).payment_terms_days
    invoice = Invoice(number=number, client=client, account=account, period_start=draft.period.start,
                      period_end=draft.period.end, issue_date=issue_date, due_date=issue_date + timedelta(days=terms),
                      total=draft.total, run_item=run_item, created_by=actor)
    # The letter first, from the unsaved invoice: an issued invoice row is never updated to link it.
    invoice.letter = _invoice_letter(invoice, draft, representatives, template)
    invoice.ledger_entry = _post(account, number, draft.total, issue_date, f"Invoice {number} for {draft.period}", actor)
    invoice.save(force_insert=True)
    InvoiceLine.objects.bulk_create(_line_rows(invoice, draft.lines))
    return invoice


def _invoice_letter(invoice: Invoice, draft: billing.Draft, representatives, template):
    from casework.letters.services import letter_produce

    from ..letters import INVOICE_LETTER, invoice_context

    context = invoice_context(invoice.client, invoice.issue_date, invoice=invoice, lines=draft.lines,
                              representatives=representatives)
    actor = None if invoice.created_by.username == SYSTEM_USERNAME else invoice.created_by
    return letter_produce(client=invoice.client, letter_type=INVOICE_LETTER, on=invoice.issue_date,
                          run_item=invoice.run_item, actor=actor, context=context, representatives=representatives,
                          template=template)


@transaction.atomic
def credit_note_raise(*, invoice: Invoice, reason: str, actor, lines=None) -> Invoice:
    """Reverse a whole invoice with a credit note (negative lines) and a ledger credit. An invoice
    is credited once; `lines` (part credits) is not supported yet."""
    if lines is not None:
        raise DomainError("Crediting part of an invoice is not supported yet: credit the whole invoice")
    if not reason.strip():
        raise DomainError("Give a reason for the credit note", field="reason")
    original = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if original.is_credit_note:
        raise DomainError("A credit note cannot itself be credited")
    if original.credit_notes.exists():
        raise DomainError(f"Invoice {original.number} has already been credited in full")
    if original.total <= 0:
        raise DomainError(f"Invoice {original.number} has nothing to credit")
    number = _next_number(CREDIT_SERIES)
    today = timezone.localdate()
    entry = ledger_post(account=original.account, kind=EntryKind.CREDIT, amount=original.total, effective_date=today,
                        reference=number, description=f"Credit note {number} for invoice {original.number}",
                        actor=actor)
    credit = Invoice.objects.create(
        number=number, client=original.client, account=original.account, period_start=original.period_start,
        period_end=original.period_end, issue_date=today, due_date=today, total=-original.total,
        corrects=original, reason=reason.strip()[:300], ledger_entry=entry, created_by=actor)
    InvoiceLine.objects.bulk_create([
        InvoiceLine(invoice=credit, kind=LineKind.CREDIT, assessed_charge_id=l.assessed_charge_id, service_id=l.service_id,
                    date_from=l.date_from, date_to=l.date_to, days=l.days, weekly_rate=l.weekly_rate, cap=l.cap,
                    amount=-l.amount, explanation=f"Credit for: {l.explanation}"[:400])
        for l in original.lines.all()])
    _timeline(original.client, "debt.credit_note.raised",
              f"Credit note {number} of {format_pounds(original.total)} for invoice {original.number}", actor,
              new={"invoice": original.pk, "credit_note": credit.pk}, reason=reason.strip())
    return credit


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
