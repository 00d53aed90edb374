"""Unbilled provision: care the council provides or commissions that has not been charged for, or
not paid for. One row per thing to put right, saying why it is there and since when.

Three kinds, each one named function `(on) -> list[UnbilledRow]`, used alike by the page, its
counts and its export (STYLE rule 6). Each runs a fixed handful of queries, with EXISTS subqueries
in the database, whatever the number of rows:

- no_charge: a client's approved care package in force, of a service type that names an income
  chargeable service (ServiceType.charging_service_code; a service type naming none is not charged
  for), and no assessed charge for that service in force on the day. Since: the later of the earliest
  such package's start and the day after the client's last charge for the service ended.
- not_invoiced: an assessed charge above nil in force for some of a billing period whose invoices
  are due (the billing cycle in force: `bill_days_after_period` days after the period ended), no
  invoice for that period and no decision on the billing preview not to bill it. Periods ending in
  the last LOOKBACK_DAYS are looked at. Since: the end of the earliest such period.
- not_paid: an approved (or since ended) package covering some of a period of its provider's payment
  schedule that has ended (periods of `frequency` days from the schedule's anchor date; a provider
  with no schedule is taken on the first one), with no payable line of a paid claim dated in the
  period and no scheduled payment for it in a released payment run. Since: the end of the earliest
  such period in the last LOOKBACK_DAYS.

No charge or payment is counted for days after a client's death. The care packages, claims and
payment runs belong to the provider payments app; they are read here through the app registry
(without provider payments installed, the first and third queues are empty).
"""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Callable

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, Subquery
from django.urls import reverse

from casework.models import Client
from casework.money import ZERO
from casework.services import DomainError

from . import billing
from .models import AssessedCharge, BillingCycle, BillingSuppression, ChargeableService, Invoice

#: How far back the invoice and provider payment queues look for ended periods.
LOOKBACK_DAYS = 365


@dataclass(frozen=True)
class UnbilledRow:
    kind: str  # a key of KINDS
    client: Client
    since: date
    why: str
    amount: Decimal | None  # a weekly amount: the charge not invoiced; None where none applies
    subject: str  # the package(s) or service the row is about
    url: str  # where to put it right

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind].label


@dataclass(frozen=True)
class Kind:
    label: str
    find: Callable[[date], list["UnbilledRow"]]
    description: str


