"""Where a member of staff is signed in (ASVS 3.3.4): the sessions recorded at sign-in, shown on
"Your sessions", and signing out of every other one."""
import logging

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from casework.models import UserSession

security_log = logging.getLogger("careledger.security")


def record_sign_in(request, user) -> None:
    key = request.session.session_key
    if not key:
        return
    now = timezone.now()
    _live_rows(user)  # the rows of the user's ended sessions go, so they never pile up
    UserSession.objects.update_or_create(session_key=key, defaults={
        "user": user, "signed_in_at": now, "last_seen_at": now,
        "ip_address": request.META.get("REMOTE_ADDR") or None,
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300]})


def touch(request) -> None:
    """The session was used: its last use, at most once a SESSION_TOUCH_SECONDS (one UPDATE)."""
    key = request.session.session_key
    if key:
        UserSession.objects.filter(session_key=key).update(last_seen_at=timezone.now())


def rekey(old_key: str | None, new_key: str | None) -> None:
    """The session was kept under a new key (Django does so when the password changes)."""
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


def forget(session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def active_sessions(user) -> list[UserSession]:
    """The user's sessions that are still signed in, most recently used first."""
    return _live_rows(user)


def _live_rows(user) -> list[UserSession]:
    """The user's rows whose session is still signed in; the rows of ended sessions (expired, or
    signed out elsewhere) are removed."""
    rows = list(UserSession.objects.filter(user=user))
    live = set(Session.objects.filter(session_key__in=[r.session_key for r in rows], expire_date__gt=timezone.now())
               .values_list("session_key", flat=True))
    ended = [r.pk for r in rows if r.session_key not in live]
    if ended:
        UserSession.objects.filter(pk__in=ended).delete()
    return [r for r in rows if r.session_key in live]


@transaction.atomic
def sign_out_others(request) -> int:
    """End every session of the signed-in user but this one; how many were ended."""
    user, current = request.user, request.session.session_key
    others = list(UserSession.objects.filter(user=user).exclude(session_key=current)
                  .values_list("session_key", flat=True))
    ended, _ = Session.objects.filter(session_key__in=others).delete()
    UserSession.objects.filter(session_key__in=others).delete()
    security_log.info("Signed out of other sessions: %s ended %d from %s", user.get_username(), ended,
                      request.META.get("REMOTE_ADDR", "-"))
    return ended
