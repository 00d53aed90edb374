"""A death recorded once and handled everywhere: proposals, confirmation, refusal and reversal."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import selectors, services
from casework.deaths import registry
from casework.deaths.registry import Proposal, register_death_handler
from casework.deaths.services import Decision, death_apply_all, death_consequence_decide, death_record, death_reverse
from casework.models import TimelineEntry
from casework.models.deaths import ConsequenceStatus, DeathConsequence, DeathRecord, DeathRecordStatus
from casework.roles import Role
from debt import death as debt_death
from debt.constants import HoldKind
from debt.holds import holds_for
from debt.models import DebtHold
from tests.factories import ClientFactory, UserFactory
from tests.factories_debt import InvoiceFactory, InvoiceLineFactory

pytestmark = pytest.mark.django_db

DIED = date(2026, 3, 11)
CALLS: list = []


def _propose(client, date_of_death):
    return [Proposal(summary=f"Stop the test service for {client.reference}", object_ref="TEST-1",
                     payload={"died": date_of_death.isoformat()})]


def _apply(client, date_of_death, payload, actor):
    if client.last_name == "Refused":
        raise services.DomainError("The test service is already stopped")
    CALLS.append(("apply", client.pk, payload["died"]))
    return {"stopped": True}


def _reverse(client, date_of_death, payload, result, actor):
    CALLS.append(("reverse", client.pk, result["stopped"]))


@pytest.fixture(autouse=True)
def handlers():
    """Only the test's handler and the income team's: other apps' handlers are tested by their apps."""
    saved = dict(registry.HANDLERS)
    registry.HANDLERS.clear()
    debt_death.register()
    register_death_handler(kind="tests.stop_service", label="Test service", propose=_propose, apply=_apply,
                           reverse=_reverse, order=10)
    CALLS.clear()
    yield
    registry.HANDLERS.clear()
    registry.HANDLERS.update(saved)


@pytest.fixture
def officer():
    return UserFactory(username="officer", roles=[Role.INCOME_OFFICER])


@pytest.fixture
def leader():
    return UserFactory(username="leader", roles=[Role.TEAM_LEADER])


def invoiced_client(**client_fields):
    """A client with one issued four-weekly invoice: £84.00 a week, 2 to 29 March 2026."""
    client = ClientFactory(**client_fields)
    invoice = InvoiceFactory(client=client, period_start=date(2026, 3, 2), period_end=date(2026, 3, 29),
                             issue_date=date(2026, 3, 30), due_date=date(2026, 4, 13), total=Decimal("336.00"))
    InvoiceLineFactory(invoice=invoice, date_from=date(2026, 3, 2), date_to=date(2026, 3, 29), days=28,
                       weekly_rate=Decimal("84.00"), amount=Decimal("336.00"),
                       explanation="Home care, 2 to 29 March 2026: 28 days at £84.00 a week")
    return client, invoice


def record(client, actor, on=DIED) -> DeathRecord:
    return death_record(client=client, date_of_death=on, source="registrar", verified=True, actor=actor)


def test_recording_a_death_proposes_each_handlers_consequences_and_applies_nothing(officer):
    client, invoice = invoiced_client()
    death = record(client, officer)
    client.refresh_from_db()
    assert client.date_of_death == DIED and client.death_source == "registrar" and client.death_verified
    kinds = {c.kind: c for c in death.consequences.all()}
    assert set(kinds) == {"tests.stop_service", debt_death.CREDIT_KIND, debt_death.RECOVERY_KIND}
    assert all(c.status == ConsequenceStatus.PROPOSED for c in kinds.values())
    assert kinds[debt_death.CREDIT_KIND].summary == (
        f"Credit invoice {invoice.number} £216.00 for 18 days after the death (12 to 29 March 2026)")
    assert CALLS == []
    assert not DebtHold.objects.filter(client=client).exists()
    actions = set(TimelineEntry.objects.filter(client=client).values_list("action", flat=True))
    assert {"client.death.recorded", "client.death.consequences_proposed"} <= actions


