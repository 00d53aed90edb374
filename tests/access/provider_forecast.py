"""Access-matrix rows for the committed-spend forecast page and its API summary (provider_payments)."""
from casework.roles import READERS, Role

API_READERS = READERS | {Role.SYSTEM_ACCOUNT}

MATRIX: dict = {
    "provider_payments:forecast": (READERS, "GET", "page"),
    "api:committedspendforecast-list": (API_READERS, "GET", "api"),
}


def make_objects(base: dict) -> dict:
    return {}


def url_kwargs(name: str, objects: dict) -> dict | None:
    return {} if name in MATRIX else None
