"""Sign-in with two-factor, lockout, the demo relaxation, headers and the production settings."""
import os
import re
import secrets
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.models import Client, RetentionRule, Run
from casework.models.accounts import DEMO_GROUP
from casework.privacy.demo import DEMO_REFERENCE as RETENTION_DEMO_REFERENCE
from casework.privacy.retention import evaluate, facts_for
from casework.roles import Role
from debt.estates_demo import CLIENTS as ESTATE_DEMO_CLIENTS
from deferred_payments.demo import CLIENTS as DEFERRED_DEMO_CLIENTS

from .factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift):06d}"


def sign_in_with_password(client, username):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def test_a_new_user_must_set_up_two_factor_before_any_page(client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the wrong code below would otherwise make the right one wait
    UserFactory(username="newbie", roles=[Role.INCOME_OFFICER])
    assert sign_in_with_password(client, "newbie").status_code == 302
    response = client.get(reverse("casework:my_work"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("two_factor_verify"))
    response = client.get(response["Location"])
    assert response["Location"].startswith(reverse("two_factor_setup"))
    page = client.get(response["Location"])
    assert "Set up two-factor sign-in" in page.content.decode() and "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user__username="newbie", confirmed=False)
    assert client.post(reverse("two_factor_setup"), {"token": "000000"}).status_code == 200
    response = client.post(reverse("two_factor_setup"), {"token": code_for(device)})
    assert response.status_code == 302
    assert client.get(reverse("casework:my_work")).status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_a_user_with_a_device_must_enter_a_current_code(client):
    user = UserFactory(username="regular", roles=[Role.INCOME_OFFICER])
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    sign_in_with_password(client, "regular")
    wrong = client.post(reverse("two_factor_verify"), {"token": "12345x"})
    assert wrong.status_code == 200 and "6 digits" in wrong.content.decode()
    wrong = client.post(reverse("two_factor_verify"), {"token": f"{(int(code_for(device)) + 1) % 1000000:06d}"})
    assert "not right" in wrong.content.decode()
    throttled = client.post(reverse("two_factor_verify"), {"token": code_for(device)})
    assert "Too many wrong codes" in throttled.content.decode()
    device.refresh_from_db()
    device.throttle_reset()  # as if the wait had passed
    assert client.get(reverse("casework:my_work")).status_code == 302
    assert client.post(reverse("two_factor_verify"), {"token": code_for(device)}).status_code == 302
    assert client.get(reverse("casework:my_work")).status_code == 200


def test_the_next_address_after_two_factor_must_be_on_this_site(client):
    user = UserFactory(username="redirected", roles=[Role.INCOME_OFFICER])
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    sign_in_with_password(client, "redirected")
    response = client.post(reverse("two_factor_verify") + "?next=https://evil.example/", {"token": code_for(device)})
    assert response["Location"] == reverse("casework:home")


def test_repeated_failed_sign_ins_lock_the_account(client, settings):
    UserFactory(username="target", roles=[Role.INCOME_OFFICER])
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "target", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "target", "password": PASSWORD})
    assert response.status_code == 429
    assert "Your account is locked" in response.content.decode()


def test_the_demo_relaxes_two_factor_for_demo_logins_only(client, settings):
    settings.DEMO_RELAX_TWO_FACTOR = True
    demo = UserFactory(username="demo-user", roles=[Role.INCOME_OFFICER])
    demo.groups.add(Group.objects.get_or_create(name=DEMO_GROUP)[0])
    UserFactory(username="real-user", roles=[Role.INCOME_OFFICER])
    login_page = client.get(reverse("login")).content.decode()
    assert "Two-factor sign-in is relaxed for these demo logins only" in login_page and "demo-user" in login_page
    sign_in_with_password(client, "demo-user")
    assert client.get(reverse("casework:my_work")).status_code == 200
    client.post(reverse("logout"))
    sign_in_with_password(client, "real-user")
    assert client.get(reverse("casework:my_work")).status_code == 302


