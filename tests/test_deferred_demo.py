"""The demo seeder: agreements in each part of their life, and idempotent."""
import io

import pytest

from casework.constants import CaseType
from casework.models import Case, Letter
from deferred_payments.demo import seed_demo
from deferred_payments.models import Agreement, AlertKind, State, TerminationReason

from .factories_deferred import _dpa_reference_data  # noqa: F401 (autouse)
from .factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_demo_shows_each_state_and_a_second_run_adds_nothing():
    users = {"deferred": UserFactory(username="deferred")}
    out = io.StringIO()
    seed_demo(users, out)
    assert "Seeded 6 deferred payment agreements" in out.getvalue()
    states = dict(Agreement.objects.values_list("client__reference", "state"))
    assert states == {"DP900001": State.ENQUIRY, "DP900002": State.APPLICATION, "DP900003": State.TERMINATED,
                      "DP900004": State.ACTIVE, "DP900005": State.TERMINATED, "DP900006": State.SUSPENDED}
    died = Agreement.objects.get(client__reference="DP900005")
    assert died.termination_reason == TerminationReason.DEATH
    assert str(died.due_date) == "2025-06-08"
    assert died.recovery_case.case_type == CaseType.DEBT_RECOVERY
    active = Agreement.objects.get(client__reference="DP900004")
    assert active.statements.count() == 3
    # Interest stops where the national maximum is not yet recorded, and the officer is told why.
    assert active.alerts.filter(kind=AlertKind.RATE_MISSING).exists()
    assert Letter.objects.filter(letter_type="dpa_refusal").count() == 1
    again = io.StringIO()
    seed_demo(users, again)
    assert again.getvalue() == ""
    assert Agreement.objects.count() == 6
    assert Case.objects.filter(case_type=CaseType.DEBT_RECOVERY).count() == 1
