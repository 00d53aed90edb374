"""High-cost exceptions: finding the care packages a resource management officer should challenge,
and the challenge itself (review, alternative proposed, dated negotiation notes, outcome).

Detection (exceptions_detect_for_package) runs when a package is created or changes and, for every
live package, in the nightly "high_cost_exceptions" run. A package is an exception when, priced on
the business date (or its start date if later):

- over_guide: its cost a week is above the guide price for its service type and the client's
  area (the most specific price in force: the area's, else the all-areas one) × its units a week;
- non_contracted: its provider is not on contract that day (ProviderContract);
- urgent_placement: it is an urgent residential placement (UrgentPlacement) above that guide;
- increase: its cost is above its previous version's at the same rates: the package's own earlier
  version with other units or another agreed rate, else the package of the same service it
  replaced (which ended no earlier than the day before this one started). The increase is
  "temporary" when the package has an end date and "permanent" when it is open-ended;
- residential_support: it is a non-residential service for a client whose residential placement
  covers the same day (extra support bought on top of the care home fee).

One exception is open per package; each rule found is one trigger on it, so running detection
again adds nothing (the run is idempotent). Once closed, a rule raises a new exception only when
the cost a week has risen above what the closed challenge dealt with (the higher of the cost it
was raised at and the new cost agreed), so a closed challenge is not reopened every night.

Full-year saving: the weekly saving over the 52 weeks (364 days) from the day the saving starts,
or to the package's end date (or the client's death) if sooner: weekly saving × days ÷ 7, rounded
half up to the penny, the same rule as every part-week amount (domain README conventions).
"""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from casework.constants import CaseStatus, CaseType, TimelineKind
from casework.models import Case, Team, TimelineEntry
from casework.money import ZERO, MoneyError, format_pounds, to_pennies
from casework.roles import Role
from casework.services import DomainError
from casework.services.cases import case_assign, case_create, case_transition

from ..constants import BillingBasis, PackageStatus
from ..models import (
    CarePackage,
    ExceptionOutcome,
    ExceptionRule,
    ExceptionStatus,
    GuidePrice,
    HighCostException,
    HighCostExceptionNote,
    HighCostExceptionTrigger,
    NoSavingReason,
    Provider,
    ProviderContract,
    ServiceType,
    UrgentPlacement,
)
from .common import client_timeline, refuse_transition, require_role
from .rates import RateBook, package_cost_per_week

#: Who challenges high-cost packages.
EXCEPTION_WORKERS = frozenset({Role.RESOURCE_MANAGEMENT_OFFICER, Role.TEAM_LEADER})
#: Who keeps the guide prices, contract statuses and no-saving reasons.
EXCEPTION_ADMINS = frozenset({Role.FINANCE_ADMINISTRATOR})
#: The team whose queue new exception cases join.
EXCEPTION_TEAM = "Resource management"
FULL_YEAR_DAYS = 364  # 52 weeks
LIVE_STATUSES = (PackageStatus.PROVISIONAL, PackageStatus.APPROVED)


@dataclass(frozen=True)
class Finding:
    rule: str
    detail: str
    weekly_cost: Decimal
    weekly_guide: Decimal | None = None
    previous_weekly_cost: Decimal | None = None


# ---------------------------------------------------------------- reference data


def guide_price_for(service_type: ServiceType, area, on: date) -> GuidePrice | None:
    """The guide price in force on a date: the area's latest from on or before that date, else the
    latest for all areas."""
    prices = GuidePrice.objects.filter(service_type=service_type, effective_from__lte=on).order_by("-effective_from")
    if area is not None:
        own = prices.filter(area=area).first()
        if own is not None:
            return own
    return prices.filter(area__isnull=True).first()


def provider_contracted(provider: Provider, on: date) -> bool:
    """Whether the provider is on contract on a date (no record: contracted)."""
    latest = ProviderContract.objects.filter(provider=provider, effective_from__lte=on).order_by("-effective_from").first()
    return True if latest is None else latest.contracted


def _pennies(value, field: str) -> Decimal:
    try:
        return to_pennies(value)
    except (MoneyError, TypeError) as exc:
        raise DomainError(str(exc) if isinstance(exc, MoneyError) else "Enter an amount in pounds", field=field) from exc


