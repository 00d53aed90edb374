from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

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