def _long(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _clients(ids) -> dict[int, Client]:
    return Client.objects.in_bulk(list(set(ids)))


def _alive_from(day: date) -> Q:
    return Q(client__date_of_death__isnull=True) | Q(client__date_of_death__gte=day)


def _covering(start: date, end: date, prefix: str = "") -> Q:
    """Rows whose start/end dates overlap start..end (end date open or not before `start`)."""
    return (Q(**{f"{prefix}start_date__lte": end})
            & (Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": start})))


# (a) Care with no assessed charge -------------------------------------------------------------

def care_without_charge(on: date) -> list[UnbilledRow]:
    """Clients with an approved package in force on `on`, of a chargeable service, and no assessed
    charge for that service in force that day."""
    if not apps.is_installed("provider_payments"):
        return []
    from provider_payments.constants import PackageStatus

    package_model = apps.get_model("provider_payments", "CarePackage")
    same_service = {"client_id": OuterRef("client_id"), "service__code": OuterRef("service_type__charging_service_code")}
    in_force = AssessedCharge.objects.filter(**same_service, effective_from__lte=on).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=on))
    last_ended = (AssessedCharge.objects.filter(**same_service, effective_to__lt=on)
                  .order_by("-effective_to").values("effective_to")[:1])
    rows = (package_model.objects.filter(status=PackageStatus.APPROVED).filter(_covering(on, on)).filter(_alive_from(on))
            .exclude(service_type__charging_service_code="").exclude(Exists(in_force))
            .annotate(last_ended=Subquery(last_ended))
            .order_by("client_id", "start_date", "pk")
            .values_list("pk", "client_id", "start_date", "service_type__name", "service_type__charging_service_code",
                         "last_ended"))
    grouped: dict[tuple, dict] = {}
    for pk, client_id, start, service_name, code, last_ended in rows:
        entry = grouped.setdefault((client_id, code), {"packages": [], "start": start, "service": service_name,
                                                       "last_ended": last_ended})
        entry["packages"].append(f"PKG-{pk:06d}")
    names = dict(ChargeableService.objects.values_list("code", "name"))
    clients = _clients(client_id for client_id, _ in grouped)
    result = []
    for (client_id, code), entry in grouped.items():
        since = entry["start"]
        why = (f"{entry['service']} package {', '.join(entry['packages'])} approved from {_long(entry['start'])}; "
               f"no assessed charge for {names.get(code, code).lower()} in force")
        if entry["last_ended"]:
            since = max(since, entry["last_ended"] + timedelta(days=1))
            why += f" (the last one ended on {_long(entry['last_ended'])})"
        result.append(UnbilledRow("no_charge", clients[client_id], since, why, None, ", ".join(entry["packages"]),
                                  reverse("casework:client_detail", args=[client_id])))
    return sorted(result, key=lambda r: (r.since, r.client.reference))


# (b) Charges not invoiced ---------------------------------------------------------------------

def _cycle_on(day: date) -> BillingCycle | None:
    return BillingCycle.objects.filter(effective_from__lte=day).order_by("-effective_from").first()


def billing_periods_due(on: date) -> list[billing.Period]:
    """Billing periods whose invoices were due by `on` (under the cycle in force at each), latest first,
    back to those ending LOOKBACK_DAYS before `on`."""
    cycle = _cycle_on(on)
    if cycle is None:
        return []
    period = billing.due_period(on, anchor=cycle.anchor_date, period_days=cycle.period_days,
                                bill_days_after=cycle.bill_days_after_period)
    periods = []
    while period.end >= on - timedelta(days=LOOKBACK_DAYS):
        periods.append(period)
        before = period.start - timedelta(days=1)
        cycle = _cycle_on(before)
        if cycle is None:
            break
        period = billing.period_ending_on_or_before(before, anchor=cycle.anchor_date, period_days=cycle.period_days)
    return periods


def charges_not_invoiced(on: date) -> list[UnbilledRow]:
    """Clients with an assessed charge for some of a billing period already due to be invoiced, and no
    invoice (or decision not to bill) for that period. One query per period looked at."""
    found: dict[int, list] = {}
    for period in billing_periods_due(on):
        invoiced = Invoice.objects.filter(client_id=OuterRef("client_id"), corrects__isnull=True,
                                          period_start=period.start)
        suppressed = BillingSuppression.objects.filter(client_id=OuterRef("client_id"), period_start=period.start)
        rows = (AssessedCharge.objects.filter(weekly_amount__gt=0, effective_from__lte=period.end)
                .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=period.start)).filter(_alive_from(period.start))
                .exclude(Exists(invoiced)).exclude(Exists(suppressed))
                .values_list("client_id", "service__name", "weekly_amount"))
        per_client: dict[int, list] = {}
        for client_id, service, weekly in rows:
            per_client.setdefault(client_id, []).append((service, weekly))
        for client_id, charges in per_client.items():
            found.setdefault(client_id, []).append((period, charges))
    clients = _clients(found)
    result = []
    for client_id, periods in found.items():
        earliest, charges = min(periods, key=lambda p: p[0].start)
        weekly = sum((w for _, w in charges), ZERO)
        services = ", ".join(sorted({s for s, _ in charges}))
        over = billing.date_range(earliest.start, earliest.end)
        why = f"Assessed charge of £{weekly:,} a week ({services}) in force over {over}; no invoice for that period"
        if len(periods) > 1:
            latest = max((p for p, _ in periods), key=lambda p: p.start)
            why += f"; {len(periods)} periods not invoiced, the latest ending {_long(latest.end)}"
        result.append(UnbilledRow("not_invoiced", clients[client_id], earliest.end, why, weekly, services,
                                  reverse("debt:charge_list", args=[client_id])))
    return sorted(result, key=lambda r: (r.since, r.client.reference))


# (c) Care not paid to the provider ------------------------------------------------------------

def schedule_periods(anchor: date, frequency: int, on: date) -> list[billing.Period]:
    """Periods of a payment schedule (frequency days from its anchor date) that ended before `on`,
    latest first, back to those ending LOOKBACK_DAYS before it. In arrears a period is paid on the
    day after it ends; in advance on its first day: either way it has ended once its end is past."""
    period = billing.period_ending_on_or_before(on - timedelta(days=1), anchor=anchor, period_days=frequency)
    periods = []
    while period.end >= on - timedelta(days=LOOKBACK_DAYS):
        periods.append(period)
        period = billing.Period(period.start - timedelta(days=frequency), period.start - timedelta(days=1))
    return periods


