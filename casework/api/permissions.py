"""Who may use the API: every view names the roles that may read it and the roles that may write.

A view that names no roles admits no one. Requests signed in through the web session must have
passed two-factor sign-in (the web's two-factor middleware leaves /api/ to this check); system
accounts authenticate with a token and are not affected.
"""
from django.conf import settings
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission

from casework.roles import READERS, Role, has_any_role
from casework.views.errors import log_refusal

#: Who may read the API's schema and its documentation page.
SCHEMA_READERS = READERS | {Role.SYSTEM_ACCOUNT, Role.FINANCE_ADMINISTRATOR, Role.SYSTEM_ADMINISTRATOR}


def _session_verified(request) -> bool:
    """A session sign-in counts only once two-factor is verified (or the demo relaxes it)."""
    if not isinstance(request.successful_authenticator, SessionAuthentication):
        return True
    user = request.user
    is_verified = getattr(user, "is_verified", None)
    if callable(is_verified) and is_verified():
        return True
    from casework.models.accounts import DEMO_GROUP

    return bool(settings.DEMO_RELAX_TWO_FACTOR and user.groups.filter(name=DEMO_GROUP).exists())


class RolePermission(BasePermission):
    """Safe methods need one of the view's `read_roles`; every other method one of its `write_roles`.

    A method the view does not offer is let through for a signed-in user so that the view answers
    405 Method Not Allowed (it has no handler, so nothing can happen).
    """

    def roles_for(self, request, view) -> frozenset:
        attr = "read_roles" if request.method in SAFE_METHODS else "write_roles"
        return frozenset(getattr(view, attr, None) or ())

    def has_permission(self, request, view) -> bool:
        allowed, reason = self._decide(request, view)
        if not allowed:
            log_refusal(request, f"API: {reason}")
        return allowed

    def _decide(self, request, view) -> tuple[bool, str]:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False, "not signed in"
        if not _session_verified(request):
            return False, "two-factor sign-in not completed"
        if request.method not in SAFE_METHODS and request.method not in view.allowed_methods:
            return True, ""
        return has_any_role(user, self.roles_for(request, view)), "no role that may use this"


class SchemaPermission(RolePermission):
    """The OpenAPI schema and its documentation page: staff who read records, and system accounts."""

    def roles_for(self, request, view) -> frozenset:
        return SCHEMA_READERS if request.method in SAFE_METHODS else frozenset()
