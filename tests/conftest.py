"""A cast of users, one per role, and a client signed in as each with two-factor verified."""
import pytest
from django.test import Client as HttpClient
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.roles import Role

from .factories import UserFactory

ROLE_USERNAMES = {role: role.name.lower() for role in Role}


@pytest.fixture(autouse=True)
def _queue_built_on_every_view(settings):
    """Tests see each change at once: the decisions queue is built on every view (its keeping is
    tested on its own, tests/test_debt_queue.py), and nothing kept crosses from one test to the next."""
    from django.core.cache import cache

    settings.DECISIONS_CACHE_SECONDS = 0
    cache.clear()


def ensure_control_limits() -> None:
    """The money controls' seeded limits, the bank holidays, the limitation warning levels and the Pre-Action rule, again: a transactional (browser) test empties the tables,
    and the tests after it still need the rows the migration loads. Same rows, from the migration."""
    import importlib

    from django.apps import apps

    from casework.models import ControlLimit

    from casework.models import NonWorkingDay

    if not ControlLimit.objects.exists():
        importlib.import_module("casework.migrations.0013_money_control_limits").load(apps)
    if not NonWorkingDay.objects.exists():
        importlib.import_module("casework.migrations.0015_working_days").load_published(apps, None)
    from debt.models import LimitationWarningLevel, PreActionRule
    from provider_payments.models import PaymentSchedule

    from deferred_payments.models import NationalMaximumRate

    if not NationalMaximumRate.objects.exists():
        from .factories_deferred import ensure_reference_data

        ensure_reference_data()
    if not PaymentSchedule.objects.exists():
        for name in ("provider_payments.migrations.0002_append_only_and_defaults",
                     "provider_payments.migrations.0003_death_notice_period"):
            importlib.import_module(name).seed_defaults(apps)

    if not LimitationWarningLevel.objects.exists():
        importlib.import_module("debt.migrations.0012_limitation_warning_levels").add_levels(apps, None)

    if not PreActionRule.objects.exists():
        importlib.import_module("debt.migrations.0013_litigation_friend").seed(apps, None)


@pytest.fixture(autouse=True)
def _money_control_limits(request):
    """Every test with the database has the seeded money control limits."""
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in names or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif "db" in names or marker is not None:
        request.getfixturevalue("db")
    else:
        return
    ensure_control_limits()


@pytest.fixture
def user_for():
    """user_for(Role.INCOME_OFFICER) -> a user holding just that role."""

    def make(role: Role):
        return UserFactory(username=ROLE_USERNAMES[role], roles=[role])

    return make


def sign_in(http: HttpClient, user) -> HttpClient:
    """Sign in with two-factor verified, as a real sign-in would leave the session."""
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="Authenticator app", defaults={"confirmed": True})
    http.force_login(user)
    session = http.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return http


@pytest.fixture
def client_as(user_for):
    """client_as(Role.TEAM_LEADER) -> a Django test client signed in as that role."""

    def make(role: Role):
        return sign_in(HttpClient(), user_for(role))

    return make


@pytest.fixture
def income_officer(user_for):
    return user_for(Role.INCOME_OFFICER)


@pytest.fixture
def team_leader(user_for):
    return user_for(Role.TEAM_LEADER)
