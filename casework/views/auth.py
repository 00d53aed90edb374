"""Sign-in: password (with lockout by django-axes), then a TOTP code from an authenticator app; a
member of staff's own password and sessions."""
import base64
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.mail import send_mail
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework import user_sessions
from casework.forms import GovForm
from casework.models.accounts import DEMO_GROUP
from casework.roles import STAFF

from .access import role_required
from .errors import security_log

DEMO_PASSWORD = "demo-careledger-2026"


class TokenForm(forms.Form):
    token = forms.CharField(
        label="6-digit code from your authenticator app",
        max_length=6,
        min_length=6,
        error_messages={"required": "Enter the 6-digit code", "min_length": "Enter the 6-digit code"},
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip().replace(" ", "")
        if not token.isdigit():
            raise forms.ValidationError("The code must be 6 digits")
        return token


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["demo_logins"] = demo_logins()
        return context


def demo_logins() -> list[dict]:
    """The seeded demo logins, shown on the sign-in page only where two-factor is relaxed for them."""
    if not settings.DEMO_RELAX_TWO_FACTOR:
        return []
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(groups__name=DEMO_GROUP, is_active=True).prefetch_related("groups")
    rows = []
    for user in users.order_by("username"):
        roles = sorted(g.name for g in user.groups.all() if g.name != DEMO_GROUP)
        rows.append({"username": user.username, "role": ", ".join(roles), "password": DEMO_PASSWORD})
    return rows


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def _confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def _check_code(device: TOTPDevice, form: TokenForm) -> bool:
    """Check a code; after wrong codes django-otp makes each next try wait longer (throttling)."""
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        form.add_error("token", "Too many wrong codes: wait a few seconds, then enter the code your app shows")
        return False
    if device.verify_token(form.cleaned_data["token"]):
        return True
    form.add_error("token", "The code is not right, or has expired: enter the code your app shows now")
    return False


@sensitive_post_parameters("token")
@login_required
def two_factor_verify(request):
    if request.user.is_verified():
        return redirect(_next_url(request))
    device = _confirmed_device(request.user)
    if device is None:
        return redirect(f"{reverse('two_factor_setup')}?next={quote(_next_url(request))}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _check_code(device, form):
            otp_login(request, device)
            return redirect(_next_url(request))
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next_url(request)})


@sensitive_post_parameters("token")
@login_required
def two_factor_setup(request):
    if _confirmed_device(request.user):
        return redirect(f"{reverse('two_factor_verify')}?next={quote(_next_url(request))}")
    device, _ = TOTPDevice.objects.get_or_create(user=request.user, confirmed=False, defaults={"name": "Authenticator app"})
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _check_code(device, form):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect(_next_url(request))
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    secret = base64.b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "next": _next_url(request),
        "qr_svg": image.to_string(encoding="unicode"),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "otpauth_url": device.config_url,
    }
    return render(request, "registration/two_factor_setup.html", context)


class PasswordChangeForm(GovForm, auth_forms.PasswordChangeForm):
    """Django's password change (the old password, then the new one twice, checked against
    AUTH_PASSWORD_VALIDATORS) in the service's form layout."""

    submit_label = "Change password"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "Current password"
        self.fields["new_password2"].label = "Confirm the new password"
        self.fields["new_password2"].help_text = ""


class PasswordChangeView(auth_views.PasswordChangeView):
    """Any signed-in member of staff changes their own password (ASVS 2.1.5). Their other sessions
    end (the session hash changes); this one is kept. They are told by email (ASVS 2.2.3) and the
    change is logged."""

    form_class = PasswordChangeForm
    template_name = "casework/form_page.html"
    extra_context = {"title": "Change your password", "back_url": "casework:home"}

    def get_success_url(self) -> str:
        return reverse("casework:home")

    def form_valid(self, form):
        old_key = self.request.session.session_key
        response = super().form_valid(form)  # keeps this session under a new key
        user_sessions.rekey(old_key, self.request.session.session_key)
        user_sessions.sign_out_others(self.request)  # already unusable (the password hash changed): removed
        user = self.request.user
        security_log.info("Password changed: %s from %s", user.get_username(), self.request.META.get("REMOTE_ADDR", "-"))
        notify_password_changed(user)
        messages.success(self.request, "Your password has been changed. Your other sessions have been signed out.")
        return response


def notify_password_changed(user) -> None:
    """Tell the user by email that their password changed; a mail server that cannot be reached is
    logged, and the change stands."""
    if not user.email:
        security_log.warning("Password changed: %s has no email address to tell", user.get_username())
        return
    when = timezone.localtime().strftime("%-d %B %Y at %H:%M")
    try:
        send_mail(
            subject="Your Careledger password was changed",
            message=(f"The password of your Careledger account ({user.get_username()}) was changed on {when}.\n\n"
                     "If you did not change it, tell the system administrator straight away."),
            from_email=None, recipient_list=[user.email])
    except OSError as error:
        security_log.error("Password changed: the notice to %s could not be sent (%s)", user.get_username(), error)


password_change = role_required(STAFF)(PasswordChangeView.as_view())


class SignOutOthersForm(GovForm):
    submit_label = "Sign out of all other sessions"


@role_required(STAFF)
def session_list(request):
    """Where the user is signed in (ASVS 3.3.4), and a button to sign out of everywhere else."""
    form = SignOutOthersForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        ended = user_sessions.sign_out_others(request)
        messages.success(request, f"Signed out of {ended} other session{'s' if ended != 1 else ''}")
        return redirect("casework:session_list")
    sessions = user_sessions.active_sessions(request.user)
    return render(request, "casework/sessions.html", {
        "sessions": sessions, "current_key": request.session.session_key, "form": form,
        "others": sum(1 for s in sessions if s.session_key != request.session.session_key)})
