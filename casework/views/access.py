from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models

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


def log_record_views(request, *items) -> int:
    """Log that this answer shows these clients' data (casework.services.client_records_viewed): each
    item is a Client, a client id, a record with a `client_id` (an invoice, a case) or None, or an
    iterable of those (a page of a list). The path logged is the request's with its query, so a
    list's filters and an export's format are kept. Returns the number of clients logged."""
    from casework.services import client_records_viewed

    flat = []
    for item in items:
        if item is None or isinstance(item, (int, models.Model)):
            flat.append(item)
        else:
            flat.extend(item)
    return client_records_viewed(clients_or_ids=flat, user=request.user, path=request.get_full_path())
