import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

#: Paths a signed-in but not yet two-factor-verified user may still reach.
_OPEN_PREFIXES = ("/accounts/", "/static/", "/health/")


class TwoFactorRequiredMiddleware:
    """Every signed-in user must pass a one-time-password check before reaching any page.

    A user without a device is sent to set one up; a user with one, to enter a code. The API
    authenticates system accounts by token (no session user here) and so is not affected. Where DEMO_RELAX_TWO_FACTOR is on
    (the embedded demo only), the seeded demo logins are let through; no one else is.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(_OPEN_PREFIXES)
            and not _demo_exempt(user)
        ):
            return redirect(f"{reverse('two_factor_verify')}?next={request.get_full_path()}")
        return self.get_response(request)


def _demo_exempt(user) -> bool:
    from casework.models.accounts import DEMO_GROUP

    return settings.DEMO_RELAX_TWO_FACTOR and user.groups.filter(name=DEMO_GROUP).exists()


#: Session keys: when the user signed in, and when the session's expiry was last pushed back.
SIGNED_IN_AT = "careledger_signed_in_at"
TOUCHED_AT = "careledger_touched_at"
#: Where the API answers a request without a session itself (401 or 403), so no redirect is made.
_API_PREFIX = "/api/"


class SessionLifetimeMiddleware:
    """Idle timeout without a database write on every page, and an absolute session lifetime.

    The session's expiry (SESSION_COOKIE_AGE after it was last saved) is pushed back at most once
    every SESSION_TOUCH_SECONDS, so a user idle for SESSION_COOKIE_AGE is signed out (up to
    SESSION_TOUCH_SECONDS sooner) while a page view costs no session write. A session older than
    SESSION_ABSOLUTE_SECONDS since sign-in is ended whatever its use: the user signs in again (an API
    call made with it is answered as one made with no session: 401 or 403, never a redirect).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            signed_in_at = session.get(SIGNED_IN_AT)
            if signed_in_at is None:
                session[SIGNED_IN_AT] = signed_in_at = now
            if now - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                if request.path.startswith(_API_PREFIX):  # the API answers an unsigned request itself: 401 or 403
                    return self.get_response(request)
                messages.info(request, "You have been signed out because you signed in more than "
                                       f"{settings.SESSION_ABSOLUTE_SECONDS // 3600} hours ago. Sign in again.")
                return redirect(f"{reverse('login')}?next={request.get_full_path()}")
            if now - session.get(TOUCHED_AT, 0) >= settings.SESSION_TOUCH_SECONDS:
                session[TOUCHED_AT] = now
                from casework.user_sessions import touch

                touch(request)
        return self.get_response(request)


@receiver(user_logged_in)
def _record_sign_in(sender, request, user, **kwargs) -> None:
    if getattr(request, "session", None) is not None:
        from casework.user_sessions import record_sign_in

        request.session[SIGNED_IN_AT] = request.session[TOUCHED_AT] = int(time.time())
        record_sign_in(request, user)


@receiver(user_logged_out)
def _forget_session(sender, request, user, **kwargs) -> None:
    if getattr(request, "session", None) is not None:
        from casework.user_sessions import forget

        forget(request.session.session_key)


class NoStoreMiddleware:
    """Every page and API answer may hold client data or a form for it: no browser, proxy or shared
    cache may keep one (`Cache-Control: no-store, private`; ASVS 8.1.1 and 8.2.1). A response that
    sets its own Cache-Control is left as it is; static files never get here (WhiteNoise answers
    them first)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
