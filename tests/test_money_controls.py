"""Money controls: ledger entries posted and reversed by hand, through the web and the API; the
requests another person decides; limits as data; the separation report."""
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from casework.models import ControlLimit, ControlRequest, LedgerEntry, MoneyAction
from casework.models.controls import ControlAction
from casework.roles import Role
from casework.selectors import account_balance
from casework.services import DomainError, NotAllowed, account_for_client
from casework.services.controls import (
    control_request_transition,
    limits_for,
    require_other_person,
    why_cannot_decide,
    why_same_person,
)
from casework.services.ledger import ledger_post_by_hand, ledger_reverse_by_hand

from .conftest import sign_in
from .factories import ClientFactory, LedgerEntryFactory, UserFactory

pytestmark = pytest.mark.django_db
ENTRIES = "/api/v1/ledger-entries/"


@pytest.fixture
def officer():
    return UserFactory(username="controls-officer", roles=[Role.INCOME_OFFICER])


@pytest.fixture
def leader():
    return UserFactory(username="controls-leader", roles=[Role.TEAM_LEADER])


@pytest.fixture
def leader2():
    return UserFactory(username="controls-leader2", roles=[Role.TEAM_LEADER])


@pytest.fixture
def owing():
    """A client owing £1,479.80 on the care charges account."""
    person = ClientFactory()
    LedgerEntryFactory(account=account_for_client(person), kind="charge", amount=D("1479.80"))
    return person


def _post(actor, person, kind, amount, reason="Agreed with the client"):
    return ledger_post_by_hand(account=account_for_client(person), kind=kind, amount=D(amount),
                               effective_date=timezone.localdate(), reference="HAND1", description="By hand",
                               reason=reason, actor=actor)


def _balance(person):
    return account_balance(account_for_client(person))


# The two-person rule -----------------------------------------------------------------------------

def test_the_two_person_rule_refuses_any_maker_and_admits_anyone_else(officer, leader):
    assert why_same_person(leader, officer, None) is None
    assert "someone else must approve it" in why_same_person(officer, officer, leader, action="approve it")
    assert why_same_person(officer, officer.pk) is not None  # makers may be given by id
    with pytest.raises(DomainError):
        require_other_person(leader, officer, leader)


# Posting by hand ---------------------------------------------------------------------------------

def test_an_officers_credit_for_the_whole_balance_is_a_request_and_posts_nothing(officer, owing):
    """The red team's first attack: a credit that cleared £1,479.80 with no approval."""
    result = _post(officer, owing, "credit", "1479.80", reason="Client says it was paid")

    assert isinstance(result, ControlRequest)
    assert result.status == "requested" and result.amount == D("1479.80")
    assert _balance(owing) == D("1479.80")
    assert not MoneyAction.objects.exists()
    assert result.changes[0][1:] == ["1479.80", "0.00"]


def test_a_reduction_by_hand_needs_a_reason(officer, owing):
    with pytest.raises(DomainError) as refused:
        _post(officer, owing, "adjustment", "-10.00", reason="")
    assert refused.value.field == "reason"
    assert not ControlRequest.objects.exists()


def test_a_charge_within_the_officers_limit_posts_at_once_and_is_recorded_as_done_alone(officer, owing):
    entry = _post(officer, owing, "charge", "120.00")

    assert isinstance(entry, LedgerEntry) and entry.reason == "Agreed with the client"
    assert _balance(owing) == D("1599.80")
    action = MoneyAction.objects.get()
    assert (action.action, action.amount, action.maker, action.checker) == ("manual_posting", D("120.00"), officer, None)


def test_a_charge_above_the_officers_limit_goes_for_approval(officer, owing):
    assert isinstance(_post(officer, owing, "charge", "2000.01"), ControlRequest)
    assert isinstance(_post(officer, owing, "charge", "2000.00"), LedgerEntry)


def test_write_offs_are_never_posted_by_hand(leader, owing):
    with pytest.raises(DomainError) as refused:
        _post(leader, owing, "write_off", "10.00")
    assert refused.value.field == "kind"


def test_the_maker_cannot_approve_and_another_team_leader_carries_it_out_once(leader, leader2, owing):
    request = _post(leader, owing, "credit", "300.00")
    assert "someone else must decide" in why_cannot_decide(request, leader)
    with pytest.raises(NotAllowed):
        control_request_transition(request=request, to="approved", actor=leader)

    done = control_request_transition(request=request, to="approved", actor=leader2, note="Checked the receipt")

    assert done.status == "approved" and done.decided_by == leader2
    entry = LedgerEntry.objects.get(reference=done.result_reference)
    assert entry.amount == D("-300.00") and entry.posted_by == leader
    assert _balance(owing) == D("1179.80")
    action = MoneyAction.objects.get()
    assert (action.maker, action.checker, action.request) == (leader, leader2, done)
    with pytest.raises(DomainError):
        control_request_transition(request=done, to="rejected", actor=leader2, note="Too late")
    assert LedgerEntry.objects.filter(reference=done.result_reference).count() == 1