@transaction.atomic
def guide_price_add(*, service_type: ServiceType, price: Decimal, effective_from: date, actor, area=None) -> GuidePrice:
    """Add a guide price from a date for one area or all areas; prices are added, never changed."""
    require_role(actor, EXCEPTION_ADMINS, "keep guide prices")
    price = _pennies(price, "price")
    if price <= 0:
        raise DomainError("Enter a guide price above zero", field="price")
    if GuidePrice.objects.filter(service_type=service_type, area=area, effective_from=effective_from).exists():
        raise DomainError(f"There is already a {service_type.name.lower()} guide price for "
                          f"{area.name if area else 'all areas'} from {effective_from:%d %B %Y}", field="effective_from")
    return GuidePrice.objects.create(service_type=service_type, area=area, price=price, effective_from=effective_from)


@transaction.atomic
def provider_contract_add(*, provider: Provider, contracted: bool, effective_from: date, actor,
                          note: str = "") -> ProviderContract:
    require_role(actor, EXCEPTION_ADMINS, "record providers' contract status")
    if ProviderContract.objects.filter(provider=provider, effective_from=effective_from).exists():
        raise DomainError(f"{provider.name} already has a contract status from {effective_from:%d %B %Y}",
                          field="effective_from")
    return ProviderContract.objects.create(provider=provider, contracted=contracted, effective_from=effective_from,
                                           note=note.strip(), created_by=actor)


@transaction.atomic
def no_saving_reason_add(*, code: str, name: str, actor, order: int = 0) -> NoSavingReason:
    require_role(actor, EXCEPTION_ADMINS, "keep the no-saving reasons")
    code, name = code.strip().lower(), name.strip()
    if not code or not name:
        raise DomainError("Enter a code and a description", field="name")
    if NoSavingReason.objects.filter(code=code).exists():
        raise DomainError("There is already a reason with that code", field="code")
    return NoSavingReason.objects.create(code=code, name=name, order=order)


@transaction.atomic
def urgent_placement_record(*, package: CarePackage, reason: str, actor) -> UrgentPlacement:
    """Record that a package was an urgent placement, then check it for exceptions."""
    require_role(actor, EXCEPTION_WORKERS | {Role.PROVIDER_PAYMENT_OFFICER}, "record urgent placements")
    if not reason.strip():
        raise DomainError("Give the reason the placement was urgent", field="reason")
    if UrgentPlacement.objects.filter(package=package).exists():
        raise DomainError(f"{package.reference} is already recorded as an urgent placement")
    placement = UrgentPlacement.objects.create(package=package, reason=reason.strip(), recorded_by=actor)
    client_timeline(package.client, "provider.package.urgent", f"{package.reference} recorded as an urgent placement",
                    actor, new={"package": package.pk}, body=reason.strip())
    exceptions_detect_for_package(package=package, actor=actor)
    return placement


# ---------------------------------------------------------------- detection


def _is_residential(service_type: ServiceType) -> bool:
    return service_type.billing_basis == BillingBasis.SCHEDULED


def _version_cost(units: Decimal, agreed_rate, package: CarePackage, on: date, book: RateBook) -> Decimal | None:
    if agreed_rate is not None:
        return to_pennies(units * agreed_rate)
    rate = book.rate_on((package.provider_id, package.service_type_id, package.band_id), on)
    return None if rate is None else to_pennies(units * rate.rate)


def previous_weekly_cost(package: CarePackage, on: date, book: RateBook | None = None) -> Decimal | None:
    """What the package's previous version cost a week at the same rates (see the module docstring)."""
    current = (package.units_per_week, package.agreed_rate)
    for version in package.history.order_by("-history_date", "-history_id"):
        if (version.units_per_week, version.agreed_rate) != current:
            book = book or RateBook.for_providers([package.provider_id])
            return _version_cost(version.units_per_week, version.agreed_rate, package, on, book)
    replaced = (CarePackage.objects.filter(client_id=package.client_id, service_type_id=package.service_type_id,
                                           start_date__lt=package.start_date,
                                           end_date__gte=package.start_date - timedelta(days=1))
                .exclude(pk=package.pk).order_by("-start_date", "-pk").first())
    if replaced is None:
        return None
    book = RateBook.for_providers([replaced.provider_id])
    return (package_cost_per_week(replaced, package.start_date, book)
            or package_cost_per_week(replaced, replaced.end_date, book))


