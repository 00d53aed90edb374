"""Fee waivers and reversals on a deferred payment agreement: each reduces what the person owes,
so another person decides (a waiver always; a reversal above the reverser's limit, from the
ControlLimit rows), the money moves as new entries, and the maker and checker are recorded."""
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.constants import EntryKind
from casework.models import LedgerEntry, TimelineEntry
from casework.models.controls import ControlAction, ControlLimit, ControlRequest, ControlRequestStatus, MoneyAction
from casework.roles import Role
from casework.services import DomainError, NotAllowed
from casework.services.controls import control_request_transition, why_cannot_decide
from deferred_payments import services, statements
from deferred_payments.models import DeferralPosting, FeePosting, FeeWaiver, InterestPosting

from .factories import UserFactory
from .factories_deferred import _dpa_reference_data  # noqa: F401 (autouse)
from .factories_deferred import active_agreement, dpa_officer

pytestmark = pytest.mark.django_db
D = Decimal
APPROVED, REJECTED = ControlRequestStatus.APPROVED, ControlRequestStatus.REJECTED


def leader(name: str = "dpa-leader"):
    return UserFactory(username=name, roles=[Role.TEAM_LEADER])


def setup_fee(agreement) -> FeePosting:
    return FeePosting.objects.get(agreement=agreement, kind="set_up")


def owed(agreement) -> Decimal:
    return services.agreement_balance(agreement)


def limit(action: str, **values) -> ControlLimit:
    """A team leader's limit for `action` from today, as a council changes it: a new row."""
    return ControlLimit.objects.create(action=action, group_name=Role.TEAM_LEADER.value,
                                       effective_from=timezone.localdate(), **values)


# --- Fee waivers -----------------------------------------------------------------------------------


def test_a_fee_waiver_waits_for_someone_else_and_posts_nothing_until_approved():
    agreement = active_agreement()
    fee = setup_fee(agreement)
    before = owed(agreement)
    officer = dpa_officer()
    request = services.fee_waiver_request(fee=fee, amount=D("100.00"), reason="Set-up charged twice", actor=officer)
    assert (request.action, request.status, request.amount) == (ControlAction.DPA_FEE_WAIVER, "requested", D("100.00"))
    assert agreement.client.full_name not in request.summary + request.subject
    assert owed(agreement) == before and not FeeWaiver.objects.exists()
    with pytest.raises(NotAllowed, match="someone else must decide it"):
        control_request_transition(request=request, to=APPROVED, actor=officer)
    # A team leader's own request is no different: they cannot approve it either.
    own = services.fee_waiver_request(fee=fee, amount=D("0.10"), reason="Rounding", actor=leader("own-tl"))
    with pytest.raises(NotAllowed, match="someone else must decide it"):
        control_request_transition(request=own, to=APPROVED, actor=own.requested_by)
    assert owed(agreement) == before


def test_approval_posts_one_credit_dated_as_the_fee_and_a_second_approval_does_nothing():
    agreement = active_agreement()
    fee = setup_fee(agreement)
    before = owed(agreement)
    officer, approver = dpa_officer(), leader()
    request = services.fee_waiver_request(fee=fee, amount=D("100.00"), reason="Valuation fee not due",
                                          actor=officer)
    done = control_request_transition(request=request, to=APPROVED, actor=approver, note="Agreed")
    waiver = FeeWaiver.objects.get()
    assert (waiver.amount, waiver.fee, waiver.requested_by, waiver.approved_by) == (D("100.00"), fee, officer, approver)
    credit = waiver.entry
    assert (credit.kind, credit.amount, credit.effective_date, credit.account_id) == (
        EntryKind.CREDIT, D("-100.00"), fee.charged_on, agreement.account_id)
    assert fee.entry.reference in credit.reference and done.result_reference == credit.reference
    assert owed(agreement) == before - D("100.00")
    action = MoneyAction.objects.get(action=ControlAction.DPA_FEE_WAIVER)
    assert (action.maker, action.checker, action.amount, action.request_id) == (officer, approver, D("100.00"),
                                                                                request.pk)
    assert TimelineEntry.objects.filter(case=agreement.case, action="dpa.fee.waived").exists()
    # Decided once: a second decision finds nothing to decide and posts nothing.
    assert "nothing to decide" in why_cannot_decide(done, leader("second-tl"))
    control_request_transition(request=done, to=APPROVED, actor=leader("second-tl"))
    with pytest.raises(DomainError, match="cannot become rejected"):
        control_request_transition(request=done, to=REJECTED, actor=leader("second-tl"), note="Too late")
    assert FeeWaiver.objects.count() == 1 and MoneyAction.objects.filter(action=ControlAction.DPA_FEE_WAIVER).count() == 1
    assert owed(agreement) == before - D("100.00")


