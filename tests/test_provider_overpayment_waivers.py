"""Waiving what a provider still owes of an overpayment (OVERPAYMENT_WAIVER): always someone
else's decision within their ControlLimit approval limit; approval posts a WAIVER entry that
reduces what the provider owes, once, and closes the overpayment when nothing is left. And the
overpayment's own approval records its maker and checker."""
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models.controls import ControlAction, ControlLimit, ControlRequest, ControlRequestStatus, MoneyAction
from casework.roles import Role
from casework.services import DomainError, NotAllowed
from casework.services.controls import control_request_transition, why_cannot_decide
from provider_payments.constants import OverpaymentSource, OverpaymentStatus, ProviderEntryKind, RecoveryMethod
from provider_payments.models import OverpaymentWaiver, ProviderLedgerEntry
from provider_payments.services.common import provider_balance
from provider_payments.services.overpayments import (
    overpayment_outstanding,
    overpayment_receipt,
    overpayment_record,
    overpayment_transition,
    overpayment_waiver_request,
)

from .conftest import sign_in
from .factories import UserFactory
from .factories_provider import ProviderFactory, leader, officer

pytestmark = pytest.mark.django_db
D = Decimal
APPROVED, REJECTED = ControlRequestStatus.APPROVED, ControlRequestStatus.REJECTED


def approved(amount: str = "120.00", method: str = RecoveryMethod.INVOICE):
    found = overpayment_record(provider=ProviderFactory(), amount=D(amount), source=OverpaymentSource.VALIDATION,
                               description="Visits paid twice in March", method=method, actor=officer())
    return overpayment_transition(overpayment=found, to_status=OverpaymentStatus.APPROVED, actor=leader(),
                                  invoice_number="SI0001234" if method == RecoveryMethod.INVOICE else "")


def other_leader():
    return UserFactory(username="provider-leader-2", roles=[Role.TEAM_LEADER])


def test_a_waiver_waits_for_someone_else_then_reduces_what_the_provider_owes_once():
    overpayment = approved()
    provider = overpayment.provider
    assert provider_balance(provider) == D("120.00")
    maker = officer()
    request = overpayment_waiver_request(overpayment=overpayment, amount=D("20.00"), reason="Too small to chase",
                                         actor=maker)
    assert (request.action, request.amount, request.client_id) == (ControlAction.OVERPAYMENT_WAIVER, D("20.00"), None)
    assert provider_balance(provider) == D("120.00") and not OverpaymentWaiver.objects.exists()
    with pytest.raises(NotAllowed, match="someone else must decide it"):
        control_request_transition(request=request, to=APPROVED, actor=maker)
    checker = leader()
    done = control_request_transition(request=request, to=APPROVED, actor=checker)
    entry = ProviderLedgerEntry.objects.get(kind=ProviderEntryKind.WAIVER)
    assert (entry.amount, entry.reference, entry.posted_by) == (D("-20.00"), done.result_reference, maker)
    assert provider_balance(provider) == D("100.00") and overpayment_outstanding(overpayment) == D("100.00")
    waiver = OverpaymentWaiver.objects.get()
    assert (waiver.overpayment, waiver.amount, waiver.requested_by, waiver.approved_by) == (
        overpayment, D("20.00"), maker, checker)
    overpayment.refresh_from_db()
    assert overpayment.status == OverpaymentStatus.APPROVED  # £100 still to recover
    action = MoneyAction.objects.get(action=ControlAction.OVERPAYMENT_WAIVER)
    assert (action.maker, action.checker, action.amount) == (maker, checker, D("20.00"))
    assert "nothing to decide" in why_cannot_decide(done, other_leader())
    control_request_transition(request=done, to=APPROVED, actor=other_leader())
    assert ProviderLedgerEntry.objects.filter(kind=ProviderEntryKind.WAIVER).count() == 1
    assert provider_balance(provider) == D("100.00")


def test_waiving_the_rest_closes_the_overpayment_through_its_transition():
    overpayment = approved()
    overpayment_receipt(overpayment=overpayment, amount=D("100.00"), received_on=date(2026, 5, 1), actor=officer())
    request = overpayment_waiver_request(overpayment=overpayment, amount=D("20.00"), reason="Agreed at dispute",
                                         actor=officer())
    control_request_transition(request=request, to=APPROVED, actor=leader())
    overpayment.refresh_from_db()
    assert overpayment.status == OverpaymentStatus.WAIVED and provider_balance(overpayment.provider) == 0
    with pytest.raises(DomainError, match="Only an approved overpayment"):
        overpayment_receipt(overpayment=overpayment, amount=D("1.00"), received_on=date(2026, 5, 2), actor=officer())
    with pytest.raises(DomainError, match="closed: the rest waived"):
        overpayment_waiver_request(overpayment=overpayment, amount=D("1.00"), reason="x", actor=officer())


def test_a_rejected_waiver_posts_nothing():
    overpayment = approved()
    request = overpayment_waiver_request(overpayment=overpayment, amount=D("120.00"), reason="Hardship",
                                         actor=officer())
    control_request_transition(request=request, to=REJECTED, actor=leader(), note="The provider can pay")
    assert provider_balance(overpayment.provider) == D("120.00")
    assert not OverpaymentWaiver.objects.exists()
    assert not MoneyAction.objects.filter(action=ControlAction.OVERPAYMENT_WAIVER).exists()


