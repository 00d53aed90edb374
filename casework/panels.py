"""How other apps add a panel to the case page or the client page without casework importing them.

An app registers a function in its AppConfig.ready():
    register_case_panel(lambda case, request: {"title": ..., "template": "debt/panel.html", "context": {...}} or None)
The case page renders each panel that returns a dict, in registration order.
"""
from typing import Callable

CASE_PANELS: list[Callable] = []


def register_case_panel(panel: Callable) -> Callable:
    CASE_PANELS.append(panel)
    return panel


def panels_for(case, request) -> list[dict]:
    return [p for p in (panel(case, request) for panel in CASE_PANELS) if p]


CLIENT_PANELS: list[Callable] = []


def register_client_panel(panel: Callable) -> Callable:
    """Like register_case_panel, for the client page: panel(client, request) -> dict or None."""
    CLIENT_PANELS.append(panel)
    return panel


def client_panels_for(client, request) -> list[dict]:
    return [p for p in (panel(client, request) for panel in CLIENT_PANELS) if p]