def _residential_placement_on(package: CarePackage, on: date) -> CarePackage | None:
    return (CarePackage.objects.filter(client_id=package.client_id, status__in=LIVE_STATUSES + (PackageStatus.ENDED,),
                                       service_type__billing_basis=BillingBasis.SCHEDULED, start_date__lte=on)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=on)).exclude(pk=package.pk).first())


def pricing_date(package: CarePackage, on: date) -> date | None:
    """The day a live package is priced for detection: `on`, or its start if later; None if it is
    not live (ended, or its end date has passed)."""
    if package.status not in LIVE_STATUSES or (package.end_date is not None and package.end_date < on):
        return None
    return max(on, package.start_date)


def evaluate_package(package: CarePackage, on: date, book: RateBook | None = None) -> tuple[Decimal | None, list[Finding]]:
    """(cost a week, the rules that fire) for a package on a date; no cost: nothing can fire."""
    day = pricing_date(package, on)
    if day is None:
        return None, []
    book = book or RateBook.for_providers([package.provider_id])
    cost = package_cost_per_week(package, day, book)
    if cost is None:
        return None, []
    guide = guide_price_for(package.service_type, package.client.area, day)
    weekly_guide = to_pennies(package.units_per_week * guide.price) if guide else None
    findings = []
    guide_text = f"{format_pounds(cost)} a week against a guide of {format_pounds(weekly_guide)}" if guide else ""
    if weekly_guide is not None and cost > weekly_guide:
        findings.append(Finding(ExceptionRule.OVER_GUIDE, guide_text, cost, weekly_guide))
    if not provider_contracted(package.provider, day):
        findings.append(Finding(ExceptionRule.NON_CONTRACTED, f"{package.provider.name} is not on contract on "
                                f"{day:%d %B %Y}", cost, weekly_guide))
    is_urgent = UrgentPlacement.objects.filter(package=package).exists()
    if is_urgent and _is_residential(package.service_type) and weekly_guide is not None and cost > weekly_guide:
        findings.append(Finding(ExceptionRule.URGENT_PLACEMENT, f"Urgent placement: {guide_text}", cost, weekly_guide))
    previous = previous_weekly_cost(package, day, book)
    if previous is not None and cost > previous:
        kind = f"Temporary increase to {package.end_date:%d %B %Y}" if package.end_date else "Permanent increase"
        findings.append(Finding(ExceptionRule.INCREASE, f"{kind}: {format_pounds(previous)} to {format_pounds(cost)} "
                                f"a week", cost, weekly_guide, previous))
    if not _is_residential(package.service_type):
        home = _residential_placement_on(package, day)
        if home is not None:
            findings.append(Finding(ExceptionRule.RESIDENTIAL_SUPPORT, f"{package.service_type.name} on top of "
                                    f"residential placement {home.reference}", cost, weekly_guide))
    return cost, findings


def _exception_team() -> Team:
    return Team.objects.filter(name=EXCEPTION_TEAM).first() or Team.objects.get_or_create(name=EXCEPTION_TEAM)[0]


def _case_entry(exception: HighCostException, action: str, summary: str, actor, *, kind: str = TimelineKind.SYSTEM,
                body: str = "", old=None, new=None) -> TimelineEntry:
    return TimelineEntry.objects.create(client_id=exception.case.client_id, case=exception.case, kind=kind,
                                        action=action, summary=summary[:300], body=body, old_value=old,
                                        new_value=new, actor=actor, occurred_at=timezone.now())


def _dealt_with(package: CarePackage, rule: str, cost: Decimal) -> bool:
    """A closed challenge of this rule already covered this cost (see the module docstring)."""
    for closed in HighCostException.objects.filter(package=package, status=ExceptionStatus.CLOSED,
                                                   triggers__rule=rule):
        if cost <= max(closed.weekly_cost, closed.new_weekly_cost or ZERO):
            return True
    return False


