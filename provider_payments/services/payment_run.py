"""The payment run: a job on the runs engine (casework/runs), one item per provider due that day.

1. `plan(business_date)`: providers whose payment schedule falls due on the date and that have
   something to pay: approved claims not yet paid, upheld disputes not yet paid, or scheduled
   (residential) packages.
2. `process(run, item)`: in one transaction, under a lock on the provider, one Payment per
   provider and run (unique), linking the claims and disputes it pays, scheduled periods (unique
   per package and period start), offsets of approved overpayments, the remittance advice PDF, and
   the ledger entries. A provider already paid in this run is reported, never paid again.
3. `finish(run)`: the Bacs Standard 18 file and the finance journal, through the storage API, and
   the PaymentRun waiting for a team leader's approval before its files are released.
4. `payment_run_transition`: release by a team leader other than who started the run, who has
   opened the run's exceptions (services/run_review.py) since it was prepared; recorded as a
   MoneyAction with the starter as maker and the releaser as checker.
"""
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone

from casework.calendar import WorkingCalendar, bacs_cycle, not_working_message
from casework.models import ControlAction, Run
from casework.money import ZERO, format_pounds, to_pennies
from casework.roles import Role
from casework.runs.registry import Skip
from casework.services import DomainError, NotAllowed
from casework.services.controls import money_action_record, why_same_person
from casework.services.system import system_user

from ..bacs import BacsCredit, Originator, journal_csv, standard18
from ..constants import (
    BillingBasis,
    ClaimStatus,
    DisputeStatus,
    LineResult,
    OverpaymentStatus,
    PackageStatus,
    PaymentRunStatus,
    ProviderEntryKind,
    RecoveryMethod,
    Timing,
)
from ..models import (
    BacsOriginator,
    CarePackage,
    Claim,
    Dispute,
    JournalAccount,
    Overpayment,
    OverpaymentRecovery,
    Payment,
    PaymentRun,
    Provider,
    ScheduledPayment,
)
from .claims import claim_transition
from .common import event, ledger_post, refuse_transition, require_role
from .overpayments import overpayment_outstanding, overpayment_transition
from .providers import provider_is_payable
from .rates import RateBook, commissioned_cost, package_unit_rate
from .run_review import exceptions_opened_by

JOB_CODE = "provider_payments"
RUN_RELEASERS = frozenset({Role.TEAM_LEADER})


def scheduled_due_day(schedule, run_date: date, calendar: WorkingCalendar | None = None) -> date | None:
    """The day the schedule fell due that a run on ``run_date`` pays: the run date itself, or a
    non-working day just before it (a schedule due on a bank holiday Monday is paid by the run on
    the next working day). None when the schedule is not due."""
    calendar = calendar or WorkingCalendar.between(run_date - timedelta(days=14), run_date)
    day = run_date
    while True:
        if schedule.is_due(day):
            return day
        day -= timedelta(days=1)
        if calendar.is_working_day(day) or (run_date - day).days > 14:
            return None


def schedule_period(provider: Provider, on: date) -> tuple[date, date] | None:
    """The period a run on ``on`` pays for the provider's schedule, counted from the day the schedule
    fell due (which may be a non-working day the run was rolled from)."""
    schedule = provider.payment_schedule
    if schedule is None:
        return None
    on = scheduled_due_day(schedule, on)
    if on is None:
        return None
    if schedule.timing == Timing.ADVANCE:
        return on, on + timedelta(days=schedule.frequency - 1)
    return on - timedelta(days=schedule.frequency), on - timedelta(days=1)


def plan_payments(business_date: date) -> list[str]:
    """Providers due on the run date, or on the non-working days just before it. The run date is the
    Bacs input day and must be a working day."""
    if message := not_working_message(business_date):
        raise DomainError(message, field="business_date")
    calendar = WorkingCalendar.between(business_date - timedelta(days=14), business_date)
    due = Q(claims__status=ClaimStatus.APPROVED, claims__payment__isnull=True) | Q(
        disputes__status=DisputeStatus.UPHELD, disputes__payment__isnull=True) | Q(
        packages__status__in=[PackageStatus.APPROVED, PackageStatus.ENDED],
        packages__service_type__billing_basis=BillingBasis.SCHEDULED)
    providers = Provider.objects.filter(payment_schedule__isnull=False).filter(due).distinct().select_related(
        "payment_schedule").order_by("pk")
    return [f"provider:{p.pk}" for p in providers
            if scheduled_due_day(p.payment_schedule, business_date, calendar) is not None]