def test_confirming_applies_the_ticked_and_declines_the_rest_with_the_note(officer):
    client, invoice = invoiced_client()
    death = record(client, officer)
    rows = {c.kind: c for c in death.consequences.all()}
    refused = death_apply_all(death=death, actor=officer, decisions=[
        Decision(rows["tests.stop_service"], True),
        Decision(rows[debt_death.CREDIT_KIND], True),
        Decision(rows[debt_death.RECOVERY_KIND], False, "The executor is paying this week"),
    ])
    assert refused == {}
    rows = {c.kind: c for c in death.consequences.all()}
    assert rows["tests.stop_service"].status == ConsequenceStatus.APPLIED
    assert rows["tests.stop_service"].result == {"stopped": True} and rows["tests.stop_service"].decided_by == officer
    assert rows[debt_death.CREDIT_KIND].status == ConsequenceStatus.APPLIED
    declined = rows[debt_death.RECOVERY_KIND]
    assert declined.status == ConsequenceStatus.DECLINED and declined.note == "The executor is paying this week"
    assert CALLS == [("apply", client.pk, "2026-03-11")]
    assert invoice.credit_notes.get().total == Decimal("-216.00")
    # Deciding again the same way changes nothing; the other way is refused.
    assert death_consequence_decide(consequence=declined, apply=False, actor=officer).status == ConsequenceStatus.DECLINED
    with pytest.raises(services.DomainError):
        death_consequence_decide(consequence=declined, apply=True, actor=officer)


def test_a_handler_that_refuses_leaves_its_consequence_proposed_with_the_message(officer):
    client, _ = invoiced_client(last_name="Refused")
    death = record(client, officer)
    rows = {c.kind: c for c in death.consequences.all()}
    refused = death_apply_all(death=death, actor=officer, decisions=[Decision(row, True) for row in rows.values()])
    assert refused == {rows["tests.stop_service"].pk: "The test service is already stopped"}
    test_row = DeathConsequence.objects.get(pk=rows["tests.stop_service"].pk)
    assert test_row.status == ConsequenceStatus.PROPOSED and test_row.error == "The test service is already stopped"
    # The others were applied all the same.
    assert DeathConsequence.objects.get(pk=rows[debt_death.CREDIT_KIND].pk).status == ConsequenceStatus.APPLIED


def test_reversing_a_death_recorded_in_error_restores_everything(officer, leader):
    client, invoice = invoiced_client()
    account = services.account_for_client(client)
    balance_before = selectors.account_balance(account)
    death = record(client, officer)
    death_apply_all(death=death, actor=officer, decisions=[Decision(c, True) for c in death.consequences.all()])
    today = timezone.localdate()
    assert selectors.account_balance(account) == balance_before - Decimal("216.00")
    assert any(h.kind == HoldKind.DECEASED for h in holds_for(client.pk, today))

    with pytest.raises(services.DomainError):
        death_reverse(death=death, reason="  ", actor=leader)
    death = death_reverse(death=death, reason="Registrar's notice was for another person", actor=leader)

    assert death.status == DeathRecordStatus.REVERSED and death.reversed_by == leader and death.reversed_at
    assert death.reversal_reason == "Registrar's notice was for another person"
    assert selectors.account_balance(account) == balance_before
    assert holds_for(client.pk, today) == []
    assert DebtHold.objects.get(client=client).released_on == today
    client.refresh_from_db()
    assert (client.date_of_death, client.death_source, client.death_verified, client.death_recorded_on) == (
        None, "", False, None)
    assert set(death.consequences.values_list("status", flat=True)) == {ConsequenceStatus.REVERSED}
    assert CALLS[-1] == ("reverse", client.pk, True)
    assert TimelineEntry.objects.filter(client=client, action="client.death.reversed").exists()
    # Correcting the date: record again after the reversal.
    again = record(client, officer, on=DIED + timedelta(days=3))
    assert again.status == DeathRecordStatus.RECORDED and again.pk != death.pk


def test_reversal_undoes_applied_consequences_latest_first_and_closes_those_still_proposed(officer, leader):
    order = []
    register_death_handler(kind="tests.first", label="First", order=1, propose=_propose,
                           apply=lambda *a: {}, reverse=lambda *a: order.append("first"))
    register_death_handler(kind="tests.last", label="Last", order=99, propose=_propose,
                           apply=lambda *a: {}, reverse=lambda *a: order.append("last"))
    client = ClientFactory()
    death = record(client, officer)
    rows = {c.kind: c for c in death.consequences.all()}
    for kind in ("tests.first", "tests.last"):
        death_consequence_decide(consequence=rows[kind], apply=True, actor=officer)
    death_reverse(death=death, reason="Wrong client", actor=leader)
    assert order == ["last", "first"]
    assert DeathConsequence.objects.get(pk=rows["tests.stop_service"].pk).status == ConsequenceStatus.DECLINED