def _add_trigger(exception: HighCostException, finding: Finding, on: date) -> HighCostExceptionTrigger:
    return HighCostExceptionTrigger.objects.create(
        exception=exception, rule=finding.rule, detail=finding.detail[:300], weekly_cost=finding.weekly_cost,
        weekly_guide=finding.weekly_guide, previous_weekly_cost=finding.previous_weekly_cost, detected_on=on)


@transaction.atomic
def exceptions_detect_for_package(*, package: CarePackage, actor, on: date | None = None,
                                  book: RateBook | None = None) -> list[HighCostExceptionTrigger]:
    """Raise or extend the package's exception for every rule that fires; returns the new triggers.

    The package row is locked first, so the nightly run and an officer's change to the same
    package cannot both open an exception (the one-open-per-package constraint backs this up)."""
    on = on or timezone.localdate()
    package = (CarePackage.objects.select_for_update(of=("self",))
               .select_related("client", "client__area", "provider", "service_type").get(pk=package.pk))
    cost, findings = evaluate_package(package, on, book)
    if not findings:
        return []
    exception = HighCostException.objects.open().filter(package=package).first()
    if exception is not None:
        present = set(exception.triggers.values_list("rule", flat=True))
        findings = [f for f in findings if f.rule not in present]
    else:
        findings = [f for f in findings if not _dealt_with(package, f.rule, cost)]
    if not findings:
        return []
    if exception is None:
        guide = next((f.weekly_guide for f in findings if f.weekly_guide is not None), None)
        case = case_create(client=package.client, case_type=CaseType.HIGH_COST_EXCEPTION, team=_exception_team(),
                           title=f"High-cost package {package.reference}", actor=actor)
        exception = HighCostException.objects.create(package=package, case=case, area=package.client.area,
                                                      weekly_cost=cost, weekly_guide=guide, detected_on=on)
    triggers = [_add_trigger(exception, f, on) for f in findings]
    _case_entry(exception, "provider.exception.raised",
                f"{exception.reference} on {package.reference}: "
                + "; ".join(ExceptionRule(f.rule).label.lower() for f in findings),
                actor, body="\n".join(f.detail for f in findings),
                new={"exception": exception.pk, "rules": [f.rule for f in findings], "weekly_cost": str(cost)})
    return triggers


# ---------------------------------------------------------------- the challenge


def savings(weekly_cost: Decimal, new_weekly_cost: Decimal, saving_from: date,
            ends: date | None = None) -> tuple[Decimal, int, Decimal]:
    """(weekly saving, days counted, full-year saving): the full year is 52 weeks from `saving_from`
    or up to `ends` (inclusive) if sooner, at weekly saving × days ÷ 7 rounded half up."""
    weekly = to_pennies(weekly_cost - new_weekly_cost)
    days = FULL_YEAR_DAYS if ends is None else max(0, min(FULL_YEAR_DAYS, (ends - saving_from).days + 1))
    return weekly, days, to_pennies(weekly * days / 7)  # 364 days: exactly weekly × 52


def _package_ends(package: CarePackage) -> date | None:
    ends = [d for d in (package.end_date, package.client.date_of_death) if d is not None]
    return min(ends) if ends else None


def _move_case(exception: HighCostException, to_status: str, actor, reason: str = "") -> None:
    case = Case.objects.get(pk=exception.case_id)  # fresh: an earlier step may have changed it
    if case.status != to_status and case.can_transition_to(to_status):
        case_transition(case=case, to_status=to_status, actor=actor, reason=reason)


@transaction.atomic
def exception_add_note(*, exception: HighCostException, noted_on: date, text: str, actor) -> HighCostExceptionNote:
    """A dated note of the review or of a conversation with the provider."""
    require_role(actor, EXCEPTION_WORKERS, "work high-cost exceptions")
    exception = HighCostException.objects.select_related("case").get(pk=exception.pk)
    if exception.status == ExceptionStatus.CLOSED:
        raise DomainError(f"{exception.reference} is closed: notes can no longer be added")
    if not text.strip():
        raise DomainError("Enter the note", field="text")
    if noted_on > timezone.localdate():
        raise DomainError("The date of the note cannot be in the future", field="noted_on")
    note = HighCostExceptionNote.objects.create(exception=exception, noted_on=noted_on, text=text.strip(),
                                                added_by=actor)
    _case_entry(exception, "provider.exception.note", f"{exception.reference}: note of {noted_on:%d %B %Y}", actor,
                kind=TimelineKind.NOTE, body=text.strip(), new={"note": note.pk})
    return note