def _payment_run(run: Run) -> PaymentRun:
    payment_run, _ = PaymentRun.objects.get_or_create(
        run=run, defaults={"payment_date": bacs_cycle(run.business_date).entry_day})
    return payment_run


def _scheduled(provider: Provider, period: tuple[date, date], book: RateBook) -> list[ScheduledPayment]:
    from .notice import package_paid_through

    start, end = period
    packages = (CarePackage.objects.filter(provider=provider, service_type__billing_basis=BillingBasis.SCHEDULED,
                                           status__in=[PackageStatus.APPROVED, PackageStatus.ENDED], start_date__lte=end)
                .exclude(end_date__lt=start).select_related("client", "service_type"))
    rows = []
    for package in packages:
        first = max(start, package.start_date)
        last = min(x for x in (end, package.end_date, package_paid_through(package)) if x is not None)
        if first > last or ScheduledPayment.objects.filter(package=package, period_start=first).exists():
            continue
        amount = commissioned_cost(package, first, last, book)
        rate = package_unit_rate(package, first, book)
        if amount > 0 and rate is not None:
            rows.append(ScheduledPayment(package=package, period_start=first, period_end=last,
                                         days=(last - first).days + 1, weekly_rate=to_pennies(package.units_per_week * rate),
                                         amount=amount))
    return rows


def process_payment(run: Run, item, prepared: dict) -> str:
    provider_id = int(item.subject.split(":", 1)[1])
    provider = Provider.objects.select_for_update(of=("self",)).select_related("payment_schedule").get(pk=provider_id)
    payment_run = _payment_run(run)
    existing = Payment.objects.filter(payment_run=payment_run, provider=provider).first()
    if existing:
        return f"Already paid {format_pounds(existing.net)} in this run"
    held = provider_is_payable(provider)
    if held:
        raise Skip(f"Held: {held}")
    actor = run.started_by or system_user()
    claims = list(Claim.objects.select_for_update().filter(provider=provider, status=ClaimStatus.APPROVED,
                                                           payment__isnull=True).order_by("period_start", "pk"))
    disputes = list(Dispute.objects.select_for_update().filter(provider=provider, status=DisputeStatus.UPHELD,
                                                               payment__isnull=True).order_by("pk"))
    period = schedule_period(provider, run.business_date)
    scheduled = _scheduled(provider, period, prepared.get("book") or RateBook.for_providers([provider.pk])) if period else []
    breakdown: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for code, amount in (claim_lines_by_service(claims)).items():
        breakdown[code] += amount
    for row in scheduled:
        breakdown[row.package.service_type.code] += row.amount
    for dispute in disputes:
        breakdown[_dispute_service(dispute)] += dispute.outcome_amount
    gross = to_pennies(sum(breakdown.values(), ZERO))
    if gross <= 0:
        raise Skip("Nothing to pay")
    offsets = []
    left = gross
    for overpayment in Overpayment.objects.select_for_update().filter(
            provider=provider, status=OverpaymentStatus.APPROVED, method=RecoveryMethod.OFFSET).order_by("pk"):
        take = min(overpayment_outstanding(overpayment), left)
        if take > 0:
            offsets.append((overpayment, take))
            left -= take
    offset = to_pennies(sum((t for _, t in offsets), ZERO))
    payment = Payment.objects.create(
        payment_run=payment_run, provider=provider, gross=gross, offset=offset, net=gross - offset,
        sort_code=provider.sort_code, account_number=provider.account_number, account_name=provider.account_name,
        breakdown={k: str(to_pennies(v)) for k, v in sorted(breakdown.items())})
    for claim in claims:
        claim.payment = payment
        claim.save(update_fields=["payment"])
        claim_transition(claim=claim, to_status=ClaimStatus.PAID, actor=actor, on=run.business_date)
    for dispute in disputes:
        dispute.payment = payment
        dispute.save(update_fields=["payment"])
        ledger_post(provider=provider, kind=ProviderEntryKind.ADJUSTMENT, amount=dispute.outcome_amount,
                    on=run.business_date, reference=dispute.reference, description=f"Dispute {dispute.reference} upheld",
                    actor=actor)
    for row in scheduled:
        row.payment = payment
        row.save()
        ledger_post(provider=provider, kind=ProviderEntryKind.SCHEDULED, amount=row.amount, on=run.business_date,
                    reference=row.package.reference,
                    description=f"{row.package.service_type.name} for {row.package.client.reference}, "
                                f"{row.period_start:%d %b} to {row.period_end:%d %b %Y}", actor=actor)
    for overpayment, take in offsets:
        OverpaymentRecovery.objects.create(overpayment=overpayment, amount=take, payment=payment, recorded_by=actor)
        if overpayment_outstanding(overpayment) == 0:
            overpayment_transition(overpayment=overpayment, to_status=OverpaymentStatus.RECOVERED, actor=actor)
    ledger_post(provider=provider, kind=ProviderEntryKind.PAYMENT, amount=payment.net, on=run.business_date,
                reference=payment_run.reference,
                description=f"Paid {format_pounds(payment.net)}" + (
                    f" ({format_pounds(gross)} less {format_pounds(offset)} offset against "
                    f"{', '.join(o.reference for o, _ in offsets)})" if offsets else ""), actor=actor)
    _remittance(payment, claims, scheduled, disputes, offsets)
    event(provider, "provider.payment.made", f"{payment_run.reference}: {format_pounds(payment.net)}", actor,
          new={"payment": payment.pk, "gross": str(gross), "offset": str(offset)})
    return f"Paid {format_pounds(payment.net)}" + (f" after {format_pounds(offset)} offset" if offset else "")