def test_a_rejected_waiver_posts_nothing_and_says_why_on_the_agreement():
    agreement = active_agreement()
    fee = setup_fee(agreement)
    before = owed(agreement)
    request = services.fee_waiver_request(fee=fee, amount=fee.amount, reason="Hardship", actor=dpa_officer())
    with pytest.raises(DomainError, match="Say why you are rejecting it"):
        control_request_transition(request=request, to=REJECTED, actor=leader(), note=" ")
    control_request_transition(request=request, to=REJECTED, actor=leader(), note="The fee was properly charged")
    assert owed(agreement) == before
    assert not FeeWaiver.objects.exists() and not MoneyAction.objects.exists()
    entry = TimelineEntry.objects.get(case=agreement.case, action="dpa.fee_waiver.rejected")
    assert entry.body == "The fee was properly charged"
    # Rejected, the whole fee can be asked for again.
    assert services.fee_standing(fee).can_ask == fee.amount


def test_partial_waivers_up_to_what_is_left_counting_those_waiting():
    agreement = active_agreement()
    fee = setup_fee(agreement)
    officer, approver = dpa_officer(), leader()
    first = services.fee_waiver_request(fee=fee, amount=D("100.00"), reason="Part not due", actor=officer)
    left = fee.amount - D("100.00")
    with pytest.raises(DomainError) as refused:
        services.fee_waiver_request(fee=fee, amount=left + D("0.01"), reason="The rest", actor=officer)
    assert refused.value.field == "amount"
    assert refused.value.message.startswith(f"The amount to waive must be no more than £{left:,.2f}")
    assert "£100.00 waits for a decision" in refused.value.message
    control_request_transition(request=first, to=APPROVED, actor=approver)
    with pytest.raises(DomainError, match="£100.00 is already waived") as refused:
        services.fee_waiver_request(fee=fee, amount=left + D("0.01"), reason="The rest", actor=officer)
    assert refused.value.field == "amount"
    rest = services.fee_waiver_request(fee=fee, amount=left, reason="The rest", actor=officer)
    control_request_transition(request=rest, to=APPROVED, actor=approver)
    assert services.fee_standing(fee).left == 0
    with pytest.raises(DomainError, match="no more than £0.00"):
        services.fee_waiver_request(fee=fee, amount=D("0.01"), reason="More", actor=officer)
    for bad in (D("0"), D("-5")):
        with pytest.raises(DomainError, match="more than £0.00") as refused:
            services.fee_waiver_request(fee=fee, amount=bad, reason="x", actor=officer)
        assert refused.value.field == "amount"
    with pytest.raises(DomainError, match="Give the reason") as refused:
        services.fee_waiver_request(fee=active_agreement(client=None).fees.first(), amount=D("1"), reason=" ",
                                    actor=officer)
    assert refused.value.field == "reason"


