"""The nightly high-cost exception check, registered with the runs engine from apps.py.

Each live package is one item: detection is idempotent (one open exception per package, one
trigger per rule), so a second run for the same day, a retried item or a resumed run adds nothing.
"""
from casework.runs.registry import Job, register_job
from casework.services.system import system_user

JOB_CODE = "high_cost_exceptions"


def _prepare(run, subjects):
    from .models import CarePackage
    from .services.rates import RateBook

    ids = [int(s.split(":", 1)[1]) for s in subjects]
    providers = set(CarePackage.objects.filter(pk__in=ids).values_list("provider_id", flat=True))
    return {"book": RateBook.for_providers(providers)}


def _process(run, item, prepared: dict) -> str:
    from casework.runs.registry import Skip

    from .models import CarePackage
    from .services.exceptions import exceptions_detect_for_package

    package = CarePackage.objects.filter(pk=int(item.subject.split(":", 1)[1])).first()
    if package is None:
        raise Skip("The package no longer exists")
    triggers = exceptions_detect_for_package(package=package, actor=run.started_by or system_user(),
                                             on=run.business_date, book=prepared.get("book"))
    if not triggers:
        return "No new exception"
    return f"{triggers[0].exception.reference}: " + ", ".join(t.get_rule_display().lower() for t in triggers)


def _plan(business_date):
    from .services.exceptions import plan_detection

    return plan_detection(business_date)


register_job(Job(
    code=JOB_CODE,
    name="High-cost exception check",
    description="Checks every live care package against the guide prices, contract status, urgent placements, "
                "increases and extra support in residential care, and raises exceptions for resource management "
                "officers to challenge. Running it again adds nothing.",
    plan=_plan,
    prepare=_prepare,
    process=_process,
    chunk_size=100,
    # 02:30 London time every night.
    schedule={"minute": "30", "hour": "2", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
))
