"""Access-matrix rows for the high-cost exception pages (provider_payments/urls.py, exceptions/)
and their API collection."""
from casework.roles import READERS, Role

WORKERS = frozenset({Role.RESOURCE_MANAGEMENT_OFFICER, Role.TEAM_LEADER})
VIEWERS = WORKERS | {Role.AUDITOR}
ADMINS = frozenset({Role.FINANCE_ADMINISTRATOR})
API_READERS = READERS | {Role.SYSTEM_ACCOUNT}

PAGES = {
    "exception_list": (VIEWERS, "GET"), "exception_report": (VIEWERS, "GET"),
    "exception_settings": (VIEWERS | ADMINS, "GET"), "guide_price_add": (ADMINS, "GET"),
    "provider_contract_add": (ADMINS, "GET"), "no_saving_reason_add": (ADMINS, "GET"),
    "exception_detail": (VIEWERS, "GET"), "exception_review": (WORKERS, "GET"),
    "exception_negotiate": (WORKERS, "GET"), "exception_close": (WORKERS, "GET"), "exception_note": (WORKERS, "GET"),
    "urgent_placement_record": (WORKERS | {Role.PROVIDER_PAYMENT_OFFICER}, "GET"),
    "package_check": (WORKERS, "POST"),
}

MATRIX: dict = {
    **{f"provider_payments:{name}": (roles, method, "page") for name, (roles, method) in PAGES.items()},
    **{f"api:highcostexception-{view}": (API_READERS, "GET", "api") for view in ("list", "detail")},
}
OBJECT_FOR = {"exception_detail", "exception_review", "exception_negotiate", "exception_close", "exception_note",
              "highcostexception-detail"}
PACKAGE_FOR = {"urgent_placement_record", "package_check"}


def make_objects(base: dict) -> dict:
    from datetime import date
    from decimal import Decimal

    from provider_payments.models import GuidePrice
    from provider_payments.services.exceptions import exceptions_detect_for_package
    from tests.factories import ClientFactory
    from tests.factories_provider import CarePackageFactory, ProviderFactory, RateFactory, officer, service

    provider = ProviderFactory()
    RateFactory(provider=provider)
    GuidePrice.objects.get_or_create(service_type=service("homecare"), area=None, effective_from=date(2026, 1, 1),
                                     defaults={"price": Decimal("20.00")})
    package = CarePackageFactory(provider=provider, client=ClientFactory(reference="SC710001"))
    trigger = exceptions_detect_for_package(package=package, actor=officer(), on=date(2026, 3, 2))[0]
    return {"hce_exception": trigger.exception, "hce_package": package}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name not in MATRIX:
        return None
    short = name.split(":", 1)[1]
    if short in OBJECT_FOR:
        return {"pk": objects["hce_exception"].pk}
    if short in PACKAGE_FOR:
        return {"pk": objects["hce_package"].pk}
    return {}