def test_a_fee_waiting_for_a_waiver_is_not_reversed_and_a_reversed_fee_is_not_waived():
    agreement = active_agreement()
    fee = setup_fee(agreement)
    officer, approver = dpa_officer(), leader()
    waiting = services.fee_waiver_request(fee=fee, amount=fee.amount, reason="Not due", actor=officer)
    # A team leader may not reverse the fee while its waiver waits; once it is withdrawn they may.
    with pytest.raises(DomainError, match="waiver of this fee is waiting"):
        services.posting_reverse(agreement=agreement, entry=fee.entry, reason="Posted in error", actor=approver)
    control_request_transition(request=waiting, to=ControlRequestStatus.WITHDRAWN, actor=officer)
    services.posting_reverse(agreement=agreement, entry=fee.entry, reason="Posted in error", actor=approver)
    with pytest.raises(DomainError, match="was reversed") as refused:
        services.fee_waiver_request(fee=fee, amount=fee.amount, reason="Not due", actor=officer)
    assert refused.value.field == "amount"


def test_who_may_approve_a_fee_waiver_and_how_much_is_data():
    agreement = active_agreement()
    fee = setup_fee(agreement)
    request = services.fee_waiver_request(fee=fee, amount=D("150.00"), reason="Not due", actor=dpa_officer())
    approver = leader()
    assert why_cannot_decide(request, approver) is None  # the seeded limit: up to £1,000 a year
    limit(ControlAction.DPA_FEE_WAIVER, approve_up_to=D("100.00"), period_days=365)
    assert "You may approve up to £100.00" in why_cannot_decide(request, approver)
    with pytest.raises(NotAllowed, match="up to £100.00"):
        control_request_transition(request=request, to=APPROVED, actor=approver)
    assert not FeeWaiver.objects.exists()
    ControlLimit.objects.filter(action=ControlAction.DPA_FEE_WAIVER, approve_up_to=D("100.00")).update(
        approve_up_to=D("200.00"))
    control_request_transition(request=request, to=APPROVED, actor=approver)
    assert FeeWaiver.objects.get().amount == D("150.00")
    # An officer's role holds no approval limit for waivers at all.
    other = services.fee_waiver_request(fee=fee, amount=D("1.00"), reason="Not due", actor=leader("asker"))
    assert "cannot approve" in why_cannot_decide(other, dpa_officer())


def test_the_statement_shows_fees_waived_apart_from_repayments():
    agreement = active_agreement()
    fee = setup_fee(agreement)
    request = services.fee_waiver_request(fee=fee, amount=D("76.10"), reason="Not due", actor=dpa_officer())
    control_request_transition(request=request, to=APPROVED, actor=leader())
    figures = statements.statement_figures(agreement, date(2024, 1, 1), date(2024, 6, 30))
    assert (D(figures["fees"]), D(figures["fees_waived"]), D(figures["repaid"])) == (fee.amount, D("-76.10"), D("0"))
    assert D(figures["closing"]) == services.agreement_balance(agreement, through=date(2024, 6, 30))
    from deferred_payments.letters import statement_table

    assert "Administration fees waived" in statement_table(figures)
    assert "Administration fees waived" not in statement_table({**figures, "fees_waived": "0.00"})


# --- Reversals -------------------------------------------------------------------------------------


def deferred_week(agreement) -> LedgerEntry:
    services.deferrals_post(agreement=agreement, through=date(2024, 1, 14), actor=dpa_officer())
    return DeferralPosting.objects.filter(agreement=agreement).order_by("period_start").first().entry


def test_a_team_leader_reverses_a_deferral_within_their_limit_at_once():
    agreement = active_agreement()
    entry = deferred_week(agreement)
    before = owed(agreement)
    approver = leader()
    reversal = services.posting_reverse(agreement=agreement, entry=entry, reason="In hospital that week",
                                        actor=approver)
    assert isinstance(reversal, LedgerEntry)
    assert (reversal.reverses_id, reversal.amount, reversal.effective_date) == (entry.pk, D("-700.00"),
                                                                                entry.effective_date)
    assert owed(agreement) == before - D("700.00")
    action = MoneyAction.objects.get(action=ControlAction.DPA_REVERSAL)
    assert (action.maker, action.checker, action.amount, action.reference) == (approver, None, D("700.00"),
                                                                               reversal.reference)
    with pytest.raises(DomainError, match="already been reversed"):
        services.posting_reverse(agreement=agreement, entry=entry, reason="Again", actor=approver)