def test_an_officer_cannot_decide_and_a_rejection_needs_a_reason_and_posts_nothing(officer, leader, owing):
    other_officer = UserFactory(username="controls-officer2", roles=[Role.INCOME_OFFICER])
    request = _post(officer, owing, "credit", "50.00")
    assert "cannot approve" in why_cannot_decide(request, other_officer)
    with pytest.raises(DomainError):
        control_request_transition(request=request, to="rejected", actor=leader, note="")

    control_request_transition(request=request, to="rejected", actor=leader, note="No evidence of payment")

    assert _balance(owing) == D("1479.80") and not MoneyAction.objects.exists()


def test_above_the_approvers_limit_someone_with_a_higher_limit_decides(officer, leader, owing):
    request = _post(officer, owing, "credit", "10000.01", reason="Duplicate charges")
    assert "up to £10,000.00" in why_cannot_decide(request, leader)


def test_only_the_maker_may_withdraw(officer, leader, owing):
    request = _post(officer, owing, "credit", "50.00")
    with pytest.raises(NotAllowed):
        control_request_transition(request=request, to="withdrawn", actor=leader)
    assert control_request_transition(request=request, to="withdrawn", actor=officer).status == "withdrawn"


def test_limits_are_data_with_effective_dates(officer, owing):
    tomorrow = timezone.localdate() + timedelta(days=1)
    ControlLimit.objects.create(action="manual_posting", group_name=Role.INCOME_OFFICER.value, entry_kind="credit",
                                direction="reduce", alone_up_to=D("25.00"), effective_from=timezone.localdate())
    ControlLimit.objects.create(action="manual_posting", group_name=Role.INCOME_OFFICER.value, entry_kind="credit",
                                direction="reduce", alone_up_to=None, effective_from=tomorrow)

    assert isinstance(_post(officer, owing, "credit", "25.00"), LedgerEntry)
    assert isinstance(_post(officer, owing, "credit", "25.01"), ControlRequest)
    assert limits_for(officer, "manual_posting", on=tomorrow, entry_kind="credit", direction="reduce").alone is None