def test_demo_logins_need_two_factor_when_the_demo_setting_is_off(client, settings):
    settings.DEMO_RELAX_TWO_FACTOR = False
    demo = UserFactory(username="demo-off", roles=[Role.INCOME_OFFICER])
    demo.groups.add(Group.objects.get_or_create(name=DEMO_GROUP)[0])
    assert "demo-off" not in client.get(reverse("login")).content.decode()
    sign_in_with_password(client, "demo-off")
    assert client.get(reverse("casework:my_work")).status_code == 302


def test_pages_carry_a_content_security_policy_with_a_nonce(client):
    response = client.get(reverse("login"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and "frame-ancestors 'none'" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()
    assert response["X-Frame-Options"] == "DENY"


def _session_row(client) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def test_use_keeps_a_session_alive_without_writing_it_on_every_page(client_as, monkeypatch):
    assert settings.SESSION_COOKIE_AGE <= 30 * 60 and settings.SESSION_TOUCH_SECONDS <= 60
    client = client_as(Role.INCOME_OFFICER)
    clock = [time.time()]
    monkeypatch.setattr("casework.middleware.time.time", lambda: clock[0])
    expiry = _session_row(client).expire_date
    clock[0] += settings.SESSION_TOUCH_SECONDS - 5
    assert client.get(reverse("casework:my_work")).status_code == 200
    assert _session_row(client).expire_date == expiry  # a page within the interval writes nothing
    clock[0] += 10
    assert client.get(reverse("casework:my_work")).status_code == 200
    row = _session_row(client)
    assert row.expire_date > expiry  # pushed back: idle for SESSION_COOKIE_AGE from now signs out
    assert abs((row.expire_date - timezone.now()).total_seconds() - settings.SESSION_COOKIE_AGE) < 60
    Session.objects.filter(pk=row.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get(reverse("casework:my_work"))["Location"].startswith(reverse("login"))


def test_a_session_ends_a_fixed_time_after_sign_in_however_busy(client_as, monkeypatch):
    assert settings.SESSION_ABSOLUTE_SECONDS <= 12 * 3600
    client = client_as(Role.INCOME_OFFICER)
    clock = [time.time()]
    monkeypatch.setattr("casework.middleware.time.time", lambda: clock[0])
    for _ in range(3):  # in use all day: each page well within the idle limit
        clock[0] += (settings.SESSION_ABSOLUTE_SECONDS - 60) // 3
        assert client.get(reverse("casework:my_work")).status_code == 200
    clock[0] += 120
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    response = client.get(reverse("casework:my_work"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not Session.objects.filter(session_key=key).exists()
    page = client.get(response["Location"]).content.decode()
    assert "signed in more than 12 hours ago" in page


@pytest.mark.django_db(transaction=True)
def test_production_settings_pass_the_deployment_check():
    """Against the test database (migrated): refused without the council's details, passed with them."""
    from django.db import connection

    from casework.models.council import details_from_file
    from casework.services.council import council_details_save

    root = Path(__file__).resolve().parent.parent
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "SECRET_KEY": secrets.token_urlsafe(60),
           "ALLOWED_HOSTS": "careledger.example.gov.uk",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests only; never in deployment
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    refused = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "careledger.E021" in refused.stderr + refused.stdout
    council_details_save(data=details_from_file(root / "config" / "council_details.example.json"))
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "SECRET_KEY": ""}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=root, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_seeding_the_demo_twice_adds_nothing_the_second_time(capsys):
    call_command("seed_demo")
    counts = (Client.objects.count(), Group.objects.get(name=DEMO_GROUP).user_set.count())
    call_command("seed_demo")
    assert (Client.objects.count(), Group.objects.get(name=DEMO_GROUP).user_set.count()) == counts
    # The core demo's 150 clients plus the deferred payment and estate demos' own clients and the
    # retention demo's former client.
    assert counts[0] == 150 + len(DEFERRED_DEMO_CLIENTS) + len(ESTATE_DEMO_CLIENTS) + 1
    out = capsys.readouterr().out
    assert "teamleader" in out and "demo-careledger-2026" in out
    # The former client's records (last payment 9 April 2018, case closed 25 April 2018) are past
    # every six-year period, and no other demo client's are: the demo's retention run has that one
    # client to mark for review (its chunks run after the commit, which a test's transaction never
    # makes; test_privacy.py runs the job itself).
    former = Client.objects.get(reference=RETENTION_DEMO_REFERENCE)
    assert former.accounts.get().entries.count() == 8
    run = Run.objects.get(job="retention_review")
    assert list(run.items.values_list("subject", flat=True)) == [f"client:{former.pk}"]
    verdict = evaluate(facts_for([former.pk])[former.pk], list(RetentionRule.objects.in_force(run.business_date)),
                       run.business_date)
    assert verdict.past and verdict.ended_on == date(2024, 4, 25)


@pytest.mark.parametrize("role, landing", [
    (Role.INCOME_OFFICER, "casework:my_work"),
    (Role.AUDITOR, "casework:my_work"),
    (Role.FINANCE_ADMINISTRATOR, "letters:template_list"),
    (Role.SYSTEM_ADMINISTRATOR, None),
])
def test_each_role_lands_on_a_page_it_may_see_after_signing_in(client_as, role, landing):
    http = client_as(role)
    response = http.get(reverse("casework:home"))
    if landing is None:  # the home page itself: links to Administration, never a redirect back to it
        assert response.status_code == 200 and f'href="{reverse("admin:index")}"' in response.content.decode()
        return
    assert response["Location"] == reverse(landing)
    assert http.get(response["Location"]).status_code == 200


# --- Caching, refusals and unexpected errors (docs/security.md: 7.2.2, 7.4.1, 8.1.1, 8.2.1) -----------

def test_no_page_or_api_answer_may_be_kept_by_a_cache(client):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from .conftest import sign_in
    from .factories import ClientFactory

    assert "no-store" in client.get(reverse("login"))["Cache-Control"]
    person = ClientFactory()
    http = sign_in(client, UserFactory(roles=[Role.INCOME_OFFICER]))
    for url in (reverse("casework:client_detail", args=[person.pk]), reverse("casework:case_list") + "?format=csv"):
        answer = http.get(url)
        assert answer.status_code == 200 and "no-store" in answer["Cache-Control"], url
        assert "private" in answer["Cache-Control"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=UserFactory(roles=[Role.SYSTEM_ACCOUNT])).key}")
    answer = api.get("/api/v1/clients/")
    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]


def test_a_refused_page_and_a_refused_api_call_are_logged_with_who_and_what(client, caplog):
    from rest_framework.test import APIClient

    from .conftest import sign_in

    auditor = UserFactory(username="read-only-auditor", roles=[Role.AUDITOR])
    http = sign_in(client, auditor)
    with caplog.at_level("WARNING", logger="careledger.security"):
        assert http.get(reverse("casework:team_queue")).status_code == 403
        api = APIClient()
        api.force_authenticate(UserFactory(username="no-role-user", roles=[Role.FINANCE_ADMINISTRATOR]))
        assert api.get("/api/v1/clients/").status_code == 403
    lines = [r.getMessage() for r in caplog.records if r.name == "careledger.security"]
    assert any(reverse("casework:team_queue") in m and "read-only-auditor" in m and m.startswith("Access refused: GET")
               for m in lines), lines
    assert any("/api/v1/clients/" in m and "no-role-user" in m and "API: no role" in m for m in lines), lines


def test_an_unexpected_error_shows_a_reference_that_its_logged_traceback_carries(client, caplog, monkeypatch):
    from django.test import Client as HttpClient

    from casework import selectors

    from .conftest import sign_in

    def broken(user):
        raise RuntimeError("the database answered nonsense")

    monkeypatch.setattr(selectors, "my_cases", broken)
    http = sign_in(HttpClient(raise_request_exception=False), UserFactory(username="officer-x", roles=[Role.INCOME_OFFICER]))
    with caplog.at_level("ERROR", logger="careledger.errors"):
        page = http.get(reverse("casework:my_work"))
    assert page.status_code == 500
    text = page.content.decode()
    assert "Sorry, there is a problem with the service" in text and "Traceback" not in text
    reference = re.search(r"<strong>(E-[0-9A-F]{8})</strong>", text).group(1)
    record = next(r for r in caplog.records if r.name == "careledger.errors")
    assert reference in record.getMessage() and "officer-x" in record.getMessage()
    assert record.exc_info and record.exc_info[0] is RuntimeError


# --- Changing one's password (docs/security.md: 2.1.5, 2.2.3) -----------------------------------------

def test_staff_change_their_password_are_told_by_email_and_their_other_sessions_end(client, caplog):
    from django.core import mail
    from django.test import Client as HttpClient

    from .conftest import sign_in

    officer = UserFactory(username="pw-officer", email="pw.officer@northmoor.example.gov.uk",
                          roles=[Role.INCOME_OFFICER])
    officer.set_password("the-old-password-2026")
    officer.save()
    other_desk = sign_in(HttpClient(), officer)
    assert other_desk.get(reverse("casework:my_work")).status_code == 200
    http = sign_in(client, officer)
    url = reverse("casework:password_change")
    page = http.get(url)
    assert page.status_code == 200 and "Change your password" in page.content.decode()
    assert reverse("casework:password_change") in http.get(reverse("casework:my_work")).content.decode()

    wrong = http.post(url, {"old_password": "not-it", "new_password1": "a-new-long-passphrase-71",
                            "new_password2": "a-new-long-passphrase-71"})
    assert wrong.status_code == 200 and "govuk-error-summary" in wrong.content.decode()
    weak = http.post(url, {"old_password": "the-old-password-2026", "new_password1": "password",
                           "new_password2": "password"})
    assert weak.status_code == 200 and "govuk-error-summary" in weak.content.decode()
    assert not mail.outbox

    with caplog.at_level("INFO", logger="careledger.security"):
        done = http.post(url, {"old_password": "the-old-password-2026", "new_password1": "a-new-long-passphrase-71",
                               "new_password2": "a-new-long-passphrase-71"})
    assert done.status_code == 302
    officer.refresh_from_db()
    assert officer.check_password("a-new-long-passphrase-71")
    assert [m.to for m in mail.outbox] == [["pw.officer@northmoor.example.gov.uk"]]
    assert "pw-officer" in mail.outbox[0].body and "system administrator" in mail.outbox[0].body
    assert any("Password changed: pw-officer" in r.getMessage() for r in caplog.records)
    assert http.get(reverse("casework:my_work")).status_code == 200  # this session is kept
    assert other_desk.get(reverse("casework:my_work")).status_code == 302  # the other one has ended


def test_a_mail_server_that_cannot_be_reached_is_logged_and_the_password_change_stands(settings, caplog):
    from casework.views.auth import notify_password_changed

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 5  # nothing listens there
    officer = UserFactory(username="pw-nomail", email="pw.nomail@northmoor.example.gov.uk", roles=[Role.INCOME_OFFICER])
    with caplog.at_level("ERROR", logger="careledger.security"):
        notify_password_changed(officer)
    assert any("the notice to pw-nomail could not be sent" in r.getMessage() for r in caplog.records)


def test_a_form_posted_without_its_csrf_token_is_refused():
    from django.test import Client as HttpClient

    from casework.models import TimelineEntry

    from .conftest import sign_in
    from .factories import CaseFactory

    case = CaseFactory()
    http = sign_in(HttpClient(enforce_csrf_checks=True), UserFactory(roles=[Role.INCOME_OFFICER]))
    url = reverse("casework:case_note", args=[case.pk])
    before = TimelineEntry.objects.count()
    refused = http.post(url, {"kind": "note", "summary": "Forged", "body": "From another site"})
    assert refused.status_code == 403 and TimelineEntry.objects.count() == before
    form = http.get(url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    accepted = http.post(url, {"csrfmiddlewaretoken": token, "kind": "note", "summary": "Called the daughter",
                               "body": "Agreed to pay on Friday"})
    assert accepted.status_code == 302 and TimelineEntry.objects.count() == before + 1


# --- Where one is signed in (docs/security.md: 3.3.4) --------------------------------------------------

def test_staff_see_where_they_are_signed_in_and_sign_out_of_the_others(caplog):
    from django.test import Client as HttpClient

    from casework.models import UserSession

    from .conftest import sign_in

    from django_otp import DEVICE_ID_SESSION_KEY

    officer = UserFactory(username="two-desks", roles=[Role.INCOME_OFFICER])
    device = TOTPDevice.objects.create(user=officer, name="Authenticator app", confirmed=True)

    def signed_in_from(browser: str) -> HttpClient:
        http = HttpClient(HTTP_USER_AGENT=browser, REMOTE_ADDR="10.20.30.40")
        assert sign_in_with_password(http, "two-desks").status_code == 302
        session = http.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id  # as the two-factor step leaves it
        session.save()
        return http

    desk, laptop = signed_in_from("Desk browser"), signed_in_from("Laptop browser")
    assert UserSession.objects.filter(user=officer).count() == 2
    page = desk.get(reverse("casework:session_list")).content.decode()
    assert "Desk browser" in page and "Laptop browser" in page and page.count("This session") == 1
    assert "10.20.30.40" in page
    assert "Sign out of all other sessions" in page

    with caplog.at_level("INFO", logger="careledger.security"):
        done = desk.post(reverse("casework:session_list"))
    assert done.status_code == 302
    assert "Signed out of 1 other session" in desk.get(reverse("casework:session_list")).content.decode()
    assert laptop.get(reverse("casework:my_work")).status_code == 302  # sent to sign in again
    assert desk.get(reverse("casework:my_work")).status_code == 200
    assert list(UserSession.objects.filter(user=officer).values_list("user_agent", flat=True)) == ["Desk browser"]
    assert any("Signed out of other sessions: two-desks ended 1" in r.getMessage() for r in caplog.records)
    assert "You are not signed in anywhere else" in desk.get(reverse("casework:session_list")).content.decode()

    desk.post(reverse("logout"))
    assert not UserSession.objects.filter(user=officer).exists()


def test_viewing_client_records_in_unusual_numbers_is_logged_once_an_hour(client, settings, caplog):
    from .conftest import sign_in
    from .factories import ClientFactory

    settings.RECORD_VIEWS_ALERT_PER_HOUR = 3
    people = ClientFactory.create_batch(4)
    http = sign_in(client, UserFactory(username="bulk-viewer", roles=[Role.INCOME_OFFICER]))
    with caplog.at_level("WARNING", logger="careledger.security"):
        for person in people[:2]:
            http.get(reverse("casework:client_detail", args=[person.pk]))
        assert not [r for r in caplog.records if "Unusual record viewing" in r.getMessage()]
        for person in people[2:]:
            http.get(reverse("casework:client_detail", args=[person.pk]))
    warnings = [r.getMessage() for r in caplog.records if "Unusual record viewing" in r.getMessage()]
    assert len(warnings) == 1 and "bulk-viewer has viewed 3 client records" in warnings[0]


def test_the_error_page_never_reads_the_database_for_its_log_line(caplog):
    """With the database away the lazy signed-in user cannot be read: the error page is still the
    service's, with its reference, and the log line names the user "unknown"."""
    from django.test import RequestFactory
    from django.utils.functional import SimpleLazyObject

    from casework.views.errors import server_error

    def unreadable():
        raise AssertionError("the error page read the user from the database")

    request = RequestFactory().get("/clients/1/")
    request.user = SimpleLazyObject(unreadable)
    with caplog.at_level("ERROR", logger="careledger.errors"):
        page = server_error(request)
    assert page.status_code == 500 and "Sorry, there is a problem with the service" in page.content.decode()
    assert re.search(r"E-[0-9A-F]{8}", page.content.decode())
    assert any("by unknown" in r.getMessage() for r in caplog.records)


def test_signing_in_removes_the_rows_of_the_users_ended_sessions():
    from django.contrib.sessions.models import Session
    from django.test import Client as HttpClient
    from django.utils import timezone

    from casework.models import UserSession

    from .conftest import sign_in

    officer = UserFactory(username="many-sign-ins", roles=[Role.INCOME_OFFICER])
    first = sign_in(HttpClient(), officer)
    Session.objects.filter(session_key=first.session.session_key).update(expire_date=timezone.now())  # it expired
    sign_in(HttpClient(), officer)
    assert UserSession.objects.filter(user=officer).count() == 1
