"""Signed-in sessions for scripted visitors (the load test and the fault runs).

Each user gets a confirmed TOTP device and a session that has passed the one-time-password check,
written straight to the session store: what a browser holds after signing in with a password and a
code. No password is set or sent; nothing here is used by the web application itself.
"""
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice


def signed_in_session(user) -> str:
    """A session key for `user`, signed in and two-factor verified."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Scripted visitor", confirmed=True)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    return session.session_key