@transaction.atomic
def exception_transition(*, exception: HighCostException, to_status: str, actor, review: str = "",
                         alternative: str = "", proposed_weekly_cost: Decimal | None = None, outcome: str = "",
                         new_weekly_cost: Decimal | None = None, saving_from: date | None = None,
                         no_saving_reason: NoSavingReason | None = None, note: str = "") -> HighCostException:
    """The one way an exception changes status.

    - open → under review: the actor takes it (and the case).
    - under review → negotiating: needs the review's findings and the alternative proposed.
    - under review or negotiating → closed: needs the review, and the outcome: a saving (the new
      cost a week, below the cost challenged, and the date it starts) or no saving with a reason.
    Every move is written on the client's high-cost exception case and moves that case too.
    """
    require_role(actor, EXCEPTION_WORKERS, "work high-cost exceptions")
    exception = (HighCostException.objects.select_for_update(of=("self",))
                 .select_related("case", "package", "package__client").get(pk=exception.pk))
    if exception.status == to_status:
        return exception
    if to_status not in ExceptionStatus.values or not exception.can_transition_to(to_status):
        raise refuse_transition("Exception", exception.reference, exception.get_status_display(),
                                ExceptionStatus(to_status).label if to_status in ExceptionStatus.values else to_status)
    fields = ["status"]
    if review.strip():
        exception.review = review.strip()
        fields.append("review")
    if to_status == ExceptionStatus.UNDER_REVIEW:
        exception.reviewed_by = actor
        fields.append("reviewed_by")
    if to_status == ExceptionStatus.NEGOTIATING:
        if not exception.review:
            raise DomainError("Record what the review found", field="review")
        if not alternative.strip():
            raise DomainError("Describe the alternative proposed to the provider", field="alternative")
        exception.alternative = alternative.strip()
        fields.append("alternative")
        if proposed_weekly_cost is not None:
            exception.proposed_weekly_cost = _pennies(proposed_weekly_cost, "proposed_weekly_cost")
            fields.append("proposed_weekly_cost")
    if to_status == ExceptionStatus.CLOSED:
        fields += _close(exception, outcome=outcome, new_weekly_cost=new_weekly_cost, saving_from=saving_from,
                         reason=no_saving_reason, note=note, actor=actor)
    old = exception.status
    exception.status = to_status
    exception.save(update_fields=fields)
    summary = f"{exception.reference} {ExceptionStatus(to_status).label.lower()}"
    if to_status == ExceptionStatus.CLOSED:
        summary += (f": saving of {format_pounds(exception.weekly_saving)} a week "
                    f"({format_pounds(exception.full_year_saving)} over the year)"
                    if exception.outcome == ExceptionOutcome.SAVING else f": no saving ({exception.no_saving_reason})")
    _case_entry(exception, "provider.exception.status", summary, actor, kind=TimelineKind.STATUS,
                body="\n".join(x for x in (review.strip(), alternative.strip(), note.strip()) if x),
                old={"status": old}, new={"status": to_status, "outcome": exception.outcome or None})
    if to_status == ExceptionStatus.UNDER_REVIEW:
        if exception.case.assigned_officer_id != actor.pk:
            case_assign(case=exception.case, officer=actor, actor=actor)
        _move_case(exception, CaseStatus.IN_PROGRESS, actor)
    elif to_status == ExceptionStatus.NEGOTIATING:
        _move_case(exception, CaseStatus.AWAITING_RESPONSE, actor)
    else:
        _move_case(exception, CaseStatus.CLOSED, actor, reason=summary)
    return exception


