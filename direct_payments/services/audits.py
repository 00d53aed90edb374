"""Audits: request statements, upload them (checked whole), analyse (reconcile, flag), review
flags, record liabilities and the outcome. Every status change goes through `audit_transition`."""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from casework.constants import TimelineKind
from casework.letters.types import long_date
from casework.money import ZERO, format_pounds, to_pennies
from casework.models.council import current_council
from casework.services import DomainError

from .. import rules as rule_logic
from .. import bank_layouts, statements
from ..constants import (
    OPEN_AUDIT_STATUSES,
    AgreementStatus,
    AuditStatus,
    Category,
    Decision,
    FlagRule,
    MisuseReferral,
    Outcome,
    RecoveryBasis,
    RecoveryRoute,
    StatementKind,
)
from ..models import (
    Agreement,
    Audit,
    AuditEvent,
    BankFormat,
    CategoryRule,
    Flag,
    IrregularityRule,
    Liability,
    Recovery,
    StatementLine,
    StatementUpload,
)
from ..surplus import Working, contribution_overpaid
from .common import policy_on, timeline


@transaction.atomic
def audit_transition(*, audit: Audit, to: str, actor, reason: str = "") -> Audit:
    """The one way an audit changes status: checked against Audit.ALLOWED_TRANSITIONS and recorded."""
    audit = Audit.objects.select_for_update().get(pk=audit.pk)
    if audit.status == to:
        return audit
    if not audit.can_transition_to(to):
        raise DomainError(f"Audit {audit.reference} cannot move from {audit.get_status_display().lower()} to "
                          f"{AuditStatus(to).label.lower()}")
    old = audit.status
    audit.status = to
    fields = ["status"]
    if to == AuditStatus.COMPLETED:
        audit.completed_on = timezone.localdate()
        fields.append("completed_on")
    audit._history_user = actor
    audit.save(update_fields=fields)
    AuditEvent.objects.create(audit=audit, old_status=old, new_status=to, reason=reason[:300], actor=actor)
    timeline(audit.agreement.client, "direct_payments.audit.status",
             f"Audit {audit.reference}: {AuditStatus(old).label.lower()} to {AuditStatus(to).label.lower()}", actor,
             kind=TimelineKind.STATUS, body=reason, old={"status": old}, new={"status": to, "audit": audit.pk})
    return audit


def audit_request(*, agreement: Agreement, period_start: date, period_end: date, actor, on: date | None = None,
                  send_letter: bool = True) -> Audit:
    """Open an audit for the period and write to the recipient for the statements."""
    on = on or timezone.localdate()
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if period_end < period_start:
            raise DomainError("The period must end on or after it starts", field="period_end")
        if period_end > on:
            raise DomainError("The period cannot end in the future", field="period_end")
        if period_start < agreement.start_date:
            raise DomainError(f"The agreement started on {long_date(agreement.start_date)}", field="period_start")
        if agreement.audits.filter(status__in=OPEN_AUDIT_STATUSES).exists():
            raise DomainError(f"Agreement {agreement.reference} already has an audit open")
        policy = policy_on(on)
        audit = Audit.objects.create(agreement=agreement, period_start=period_start, period_end=period_end,
                                     officer=actor, requested_on=on,
                                     statements_due_on=on + timedelta(days=policy.statement_days))
        AuditEvent.objects.create(audit=audit, new_status=audit.status, reason="Statements requested", actor=actor)
        timeline(agreement.client, "direct_payments.audit.requested",
                 f"Audit {audit.reference} of {agreement.reference} opened for {long_date(period_start)} to "
                 f"{long_date(period_end)}; statements due {long_date(audit.statements_due_on)}", actor,
                 new={"audit": audit.pk})
        if send_letter:
            _letter(audit, "dp_statement_request", on, actor)
    return audit


def _letter(audit: Audit, code: str, on: date, actor, run_item=None):
    from casework.letters.services import letter_produce
    from casework.letters.types import get_letter_type

    client = audit.agreement.client
    context = get_letter_type(code).build_context(client, on, audit=audit)
    return letter_produce(client=client, letter_type=code, on=on, actor=actor, context=context, run_item=run_item)