def test_a_second_recording_is_refused_while_one_stands(officer):
    client = ClientFactory()
    record(client, officer)
    with pytest.raises(services.DomainError, match="already recorded"):
        record(client, officer, on=DIED - timedelta(days=1))
    assert DeathRecord.objects.filter(client=client).count() == 1


def test_a_death_in_the_future_is_refused(officer):
    client = ClientFactory()
    with pytest.raises(services.DomainError, match="future"):
        record(client, officer, on=timezone.localdate() + timedelta(days=1))
    assert not DeathRecord.objects.exists()


# Pages -------------------------------------------------------------------------------------------

def test_recording_on_the_page_leads_to_confirming_what_happens_now(client_as):
    http = client_as(Role.INCOME_OFFICER)
    person, invoice = invoiced_client()
    response = http.post(reverse("casework:client_death", args=[person.pk]), {
        "date_of_death_0": "11", "date_of_death_1": "3", "date_of_death_2": "2026", "source": "registrar",
        "verified": "on"})
    death = DeathRecord.objects.get(client=person)
    assert response.status_code == 302 and response["Location"] == reverse("casework:death_confirm", args=[death.pk])
    page = http.get(response["Location"]).content.decode()
    assert "Confirm what happens now" in page and "Charges for days after the death" in page
    assert f"The personal representatives of the late {person.full_name}" in page
    rows = {c.kind: c for c in death.consequences.all()}
    response = http.post(reverse("casework:death_confirm", args=[death.pk]), {
        f"apply_{rows[debt_death.CREDIT_KIND].pk}": "on", f"apply_{rows['tests.stop_service'].pk}": "on",
        f"note_{rows[debt_death.RECOVERY_KIND].pk}": "Executor paying"})
    assert response.status_code == 302
    statuses = dict(death.consequences.values_list("kind", "status"))
    assert statuses[debt_death.RECOVERY_KIND] == ConsequenceStatus.DECLINED
    assert statuses[debt_death.CREDIT_KIND] == ConsequenceStatus.APPLIED
    detail = http.get(response["Location"]).content.decode()
    assert "Executor paying" in detail and "Recorded in error" not in detail  # officers cannot reverse


def test_a_refused_consequence_is_shown_in_the_error_summary(client_as):
    http = client_as(Role.INCOME_OFFICER)
    person = ClientFactory(last_name="Refused")
    death = record(person, UserFactory())
    row = death.consequences.get(kind="tests.stop_service")
    response = http.post(reverse("casework:death_confirm", args=[death.pk]), {f"apply_{row.pk}": "on"})
    page = response.content.decode()
    assert response.status_code == 200 and "There is a problem" in page
    assert "The test service is already stopped" in page


def test_team_leader_reverses_a_death_on_its_page_and_a_reason_is_required(client_as):
    http = client_as(Role.TEAM_LEADER)
    person = ClientFactory()
    death = record(person, UserFactory())
    assert "Recorded in error: reverse this death" in http.get(reverse("casework:death_detail", args=[death.pk])).content.decode()
    response = http.post(reverse("casework:death_reverse", args=[death.pk]), {"reason": ""})
    assert response.status_code == 200 and "There is a problem" in response.content.decode()
    response = http.post(reverse("casework:death_reverse", args=[death.pk]), {"reason": "Wrong person"})
    assert response.status_code == 302
    death.refresh_from_db()
    assert death.status == DeathRecordStatus.REVERSED


def test_deaths_list_shows_work_awaiting_confirmation_and_exports(client_as):
    http = client_as(Role.RESOURCE_MANAGEMENT_OFFICER)
    person = ClientFactory(first_name="Edna", last_name="Marsh")
    record(person, UserFactory())
    page = http.get(reverse("casework:death_list") + "?show=awaiting").content.decode()
    assert "Edna Marsh" in page and "awaiting confirmation" in page
    assert http.get(reverse("casework:death_list") + "?show=nonsense").status_code == 200
    csv = b"".join(http.get(reverse("casework:death_list") + "?format=csv").streaming_content).decode()
    assert "Awaiting confirmation" in csv and person.reference in csv
    xlsx = http.get(reverse("casework:death_list") + "?format=xlsx")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


