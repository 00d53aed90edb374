"""Registrations for estate cases; debt/apps.py calls ready(). Safe to call more than once."""
from casework.roles import Role

#: Who works estate cases: opens them, records probate and follow-ups, sends claims, records outcomes.
ESTATE_WORKERS = frozenset({Role.RESOURCE_MANAGEMENT_OFFICER, Role.TEAM_LEADER})
_DONE = False


def case_estate_panel(case, request) -> dict | None:
    """On a deceased estate case's page: a link to its estate details, or to open them."""
    from casework.constants import CaseType
    from casework.roles import has_any_role

    from .models import EstateCase

    if case.case_type != CaseType.DECEASED_ESTATE:
        return None
    estate = EstateCase.objects.filter(case=case).first()
    return {"title": "Estate", "template": "debt/estates/case_panel.html",
            "context": {"case": case, "estate": estate, "can_work": has_any_role(request.user, ESTATE_WORKERS)}}


def client_estate_panel(client, request) -> dict | None:
    """On a deceased client's page: their estate cases and a link to open one."""
    from casework.roles import has_any_role

    from .models import EstateCase

    estates = list(EstateCase.objects.filter(case__client=client).order_by("-pk")[:5])
    if not estates and not client.is_deceased:
        return None
    return {"title": "Estate cases", "template": "debt/estates/client_panel.html",
            "context": {"client": client, "estates": estates,
                        "can_open": client.is_deceased and has_any_role(request.user, ESTATE_WORKERS)
                        and not any(e.stage != "closed" for e in estates)}}


def ready() -> None:
    global _DONE
    if _DONE:
        return
    from casework.api.registry import register_api_routes
    from casework.deaths.registry import register_death_handler
    from casework.demo import register_demo_seeder
    from casework.navigation import register_nav_item
    from casework.panels import register_case_panel, register_client_panel

    from . import estates, estates_deaths  # noqa: F401 (registers the claim letter)
    from .api.estates import router
    from .estates_demo import seed_estates

    register_death_handler(kind=estates_deaths.KIND, label=estates_deaths.LABEL, propose=estates_deaths.propose,
                           apply=estates_deaths.apply, reverse=estates_deaths.reverse, order=60)
    register_nav_item(label="Estates", url_name="debt:estate_list", roles=ESTATE_WORKERS, order=42)
    register_case_panel(case_estate_panel)
    register_client_panel(client_estate_panel)
    register_demo_seeder(seed_estates, order=70)
    register_api_routes(router.registry)
    _DONE = True