def claim_lines_by_service(claims: list[Claim]) -> dict[str, Decimal]:
    """What the claims pay by service code, by the payable rule (services/payable.py)."""
    from .payable import claims_payable_by_service

    return claims_payable_by_service(claims)


def _dispute_service(dispute: Dispute) -> str:
    line = dispute.lines.select_related("service_type").exclude(service_type__isnull=True).first()
    return line.service_type.code if line else "homecare"


def remittance_context(payment: Payment, claims, scheduled, disputes, offsets, *, extract_for=None) -> dict:
    """What a remittance advice carries: the council's details and remittance contact, the
    provider's name and address, the payment date and Bacs reference, every invoice (claim) with
    each line claimed, paid and withheld, the scheduled care and disputes paid, every overpayment
    offset, and totals that add up to the amount paid (gross less offsets = net).

    With ``extract_for`` (a client), the advice keeps only the lines and scheduled periods about that
    client, for their subject access export: the totals are then that client's, not the payment's."""
    from casework.models.council import current_council
    from ..models import ClaimLine

    from .payable import payable_of_lines

    lines_by_claim = defaultdict(list)
    claim_lines = (ClaimLine.objects.filter(claim__in=claims).select_related("service_type")
                   .order_by("claim_id", "row_number"))
    if extract_for is not None:
        claim_lines = claim_lines.filter(Q(client=extract_for) | Q(client_reference=extract_for.reference))
    for line in claim_lines:
        lines_by_claim[line.claim_id].append(line)
    invoices = []
    for claim in claims:
        lines = lines_by_claim[claim.pk]
        if extract_for is not None and not lines:
            continue
        rows = []
        for line in lines:
            paid = ZERO if line.result == LineResult.REJECTED else line.payable_amount
            rows.append({"line": line, "claimed": line.amount, "paid": paid, "withheld": line.amount - paid})
        # The invoice pays its payable hours times the rate, rounded once a rate period (the payable
        # rule), which can differ by pennies from the sum of the lines' own amounts.
        payable = payable_of_lines(lines)
        claimed = sum((r["claimed"] for r in rows), ZERO)
        invoices.append({"claim": claim, "rows": rows, "periods": payable.periods, "claimed": claimed,
                         "paid": payable.total, "withheld": claimed - payable.total})
    claims_paid = sum((i["paid"] for i in invoices), ZERO)
    scheduled_paid = sum((row.amount for row in scheduled), ZERO)
    disputes_paid = sum((d.outcome_amount for d in disputes), ZERO)
    offset_total = sum((amount for _, amount in offsets), ZERO)
    totals = {"claimed": sum((i["claimed"] for i in invoices), ZERO), "claims_paid": claims_paid,
              "withheld": sum((i["withheld"] for i in invoices), ZERO), "scheduled": scheduled_paid,
              "disputes": disputes_paid, "gross": to_pennies(claims_paid + scheduled_paid + disputes_paid),
              "offsets": to_pennies(offset_total)}
    totals["net"] = totals["gross"] - totals["offsets"]
    if extract_for is None and (totals["gross"], totals["offsets"], totals["net"]) != (
            payment.gross, payment.offset, payment.net):
        raise DomainError(f"The remittance advice for {payment.provider.name} does not add up to the payment: "
                          f"{format_pounds(totals['net'])} against {format_pounds(payment.net)} paid")
    provider = payment.provider
    return {
        "council": current_council(), "payment": payment, "provider": provider, "run": payment.payment_run,
        "provider_address": [line.strip() for line in (provider.address or "").splitlines() if line.strip()],
        "invoices": invoices, "scheduled": scheduled, "disputes": disputes, "offsets": offsets, "totals": totals,
        "held": [] if extract_for is not None else
        Claim.objects.filter(provider=provider, status=ClaimStatus.VALIDATED).order_by("period_start", "pk"),
        "extract_for": extract_for,
    }


