"""The direct payment queues, each defined once and used by its page, its export and the dashboard."""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Max, Q, QuerySet, Sum

from casework.money import ZERO, to_pennies

from .constants import OPEN_AUDIT_STATUSES, AgreementStatus, AuditStatus, Outcome, RecoveryStatus, Risk
from .models import Agreement, Audit, Policy, Recovery


def next_audit_due(agreement: Agreement, last_completed_end: date | None, policy: Policy | None) -> date:
    """The first audit falls `first_audit_weeks` after the start; later ones `audit_interval_months`
    after the end of the last completed audit's period (the policy's shorter interval for higher risk)."""
    if last_completed_end is None:
        return agreement.start_date + timedelta(weeks=agreement.first_audit_weeks)
    months = agreement.audit_interval_months
    if agreement.risk == Risk.HIGHER and policy is not None:
        months = min(months, policy.higher_risk_interval_months)
    return last_completed_end + relativedelta(months=months)


@dataclass
class DueAudit:
    agreement: Agreement
    due_on: date
    overdue: bool


def audits_due(on: date, *, within_days: int = 28) -> list[DueAudit]:
    """Live agreements with no audit open whose next audit falls due within `within_days` of
    `on` (overdue when the date has passed), soonest first."""
    policy = Policy.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    agreements = (Agreement.objects.exclude(status=AgreementStatus.ENDED).select_related("client", "team")
                  .annotate(open_audits=Count("audits", filter=Q(audits__status__in=OPEN_AUDIT_STATUSES)),
                            last_end=Max("audits__period_end", filter=Q(audits__status=AuditStatus.COMPLETED))))
    due = []
    for agreement in agreements:
        if agreement.open_audits:
            continue
        when = next_audit_due(agreement, agreement.last_end, policy)
        if when <= on + timedelta(days=within_days):
            due.append(DueAudit(agreement, when, when < on))
    return sorted(due, key=lambda d: (d.due_on, d.agreement.pk))


def open_audits() -> QuerySet:
    return Audit.objects.select_related("agreement__client", "agreement__team", "officer")


def repeated_issues(min_audits: int) -> QuerySet:
    """Agreements with at least `min_audits` completed audits whose outcome was not satisfactory."""
    return (Agreement.objects.select_related("client", "team")
            .annotate(issues=Count("audits", filter=Q(audits__status=AuditStatus.COMPLETED) &
                                   ~Q(audits__outcome__in=[Outcome.SATISFACTORY]))).filter(issues__gte=min_audits)
            .order_by("-issues", "pk"))


def approved_recoveries(start: date, end: date) -> QuerySet:
    """Recoveries approved between the dates (inclusive)."""
    return (Recovery.objects.filter(status=RecoveryStatus.APPROVED, decided_at__date__range=(start, end))
            .select_related("audit__agreement__client", "audit__agreement__team", "invoice"))


def recovered_by_team(start: date, end: date) -> list[dict]:
    rows = (approved_recoveries(start, end).values("audit__agreement__team__name", "route")
            .annotate(total=Sum("amount"), count=Count("id")).order_by("audit__agreement__team__name", "route"))
    return [{"team": r["audit__agreement__team__name"], "route": r["route"], "count": r["count"],
             "total": to_pennies(r["total"] or ZERO)} for r in rows]


def total(rows: list[dict]) -> Decimal:
    return to_pennies(sum((r["total"] for r in rows), ZERO))