def _close(exception: HighCostException, *, outcome: str, new_weekly_cost, saving_from, reason, note: str,
           actor) -> list[str]:
    if not exception.review:
        raise DomainError("Record what the review found", field="review")
    if outcome == ExceptionOutcome.SAVING:
        if new_weekly_cost is None:
            raise DomainError("Enter the new cost a week agreed", field="new_weekly_cost")
        new_weekly_cost = _pennies(new_weekly_cost, "new_weekly_cost")
        if new_weekly_cost < 0 or new_weekly_cost >= exception.weekly_cost:
            raise DomainError(f"The new cost a week must be below the {format_pounds(exception.weekly_cost)} "
                              f"challenged (record no saving otherwise)", field="new_weekly_cost")
        if saving_from is None:
            raise DomainError("Enter the date the new cost starts", field="saving_from")
        ends = _package_ends(exception.package)
        if ends is not None and saving_from > ends:
            raise DomainError(f"The saving cannot start after the package ends ({ends:%d %B %Y})", field="saving_from")
        weekly, days, full_year = savings(exception.weekly_cost, new_weekly_cost, saving_from, ends)
        exception.new_weekly_cost, exception.saving_from, exception.saving_days = new_weekly_cost, saving_from, days
        exception.weekly_saving, exception.full_year_saving, exception.no_saving_reason = weekly, full_year, None
    elif outcome == ExceptionOutcome.NO_SAVING:
        if reason is None or not reason.active:
            raise DomainError("Choose why there was no saving", field="no_saving_reason")
        exception.no_saving_reason = reason
        exception.new_weekly_cost = exception.saving_from = exception.saving_days = None
        exception.weekly_saving = exception.full_year_saving = None
    else:
        raise DomainError("Choose the outcome: a saving, or no saving", field="outcome")
    exception.outcome, exception.outcome_note = outcome, note.strip()
    exception.closed_by, exception.closed_on = actor, timezone.localdate()
    return ["outcome", "new_weekly_cost", "saving_from", "saving_days", "weekly_saving", "full_year_saving",
            "no_saving_reason", "outcome_note", "closed_by", "closed_on"]


# ---------------------------------------------------------------- the nightly run


def plan_detection(business_date: date) -> list[str]:
    """Every live package (provisional or approved, not ended before the business date)."""
    ids = (CarePackage.objects.filter(status__in=LIVE_STATUSES)
           .filter(Q(end_date__isnull=True) | Q(end_date__gte=business_date)).order_by("pk").values_list("pk", flat=True))
    return [f"package:{pk}" for pk in ids]


# ---------------------------------------------------------------- reports


@dataclass
class SavingsRow:
    label: str
    closed: int = 0
    with_saving: int = 0
    weekly_saving: Decimal = ZERO
    full_year_saving: Decimal = ZERO


def _closed_between(start: date, end: date):
    return HighCostException.objects.filter(status=ExceptionStatus.CLOSED, closed_on__gte=start, closed_on__lte=end)


def _totals():
    return {"closed": Count("id"), "with_saving": Count("id", filter=Q(outcome=ExceptionOutcome.SAVING)),
            "weekly": Sum("weekly_saving"), "full_year": Sum("full_year_saving")}


def savings_by_month(start: date, end: date) -> list[SavingsRow]:
    """Exceptions closed between two dates (inclusive), by the month they closed: every month of
    the period, including those with nothing closed."""
    found = {r["month"]: r for r in _closed_between(start, end).annotate(month=TruncMonth("closed_on"))
             .values("month").annotate(**_totals()).order_by("month")}
    rows, month = [], start.replace(day=1)
    while month <= end:
        r = found.get(month, {})
        rows.append(SavingsRow(f"{month:%B %Y}", r.get("closed", 0), r.get("with_saving", 0),
                               to_pennies(r.get("weekly") or ZERO), to_pennies(r.get("full_year") or ZERO)))
        month = (month + timedelta(days=32)).replace(day=1)
    return rows


def savings_by_reason(start: date, end: date) -> list[SavingsRow]:
    """Exceptions closed between two dates: those with a saving, then each no-saving reason."""
    closed = _closed_between(start, end)
    saved = closed.filter(outcome=ExceptionOutcome.SAVING).aggregate(**_totals())
    rows = [SavingsRow(ExceptionOutcome.SAVING.label, saved["closed"], saved["with_saving"],
                       to_pennies(saved["weekly"] or ZERO), to_pennies(saved["full_year"] or ZERO))]
    for r in (closed.filter(outcome=ExceptionOutcome.NO_SAVING).values("no_saving_reason__name")
              .annotate(n=Count("id")).order_by("no_saving_reason__name")):
        rows.append(SavingsRow(f"No saving: {r['no_saving_reason__name']}", r["n"]))
    return rows
