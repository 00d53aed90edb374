"""The service's error pages. A refused page and an unexpected error are logged on the
`careledger.security` and `careledger.errors` loggers; an unexpected error's page carries a
reference that is also in the log line holding its traceback, so that support can find it."""
import logging
import secrets
import sys

from django.http import HttpResponseBadRequest, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.functional import empty

security_log = logging.getLogger("careledger.security")
error_log = logging.getLogger("careledger.errors")


def who(request) -> str:
    """The user's name for a log line, never read from the database here: an error page may be
    answering because the database is away, and a signed-in user not yet loaded (the lazy
    `request.user`) would be read from it. Such a user is "unknown"."""
    user = getattr(request, "user", None)
    user = getattr(user, "_wrapped", user)  # the lazy object's user, or the sentinel if never loaded
    if user is None or user is empty:
        return "unknown"
    try:
        return user.get_username() if user.is_authenticated else "anonymous"
    except Exception:  # noqa: BLE001 - a log line must not fail the error page
        return "unknown"


def log_refusal(request, reason: str) -> None:
    """An access control decision that refused a request: who, what and why (ASVS 7.2.2)."""
    security_log.warning("Access refused: %s %s %s by %s: %s", request.method, request.path,
                         request.META.get("REMOTE_ADDR", "-"), who(request), reason)


def error_reference() -> str:
    return f"E-{secrets.token_hex(4).upper()}"


def permission_denied(request, exception=None):
    log_refusal(request, str(exception) if exception else "permission denied")
    return render(request, "403.html", status=403)


def _api(request) -> bool:
    """The integration API answers in JSON, as its schema says, even where Django answers for it
    (a URL no API route matches); its error body is DRF's, `detail` (casework.api.schema)."""
    return request.path.startswith("/api/")


def page_not_found(request, exception=None):
    if _api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def _error_page(request, level: int, what: str) -> str:
    reference = error_reference()
    error_log.log(level, "Error reference %s: %s on %s %s by %s", reference, what, request.method, request.path,
                  who(request), exc_info=sys.exc_info()[0] is not None)
    # No context processors: whatever failed must not fail again here.
    return loader.get_template("500.html").render({"reference": reference})


def server_error(request):
    page = _error_page(request, logging.ERROR, "unexpected error")
    if _api(request):
        return JsonResponse({"detail": "A server error occurred."}, status=500)
    return HttpResponseServerError(page)


def bad_request(request, exception=None):
    """A request Django refuses after the view ran (for example the session could not be saved
    because the database went away after a change was recorded): the service's error page, which
    tells the officer to check whether their change was saved, never Django's bare page."""
    page = _error_page(request, logging.WARNING, f"request refused ({exception!r})")
    if _api(request):
        return JsonResponse({"detail": "The request was refused."}, status=400)
    return HttpResponseBadRequest(page)
