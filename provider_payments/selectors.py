"""Reads shared by pages, exports, the API and the income app's cap."""
from datetime import date
from decimal import Decimal

from django.db.models import Q, Sum

from casework.money import ZERO, to_pennies

from .constants import ClaimStatus, LineResult, OverpaymentStatus
from .models import Claim, ClaimLine, Overpayment, ServiceType


def claims_to_approve():
    """Claims validated and waiting for an officer's approval (the officer's work queue)."""
    return Claim.objects.filter(status=ClaimStatus.VALIDATED).select_related("provider").order_by("imported_at")


def actual_weekly_cost(client, service, date_from: date, date_to: date) -> Decimal | None:
    """The weekly cost of the care a client actually received over the dates, from validated claims
    that an officer approved (or that were paid) and that cover the dates whole, for the income
    app's cap on a non-residential charge. None when no such claim covers them (no cap yet).

    `service` is the income app's chargeable service (or its id); provider service types name it in
    `charging_service_code`.
    """
    from debt.models import ChargeableService

    service_id = getattr(service, "pk", service)
    code = ChargeableService.objects.filter(pk=service_id).values_list("code", flat=True).first()
    types = list(ServiceType.objects.filter(charging_service_code=code).values_list("pk", flat=True)) if code else []
    if not types:
        return None
    covering = Claim.objects.filter(status__in=[ClaimStatus.APPROVED, ClaimStatus.PAID], period_start__lte=date_from,
                                    period_end__gte=date_to).filter(
        provider__packages__client=client, provider__packages__service_type_id__in=types).distinct()
    if not covering.exists():
        return None
    total = ClaimLine.objects.filter(claim__in=covering, client=client, service_type_id__in=types,
                                     service_date__gte=date_from, service_date__lte=date_to).exclude(
        result=LineResult.REJECTED).aggregate(t=Sum("payable_amount"))["t"] or ZERO
    days = (date_to - date_from).days + 1
    return to_pennies(total * 7 / days)


def overpayments_outstanding():
    return Overpayment.objects.filter(Q(status=OverpaymentStatus.IDENTIFIED) | Q(status=OverpaymentStatus.APPROVED))
