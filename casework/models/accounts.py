from django.conf import settings
from django.db import models

#: Seeded demo logins belong to this group. Only where DEMO_RELAX_TWO_FACTOR is on (the embedded
#: demo) may its members skip two-factor sign-in.
DEMO_GROUP = "Demo login (two-factor relaxed in the demo)"


class UserSession(models.Model):
    """A member of staff's signed-in session, so that they can see where they are signed in and sign
    out of the others (ASVS 3.3.4). Made at sign-in, its last use updated when the session's expiry
    is pushed back (casework.middleware.SessionLifetimeMiddleware), removed at sign-out; a row whose
    session has ended (expired, or signed out elsewhere) is not shown and is removed when its user
    next looks."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signed_in_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    signed_in_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.user} since {self.signed_in_at:%Y-%m-%d %H:%M}"
