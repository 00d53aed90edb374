"""Access-matrix rows for the estate case pages (debt/estates_urls.py) and the estate cases API."""
from casework.roles import READERS, Role

ESTATE_WORKERS = frozenset({Role.RESOURCE_MANAGEMENT_OFFICER, Role.TEAM_LEADER})
API_READERS = READERS | {Role.SYSTEM_ACCOUNT}

MATRIX: dict = {
    "debt:estate_list": (READERS, "GET", "page"),
    "debt:estate_queue": (READERS, "GET", "page"),
    "debt:estate_open": (ESTATE_WORKERS, "GET", "page"),
    "debt:estate_detail": (READERS, "GET", "page"),
    "debt:estate_details": (ESTATE_WORKERS, "GET", "page"),
    "debt:estate_probate": (ESTATE_WORKERS, "GET", "page"),
    "debt:estate_claim": (ESTATE_WORKERS, "GET", "page"),
    "debt:estate_follow_up": (ESTATE_WORKERS, "GET", "page"),
    "debt:estate_outcome": (ESTATE_WORKERS, "GET", "page"),
    "api:estatecase-list": (API_READERS, "GET", "api"),
    "api:estatecase-detail": (API_READERS, "GET", "api"),
}


def make_objects(base: dict) -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from casework.constants import CaseType
    from debt.models import EstateCase
    from tests.factories import CaseFactory, ClientFactory, UserFactory

    client = ClientFactory(deceased=True)
    case = CaseFactory(client=client, case_type=CaseType.DECEASED_ESTATE)
    estate = EstateCase.objects.create(case=case, date_of_death=client.date_of_death, opened_by=UserFactory(),
                                       opened_on=timezone.localdate(),
                                       next_follow_up_on=timezone.localdate() + timedelta(days=28))
    return {"estate": estate, "estate_client": client}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name.startswith("api:estatecase-"):
        return {"pk": objects["estate"].pk} if name.endswith("-detail") else {}
    short = name.removeprefix("debt:")
    if short in ("estate_list", "estate_queue"):
        return {}
    if short == "estate_open":
        return {"client_pk": objects["estate_client"].pk}
    if short.startswith("estate_"):
        return {"pk": objects["estate"].pk}
    return None
