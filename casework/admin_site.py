from functools import update_wrapper

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse_lazy

from casework.roles import Role, has_any_role

ADMINISTRATORS = frozenset({Role.SYSTEM_ADMINISTRATOR, Role.FINANCE_ADMINISTRATOR})
#: Neither may read client records (casework.roles.READERS), so nothing registered here holds a
#: client's, case's or ledger's rows (tests/test_access_matrix.py checks every changelist).


class CareledgerAdminSite(admin.AdminSite):
    """Django's admin for reference data, users and roles and schedules, open to the administrator
    roles only. Client-level records (clients, cases, ledgers, letters, timelines, record accesses,
    data protection requests) are not registered: they are read and changed through the service's
    own pages, by the roles that may read client records.

    Signing in goes through the service's own sign-in with two-factor; a signed-in user without an
    administrator role gets the 403 page rather than a second login form. "View site" goes to the
    application's home page.
    """

    site_header = "Careledger administration"
    site_title = "Careledger administration"
    index_title = "Reference data, users and schedules"
    site_url = reverse_lazy("casework:home")

    def has_permission(self, request) -> bool:
        user = request.user
        return user.is_active and has_any_role(user, ADMINISTRATORS)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def checked(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied("Your role does not give access to administration")
            return inner(request, *args, **kwargs)

        return update_wrapper(checked, inner)

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            raise PermissionDenied("Your role does not give access to administration")
        return redirect_to_login(request.GET.get("next") or "/admin/")
