"""The annual uplift (PP-03): a cohort of rates, a percentage or a new rate, an effective date and
a rounding rule. Preview every rate before and after with the weekly cost impact on current
packages; a team leader approves; applying adds the new rates in one transaction; reversible until
a payment run is prepared after it was applied."""
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

from django.db import transaction
from django.utils import timezone

from casework.models import ControlAction
from casework.money import ZERO, format_pounds, to_pennies
from casework.roles import Role
from casework.services import DomainError
from casework.services.controls import money_action_record, require_other_person

from ..constants import Rounding, UpliftMethod, UpliftStatus
from ..models import CarePackage, PaymentRun, Rate, Uplift
from .common import event, refuse_transition, require_role
from .rates import RateBook, rate_add

UPLIFT_APPROVERS = frozenset({Role.TEAM_LEADER})


def round_rate(value: Decimal, rule: str) -> Decimal:
    if rule == Rounding.UP:
        return value.quantize(Decimal("0.01"), rounding=ROUND_UP)
    if rule == Rounding.DOWN:
        return value.quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    if rule == Rounding.UP_5P:
        return (value * 20).to_integral_value(rounding=ROUND_CEILING) / 20
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class PreviewRow:
    rate: Rate
    before: Decimal
    after: Decimal
    packages: int
    weekly_before: Decimal
    weekly_after: Decimal

    @property
    def weekly_change(self) -> Decimal:
        return self.weekly_after - self.weekly_before


def new_rate_for(uplift: Uplift, before: Decimal) -> Decimal:
    if uplift.method == UpliftMethod.NEW_RATE:
        return to_pennies(uplift.new_rate)
    return round_rate(before * (1 + uplift.percentage / 100), uplift.rounding)


def cohort(uplift: Uplift) -> list[Rate]:
    """The rate in force the day before the uplift for every provider, service and band in the cohort."""
    rates = Rate.objects.live().filter(effective_from__lt=uplift.effective_from).select_related(
        "provider", "service_type", "band")
    for name in ("providers", "service_types", "bands"):
        chosen = list(getattr(uplift, name).values_list("pk", flat=True))
        if chosen:
            rates = rates.filter(**{f"{name[:-1]}_id__in": chosen})
    latest: dict[tuple, Rate] = {}
    for rate in rates.order_by("effective_from", "pk"):
        latest[(rate.provider_id, rate.service_type_id, rate.band_id)] = rate
    return sorted(latest.values(), key=lambda r: (r.provider.name, r.service_type.name, r.band.name))


def uplift_preview(uplift: Uplift) -> dict:
    rows = []
    rates = cohort(uplift)
    packages: dict[tuple, list] = {}
    for p in CarePackage.objects.commissioned_on(uplift.effective_from).filter(
            agreed_rate__isnull=True, provider_id__in={r.provider_id for r in rates}):
        packages.setdefault((p.provider_id, p.service_type_id, p.band_id), []).append(p)
    for rate in rates:
        after = new_rate_for(uplift, rate.rate)
        current = packages.get((rate.provider_id, rate.service_type_id, rate.band_id), [])
        units = sum((p.units_per_week for p in current), ZERO)
        rows.append(PreviewRow(rate, rate.rate, after, len(current), to_pennies(units * rate.rate),
                               to_pennies(units * after)))
    before = to_pennies(sum((r.weekly_before for r in rows), ZERO))
    after = to_pennies(sum((r.weekly_after for r in rows), ZERO))
    return {"rows": rows, "weekly_before": before, "weekly_after": after, "weekly_change": after - before,
            "rates": len(rows), "packages": sum(r.packages for r in rows)}