def test_an_officers_reversal_always_waits_for_approval_and_is_carried_out_once():
    agreement = active_agreement()
    entry = deferred_week(agreement)
    before = owed(agreement)
    officer, approver = dpa_officer(), leader()
    request = services.posting_reverse(agreement=agreement, entry=entry, reason="In hospital", actor=officer)
    assert isinstance(request, ControlRequest) and request.action == ControlAction.DPA_REVERSAL
    assert owed(agreement) == before
    with pytest.raises(DomainError, match="already waiting for a decision"):
        services.posting_reverse(agreement=agreement, entry=entry, reason="Twice", actor=officer)
    with pytest.raises(NotAllowed, match="someone else must decide it"):
        control_request_transition(request=request, to=APPROVED, actor=officer)
    done = control_request_transition(request=request, to=APPROVED, actor=approver)
    reversal = LedgerEntry.objects.get(reverses=entry)
    assert done.result_reference == reversal.reference and owed(agreement) == before - D("700.00")
    assert reversal.posted_by == officer and "approved by dpa-leader" in reversal.reason
    action = MoneyAction.objects.get(action=ControlAction.DPA_REVERSAL)
    assert (action.maker, action.checker) == (officer, approver)
    control_request_transition(request=done, to=APPROVED, actor=leader("second-tl"))
    assert LedgerEntry.objects.filter(reverses=entry).count() == 1


def test_a_rejected_reversal_posts_nothing():
    agreement = active_agreement()
    entry = deferred_week(agreement)
    before = owed(agreement)
    request = services.posting_reverse(agreement=agreement, entry=entry, reason="In hospital", actor=dpa_officer())
    control_request_transition(request=request, to=REJECTED, actor=leader(), note="The home confirms care was given")
    assert owed(agreement) == before and not LedgerEntry.objects.filter(reverses=entry).exists()
    assert not MoneyAction.objects.exists()
    assert TimelineEntry.objects.filter(case=agreement.case, action="dpa.posting_reversal.rejected").exists()


def test_the_reversal_limit_is_data_and_counts_the_year():
    agreement = active_agreement()
    services.deferrals_post(agreement=agreement, through=date(2024, 1, 21), actor=dpa_officer())
    first, second, third = [d.entry for d in DeferralPosting.objects.filter(agreement=agreement).order_by("period_start")]
    approver = leader()
    assert isinstance(services.posting_reverse(agreement=agreement, entry=first, reason="Hospital", actor=approver),
                      LedgerEntry)
    # £700 already reversed this year: another £700 passes the £1,000 limit, so another person decides.
    request = services.posting_reverse(agreement=agreement, entry=second, reason="Hospital", actor=approver)
    assert isinstance(request, ControlRequest)
    # A council raises the team leader's limit from today: the same reversal is done at once.
    limit(ControlAction.DPA_REVERSAL, alone_up_to=D("5000.00"), approve_up_to=D("10000.00"), period_days=365)
    control_request_transition(request=request, to=ControlRequestStatus.WITHDRAWN, actor=approver)
    assert isinstance(services.posting_reverse(agreement=agreement, entry=second, reason="Hospital",
                                               actor=approver), LedgerEntry)
    # And lowers it: even a single week now waits.
    ControlLimit.objects.filter(action=ControlAction.DPA_REVERSAL, alone_up_to=D("5000.00")).update(
        alone_up_to=D("100.00"))
    assert isinstance(services.posting_reverse(agreement=agreement, entry=third, reason="Hospital",
                                               actor=approver), ControlRequest)


