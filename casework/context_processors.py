from django.conf import settings
from django.utils.functional import SimpleLazyObject
from django.urls import reverse

from casework.models.council import current_council
from casework.navigation import NAV_ITEMS
from casework.roles import QUEUE_MANAGERS, READERS, Role, has_any_role, roles_of


def careledger(request) -> dict:
    """Council details, the signed-in user's roles, and the service navigation."""
    context = {"council": SimpleLazyObject(current_council), "service_name": settings.SERVICE_NAME}
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return context
    roles = roles_of(user)
    ordered = []
    if has_any_role(user, READERS):
        ordered.append((10, "My work", reverse("casework:my_work")))
    if has_any_role(user, QUEUE_MANAGERS):
        ordered.append((15, "Team queue", reverse("casework:team_queue")))
    if has_any_role(user, READERS):
        ordered.append((17, "Approvals", reverse("casework:control_request_list")))
        ordered.append((20, "Cases", reverse("casework:case_list")))
        ordered.append((30, "Income", reverse("debt:invoice_list")))
        ordered.append((70, "Find a client", reverse("casework:search")))
    if has_any_role(user, READERS | {Role.FINANCE_ADMINISTRATOR}):
        ordered.append((75, "Runs", reverse("casework:run_list")))
    if has_any_role(user, {Role.FINANCE_ADMINISTRATOR, Role.TEAM_LEADER, Role.AUDITOR}):
        ordered.append((80, "Letters", reverse("letters:template_list")))
    if has_any_role(user, {Role.FINANCE_ADMINISTRATOR, Role.SYSTEM_ADMINISTRATOR}):
        ordered.append((90, "Administration", reverse("admin:index")))
    if has_any_role(user, {Role.SYSTEM_ADMINISTRATOR}):
        ordered.append((92, "Council details", reverse("casework:council_details")))
    for item in NAV_ITEMS:
        if roles & item.roles:
            ordered.append((item.order, item.label, reverse(item.url_name)))
    items = [(label, url) for _, label, url in sorted(ordered, key=lambda row: row[0])]
    path = request.path
    context["nav_items"] = [
        {"label": label, "url": url, "active": path == url or (url != "/" and path.startswith(url))}
        for label, url in items
    ]
    context["user_roles_display"] = ", ".join(sorted(r.value for r in roles)) or "No role"
    return context
