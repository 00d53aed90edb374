"""The data protection panel on the client page and the service navigation entry."""
from casework.navigation import register_nav_item
from casework.panels import register_client_panel
from casework.roles import has_any_role

from .roles import ERASURE_REQUESTERS, ERASURE_VIEWERS, RETENTION_VIEWERS, SUBJECT_ACCESS_EXPORTERS


def data_protection_panel(client, request):
    if not has_any_role(request.user, ERASURE_VIEWERS | SUBJECT_ACCESS_EXPORTERS):
        return None
    from casework.models import ErasureRequest, RetentionReview

    return {"title": "Data protection", "template": "casework/privacy/client_panel.html", "context": {
        "client": client,
        "erasures": list(ErasureRequest.objects.filter(client=client)[:5]),
        "reviews": list(RetentionReview.objects.filter(client=client)[:5]),
        "can_export": has_any_role(request.user, SUBJECT_ACCESS_EXPORTERS),
        "can_request": has_any_role(request.user, ERASURE_REQUESTERS),
    }}


register_client_panel(data_protection_panel)
register_nav_item(label="Data protection", url_name="casework:retention_queue", roles=RETENTION_VIEWERS, order=85)
