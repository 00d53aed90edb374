"""Access-matrix rows for the team leader's decisions queue (debt/queue_urls.py)."""
from casework.roles import Role

MATRIX: dict = {
    "debt:decisions": (frozenset({Role.TEAM_LEADER, Role.AUDITOR}), "GET", "page"),
}


def make_objects(base: dict) -> dict:
    return {}


def url_kwargs(name: str, objects: dict) -> dict | None:
    return {} if name in MATRIX else None
