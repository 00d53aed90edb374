"""Demo data for high-cost exceptions: guide prices, a provider not on contract, an urgent
placement, and the demo packages' exceptions at each stage of the challenge. Runs after the
provider payments seeder; idempotent: nothing is added a second time."""
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from casework.models import Area

from .constants import PackageStatus
from .models import CarePackage, ExceptionOutcome, ExceptionStatus, GuidePrice, HighCostException, Provider, ServiceType
from .services.exceptions import (
    exception_add_note,
    exception_transition,
    exceptions_detect_for_package,
    guide_price_add,
    provider_contract_add,
    urgent_placement_record,
)

#: Guide prices per unit for all areas from April 2025 (an administrator corrects them).
GUIDE_PRICES = {"homecare": "24.50", "daycare": "45.00", "supported_living": "23.00", "sleep_in": "110.00",
                "residential": "850.00", "nursing": "950.00"}


def seed_high_cost_exceptions(users: dict, stdout) -> None:
    if GuidePrice.objects.exists() or HighCostException.objects.exists():
        stdout.write("Demo guide prices already present: not adding high-cost exceptions.")
        return
    admin, officer = users["financeadmin"], users["resource"]
    for code, price in GUIDE_PRICES.items():
        guide_price_add(service_type=ServiceType.objects.get(code=code), price=Decimal(price),
                        effective_from=date(2025, 4, 1), actor=admin)
    area = Area.objects.order_by("name").first()
    if area is not None:
        guide_price_add(service_type=ServiceType.objects.get(code="homecare"), area=area, price=Decimal("26.00"),
                        effective_from=date(2025, 4, 1), actor=admin)
    spot = Provider.objects.filter(supplier_number="SUP20002").first()
    if spot is not None:
        provider_contract_add(provider=spot, contracted=False, effective_from=date(2025, 4, 1), actor=admin,
                              note="Spot purchase: not on the supported living framework")
    packages = list(CarePackage.objects.filter(status=PackageStatus.APPROVED, provider__supplier_number__in=[
        "SUP20001", "SUP20002", "SUP20003"]).select_related("service_type").order_by("pk"))
    if not packages:
        stdout.write("No demo care packages: no high-cost exceptions added.")
        return
    today = timezone.localdate()
    for package in packages:
        if package.service_type.code == "residential":
            urgent_placement_record(package=package, reason="Hospital discharge at the weekend", actor=officer)
        else:
            exceptions_detect_for_package(package=package, actor=officer, on=today)
    first = {"residential": 0, "supported_living": 1}
    exceptions = sorted(HighCostException.objects.open().select_related("package__service_type"),
                        key=lambda e: (first.get(e.package.service_type.code, 2), e.pk))
    # Residential first: closed with a saving; then negotiating, under review, and the rest left open.
    stages = [_close_with_saving, _negotiating, _under_review]
    for exception, stage in zip(exceptions, stages):
        stage(exception, officer, today)
    stdout.write(f"Seeded {len(GUIDE_PRICES)} guide prices and {len(exceptions)} high-cost exceptions.")


def _under_review(exception, officer, today) -> None:
    exception_transition(exception=exception, to_status=ExceptionStatus.UNDER_REVIEW, actor=officer,
                         review="Support plan asked for; checking the hours against the assessment.")


def _negotiating(exception, officer, today) -> None:
    _under_review(exception, officer, today)
    exception_add_note(exception=exception, noted_on=today - timedelta(days=3), actor=officer,
                       text="Assessment supports 30 hours a week, not 35.")
    exception_transition(exception=exception, to_status=ExceptionStatus.NEGOTIATING, actor=officer,
                         review="Assessed need is 30 hours a week of supported living.",
                         alternative="Reduce to 30 hours a week at the framework rate.",
                         proposed_weekly_cost=Decimal("690.00"))
    exception_add_note(exception=exception, noted_on=today - timedelta(days=1), actor=officer,
                       text="Provider's manager will reply by Friday after talking to the staff team.")


def _close_with_saving(exception, officer, today) -> None:
    _under_review(exception, officer, today)
    exception_add_note(exception=exception, noted_on=today, actor=officer,
                       text="Care home agreed the usual weekly fee plus a small premium for the room.")
    exception_transition(exception=exception, to_status=ExceptionStatus.CLOSED, actor=officer,
                         review="Urgent weekend placement; the home's usual fee is below what was agreed on the day.",
                         outcome=ExceptionOutcome.SAVING,
                         new_weekly_cost=exception.weekly_cost - Decimal("22.50"), saving_from=today,
                         note="New fee confirmed in writing.")