# Statement uploads -----------------------------------------------------------------------------

def _mapping_for(kind: str, bank_format: BankFormat | None) -> statements.Mapping:
    if kind == StatementKind.PREPAID_CARD and bank_format is None:
        return statements.PREPAID_CARD
    if bank_format is None:
        raise DomainError("Choose the bank, or map the columns of a new bank's statement", field="bank")
    return statements.mapping_of(bank_format)


def _existing(agreement: Agreement, lines: list[statements.Line]) -> dict[str, str]:
    """Where each of these lines was uploaded before, if it was. The agreement's fingerprints are
    read once and compared here (one query, however many lines), then the few repeats described."""
    stored = set(StatementLine.objects.filter(agreement=agreement).values_list("fingerprint", flat=True))
    repeats = [l.fingerprint for l in lines if l.fingerprint in stored]
    if not repeats:
        return {}
    found = (StatementLine.objects.filter(agreement=agreement, fingerprint__in=repeats).select_related("upload")
             .only("fingerprint", "row_number", "upload__original_name", "upload__uploaded_at"))
    return {l.fingerprint: f"'{l.upload.original_name}' (row {l.row_number}, uploaded "
                           f"{long_date(timezone.localdate(l.upload.uploaded_at))})" for l in found}


def _rules() -> list[CategoryRule]:
    return list(CategoryRule.objects.filter(active=True).order_by("priority", "id"))


def statement_upload(*, audit: Audit, kind: str, file, actor, bank_format: BankFormat | None = None,
                     new_bank: dict | None = None, opening_balance: Decimal | None = None,
                     closing_balance: Decimal | None = None) -> StatementUpload:
    """Check the file whole (statements.check_statement) and, only if every line passes, store it,
    save a new bank's column mapping, categorise and write the lines, and analyse the audit.
    `new_bank` (name and columns) maps a bank seen for the first time; a bank already saved under
    that name is used as saved, so its second statement needs no mapping, and a bank named with
    no columns whose layout is known (bank_layouts.LAYOUTS) is saved from that layout. A prepaid
    card statement uses its provider's saved mapping when one is chosen, else the standard card
    export. A file with no balance column needs `opening_balance` and `closing_balance` and must
    agree with them (statements.with_balances)."""
    if audit.status not in (AuditStatus.REQUESTED, AuditStatus.IN_REVIEW):
        raise DomainError(f"Statements cannot be added to an audit that is {audit.get_status_display().lower()}")
    if kind not in StatementKind.values:
        raise DomainError("Choose the kind of statement", field="kind")
    data = file.read()
    if bank_format is None and new_bank and new_bank.get("name", "").strip():
        bank_format = BankFormat.objects.filter(name__iexact=new_bank["name"].strip()).first() or \
            BankFormat(created_by=actor, **_bank_fields(new_bank))
    mapping = _mapping_for(kind, bank_format)
    read = statements.read_statement_file(data, mapping)
    lines = statements.with_balances(read.lines, opening=opening_balance, closing=closing_balance)
    ordered = statements.check_statement(lines, period_start=audit.period_start, period_end=audit.period_end,
                                         existing=_existing(audit.agreement, lines))
    name = (getattr(file, "name", "") or "statement.csv").rsplit("/", 1)[-1][:255]
    try:
        with transaction.atomic():
            return _write_upload(audit, kind, bank_format, name, data, ordered, actor,
                                 options={"balances_entered": not mapping.balance, "encoding": read.encoding[:20],
                                          "header_row": read.header_row})
    except IntegrityError as exc:  # the same lines uploaded by someone else at the same moment
        raise statements.StatementRejected(["These transactions were uploaded by someone else just now"]) from exc