def care_not_paid(on: date) -> list[UnbilledRow]:
    """Approved packages with no payment to the provider for a period of its payment schedule that
    has ended. One query per schedule and period looked at."""
    if not apps.is_installed("provider_payments"):
        return []
    from provider_payments.constants import ClaimStatus, PackageStatus, PaymentRunStatus

    package_model = apps.get_model("provider_payments", "CarePackage")
    line_model = apps.get_model("provider_payments", "ClaimLine")
    scheduled_model = apps.get_model("provider_payments", "ScheduledPayment")
    schedules = list(apps.get_model("provider_payments", "PaymentSchedule").objects.order_by("pk"))
    found: dict[int, dict] = {}
    for index, schedule in enumerate(schedules):
        on_schedule = Q(provider__payment_schedule=schedule)
        if index == 0:
            on_schedule |= Q(provider__payment_schedule__isnull=True)
        for period in schedule_periods(schedule.anchor_date, schedule.frequency, on):
            lines = line_model.objects.filter(package_id=OuterRef("pk"), service_date__range=(period.start, period.end))
            scheduled = scheduled_model.objects.filter(package_id=OuterRef("pk"), period_start__lte=period.end,
                                                       period_end__gte=period.start)
            rows = (package_model.objects.filter(on_schedule, status__in=[PackageStatus.APPROVED, PackageStatus.ENDED])
                    .filter(_covering(period.start, period.end)).filter(_alive_from(period.start))
                    .exclude(Exists(lines.filter(claim__status=ClaimStatus.PAID, payable_amount__gt=0)))
                    .exclude(Exists(scheduled.filter(payment__payment_run__status=PaymentRunStatus.RELEASED)))
                    .annotate(claimed=Exists(lines.filter(claim__status__in=[ClaimStatus.VALIDATED, ClaimStatus.APPROVED],
                                                          payable_amount__gt=0)),
                              in_run=Exists(scheduled.filter(payment__payment_run__status=PaymentRunStatus.PREPARED)))
                    .values_list("pk", "client_id", "provider__name", "service_type__name", "claimed", "in_run"))
            for pk, client_id, provider, service, claimed, in_run in rows:
                entry = found.setdefault(pk, {"client_id": client_id, "provider": provider, "service": service,
                                              "periods": []})
                entry["periods"].append((period, claimed or in_run))
    clients = _clients(entry["client_id"] for entry in found.values())
    result = []
    for pk, entry in found.items():
        earliest, pending = min(entry["periods"], key=lambda p: p[0].start)
        why = (f"{entry['service']} from {entry['provider']}: nothing paid for {billing.date_range(earliest.start, earliest.end)}"
               + ("; claimed or in a payment run, not yet paid" if pending else "; nothing claimed"))
        if len(entry["periods"]) > 1:
            why += f"; {len(entry['periods'])} periods unpaid"
        result.append(UnbilledRow("not_paid", clients[entry["client_id"]], earliest.end, why, None, f"PKG-{pk:06d}",
                                  reverse("provider_payments:package_detail", args=[pk])))
    return sorted(result, key=lambda r: (r.since, r.client.reference))


KINDS: dict[str, Kind] = {
    "no_charge": Kind("Care with no assessed charge", care_without_charge,
                      "Approved care packages of a chargeable service with no assessed charge in force."),
    "not_invoiced": Kind("Charge not invoiced", charges_not_invoiced,
                         "Assessed charges with no invoice for a billing period that is due."),
    "not_paid": Kind("Care not paid to the provider", care_not_paid,
                     "Approved care packages with no provider payment for a period that has ended."),
}


def unbilled(on: date, kind: str | None = None) -> list[UnbilledRow]:
    """Every row of one kind, or of all kinds, on a day."""
    kinds = [kind] if kind in KINDS else list(KINDS)
    rows: list[UnbilledRow] = []
    for key in kinds:
        try:
            rows += KINDS[key].find(on)
        except DomainError:  # no billing cycle set up yet: nothing can be due
            continue
    return rows
