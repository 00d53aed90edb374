"""Waiving an audit's surplus instead of recovering it (DP_SURPLUS_WAIVER): the audit waits for
someone other than the officer, within their approval limit from the ControlLimit rows; on
approval the working is frozen and the audit completes with nothing recovered; a rejection sends
it back to review. And the recovery's own approval records its maker and checker."""
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import TimelineEntry
from casework.models.controls import ControlAction, ControlLimit, ControlRequest, ControlRequestStatus, MoneyAction
from casework.roles import Role
from casework.services import DomainError, NotAllowed
from casework.services.controls import control_request_transition, why_cannot_decide
from debt.models import Invoice
from direct_payments.constants import AuditStatus, Outcome, WaiverReason
from direct_payments.models import AuditEvent, Flag, Recovery, SurplusWaiver
from direct_payments.services import audit_record_outcome, flag_review, recovery_approve, surplus_waiver_request

from .conftest import sign_in
from .factories import UserFactory
from .test_direct_surplus import leader, we12_audit  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
D = Decimal
APPROVED, REJECTED = ControlRequestStatus.APPROVED, ControlRequestStatus.REJECTED


def ask(audit, kind=WaiverReason.PLANNED_SAVING, reason="Saving for a respite week in August, agreed at review"):
    return surplus_waiver_request(audit=audit, reason_kind=kind, reason=reason, actor=audit.officer)


def test_a_waiver_holds_the_audit_for_someone_else_and_recovers_nothing(we12_audit):
    request = ask(we12_audit)
    we12_audit.refresh_from_db()
    assert (request.action, request.amount, request.client_id) == (ControlAction.DP_SURPLUS_WAIVER, D("3670.00"),
                                                                   we12_audit.agreement.client_id)
    assert we12_audit.agreement.client.full_name not in request.summary + request.subject
    assert we12_audit.status == AuditStatus.AWAITING_APPROVAL and we12_audit.outcome == ""
    assert not Recovery.objects.exists() and not SurplusWaiver.objects.exists()
    with pytest.raises(NotAllowed, match="someone else must decide it"):
        control_request_transition(request=request, to=APPROVED, actor=we12_audit.officer)
    # While it waits nothing else can be recorded on the audit.
    with pytest.raises(DomainError, match="not open for review"):
        audit_record_outcome(audit=we12_audit, outcome=Outcome.SURPLUS, note="x", route="invoice",
                             actor=we12_audit.officer)
    with pytest.raises(DomainError, match="not open for review"):
        ask(we12_audit)


def test_approval_waives_the_frozen_surplus_once_and_completes_the_audit(we12_audit, leader):
    request = ask(we12_audit)
    done = control_request_transition(request=request, to=APPROVED, actor=leader, note="Agreed at panel")
    we12_audit.refresh_from_db()
    waiver = SurplusWaiver.objects.get(audit=we12_audit)
    assert (waiver.amount, waiver.closing_balance, waiver.liabilities, waiver.contingency,
            waiver.contribution_refund) == (D("3670.00"), D("6100.00"), D("600.00"), D("1680.00"), D("150.00"))
    assert (waiver.reason_kind, waiver.requested_by, waiver.approved_by) == (
        WaiverReason.PLANNED_SAVING, we12_audit.officer, leader)
    assert (we12_audit.status, we12_audit.outcome) == (AuditStatus.COMPLETED, Outcome.WAIVED)
    assert AuditEvent.objects.filter(audit=we12_audit, new_status=AuditStatus.COMPLETED, actor=leader).exists()
    assert done.result_reference == waiver.reference
    assert not Recovery.objects.exists() and not Invoice.objects.exists()
    action = MoneyAction.objects.get(action=ControlAction.DP_SURPLUS_WAIVER)
    assert (action.maker, action.checker, action.amount) == (we12_audit.officer, leader, D("3670.00"))
    # A second approval finds nothing to decide and changes nothing.
    other = UserFactory(username="tl-two", roles=[Role.TEAM_LEADER])
    assert "nothing to decide" in why_cannot_decide(done, other)
    control_request_transition(request=done, to=APPROVED, actor=other)
    assert SurplusWaiver.objects.count() == 1 and MoneyAction.objects.count() == 1


def test_a_rejected_waiver_sends_the_audit_back_for_the_officer_to_recover_instead(we12_audit, leader):
    request = ask(we12_audit, kind=WaiverReason.UNECONOMICAL, reason="Small sum")
    control_request_transition(request=request, to=REJECTED, actor=leader, note="£3,670 is well worth recovering")
    we12_audit.refresh_from_db()
    assert (we12_audit.status, we12_audit.outcome) == (AuditStatus.IN_REVIEW, "")
    assert "£3,670 is well worth recovering" in AuditEvent.objects.filter(audit=we12_audit).last().reason
    assert not SurplusWaiver.objects.exists() and not MoneyAction.objects.exists()
    audit_record_outcome(audit=we12_audit, outcome=Outcome.SURPLUS, note="Recover it", route="invoice",
                         actor=we12_audit.officer)
    recovery = recovery_approve(recovery=Recovery.objects.get(audit=we12_audit), actor=leader)
    assert recovery.invoice.total == D("3670.00")