def _bank_fields(new_bank: dict) -> dict:
    fields = {k: (new_bank.get(k) or "").strip() for k in bank_layouts.FIELDS}
    if not any(fields.values()) and (known := bank_layouts.layout_for(new_bank["name"])):
        return known
    if not fields["date_column"] or not fields["description_column"]:
        raise DomainError("Name the date and description columns", field="date_column")
    if not fields["amount_column"] and not (fields["paid_in_column"] and fields["paid_out_column"]):
        raise DomainError("Name the amount column, or both the paid in and paid out columns", field="amount_column")
    return {"name": new_bank["name"].strip()[:100], "date_format": new_bank.get("date_format") or "%d/%m/%Y", **fields}


LINE_COLUMNS = ["upload_id", "audit_id", "agreement_id", "row_number", "date", "description", "payee", "amount",
                "balance", "category", "category_rule_id", "fingerprint"]


def _insert_lines(rows: list[tuple]) -> None:
    """Write the lines: COPY on PostgreSQL (a 10,000-line statement in a fraction of a second),
    bulk_create elsewhere. A line already uploaded breaks the unique (agreement, fingerprint)."""
    if connection.vendor == "postgresql":
        import psycopg

        table = StatementLine._meta.db_table
        try:
            with connection.cursor() as cursor, cursor.copy(
                    f"COPY {table} ({', '.join(LINE_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        return
    StatementLine.objects.bulk_create([StatementLine(**dict(zip(LINE_COLUMNS, row))) for row in rows],
                                      batch_size=2000)


def _write_upload(audit, kind, bank_format, name, data, ordered, actor, options: dict) -> StatementUpload:
    audit = Audit.objects.select_for_update().get(pk=audit.pk)
    if bank_format is not None and bank_format.pk is None:
        bank_format.save()
    stored = default_storage.save(f"direct_payments/statements/{timezone.now():%Y/%m}/"
                                  f"{statements.storage_name(name, 'statement.csv')}", ContentFile(data))
    first, last = ordered[0], ordered[-1]
    upload = StatementUpload.objects.create(
        audit=audit, kind=kind, bank_format=bank_format, original_name=name, file=stored,
        sha256=statements.file_sha256(data), rows=len(ordered), first_date=first.date, last_date=last.date,
        opening_balance=to_pennies(first.balance - first.amount), closing_balance=last.balance, uploaded_by=actor,
        **options)
    rules = _rules()
    rows = []
    for line in ordered:
        category, rule = rule_logic.categorise(line, rules)
        rows.append((upload.pk, audit.pk, audit.agreement_id, line.row_number, line.date, line.description, line.payee,
                     line.amount, line.balance, category, rule.pk if rule else None, line.fingerprint))
    _insert_lines(rows)
    timeline(audit.agreement.client, "direct_payments.statement.uploaded",
             f"Statement '{name}' uploaded to audit {audit.reference}: {len(rows)} transactions "
             f"{long_date(first.date)} to {long_date(last.date)}", actor, kind=TimelineKind.DOCUMENT,
             new={"upload": upload.pk, "rows": len(rows)})
    if audit.status == AuditStatus.REQUESTED:
        audit_transition(audit=audit, to=AuditStatus.IN_REVIEW, actor=actor, reason="Statements received")
    audit_analyse(audit=audit)
    return upload


# Analysis --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Line:
    """What the rules read of a stored line, without building a model instance per line."""

    pk: int
    date: date
    description: str
    payee: str
    amount: Decimal
    balance: Decimal
    category: str


def _flag_key(rule: str, line_id, payment_id, message: str) -> tuple:
    return (rule, line_id, payment_id, message if line_id is None and payment_id is None else "")


@transaction.atomic
def audit_analyse(*, audit: Audit) -> dict:
    """Reconcile the council's payments and apply the irregularity rules to every line of the
    audit. Flags already reviewed are kept as they are; an unreviewed flag stays while its rule
    still finds it and goes when it no longer does. Returns counts for the page's message."""
    audit = Audit.objects.select_related("agreement__client").get(pk=audit.pk)
    agreement = audit.agreement
    lines = [_Line(*values) for values in audit.lines.order_by("date", "upload_id", "row_number").values_list(
        "pk", "date", "description", "payee", "amount", "balance", "category")]
    policy = policy_on(audit.period_end)
    payments = list(agreement.payments.filter(paid_on__range=(audit.period_start, audit.period_end), amount__gt=0))
    matches, missing, unexpected = rule_logic.reconcile(
        payments, lines, tolerance_days=policy.payment_match_days,
        patterns=rule_logic.payment_patterns(agreement.reference, current_council().name))
    StatementLine.objects.filter(audit=audit, matched_payment__isnull=False).update(matched_payment=None)
    for match in matches:
        StatementLine.objects.filter(pk=match.line.pk).update(matched_payment=match.payment)
    enabled = {r.code: r for r in IrregularityRule.objects.filter(enabled=True)}
    found = rule_logic.find_irregularities(
        lines, rules=enabled, plan_categories=agreement.support_plan_categories,
        names=[agreement.client.full_name, agreement.recipient_name], period_start=audit.period_start,
        period_end=audit.period_end)
    wanted = [(f.rule, f.line.pk if f.line else None, None, f.message) for f in found]
    wanted += [(FlagRule.MISSING_PAYMENT, None, p.pk,
                f"Council payment of {format_pounds(p.amount)} made on {long_date(p.paid_on)} is not on the statements")
               for p in missing]
    wanted += [(FlagRule.UNEXPECTED_PAYMENT, l.pk, None,
                f"{format_pounds(l.amount)} paid in on {long_date(l.date)} looks like a council payment but matches "
                f"none the council made") for l in unexpected]
    wanted_keys = {_flag_key(*w) for w in wanted}
    existing = {}
    for pk, rule, line_id, payment_id, message, decision in audit.flags.values_list(
            "pk", "rule", "line_id", "payment_id", "message", "decision"):
        existing[_flag_key(rule, line_id, payment_id, message)] = (pk, decision)
    stale = [pk for key, (pk, decision) in existing.items() if not decision and key not in wanted_keys]
    if stale:
        Flag.objects.filter(pk__in=stale).delete()
    new = [Flag(audit=audit, rule=rule, line_id=line_id, payment_id=payment_id, message=message[:300])
           for rule, line_id, payment_id, message in wanted if _flag_key(rule, line_id, payment_id, message) not in existing]
    Flag.objects.bulk_create(new, batch_size=2000)
    return {"lines": len(lines), "matched": len(matches), "missing": len(missing), "unexpected": len(unexpected),
            "flags": len(new)}


# Review ----------------------------------------------------------------------------------------

def _in_review(audit: Audit) -> None:
    if audit.status != AuditStatus.IN_REVIEW:
        raise DomainError(f"Audit {audit.reference} is {audit.get_status_display().lower()}: it is not open for review")


@transaction.atomic
def flag_review(*, flag: Flag, decision: str, note: str, actor) -> Flag:
    """Accept a flagged line with a note, query it with the recipient, or mark it as misuse."""
    flag = Flag.objects.select_for_update().select_related("audit__agreement__client").get(pk=flag.pk)
    _in_review(flag.audit)
    if decision not in Decision.values:
        raise DomainError("Choose accept, query or misuse", field="decision")
    if not note.strip():
        raise DomainError("Add a note saying why", field="note")
    old = {"decision": flag.decision, "note": flag.note}
    flag.decision, flag.note = decision, note.strip()[:500]
    flag.reviewed_by, flag.reviewed_at = actor, timezone.now()
    flag._history_user = actor
    flag.save(update_fields=["decision", "note", "reviewed_by", "reviewed_at"])
    timeline(flag.audit.agreement.client, "direct_payments.flag.reviewed",
             f"Audit {flag.audit.reference}: {flag.get_rule_display().lower()} {Decision(decision).label.lower()}",
             actor, body=f"{flag.message}\n{note.strip()}", old=old, new={"flag": flag.pk, "decision": decision})
    return flag


@transaction.atomic
def liability_add(*, audit: Audit, kind: str, description: str, amount: Decimal, actor) -> Liability:
    """A bill still to be paid from the account at the audit (wages, HMRC, an invoice)."""
    _in_review(audit)
    amount = to_pennies(amount)
    if amount <= 0:
        raise DomainError("Enter an amount more than £0.00", field="amount")
    if not description.strip():
        raise DomainError("Say what the liability is", field="description")
    liability = Liability.objects.create(audit=audit, kind=kind, description=description.strip()[:200], amount=amount,
                                         added_by=actor)
    timeline(audit.agreement.client, "direct_payments.liability.added",
             f"Audit {audit.reference}: liability {description.strip()} {format_pounds(amount)}", actor,
             new={"liability": liability.pk, "amount": str(amount)})
    return liability


@transaction.atomic
def liability_remove(*, liability: Liability, actor, reason: str) -> None:
    _in_review(liability.audit)
    if not reason.strip():
        raise DomainError("Give a reason", field="reason")
    audit = liability.audit
    timeline(audit.agreement.client, "direct_payments.liability.removed",
             f"Audit {audit.reference}: liability {liability.description} {format_pounds(liability.amount)} removed",
             actor, body=reason.strip(), old={"liability": liability.pk, "amount": str(liability.amount)})
    liability._history_user = actor
    liability.delete()


def closing_balance(audit: Audit) -> Decimal | None:
    last = audit.lines.order_by("-date", "-upload_id", "-row_number").first()
    return last.balance if last else None


def working_for(audit: Audit) -> Working:
    """The surplus working from the audit's statements, liabilities and agreement."""
    balance = closing_balance(audit)
    if balance is None:
        raise DomainError("Upload the statements first: there is no closing balance yet")
    agreement = audit.agreement
    paid_in = audit.lines.filter(category=Category.CLIENT_CONTRIBUTION).aggregate(t=Sum("amount"))["t"] or ZERO
    days = (audit.period_end - audit.period_start).days + 1
    return Working(closing_balance=balance,
                   liabilities=tuple((l.description, l.amount) for l in audit.liabilities.all()),
                   weekly_budget=agreement.weekly_budget, contingency_weeks=agreement.contingency_weeks,
                   contribution_refund=contribution_overpaid(paid_in=to_pennies(paid_in),
                                                             weekly_contribution=agreement.weekly_contribution,
                                                             days=days))


def misuse_total(audit: Audit) -> Decimal:
    lines = StatementLine.objects.filter(flags__audit=audit, flags__decision=Decision.MISUSE, amount__lt=0).distinct()
    return to_pennies(-(sum((l.amount for l in lines), ZERO)))


def category_totals(audit: Audit) -> list[dict]:
    """Money out and in by category over the period, with each as a share of the period's budget."""
    rows = audit.lines.values("category").annotate(total=Sum("amount")).order_by("category")
    days = (audit.period_end - audit.period_start).days + 1
    budget = to_pennies(audit.agreement.weekly_budget * days / 7)
    labels = dict(Category.choices)
    result = []
    for row in rows:
        total = to_pennies(row["total"])
        share = (abs(total) * 100 / budget).quantize(Decimal("1")) if budget and total < 0 else None
        result.append({"category": row["category"], "label": labels.get(row["category"], row["category"]),
                       "total": total, "out": total < 0, "share": share})
    return sorted(result, key=lambda r: (not r["out"], r["total"]))


def period_budget(audit: Audit) -> Decimal:
    days = (audit.period_end - audit.period_start).days + 1
    return to_pennies(audit.agreement.weekly_budget * days / 7)


# Outcome ---------------------------------------------------------------------------------------

@transaction.atomic
def audit_record_outcome(*, audit: Audit, outcome: str, note: str, actor, route: str = "",
                         misuse_referral: str = "") -> Audit:
    """Record the outcome once every flag is reviewed. A surplus (or misuse to recover) becomes a
    recovery waiting for a team leader's approval; suspension suspends the agreement's payments;
    the others complete the audit."""
    audit = Audit.objects.select_for_update().select_related("agreement__client").get(pk=audit.pk)
    _in_review(audit)
    if outcome not in Outcome.values:
        raise DomainError("Choose the outcome", field="outcome")
    if outcome == Outcome.WAIVED:
        raise DomainError("A surplus is waived by asking for a waiver, which someone else approves", field="outcome")
    if not audit.uploads.exists():
        raise DomainError("Upload the statements before recording an outcome")
    waiting = audit.flags.filter(decision="").count()
    if waiting:
        raise DomainError(f"Review every flagged line first: {waiting} still to review", field="outcome")
    if outcome != Outcome.SATISFACTORY and not note.strip():
        raise DomainError("Add a note: the advice given, the reason or what was found", field="note")
    audit.outcome, audit.outcome_note = outcome, note.strip()
    audit.misuse_referral = misuse_referral if outcome == Outcome.MISUSE else ""
    recovery = None
    if outcome == Outcome.SURPLUS:
        recovery = _surplus_recovery(audit, route, actor)
    elif outcome == Outcome.MISUSE:
        if misuse_referral not in MisuseReferral.values:
            raise DomainError("Choose safeguarding or recovery", field="misuse_referral")
        if misuse_referral == MisuseReferral.RECOVERY:
            recovery = _misuse_recovery(audit, route, actor)
    audit._history_user = actor
    audit.save(update_fields=["outcome", "outcome_note", "misuse_referral"])
    summary = f"Audit {audit.reference} outcome: {Outcome(outcome).label.lower()}"
    if outcome == Outcome.MISUSE:
        summary += f" ({MisuseReferral(misuse_referral).label.lower()})"
    timeline(audit.agreement.client, "direct_payments.audit.outcome", summary, actor, body=note.strip(),
             new={"audit": audit.pk, "outcome": outcome, "recovery": recovery.pk if recovery else None})
    if recovery:
        return audit_transition(audit=audit, to=AuditStatus.AWAITING_APPROVAL, actor=actor,
                                reason=f"Recovery of {format_pounds(recovery.amount)} for approval")
    if outcome == Outcome.SUSPENDED:
        from .agreements import agreement_transition

        if audit.agreement.status == AgreementStatus.ACTIVE:
            agreement_transition(agreement=audit.agreement, to=AgreementStatus.SUSPENDED, actor=actor,
                                 reason=f"Audit {audit.reference}: {note.strip()}")
    return audit_transition(audit=audit, to=AuditStatus.COMPLETED, actor=actor, reason=Outcome(outcome).label)


def _route(route: str) -> str:
    if route not in RecoveryRoute.values:
        raise DomainError("Choose how to recover it: an invoice or reducing future payments", field="route")
    return route


def _surplus_recovery(audit: Audit, route: str, actor) -> Recovery:
    working = working_for(audit)
    if working.recoverable <= 0:
        raise DomainError(f"There is nothing to recover: the working gives {format_pounds(working.recoverable)}",
                          field="outcome")
    return Recovery.objects.create(
        audit=audit, basis=RecoveryBasis.SURPLUS, route=_route(route), closing_balance=working.closing_balance,
        liabilities=working.liabilities_total, weekly_budget=working.weekly_budget,
        contingency_weeks=working.contingency_weeks, contingency=working.contingency,
        contribution_refund=working.contribution_refund, amount=working.recoverable, requested_by=actor)


def _misuse_recovery(audit: Audit, route: str, actor) -> Recovery:
    total = misuse_total(audit)
    if total <= 0:
        raise DomainError("No line is marked as misuse, so there is nothing to recover", field="misuse_referral")
    working = working_for(audit)
    return Recovery.objects.create(
        audit=audit, basis=RecoveryBasis.MISUSE, route=_route(route), closing_balance=working.closing_balance,
        liabilities=working.liabilities_total, weekly_budget=working.weekly_budget,
        contingency_weeks=working.contingency_weeks, contingency=working.contingency,
        contribution_refund=ZERO, misuse_total=total, amount=total, requested_by=actor)
