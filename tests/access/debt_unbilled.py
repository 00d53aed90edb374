"""Access-matrix rows for the unbilled provision queues (debt/unbilled_urls.py)."""
from casework.roles import Role

MATRIX: dict = {
    "debt:unbilled": (frozenset({Role.INCOME_OFFICER, Role.RESOURCE_MANAGEMENT_OFFICER, Role.PROVIDER_PAYMENT_OFFICER,
                                 Role.TEAM_LEADER, Role.AUDITOR}), "GET", "page"),
}


def make_objects(base: dict) -> dict:
    return {}


def url_kwargs(name: str, objects: dict) -> dict | None:
    return {} if name in MATRIX else None