def test_the_database_refuses_a_decider_who_is_the_requester(officer, owing):
    from django.db import IntegrityError, transaction

    request = _post(officer, owing, "credit", "50.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        ControlRequest.objects.filter(pk=request.pk).update(decided_by=officer, status="approved")


# Reversals by hand -------------------------------------------------------------------------------

def test_reversing_a_charge_above_the_team_leaders_limit_needs_another_team_leader(leader, leader2, owing):
    charge = LedgerEntry.objects.get(account__client=owing)
    request = ledger_reverse_by_hand(entry=charge, reason="Charged in error", actor=leader)
    assert isinstance(request, ControlRequest) and not LedgerEntry.objects.filter(reverses=charge).exists()
    with pytest.raises(DomainError):
        ledger_reverse_by_hand(entry=charge, reason="Again", actor=leader)

    control_request_transition(request=request, to="approved", actor=leader2)

    assert LedgerEntry.objects.get(reverses=charge).amount == D("-1479.80")
    assert _balance(owing) == D("0.00")


def test_a_small_reversal_is_done_alone_and_counts_towards_the_period(leader):
    person = ClientFactory()
    account = account_for_client(person)
    first = LedgerEntryFactory(account=account, kind="charge", amount=D("600.00"))
    second = LedgerEntryFactory(account=account, kind="charge", amount=D("600.00"))

    assert isinstance(ledger_reverse_by_hand(entry=first, reason="Wrong week", actor=leader), LedgerEntry)
    # £600 already reversed alone this year: a second £600 would make £1,200, over the £1,000 limit.
    assert isinstance(ledger_reverse_by_hand(entry=second, reason="Wrong week", actor=leader), ControlRequest)


def test_reversing_a_payment_puts_the_debt_back_without_a_second_person(leader):
    person = ClientFactory()
    payment = LedgerEntryFactory(account=account_for_client(person), kind="payment", amount=D("-4000.00"))
    assert isinstance(ledger_reverse_by_hand(entry=payment, reason="Cheque bounced", actor=leader), LedgerEntry)


# Through the web ---------------------------------------------------------------------------------

def test_the_ledger_form_sends_an_officers_credit_for_approval(client, officer, leader2, owing):
    http = sign_in(client, officer)
    today = timezone.localdate()
    response = http.post(reverse("casework:ledger_post", args=[owing.pk]), {
        "kind": "credit", "amount": "1479.80", "effective_date_0": today.day, "effective_date_1": today.month,
        "effective_date_2": today.year, "reference": "CR1", "description": "Goodwill", "reason": "Complaint upheld"})

    request = ControlRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("casework:control_request_detail",
                                                                          args=[request.pk])
    page = http.get(response["Location"]).content.decode()
    assert "Sent for approval" in page and "someone else must decide" in page
    assert "Approve</a>" not in page
    assert _balance(owing) == D("1479.80")

    leader_http = sign_in(client, leader2)
    page = leader_http.get(reverse("casework:control_request_detail", args=[request.pk])).content.decode()
    assert "What changes if it is approved" in page and "1479.80" in page and "Complaint upheld" in page
    response = leader_http.post(reverse("casework:control_request_approve", args=[request.pk]), {"note": ""})
    assert response.status_code == 302
    assert _balance(owing) == D("0.00")


def test_the_maker_opening_the_approve_page_is_sent_back_with_the_reason(client, leader, owing):
    request = _post(leader, owing, "credit", "20.00")
    http = sign_in(client, leader)
    response = http.post(reverse("casework:control_request_approve", args=[request.pk]), {"note": ""}, follow=True)
    assert "someone else must decide" in response.content.decode()
    assert ControlRequest.objects.get().status == "requested"


def test_the_approvals_list_exports_as_csv_and_xlsx(client, officer, leader, owing):
    _post(officer, owing, "credit", "20.00")
    http = sign_in(client, leader)
    csv = http.get(reverse("casework:control_request_list"), {"format": "csv"})
    assert csv.status_code == 200 and "20.00" in b"".join(csv.streaming_content).decode()
    xlsx = http.get(reverse("casework:control_request_list"), {"format": "xlsx"})
    assert xlsx.status_code == 200 and _body_of(xlsx)[:2] == b"PK"


def _body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# Through the API ---------------------------------------------------------------------------------

def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _body(person, kind, amount, **extra):
    return {"client": person.pk, "kind": kind, "amount": amount, "effective_date": "2026-04-01",
            "reference": "API1", "description": "Through the API", **extra}


def test_the_api_answers_a_negative_adjustment_with_202_and_the_request(officer, owing):
    """The red team's API attack: POST /api/v1/ledger-entries/ with -£1,479.80."""
    response = _api(officer).post(ENTRIES, _body(owing, "adjustment", "-1479.80", reason="Cleared"), format="json")

    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "requested" and response.json()["reference"].startswith("AP")
    assert _balance(owing) == D("1479.80")
    listed = _api(officer).get("/api/v1/approval-requests/", {"status": "requested"}).json()
    assert [r["id"] for r in listed["results"]] == [response.json()["id"]]


def test_the_api_names_the_reason_field_when_a_reduction_has_none(officer, owing):
    response = _api(officer).post(ENTRIES, _body(owing, "credit", "10.00"), format="json")
    assert response.status_code == 400 and "reason" in response.json()
    assert not ControlRequest.objects.exists()


def test_a_system_account_passes_on_receipts_within_its_limit():
    system = UserFactory(username="controls-system", roles=[Role.SYSTEM_ACCOUNT])
    person = ClientFactory()
    assert _api(system).post(ENTRIES, _body(person, "payment", "50.00"), format="json").status_code == 201
    assert _api(system).post(ENTRIES, _body(person, "payment", "5000.01", reason="Receipt"),
                             format="json").status_code == 202
    assert _api(system).post(ENTRIES, _body(person, "credit", "1.00", reason="x"), format="json").status_code == 202


# The separation report ---------------------------------------------------------------------------

def test_the_separation_report_lists_maker_and_checker_and_flags_one_person_doing_both(client, officer, leader,
                                                                                      owing):
    request = _post(officer, owing, "credit", "75.00")
    control_request_transition(request=request, to="approved", actor=leader)
    _post(officer, owing, "charge", "10.00")
    MoneyAction.objects.create(action=ControlAction.REFUND, amount=D("5.00"), subject="Client X", reference="R1",
                               summary="Refund", maker=leader, made_at=timezone.now(), checker=leader,
                               checked_at=timezone.now())
    auditor = UserFactory(username="controls-auditor", roles=[Role.AUDITOR])
    http = sign_in(client, auditor)
    url = reverse("casework:separation_report")

    page = http.get(url).content.decode()
    assert "1 action in this period was made and checked by the same person" in page
    same = http.get(url, {"only": "same"}).content.decode()
    assert "R1" in same and "Same person" in same and "75.00" not in same
    csv = _body_of(http.get(url, {"format": "csv"})).decode()
    assert csv.count("\n") == 4  # header and three actions
    assert "Done alone, within the maker's limit" in csv
    bad = http.get(url, {"from": "2026-02-31"})
    assert bad.status_code == 200 and "Enter the from date as a real date" in bad.content.decode()
    assert http.get(url, {"from": (date.today() + timedelta(days=400)).isoformat()}).status_code == 200
