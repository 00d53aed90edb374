from django.conf import settings
from django.urls import reverse

from casework.roles import QUEUE_MANAGERS, READERS, Role, has_any_role, roles_of


def careledger(request) -> dict:
    """Council details, the signed-in user's roles, and the service navigation."""
    context = {"council": settings.COUNCIL, "service_name": settings.SERVICE_NAME}
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return context
    roles = roles_of(user)
    items = []
    if has_any_role(user, READERS):
        items.append(("My work", reverse("casework:my_work")))
    if has_any_role(user, QUEUE_MANAGERS):
        items.append(("Team queue", reverse("casework:team_queue")))
    if has_any_role(user, READERS):
        items.append(("Cases", reverse("casework:case_list")))
        items.append(("Income", reverse("debt:invoice_list")))
        items.append(("Find a client", reverse("casework:search")))
    if has_any_role(user, READERS | {Role.FINANCE_ADMINISTRATOR}):
        items.append(("Runs", reverse("casework:run_list")))
    if has_any_role(user, {Role.FINANCE_ADMINISTRATOR, Role.TEAM_LEADER, Role.AUDITOR}):
        items.append(("Letters", reverse("letters:template_list")))
    if has_any_role(user, {Role.FINANCE_ADMINISTRATOR, Role.SYSTEM_ADMINISTRATOR}):
        items.append(("Administration", reverse("admin:index")))
    path = request.path
    context["nav_items"] = [
        {"label": label, "url": url, "active": path == url or (url != "/" and path.startswith(url))}
        for label, url in items
    ]
    context["user_roles_display"] = ", ".join(sorted(r.value for r in roles)) or "No role"
    return context