def test_interest_payments_and_waived_fees_are_not_reversed_here():
    agreement = active_agreement(weekly_care_cost=D("0"), weekly_contribution=D("0"))
    services.nightly(agreement=agreement, business_date=date(2024, 7, 2), actor=dpa_officer())
    interest = InterestPosting.objects.filter(agreement=agreement).first().entry
    with pytest.raises(DomainError, match="Interest is worked out each night"):
        services.posting_reverse(agreement=agreement, entry=interest, reason="x", actor=leader())
    fee = setup_fee(agreement)
    request = services.fee_waiver_request(fee=fee, amount=D("10.00"), reason="Part", actor=dpa_officer())
    control_request_transition(request=request, to=APPROVED, actor=leader())
    with pytest.raises(DomainError, match="already waived: ask to waive the rest"):
        services.posting_reverse(agreement=agreement, entry=fee.entry, reason="x", actor=leader())
    with pytest.raises(DomainError, match="Only care costs deferred and fees"):
        services.posting_reverse(agreement=agreement, entry=FeeWaiver.objects.get().entry, reason="x", actor=leader())
    other = active_agreement()
    with pytest.raises(DomainError, match="Give the reason") as refused:
        services.posting_reverse(agreement=other, entry=deferred_week(other), reason=" ", actor=leader())
    assert refused.value.field == "reason"


# --- Pages -----------------------------------------------------------------------------------------


def test_the_agreement_page_offers_a_waiver_next_to_each_fee_and_the_form_sends_it_for_approval(client_as):
    agreement = active_agreement()
    fee = setup_fee(agreement)
    http = client_as(Role.DEFERRED_PAYMENT_OFFICER)
    page = http.get(reverse("deferred_payments:agreement_detail", args=[agreement.pk])).content.decode()
    waive = reverse("deferred_payments:fee_waive", args=[fee.pk])
    assert waive in page and reverse("deferred_payments:entry_reverse", args=[fee.entry_id]) in page
    auditor = client_as(Role.AUDITOR).get(reverse("deferred_payments:agreement_detail", args=[agreement.pk]))
    assert waive not in auditor.content.decode()
    too_much = http.post(waive, {"amount": "999.99", "reason": "Not due"})
    assert too_much.status_code == 200
    assert "The amount to waive must be no more than" in too_much.content.decode()
    assert "govuk-error-summary" in too_much.content.decode()
    assert http.post(waive, {"amount": "lots", "reason": "Not due"}).status_code == 200
    sent = http.post(waive, {"amount": "50.00", "reason": "Not due"})
    request = ControlRequest.objects.get(action=ControlAction.DPA_FEE_WAIVER)
    assert sent.status_code == 302 and sent["Location"] == reverse("casework:control_request_detail", args=[request.pk])
    page = http.get(reverse("deferred_payments:agreement_detail", args=[agreement.pk])).content.decode()
    assert "£50.00 waiver waiting" in page and request.reference in page


def test_the_reverse_page_says_who_decides_and_refuses_what_cannot_be_reversed(client_as):
    agreement = active_agreement(weekly_care_cost=D("0"), weekly_contribution=D("0"))
    services.nightly(agreement=agreement, business_date=date(2024, 7, 2), actor=dpa_officer())
    fee = setup_fee(agreement)
    http = client_as(Role.DEFERRED_PAYMENT_OFFICER)
    form = http.get(reverse("deferred_payments:entry_reverse", args=[fee.entry_id])).content.decode()
    assert "needs a second person" in form
    interest = InterestPosting.objects.filter(agreement=agreement).first().entry
    refused = http.get(reverse("deferred_payments:entry_reverse", args=[interest.pk]))
    assert refused.status_code == 302 and refused["Location"] == reverse("deferred_payments:agreement_detail",
                                                                         args=[agreement.pk])
    sent = http.post(reverse("deferred_payments:entry_reverse", args=[fee.entry_id]), {"reason": "Charged in error"})
    request = ControlRequest.objects.get(action=ControlAction.DPA_REVERSAL)
    assert sent["Location"] == reverse("casework:control_request_detail", args=[request.pk])
    other = active_agreement()
    week = deferred_week(other)
    done = client_as(Role.TEAM_LEADER).post(reverse("deferred_payments:entry_reverse", args=[week.pk]),
                                            {"reason": "In hospital that week"})
    assert done.status_code == 302 and done["Location"] == reverse("deferred_payments:agreement_detail", args=[other.pk])
    assert LedgerEntry.objects.get(reverses=week).amount == -week.amount
