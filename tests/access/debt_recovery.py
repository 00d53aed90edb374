"""Access-matrix rows for this part of the debt app's pages."""

MATRIX: dict = {}


def make_objects(base: dict) -> dict:
    return {}


def url_kwargs(name: str, objects: dict) -> dict | None:
    return None