# API ---------------------------------------------------------------------------------------------

def test_api_records_a_death_with_consequences_proposed_not_applied(client_as):
    http = client_as(Role.INCOME_OFFICER)
    person, _ = invoiced_client()
    response = http.post("/api/v1/deaths/", {"client": person.pk, "date_of_death": "2026-03-11",
                                             "source": "registrar", "verified": True}, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "recorded" and body["date_of_death"] == "2026-03-11"
    assert {c["kind"] for c in body["consequences"]} >= {debt_death.CREDIT_KIND, "tests.stop_service"}
    assert {c["status"] for c in body["consequences"]} == {"proposed"}
    again = http.post("/api/v1/deaths/", {"client": person.pk, "date_of_death": "2026-03-12", "source": "family"},
                      content_type="application/json")
    assert again.status_code == 400 and "already recorded" in again.content.decode()
    future = http.post("/api/v1/deaths/", {"client": ClientFactory().pk, "source": "family",
                                           "date_of_death": (timezone.localdate() + timedelta(days=2)).isoformat()},
                       content_type="application/json")
    assert future.status_code == 400
    read = http.get(f"/api/v1/deaths/{body['id']}/").json()
    assert read["consequences"][0]["status_label"] == "Awaiting confirmation"
    assert http.get(f"/api/v1/deaths/?client={person.pk}").json()["count"] == 1


def test_api_recording_is_refused_to_an_auditor(client_as):
    http = client_as(Role.AUDITOR)
    response = http.post("/api/v1/deaths/", {"client": ClientFactory().pk, "date_of_death": "2026-03-11",
                                             "source": "registrar"}, content_type="application/json")
    assert response.status_code == 403


def test_the_demo_records_one_death_awaiting_confirmation_once(officer):
    import io

    from casework.deaths.demo import seed_deaths

    resource = UserFactory(username="resource", roles=[Role.RESOURCE_MANAGEMENT_OFFICER])
    client, invoice = invoiced_client()
    seed_deaths({"resource": resource}, io.StringIO())
    seed_deaths({"resource": resource}, io.StringIO())
    death = DeathRecord.objects.get()
    assert death.client == client and death.consequences.filter(status=ConsequenceStatus.PROPOSED).exists()
    assert death.consequences.filter(kind=debt_death.CREDIT_KIND).exists()


def test_any_apps_consequence_that_reduces_what_is_owed_needs_a_verified_death_or_a_second_person(officer, leader):
    """The rule is in the one confirmation path, so it holds for every app's handler that gives a
    `credit`: here a test handler stopping charges with a credit of £40.00."""
    from casework.models import ControlAction, MoneyAction

    register_death_handler(
        kind="tests.stop_charges", label="Test charges", order=15,
        propose=lambda client, died: [Proposal(summary="Stop charges with a credit of £40.00", object_ref="TEST-CR",
                                               payload={"credit": "40.00"})],
        apply=lambda client, died, payload, actor: {"reference": "TEST-CR-1"},
        reverse=lambda client, died, payload, result, actor: None,
        credit=lambda payload: Decimal(payload["credit"]))
    client = ClientFactory()
    death = death_record(client=client, date_of_death=DIED, source="family", verified=False, actor=officer)
    row = death.consequences.get(kind="tests.stop_charges")
    with pytest.raises(services.DomainError, match="someone else must confirm this credit"):
        death_consequence_decide(consequence=row, apply=True, actor=officer)
    # What reduces nothing owed is confirmed by the recorder alone.
    plain = death_consequence_decide(consequence=death.consequences.get(kind="tests.stop_service"), apply=True,
                                     actor=officer)
    assert plain.status == ConsequenceStatus.APPLIED
    assert death_consequence_decide(consequence=row, apply=True, actor=leader).status == ConsequenceStatus.APPLIED
    action = MoneyAction.objects.get(action=ControlAction.DEATH_CREDIT)
    assert (action.amount, action.reference, action.maker, action.checker) == (Decimal("40.00"), "TEST-CR-1", officer,
                                                                               leader)