def _remittance(payment: Payment, claims, scheduled, disputes, offsets) -> None:
    from casework.letters.pdf import render_pdf

    html = render_to_string(REMITTANCE_HTML, remittance_context(payment, claims, scheduled, disputes, offsets))
    pdf = render_pdf(html)
    payment.remittance.save(f"remittance-{payment.payment_run.reference}-{payment.provider.supplier_number}.pdf",
                            ContentFile(pdf.content), save=False)
    payment.save(update_fields=["remittance"])


REMITTANCE_HTML = "provider_payments/remittance.html"


def remittances_naming(client):
    """The payments whose remittance advice names the client (a claim line or a scheduled period)."""
    return (Payment.objects.filter(Q(claims__lines__client=client) | Q(claims__lines__client_reference=client.reference)
                                   | Q(scheduled__package__client=client))
            .exclude(remittance="").distinct().select_related("provider", "payment_run").order_by("payment_run", "id"))


def remittance_extract(payment: Payment, client) -> bytes:
    """The client's extract of a remittance advice, for a subject access export: the advice as the
    provider received it, with only the claim lines and scheduled periods about this client (the
    provider's other clients are left out, and so are disputes, offsets and held claims)."""
    from casework.letters.pdf import render_pdf

    claims = list(payment.claims.order_by("period_start", "pk"))
    scheduled = payment.scheduled.filter(package__client=client).select_related("package", "package__client")
    html = render_to_string(REMITTANCE_HTML, remittance_context(payment, claims, scheduled, [], [], extract_for=client))
    return render_pdf(html).content


def originator_on(on: date) -> Originator:
    row = BacsOriginator.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    if row is None:
        raise DomainError(f"No Bacs originator details in force on {on:%d %B %Y}: add them in the administration pages")
    return Originator(row.service_user_number, row.sort_code, row.account_number, row.account_name)


def journal_rows(payment_run: PaymentRun) -> list[tuple]:
    """Debits by service type's cost centre and subjective; credits to creditors (cash) and to the
    overpayments debtor (offsets). Debits and credits balance to the penny."""
    from ..models import ServiceType

    codes = {s.code: s for s in ServiceType.objects.all()}
    by_code: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    net = offset = ZERO
    for payment in payment_run.payments.all():
        for code, amount in payment.breakdown.items():
            st = codes[code]
            by_code[(st.cost_centre, st.subjective_code, st.name)] += Decimal(amount)
        net += payment.net
        offset += payment.offset
    ref = payment_run.reference
    on = payment_run.payment_date
    rows = [(on, ref, cc, sub, f"Provider payments: {name}", to_pennies(v), ZERO)
            for (cc, sub, name), v in sorted(by_code.items())]
    accounts = {a.purpose: a for a in JournalAccount.objects.all()}
    if net:
        rows.append((on, ref, accounts["creditors"].cost_centre, accounts["creditors"].subjective_code,
                     "Bacs payments to providers", ZERO, to_pennies(net)))
    if offset:
        rows.append((on, ref, accounts["overpayments"].cost_centre, accounts["overpayments"].subjective_code,
                     "Overpayments recovered by offset", ZERO, to_pennies(offset)))
    return rows