def test_a_withdrawn_waiver_sends_the_audit_back_too(we12_audit):
    request = ask(we12_audit)
    control_request_transition(request=request, to=ControlRequestStatus.WITHDRAWN, actor=we12_audit.officer)
    we12_audit.refresh_from_db()
    assert we12_audit.status == AuditStatus.IN_REVIEW and not SurplusWaiver.objects.exists()


def test_who_may_approve_a_waiver_and_up_to_what_is_data(we12_audit, leader):
    request = ask(we12_audit)
    assert why_cannot_decide(request, leader) is None  # seeded: a team leader approves up to £5,000 a year
    ControlLimit.objects.create(action=ControlAction.DP_SURPLUS_WAIVER, group_name=Role.TEAM_LEADER.value,
                                approve_up_to=D("1000.00"), period_days=365, effective_from=timezone.localdate())
    with pytest.raises(NotAllowed, match="You may approve up to £1,000.00; this comes to £3,670.00"):
        control_request_transition(request=request, to=APPROVED, actor=leader)
    we12_audit.refresh_from_db()
    assert we12_audit.status == AuditStatus.AWAITING_APPROVAL and not SurplusWaiver.objects.exists()
    officer = UserFactory(username="dp-other", roles=[Role.DIRECT_PAYMENT_OFFICER])
    assert "cannot approve" in why_cannot_decide(request, officer)
    ControlLimit.objects.filter(action=ControlAction.DP_SURPLUS_WAIVER, approve_up_to=D("1000.00")).update(
        approve_up_to=D("4000.00"))
    control_request_transition(request=request, to=APPROVED, actor=leader)
    assert SurplusWaiver.objects.get().amount == D("3670.00")


def test_what_a_waiver_needs(we12_audit):
    with pytest.raises(DomainError) as refused:
        ask(we12_audit, kind="because")
    assert refused.value.field == "reason_kind"
    with pytest.raises(DomainError) as refused:
        ask(we12_audit, reason="  ")
    assert refused.value.field == "reason"
    with pytest.raises(DomainError, match="asking for a waiver") as refused:
        audit_record_outcome(audit=we12_audit, outcome=Outcome.WAIVED, note="x", actor=we12_audit.officer)
    assert refused.value.field == "outcome"
    flag = Flag.objects.create(audit=we12_audit, rule="overdrawn", message="Overdrawn on 3 March")
    with pytest.raises(DomainError, match="Review every flagged line first: 1 still to review"):
        ask(we12_audit)
    flag_review(flag=flag, decision="accepted", note="Bank error, corrected", actor=we12_audit.officer)
    we12_audit.liabilities.create(kind="other", description="Annual insurance", amount=D("5000.00"),
                                  added_by=we12_audit.officer)
    with pytest.raises(DomainError, match="There is no surplus to waive: the working gives £0.00"):
        ask(we12_audit)
    assert not ControlRequest.objects.exists()


def test_an_approved_recovery_records_its_maker_and_checker(we12_audit, leader):
    audit_record_outcome(audit=we12_audit, outcome=Outcome.SURPLUS, note="Surplus", route="invoice",
                         actor=we12_audit.officer)
    recovery = Recovery.objects.get(audit=we12_audit)
    both = UserFactory(username="acting-tl", roles=[Role.TEAM_LEADER, Role.DIRECT_PAYMENT_OFFICER])
    Recovery.objects.filter(pk=recovery.pk).update(requested_by=both)
    recovery.refresh_from_db()
    with pytest.raises(DomainError, match="You made or changed this, so someone else must approve it"):
        recovery_approve(recovery=recovery, actor=both)
    assert not MoneyAction.objects.exists()
    recovery = recovery_approve(recovery=recovery, actor=leader)
    action = MoneyAction.objects.get()
    assert (action.action, action.maker, action.checker, action.amount, action.reference) == (
        ControlAction.DP_SURPLUS_RECOVERY, both, leader, D("3670.00"), recovery.invoice.number)
    assert action.client_id == we12_audit.agreement.client_id
    assert we12_audit.agreement.client.full_name not in action.summary + action.subject


def test_the_audit_page_offers_the_waiver_and_the_form_sends_it_for_approval(client, we12_audit):
    http = sign_in(client, we12_audit.officer)
    url = reverse("direct_payments:surplus_waive", args=[we12_audit.pk])
    page = http.get(reverse("direct_payments:audit_detail", args=[we12_audit.pk])).content.decode()
    assert url in page and "Ask to waive the surplus" in page
    form = http.get(url)
    assert form.status_code == 200 and "£3,670.00" in form.content.decode()
    missing = http.post(url, {"reason_kind": "hardship", "reason": ""})
    assert missing.status_code == 200 and "govuk-error-summary" in missing.content.decode()
    assert not ControlRequest.objects.exists()
    sent = http.post(url, {"reason_kind": "hardship", "reason": "Recipient's partner has lost their job"})
    request = ControlRequest.objects.get(action=ControlAction.DP_SURPLUS_WAIVER)
    assert sent.status_code == 302 and sent["Location"] == reverse("casework:control_request_detail", args=[request.pk])
    page = http.get(reverse("direct_payments:audit_detail", args=[we12_audit.pk])).content.decode()
    assert "waiting for a decision" in page and request.reference in page and url not in page
    assert http.get(url).status_code == 302  # waiting for approval: not asked again
    assert TimelineEntry.objects.filter(action="direct_payments.surplus_waiver.requested").exists()