def test_no_more_than_is_still_owed_counting_waivers_waiting_and_checked_again_on_approval():
    overpayment = approved()
    first = overpayment_waiver_request(overpayment=overpayment, amount=D("100.00"), reason="Part", actor=officer())
    with pytest.raises(DomainError) as refused:
        overpayment_waiver_request(overpayment=overpayment, amount=D("20.01"), reason="More", actor=officer())
    assert refused.value.field == "amount"
    assert refused.value.message == ("The amount to waive must be no more than £20.00: the provider still owes "
                                     f"£120.00 of {overpayment.reference}; £100.00 already waits for a decision")
    for bad in ("0", "-1"):
        with pytest.raises(DomainError, match="more than £0.00") as refused:
            overpayment_waiver_request(overpayment=overpayment, amount=D(bad), reason="x", actor=officer())
        assert refused.value.field == "amount"
    with pytest.raises(DomainError, match="Give the reason") as refused:
        overpayment_waiver_request(overpayment=overpayment, amount=D("1.00"), reason=" ", actor=officer())
    assert refused.value.field == "reason"
    # Meanwhile the provider pays £50 against the invoice: £70 is owed, so the £100 waiver cannot be approved.
    overpayment_receipt(overpayment=overpayment, amount=D("50.00"), received_on=date(2026, 5, 1), actor=officer())
    with pytest.raises(DomainError, match="Only £70.00 of .* is still owed now"):
        control_request_transition(request=first, to=APPROVED, actor=leader())
    assert not OverpaymentWaiver.objects.exists()
    first.refresh_from_db()
    assert first.status == ControlRequestStatus.REQUESTED


def test_an_overpayment_not_yet_approved_is_cancelled_not_waived():
    found = overpayment_record(provider=ProviderFactory(), amount=D("50.00"), source=OverpaymentSource.AUDIT,
                               description="Audit", actor=officer())
    with pytest.raises(DomainError, match="cancel it instead"):
        overpayment_waiver_request(overpayment=found, amount=D("50.00"), reason="x", actor=officer())


def test_who_may_approve_and_how_much_is_data():
    overpayment = approved("3000.00", method=RecoveryMethod.OFFSET)
    request = overpayment_waiver_request(overpayment=overpayment, amount=D("2500.00"), reason="Uneconomical",
                                         actor=officer())
    checker = other_leader()
    assert why_cannot_decide(request, checker) is None  # seeded: up to £5,000 a year
    ControlLimit.objects.create(action=ControlAction.OVERPAYMENT_WAIVER, group_name=Role.TEAM_LEADER.value,
                                approve_up_to=D("1000.00"), period_days=365, effective_from=timezone.localdate())
    with pytest.raises(NotAllowed, match="You may approve up to £1,000.00"):
        control_request_transition(request=request, to=APPROVED, actor=checker)
    assert "cannot approve" in why_cannot_decide(request, UserFactory(username="pp-x", roles=[
        Role.PROVIDER_PAYMENT_OFFICER]))
    ControlLimit.objects.filter(action=ControlAction.OVERPAYMENT_WAIVER, approve_up_to=D("1000.00")).update(
        approve_up_to=D("2500.00"))
    control_request_transition(request=request, to=APPROVED, actor=checker)
    assert overpayment_outstanding(overpayment) == D("500.00")


def test_approving_an_overpayment_for_recovery_records_maker_and_checker():
    found = overpayment_record(provider=ProviderFactory(), amount=D("75.00"), source=OverpaymentSource.AUDIT,
                               description="Audit", actor=officer())
    assert not MoneyAction.objects.exists()
    checker = leader()
    overpayment_transition(overpayment=found, to_status=OverpaymentStatus.APPROVED, actor=checker)
    action = MoneyAction.objects.get()
    assert (action.action, action.maker, action.checker, action.amount, action.reference) == (
        ControlAction.OVERPAYMENT_RECOVERY, officer(), checker, D("75.00"), found.reference)
    assert found.provider.supplier_number in action.subject


def test_the_list_offers_the_waiver_and_the_form_sends_it_for_approval(client):
    overpayment = approved()
    http = sign_in(client, officer())
    page = http.get(reverse("provider_payments:overpayment_list")).content.decode()
    url = reverse("provider_payments:overpayment_waive", args=[overpayment.pk])
    assert url in page and "£120.00" in page
    too_much = http.post(url, {"amount": "120.01", "reason": "x"})
    assert too_much.status_code == 200
    assert "The amount to waive must be no more than £120.00" in too_much.content.decode()
    assert http.post(url, {"amount": "twelve", "reason": "x"}).status_code == 200
    sent = http.post(url, {"amount": "120.00", "reason": "Uneconomical to recover"})
    request = ControlRequest.objects.get()
    assert sent.status_code == 302 and sent["Location"] == reverse("casework:control_request_detail", args=[request.pk])
    assert http.get(url).status_code == 302  # all of it waits for a decision
    csv = http.get(reverse("provider_payments:overpayment_list"), {"format": "csv"})
    header = b"".join(csv.streaming_content).decode().splitlines()[0]
    assert header.lstrip("\ufeff").endswith("Waived,Still owed")
