"""Access-matrix rows for deaths: the confirmation, detail, reversal and list pages, and the API."""
from casework.deaths.roles import DEATH_CONFIRMERS, DEATH_REVERSERS, DEATH_VIEWERS
from casework.roles import READERS, Role

API_READERS = READERS | {Role.SYSTEM_ACCOUNT}

MATRIX: dict = {
    "casework:death_list": (DEATH_VIEWERS, "GET", "page"),
    "casework:death_detail": (DEATH_VIEWERS, "GET", "page"),
    "casework:death_confirm": (DEATH_CONFIRMERS, "GET", "page"),
    "casework:death_reverse": (DEATH_REVERSERS, "GET", "page"),
    "api:death-list": (API_READERS, "GET", "api"),
    "api:death-detail": (API_READERS, "GET", "api"),
}


def make_objects(base: dict) -> dict:
    from datetime import date

    from casework.models.deaths import DeathRecord
    from tests.factories import ClientFactory, UserFactory

    # A death of its own client, so the shared client stays alive for the other pages.
    death = DeathRecord.objects.create(client=ClientFactory(), date_of_death=date(2026, 3, 11), source="registrar",
                                       verified=True, recorded_by=UserFactory(username="matrix-death-recorder"))
    return {"death": death}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name not in MATRIX:
        return None
    if name in ("casework:death_list", "api:death-list"):
        return {}
    return {"pk": objects["death"].pk}
