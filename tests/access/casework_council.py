"""Access-matrix row for the council details page: system administrators only."""
from casework.roles import Role

MATRIX: dict = {
    "casework:council_details": (frozenset({Role.SYSTEM_ADMINISTRATOR}), "GET", "page"),
}


def make_objects(base: dict) -> dict:
    return {}


def url_kwargs(name: str, objects: dict) -> dict | None:
    return {} if name in MATRIX else None