def finish_payments(run: Run) -> None:
    payment_run = _payment_run(run)
    payments = list(payment_run.payments.filter(net__gt=0).select_related("provider").order_by("provider__name", "pk"))
    credits = [BacsCredit(p.sort_code, p.account_number, p.account_name, p.bacs_reference, p.net) for p in payments]
    total = to_pennies(sum((p.net for p in payments), ZERO))
    if credits:
        text = standard18(originator_on(run.business_date), credits, processing_day=bacs_cycle(run.business_date).processing_day,
                          created=timezone.localdate(), serial=f"{run.pk:06d}")
        payment_run.bacs_file.save(f"bacs-{payment_run.reference}.txt", ContentFile(text.encode("ascii")), save=False)
    rows = journal_rows(payment_run)
    debits, credits_total = sum((r[5] for r in rows), ZERO), sum((r[6] for r in rows), ZERO)
    if debits != credits_total:
        raise DomainError(f"The journal does not balance: debits {debits}, credits {credits_total}")
    payment_run.journal_file.save(f"journal-{payment_run.reference}.csv", ContentFile(journal_csv(rows).encode()),
                                  save=False)
    payment_run.total, payment_run.payment_count = total, len(payments)
    payment_run.prepared_at = timezone.now()
    payment_run.save(update_fields=["bacs_file", "journal_file", "total", "payment_count", "prepared_at"])


def run_totals_balance(payment_run: PaymentRun) -> bool:
    """The Bacs total, the payments' nets and the journal's credits for cash agree to the penny."""
    nets = to_pennies(payment_run.payments.aggregate(t=Sum("net"))["t"] or ZERO)
    return nets == payment_run.total


@transaction.atomic
def payment_run_transition(*, payment_run: PaymentRun, to_status: str, actor, reason: str = "") -> PaymentRun:
    """The one way a payment run changes status: releasing its files needs a team leader, totals that
    balance, the engine's run to have finished, someone other than who started it, and that person
    to have opened the run's exceptions since it was prepared."""
    payment_run = PaymentRun.objects.select_for_update().select_related("run").get(pk=payment_run.pk)
    if payment_run.status == to_status:
        return payment_run
    if not payment_run.can_transition_to(to_status):
        raise refuse_transition("Payment run", payment_run.reference, payment_run.get_status_display(),
                                PaymentRunStatus(to_status).label)
    require_role(actor, RUN_RELEASERS, "release payment runs")
    if payment_run.prepared_at is None:
        raise DomainError("The run has not finished preparing its payments")
    fields = ["status"]
    if to_status == PaymentRunStatus.RELEASED:
        if not run_totals_balance(payment_run):
            raise DomainError("The payments do not add up to the Bacs file's total: the run cannot be released")
        if why := why_same_person(actor, payment_run.run.started_by_id,
                                  action="release the run you started: another team leader approves it"):
            raise NotAllowed(why)
        if exceptions_opened_by(payment_run, actor) is None:
            raise DomainError(f"Open the exceptions of {payment_run.reference} before releasing it: its unusual "
                              f"payments, the lines overridden by hand and the upheld disputes it pays")
        payment_run.released_by, payment_run.released_at = actor, timezone.now()
        fields += ["released_by", "released_at"]
    payment_run.status = to_status
    payment_run.save(update_fields=fields)
    from casework.models import RunEvent

    RunEvent.objects.create(run=payment_run.run, action=f"provider_payments.{to_status}", old_value="",
                            new_value=to_status, reason=reason[:300], actor=actor)
    if to_status == PaymentRunStatus.RELEASED:
        money_action_record(action=ControlAction.PAYMENT_RUN, amount=payment_run.total,
                            subject=f"Payment run {payment_run.reference} ({payment_run.payment_count} providers)",
                            reference=payment_run.reference,
                            summary=f"Payment run {payment_run.reference} released: {payment_run.payment_count} "
                                    f"payments, {format_pounds(payment_run.total)} by Bacs",
                            maker=payment_run.run.started_by or system_user(), made_at=payment_run.prepared_at,
                            checker=actor)
    return payment_run
