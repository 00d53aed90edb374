"""Access-matrix rows for the financial affairs pages (casework/affairs)."""
from casework.affairs.roles import AFFAIRS_READERS, AFFAIRS_WORKERS, CAPACITY_READERS, CAPACITY_RECORDERS

MATRIX: dict = {
    "casework:affairs_list": (AFFAIRS_READERS, "GET", "page"),
    "casework:affairs_detail": (AFFAIRS_READERS, "GET", "page"),
    "casework:affairs_step": (AFFAIRS_WORKERS, "GET", "page"),
    "casework:affairs_costs": (AFFAIRS_WORKERS, "GET", "page"),
    "casework:affairs_status": (AFFAIRS_WORKERS, "GET", "page"),
    "casework:affairs_client": (CAPACITY_READERS, "GET", "page"),
    "casework:affairs_start": (AFFAIRS_WORKERS, "GET", "page"),
    "casework:capacity_record": (CAPACITY_RECORDERS, "GET", "page"),
}


def make_objects(base: dict) -> dict:
    from casework.affairs.services import affairs_start
    from casework.models import AffairsKind, Team
    from tests.factories import ClientFactory, UserFactory

    actor = UserFactory(username="matrix-affairs")
    team = Team.objects.get_or_create(name="Resource management")[0]
    appointee = affairs_start(client=ClientFactory(), kind=AffairsKind.APPOINTEESHIP, title="Matrix",
                              team=team, actor=actor)
    protection = affairs_start(client=ClientFactory(), kind=AffairsKind.PROTECTION_OF_PROPERTY, title="Matrix",
                               team=team, actor=actor)
    return {"affairs": appointee, "affairs_property": protection}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name not in MATRIX:
        return None
    short = name.removeprefix("casework:")
    if short == "affairs_list":
        return {}
    if short == "affairs_step":
        return {"pk": objects["affairs"].pk, "code": "referral"}
    if short == "affairs_costs":
        return {"pk": objects["affairs_property"].pk}
    if short in ("affairs_client", "affairs_start", "capacity_record"):
        return {"pk": objects["client"].pk}
    return {"pk": objects["affairs"].pk}