@transaction.atomic
def uplift_create(*, name: str, effective_from, method: str, actor, percentage: Decimal | None = None,
                  new_rate: Decimal | None = None, rounding: str = Rounding.HALF_UP, providers=(), service_types=(),
                  bands=()) -> Uplift:
    if not name.strip():
        raise DomainError("Name the uplift", field="name")
    if method == UpliftMethod.PERCENTAGE and (percentage is None or percentage <= -100):
        raise DomainError("Enter the percentage", field="percentage")
    if method == UpliftMethod.NEW_RATE and (new_rate is None or new_rate <= 0):
        raise DomainError("Enter the new rate", field="new_rate")
    if method not in UpliftMethod.values:
        raise DomainError("Choose a percentage or a new rate", field="method")
    uplift = Uplift.objects.create(name=name.strip(), effective_from=effective_from, method=method,
                                   percentage=percentage if method == UpliftMethod.PERCENTAGE else None,
                                   new_rate=new_rate if method == UpliftMethod.NEW_RATE else None,
                                   rounding=rounding, created_by=actor)
    uplift.providers.set(providers)
    uplift.service_types.set(service_types)
    uplift.bands.set(bands)
    return uplift


@transaction.atomic
def uplift_transition(*, uplift: Uplift, to_status: str, actor, reason: str = "") -> Uplift:
    """The one way an uplift changes status: approve (a team leader other than its author), apply
    (every new rate in this transaction, or none), reverse (withdraw its rates, only while no
    payment run has been prepared since it was applied), cancel."""
    uplift = Uplift.objects.select_for_update().get(pk=uplift.pk)
    if uplift.status == to_status:
        return uplift
    if not uplift.can_transition_to(to_status):
        raise refuse_transition("Uplift", uplift.name, uplift.get_status_display(), UpliftStatus(to_status).label)
    fields = ["status"]
    made = 0
    if to_status == UpliftStatus.APPROVED:
        require_role(actor, UPLIFT_APPROVERS, "approve uplifts")
        require_other_person(actor, uplift.created_by_id,
                             action="approve the uplift you made: another team leader approves it")
        uplift.approved_by = actor
        fields.append("approved_by")
    elif to_status == UpliftStatus.APPLIED:
        require_role(actor, UPLIFT_APPROVERS, "apply uplifts")
        weekly_change = uplift_preview(uplift)["weekly_change"]
        for rate in cohort(uplift):
            rate_add(provider=rate.provider, service_type=rate.service_type, band=rate.band,
                     rate=new_rate_for(uplift, rate.rate), effective_from=uplift.effective_from, actor=actor,
                     reason=f"Uplift: {uplift.name}", uplift=uplift)
            made += 1
        uplift.applied_at = timezone.now()
        fields.append("applied_at")
        approval = uplift.history.filter(status=UpliftStatus.APPROVED).order_by("history_date").first()
        money_action_record(action=ControlAction.UPLIFT, amount=weekly_change, subject=f"Uplift {uplift.name}",
                            reference=f"Uplift {uplift.pk}",
                            summary=f"Uplift '{uplift.name}' applied: {made} rates from {uplift.effective_from:%d %B %Y}, "
                                    f"{format_pounds(weekly_change)} a week on current packages",
                            maker=uplift.created_by, made_at=uplift.created_at, checker=uplift.approved_by,
                            checked_at=approval.history_date if approval else None)
    elif to_status == UpliftStatus.REVERSED:
        require_role(actor, UPLIFT_APPROVERS, "reverse uplifts")
        if not reason.strip():
            raise DomainError("Give the reason for reversing the uplift", field="reason")
        if PaymentRun.objects.filter(run__created_at__gte=uplift.applied_at).exists():
            raise DomainError("A payment run has been prepared since the uplift was applied: it can no longer be "
                              "reversed (add new rates instead)")
        made = uplift.rates.filter(withdrawn_at__isnull=True).update(withdrawn_at=timezone.now(), withdrawn_by=actor)
    old = uplift.status
    uplift.status = to_status
    uplift._change_reason = reason
    uplift.save(update_fields=fields)
    providers = {r.provider for r in uplift.rates.select_related("provider")}
    for provider in providers:
        event(provider, f"provider.uplift.{to_status}", f"Uplift '{uplift.name}' {UpliftStatus(to_status).label.lower()}",
              actor, old={"status": old}, new={"status": to_status, "rates": made})
    return uplift


__all__ = ["RateBook", "uplift_create", "uplift_preview", "uplift_transition"]
