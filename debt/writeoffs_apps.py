"""Registrations for the write-off pages; debt/apps.py calls ready()."""
from casework.panels import register_client_panel


def client_writeoffs_panel(client, request) -> dict | None:
    """The client's write-off requests and a link to ask for one, on the client page."""
    from casework.roles import has_any_role

    from .models import WriteOffRequest
    from .views.writeoffs import WRITEOFF_REQUESTERS

    requests = list(WriteOffRequest.objects.filter(client=client)[:5])
    can_request = has_any_role(request.user, WRITEOFF_REQUESTERS)
    if not requests and not can_request:
        return None
    return {"title": "Write-offs", "template": "debt/writeoffs/client_panel.html",
            "context": {"client": client, "requests": requests, "can_request": can_request}}


def ready() -> None:
    register_client_panel(client_writeoffs_panel)
