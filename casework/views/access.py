from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from casework.roles import has_any_role


def role_required(roles):
    """Admit signed-in users holding any of `roles`; others get the 403 page.

    The roles are kept on the view as `required_roles` so the access-matrix test can report them.
    """
    roles = frozenset(roles)

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_any_role(request.user, roles):
                raise PermissionDenied("Your role does not give access to this page")
            return view(request, *args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator
