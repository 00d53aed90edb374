"""The API's exception handler: DRF's, plus one rule. A value the database cannot hold (a NUL
character in text, a number too large for its column) is the caller's mistake: it is answered 400
with what went wrong, never a 500."""
from django.db import DataError
from rest_framework import status
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback


def api_exception_handler(exc, context):
    if isinstance(exc, DataError):
        set_rollback()
        message = str(exc).splitlines()[0] if str(exc) else "A value cannot be stored"
        return Response({"detail": f"A value in the request cannot be stored: {message}"},
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Throttled):
        from casework.views.errors import log_refusal

        log_refusal(context["request"], f"API: over the rate limit (retry after {exc.wait} s)")
    return exception_handler(exc, context)
