"""What a client's death does in each app, through the handlers they register with casework.deaths:
each proposes (nothing written), applies on the officer's confirmation (through the app's own
services, refusing a second time) and reverses exactly when the death was recorded in error.

Deferred payments: DC-08, DP-12, WE-5, WE-6. Direct payments: DC-09, DPy-05. Provider payments:
PP-06, PP-07 and the notice period after a death as data (DeathNoticePeriod)."""
import importlib
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db.models import Sum

from casework.constants import AccountKind, DeathSource, EntryKind
from casework.deaths.registry import HANDLERS, propose_all
from casework.models import LedgerEntry, Letter, TimelineEntry
from casework.services import DomainError, account_for_client, client_record_death, ledger_post
from deferred_payments import death as dpa_death
from deferred_payments import services as dpa
from deferred_payments.models import Agreement as DeferredAgreement
from deferred_payments.models import InterestPosting, State, TerminationReason
from direct_payments import death as dp_death
from direct_payments.constants import AgreementStatus, AuditStatus
from direct_payments.models import Audit, Policy
from direct_payments.services import agreement_transition as dp_transition
from direct_payments.services import payment_for_period
from direct_payments.services.audits import audit_transition
from provider_payments import death as pp_death
from provider_payments.constants import (
    ClaimStatus,
    LineResult,
    OverpaymentSource,
    OverpaymentStatus,
    PackageStatus,
)
from provider_payments.models import CarePackage, ClaimLine, DeathNoticePeriod, Overpayment
from provider_payments.services.claims import claim_transition
from provider_payments.services.common import provider_balance
from provider_payments.services.notice import NoticeBook, care_ends
from provider_payments.services.overpayments import overpayment_transition
from provider_payments.services.rates import RateBook, commissioned_cost

from .factories import ClientFactory, UserFactory
from .factories_deferred import _dpa_reference_data  # noqa: F401 (autouse)
from .factories_deferred import active_agreement, dpa_officer
from .factories_direct import AgreementFactory, AuditFactory
from .factories_provider import CarePackageFactory, ProviderFactory, RateFactory, leader, officer, service
from .test_provider_validation import ecm, invoice, visit

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def _reference_data(db):
    """The reference data the migrations load, again, in case a transactional test flushed it."""
    for name in ("provider_payments.migrations.0002_append_only_and_defaults",
                 "provider_payments.migrations.0003_death_notice_period"):
        importlib.import_module(name).seed_defaults(django_apps)
    Policy.objects.get_or_create(effective_from=date(2015, 4, 1))


def record_death(client, on: date):
    return client_record_death(client=client, date_of_death=on, source=DeathSource.REGISTRAR, verified=True,
                               actor=UserFactory(username="registrar-clerk"))


def proposals_of(kind: str, client, on: date):
    return HANDLERS[kind].propose(client, on)


def run(kind: str, client, on: date, proposal, actor):
    return HANDLERS[kind].apply(client, on, proposal.payload, actor)


def undo(kind: str, client, on: date, proposal, result, actor):
    HANDLERS[kind].reverse(client, on, proposal.payload, result, actor)


def test_each_app_registers_its_handler_and_propose_all_asks_them_in_order():
    assert {dpa_death.KIND, dp_death.KIND, pp_death.KIND} <= set(HANDLERS)
    client = ClientFactory()
    active_agreement(client=client, weekly_care_cost=D("0"), weekly_contribution=D("0"))
    AgreementFactory(client=client)
    CarePackageFactory(client=client)
    ours = {dpa_death.KIND, dp_death.KIND, pp_death.KIND}
    kinds = [h.kind for h, _ in propose_all(client, date(2026, 3, 10)) if h.kind in ours]
    assert kinds == [dpa_death.KIND, dp_death.KIND, dp_death.KIND, pp_death.KIND]


# --- deferred payments ----------------------------------------------------------------------------------


def we5_agreement():
    """WE-5: £39,823.90 deferred on 1 January 2024 (by one entry; nothing deferred weekly)."""
    agreement = active_agreement(weekly_care_cost=D("0"), weekly_contribution=D("0"))
    ledger_post(account=agreement.account, kind=EntryKind.CHARGE, amount=D("39823.90"), effective_date=date(2024, 1, 1),
                reference="OPENING", description="Care costs deferred", actor=dpa_officer())
    return agreement


def dpa_balance(agreement) -> Decimal:
    return LedgerEntry.objects.filter(account_id=agreement.account_id).aggregate(t=Sum("amount"))["t"]


def test_dc08_propose_terminates_with_the_debt_due_90_days_after_death():
    """Death on 30 June 2024: £40,938.23 is owed at the end of that day (WE-5 period 1) and falls
    due 90 days later, on 28 September 2024. Nothing is written by proposing."""
    agreement = we5_agreement()
    record_death(agreement.client, date(2024, 6, 30))
    timeline_before = TimelineEntry.objects.count()
    [proposal] = proposals_of(dpa_death.KIND, agreement.client, date(2024, 6, 30))
    assert proposal.summary.startswith(
        f"Terminate deferred payment agreement {agreement.reference}: £40,938.23 due by 28 September 2024 "
        "(90 days after death)")
    assert proposal.object_ref == agreement.reference
    assert proposal.payload["due_date"] == "2024-09-28"
    assert TimelineEntry.objects.count() == timeline_before
    assert DeferredAgreement.objects.get(pk=agreement.pk).state == State.ACTIVE


def test_we6_due_date_follows_the_rule_in_force():
    assert dpa_death.due_date(date(2025, 3, 10)) == (date(2025, 6, 8), 90)


def test_dpa_apply_terminates_through_the_service_and_refuses_a_second_time():
    agreement = we5_agreement()
    client = record_death(agreement.client, date(2024, 6, 30))
    [proposal] = proposals_of(dpa_death.KIND, client, date(2024, 6, 30))
    result = run(dpa_death.KIND, client, date(2024, 6, 30), proposal, dpa_officer())
    agreement.refresh_from_db()
    assert (agreement.state, agreement.termination_reason) == (State.TERMINATED, TerminationReason.DEATH)
    assert (agreement.terminated_on, agreement.due_date) == (date(2024, 6, 30), date(2024, 9, 28))
    assert result["previous_state"] == State.ACTIVE and result["due_date"] == "2024-09-28"
    assert dpa.owed_on(agreement, date(2024, 7, 1)) == D("40938.23")
    assert TimelineEntry.objects.filter(case=agreement.case, action="dpa.state.changed",
                                        new_value__termination_reason="death").exists()
    assert Letter.objects.filter(client=client, letter_type="dpa_death").count() == 1
    with pytest.raises(DomainError, match=f"{agreement.reference} is already terminated \\(death\\)"):
        run(dpa_death.KIND, client, date(2024, 6, 30), proposal, dpa_officer())


def test_dpa_interest_continues_after_termination_as_the_accrual_does():
    """WE-5: after the death on 30 June 2024 the second half-year's interest (£844.36) still posts."""
    agreement = we5_agreement()
    client = record_death(agreement.client, date(2024, 6, 30))
    [proposal] = proposals_of(dpa_death.KIND, client, date(2024, 6, 30))
    run(dpa_death.KIND, client, date(2024, 6, 30), proposal, dpa_officer())
    dpa.interest_accrue(agreement=DeferredAgreement.objects.get(pk=agreement.pk), through=date(2024, 12, 31),
                        actor=dpa_officer())
    assert list(InterestPosting.objects.filter(agreement=agreement).values_list("amount", flat=True)) == [
        D("938.23"), D("844.36")]


def test_dpa_reverse_reinstates_the_previous_state_with_the_due_date_cleared_and_the_same_balance():
    agreement = we5_agreement()
    client = record_death(agreement.client, date(2024, 6, 30))
    before = dpa_balance(agreement)
    [proposal] = proposals_of(dpa_death.KIND, client, date(2024, 6, 30))
    result = run(dpa_death.KIND, client, date(2024, 6, 30), proposal, dpa_officer())
    undo(dpa_death.KIND, client, date(2024, 6, 30), proposal, result, dpa_officer())
    agreement.refresh_from_db()
    assert agreement.state == State.ACTIVE
    assert (agreement.termination_reason, agreement.terminated_on, agreement.due_date) == ("", None, None)
    assert dpa_balance(agreement) == before
    entry = TimelineEntry.objects.filter(case=agreement.case, action="dpa.state.changed").first()
    assert "reinstated: death recorded in error" in entry.summary
    assert entry.old_value["due_date"] == "2024-09-28" and entry.new_value["reinstated"] is True
    with pytest.raises(DomainError, match="is active, not terminated on the death"):
        undo(dpa_death.KIND, client, date(2024, 6, 30), proposal, result, dpa_officer())


def test_dpa_care_costs_run_to_the_date_of_death_and_stay_when_reinstated():
    """£700 a week deferred from Monday 1 January 2024; death on Wednesday 10 January: the week to
    7 January (£700.00) and 8 to 10 January (£700 × 3 ÷ 7 = £300.00) are deferred on termination,
    and the proposal's figure is what is then owed. Reinstated, those deferrals stay (that care was
    given) and deferral carries on from 11 January."""
    agreement = active_agreement(start=date(2024, 1, 1))
    client = record_death(agreement.client, date(2024, 1, 10))
    before = dpa_balance(agreement)  # the set-up fee
    [proposal] = proposals_of(dpa_death.KIND, client, date(2024, 1, 10))
    result = run(dpa_death.KIND, client, date(2024, 1, 10), proposal, dpa_officer())
    agreement.refresh_from_db()
    assert list(agreement.deferrals.values_list("period_start", "period_end", "amount")) == [
        (date(2024, 1, 1), date(2024, 1, 7), D("700.00")), (date(2024, 1, 8), date(2024, 1, 10), D("300.00"))]
    assert D(proposal.payload["owed"]) == dpa.owed_on(agreement, date(2024, 1, 11))
    assert result["deferred_on_termination"] == "1000.00"
    undo(dpa_death.KIND, client, date(2024, 1, 10), proposal, result, dpa_officer())
    agreement.refresh_from_db()
    assert (agreement.state, agreement.deferred_through, agreement.due_date) == (State.ACTIVE, date(2024, 1, 10), None)
    assert dpa_balance(agreement) == before + D("1000.00")
    posted = dpa.deferrals_post(agreement=agreement, through=date(2024, 1, 17), actor=dpa_officer())
    assert [(p.period_start, p.amount) for p in posted] == [(date(2024, 1, 11), D("700.00"))]


def test_dpa_a_suspended_agreement_terminates_and_goes_back_to_suspended():
    agreement = we5_agreement()
    dpa.agreement_transition(agreement=agreement, to_state=State.SUSPENDED, actor=dpa_officer(), on=date(2024, 3, 1),
                             reason="In hospital")
    client = record_death(agreement.client, date(2024, 6, 30))
    [proposal] = proposals_of(dpa_death.KIND, client, date(2024, 6, 30))
    result = run(dpa_death.KIND, client, date(2024, 6, 30), proposal, dpa_officer())
    assert result["previous_state"] == State.SUSPENDED
    with pytest.raises(DomainError, match="was suspended when it ended"):
        dpa.agreement_transition(agreement=agreement, to_state=State.ACTIVE, actor=dpa_officer(), reinstate=True,
                                 reason="Recorded in error")
    undo(dpa_death.KIND, client, date(2024, 6, 30), proposal, result, dpa_officer())
    agreement.refresh_from_db()
    assert (agreement.state, agreement.suspended_reason, agreement.due_date) == (State.SUSPENDED, "In hospital", None)


def test_dpa_only_a_death_can_be_undone_and_never_by_the_ordinary_transition():
    agreement = we5_agreement()
    dpa.agreement_terminate(agreement=agreement, reason=TerminationReason.SALE, on=date(2024, 6, 20),
                            actor=dpa_officer())
    with pytest.raises(DomainError, match="cannot move from terminated to active"):
        dpa.agreement_transition(agreement=agreement, to_state=State.ACTIVE, actor=dpa_officer())
    with pytest.raises(DomainError, match="ended by sale of the property, not on a death"):
        dpa.agreement_transition(agreement=agreement, to_state=State.ACTIVE, actor=dpa_officer(), reinstate=True,
                                 reason="Sale fell through")
    assert proposals_of(dpa_death.KIND, agreement.client, date(2024, 6, 30)) == []


# --- direct payments ------------------------------------------------------------------------------------


def dp_balance(client) -> Decimal:
    account = account_for_client(client, AccountKind.DIRECT_PAYMENT)
    return LedgerEntry.objects.filter(account=account).aggregate(t=Sum("amount"))["t"] or D(0)


@pytest.fixture
def paying_agreement():
    """£420 a week less £40 contribution, paid four-weekly in advance (£1,520.00) from 5 January
    2026: three periods paid, to 29 March; audited to 1 February."""
    agreement = AgreementFactory()
    actor = UserFactory(username="dp-officer")
    for start in (date(2026, 1, 5), date(2026, 2, 2), date(2026, 3, 2)):
        payment_for_period(agreement=agreement, period_start=start, paid_on=start, actor=actor)
    AuditFactory(agreement=agreement, period_start=date(2026, 1, 5), period_end=date(2026, 2, 1),
                 status=AuditStatus.COMPLETED)
    return agreement


def test_dc09_propose_stops_payments_and_opens_the_final_audit_from_the_last_audit_to_the_death(paying_agreement):
    """Death on 10 March 2026: the period 2 to 29 March was paid in advance; 19 of its 28 days are
    after the death: £1,520.00 × 19 ÷ 28 = £1,031.43."""
    agreement = paying_agreement
    client = record_death(agreement.client, date(2026, 3, 10))
    stop, audit = proposals_of(dp_death.KIND, client, date(2026, 3, 10))
    assert stop.summary == (f"Stop direct payments {agreement.reference} to {client.full_name}: suspend the agreement "
                            "(client died on 10 March 2026); no further payments are made. £1,031.43 was paid in "
                            "advance for days after the death")
    assert audit.summary == (f"Open the final audit of direct payments {agreement.reference} for 2 February 2026 to "
                             "10 March 2026, to recover the unspent balance")
    assert audit.payload["period_start"] == "2026-02-02" and audit.payload["period_end"] == "2026-03-10"


def test_dc09_apply_suspends_payments_and_opens_the_audit_once(paying_agreement):
    agreement = paying_agreement
    client = record_death(agreement.client, date(2026, 3, 10))
    stop, audit = proposals_of(dp_death.KIND, client, date(2026, 3, 10))
    officer_ = UserFactory(username="dp-officer-2")
    stopped = run(dp_death.KIND, client, date(2026, 3, 10), stop, officer_)
    opened = run(dp_death.KIND, client, date(2026, 3, 10), audit, officer_)
    agreement.refresh_from_db()
    assert (agreement.status, agreement.status_reason) == (AgreementStatus.SUSPENDED, "Client died on 10 March 2026")
    assert stopped["previous_status"] == AgreementStatus.ACTIVE
    final = Audit.objects.get(pk=opened["audit"])
    assert (final.period_start, final.period_end, final.status) == (date(2026, 2, 2), date(2026, 3, 10),
                                                                    AuditStatus.REQUESTED)
    with pytest.raises(DomainError, match="Payments are payments suspended: Client died"):
        payment_for_period(agreement=agreement, period_start=date(2026, 3, 30), paid_on=date(2026, 3, 30),
                           actor=officer_)
    with pytest.raises(DomainError, match="already payments suspended"):
        run(dp_death.KIND, client, date(2026, 3, 10), stop, officer_)
    with pytest.raises(DomainError, match="already open"):
        run(dp_death.KIND, client, date(2026, 3, 10), audit, officer_)


def test_dc09_reverse_resumes_payments_and_cancels_the_untouched_audit(paying_agreement):
    agreement = paying_agreement
    client = record_death(agreement.client, date(2026, 3, 10))
    before = dp_balance(client)
    officer_ = UserFactory(username="dp-officer-3")
    done = [(p, run(dp_death.KIND, client, date(2026, 3, 10), p, officer_))
            for p in proposals_of(dp_death.KIND, client, date(2026, 3, 10))]
    for proposal, result in reversed(done):
        undo(dp_death.KIND, client, date(2026, 3, 10), proposal, result, officer_)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE
    assert Audit.objects.get(pk=done[1][1]["audit"]).status == AuditStatus.CANCELLED
    assert dp_balance(client) == before
    assert agreement.events.last().reason == "Resumed: death on 10 March 2026 recorded in error"


def test_dc09_an_audit_with_work_done_is_not_cancelled(paying_agreement):
    agreement = paying_agreement
    client = record_death(agreement.client, date(2026, 3, 10))
    officer_ = UserFactory(username="dp-officer-4")
    _, audit = proposals_of(dp_death.KIND, client, date(2026, 3, 10))
    result = run(dp_death.KIND, client, date(2026, 3, 10), audit, officer_)
    audit_transition(audit=Audit.objects.get(pk=result["audit"]), to=AuditStatus.IN_REVIEW, actor=officer_)
    with pytest.raises(DomainError, match=r"final audit AUD-\d+ cannot be cancelled: it is in review"):
        undo(dp_death.KIND, client, date(2026, 3, 10), audit, result, officer_)


def test_dc09_a_suspended_agreement_gets_only_the_final_audit(paying_agreement):
    agreement = paying_agreement
    dp_transition(agreement=agreement, to=AgreementStatus.SUSPENDED, actor=UserFactory(), reason="In hospital")
    client = record_death(agreement.client, date(2026, 3, 10))
    [audit] = proposals_of(dp_death.KIND, client, date(2026, 3, 10))
    assert audit.payload["action"] == dp_death.FINAL_AUDIT


# --- provider payments ----------------------------------------------------------------------------------


@pytest.fixture
def care():
    """Home care (two 1-hour visits a day, £24.00/h) and a care home (£700.00 a week) for one
    client; the council's care home contracts give 28 days' notice after a death from 2026."""
    client = ClientFactory(reference="SC500001")
    home = ProviderFactory(name="Moorland Care Ltd")
    RateFactory(provider=home, rate=D("24.00"))
    homecare = CarePackageFactory(provider=home, client=client, start_date=date(2026, 1, 5))
    carehome = ProviderFactory(name="Heather Lodge Care Home")
    RateFactory(provider=carehome, service_type=service("residential"), rate=D("700.00"))
    residential = CarePackageFactory(provider=carehome, client=client, service_type=service("residential"),
                                     units_per_week=D("1"), start_date=date(2026, 1, 5))
    DeathNoticePeriod.objects.create(billing_basis="scheduled", effective_from=date(2026, 1, 1), days=28,
                                     note="Care home contract from 2026")
    return client, home, homecare, residential


def paid_and_pending_claims(home):
    """Visits on 4 to 7 April paid; visits on 8 and 9 April validated, not yet approved."""
    paid = ecm(home, "".join(visit("SC500001", date(2026, 4, d)) for d in (4, 5, 6, 7)), reference="ECM-PAID")
    claim_transition(claim=paid, to_status=ClaimStatus.APPROVED, actor=leader())
    claim_transition(claim=paid, to_status=ClaimStatus.PAID, actor=officer())
    pending = ecm(home, visit("SC500001", date(2026, 4, 8)) + visit("SC500001", date(2026, 4, 9)),
                  reference="ECM-PENDING")
    return paid, pending


def test_the_notice_period_after_a_death_is_data_with_effective_dates(care):
    _, _, homecare, residential = care
    book = NoticeBook()
    assert book.care_ends(residential.service_type, date(2025, 12, 31)) == date(2025, 12, 31)  # the default: 0 days
    assert book.care_ends(residential.service_type, date(2026, 4, 5)) == date(2026, 5, 3)
    assert book.care_ends(service("nursing"), date(2026, 4, 5)) == date(2026, 5, 3)  # care homes alike
    assert book.care_ends(homecare.service_type, date(2026, 4, 5)) == date(2026, 4, 5)
    DeathNoticePeriod.objects.create(billing_basis="scheduled", service_type=service("nursing"),
                                     effective_from=date(2026, 1, 1), days=7)
    assert care_ends(service("nursing"), date(2026, 4, 5)) == date(2026, 4, 12)  # a service's own rule wins


def test_the_migration_gives_care_homes_a_default_of_no_notice():
    rows = DeathNoticePeriod.objects.filter(service_type__isnull=True, effective_from=date(2015, 4, 1))
    assert dict(rows.values_list("billing_basis", "days")) == {"scheduled": 0, "delivered": 0}


def test_provider_propose_ends_packages_holds_unpaid_lines_and_recovers_paid_ones(care):
    client, home, homecare, residential = care
    paid, pending = paid_and_pending_claims(home)
    client = record_death(client, date(2026, 4, 5))
    proposals = proposals_of(pp_death.KIND, client, date(2026, 4, 5))
    assert [p.summary for p in proposals] == [
        f"End care package {homecare.reference} (Home care from Moorland Care Ltd) on 5 April 2026: the date of "
        "death, 5 April 2026",
        f"End care package {residential.reference} (Residential care from Heather Lodge Care Home) on 3 May 2026: 28 "
        "days' notice after the death on 5 April 2026",
        "Reject 2 line(s) (£48.00) of claim ECM-PENDING from Moorland Care Ltd, not yet approved: care after it ended",
        "Recover £48.00 paid to Moorland Care Ltd for care after it ended (2 claim line(s) from 6 April 2026) as an "
        "overpayment",
    ]
    assert [p.object_ref for p in proposals[:3]] == [homecare.reference, residential.reference, "ECM-PENDING"]


def test_provider_apply_does_each_through_the_services_and_refuses_a_second_time(care):
    client, home, homecare, residential = care
    paid, pending = paid_and_pending_claims(home)
    client = record_death(client, date(2026, 4, 5))
    before = provider_balance(home)
    proposals = proposals_of(pp_death.KIND, client, date(2026, 4, 5))
    results = [run(pp_death.KIND, client, date(2026, 4, 5), p, officer()) for p in proposals]
    homecare.refresh_from_db()
    residential.refresh_from_db()
    assert (homecare.status, homecare.end_date) == (PackageStatus.ENDED, date(2026, 4, 5))
    assert (residential.status, residential.end_date) == (PackageStatus.ENDED, date(2026, 5, 3))
    assert list(pending.lines.values_list("result", flat=True)) == [LineResult.REJECTED] * 2
    overpayment = Overpayment.objects.get(pk=results[3]["overpayments"][0])
    assert (overpayment.amount, overpayment.source, overpayment.status) == (D("48.00"), OverpaymentSource.LATE_DEATH,
                                                                            OverpaymentStatus.IDENTIFIED)
    assert sorted(overpayment.claim_lines.values_list("service_date", flat=True)) == [date(2026, 4, 6),
                                                                                      date(2026, 4, 7)]
    assert provider_balance(home) == before  # on the ledger once a team leader approves it
    for proposal, message in zip(proposals, ["has already ended on 5 April 2026", "has already ended on 3 May 2026",
                                             "already rejected", "Nothing paid to Moorland Care Ltd"]):
        with pytest.raises(DomainError, match=message):
            run(pp_death.KIND, client, date(2026, 4, 5), proposal, officer())


def test_provider_reverse_restores_packages_lines_and_cancels_the_overpayment(care):
    client, home, homecare, residential = care
    paid, pending = paid_and_pending_claims(home)
    lines_before = list(pending.lines.values_list("result", "payable_amount", "payable_units"))
    client = record_death(client, date(2026, 4, 5))
    before = provider_balance(home)
    proposals = proposals_of(pp_death.KIND, client, date(2026, 4, 5))
    done = [(p, run(pp_death.KIND, client, date(2026, 4, 5), p, officer())) for p in proposals]
    for proposal, result in reversed(done):
        undo(pp_death.KIND, client, date(2026, 4, 5), proposal, result, leader())
    for package in (homecare, residential):
        package.refresh_from_db()
        assert (package.status, package.end_date) == (PackageStatus.APPROVED, None)
        assert package.history.first().history_change_reason == "Death on 5 April 2026 recorded in error"
    assert list(pending.lines.values_list("result", "payable_amount", "payable_units")) == lines_before
    assert Overpayment.objects.get().status == OverpaymentStatus.CANCELLED
    assert provider_balance(home) == before
    # Recorded again, the paid lines count again: the cancelled overpayment no longer covers them.
    assert proposals_of(pp_death.KIND, client, date(2026, 4, 5))[-1].payload["amount"] == "48.00"


def test_a_package_already_ended_later_gets_its_old_end_date_back(care):
    client, _, homecare, residential = care
    residential.status, residential.end_date = PackageStatus.ENDED, date(2026, 6, 30)
    residential.save()
    client = record_death(client, date(2026, 4, 5))
    proposal = proposals_of(pp_death.KIND, client, date(2026, 4, 5))[1]
    result = run(pp_death.KIND, client, date(2026, 4, 5), proposal, officer())
    residential.refresh_from_db()
    assert residential.end_date == date(2026, 5, 3)
    undo(pp_death.KIND, client, date(2026, 4, 5), proposal, result, officer())
    residential.refresh_from_db()
    assert (residential.status, residential.end_date) == (PackageStatus.ENDED, date(2026, 6, 30))


def test_an_approved_overpayment_is_not_cancelled_by_the_reversal(care):
    client, home, _, _ = care
    paid_and_pending_claims(home)
    client = record_death(client, date(2026, 4, 5))
    proposal = proposals_of(pp_death.KIND, client, date(2026, 4, 5))[-1]
    result = run(pp_death.KIND, client, date(2026, 4, 5), proposal, officer())
    overpayment_transition(overpayment=Overpayment.objects.get(), to_status=OverpaymentStatus.APPROVED, actor=leader())
    with pytest.raises(DomainError, match=r"OVP-\d+ is already approved for recovery: it cannot be cancelled"):
        undo(pp_death.KIND, client, date(2026, 4, 5), proposal, result, officer())


def test_care_home_is_paid_through_the_notice_period_and_not_after(care):
    """£700.00 a week; death on 5 April 2026 with 28 days' notice: April to May costs 1 April to
    3 May, 33 days: £700 × 33 ÷ 7 = £3,300.00."""
    client, _, _, residential = care
    record_death(client, date(2026, 4, 5))
    residential = CarePackage.objects.select_related("client").get(pk=residential.pk)
    book = RateBook.for_providers([residential.provider_id])
    assert commissioned_cost(residential, date(2026, 4, 1), date(2026, 5, 31), book) == D("3300.00")


def test_validation_pays_care_within_a_notice_period_and_rejects_it_after(care):
    """A notice period for home care (2 days, as data): visits on 6 and 7 April are paid after a
    death on 5 April; the visit on 8 April is not; and paid care in the notice period is no
    overpayment."""
    client, home, _, _ = care
    DeathNoticePeriod.objects.create(billing_basis="delivered", service_type=service("homecare"),
                                     effective_from=date(2026, 1, 1), days=2)
    client = record_death(client, date(2026, 4, 5))
    claim = invoice(home, "".join(f"SC500001,homecare,2026-04-0{d},2,24.00,48.00\n" for d in (6, 7, 8)))
    lines = list(ClaimLine.objects.filter(claim=claim).order_by("row_number"))
    assert [l.result for l in lines] == [LineResult.ACCEPTED, LineResult.ACCEPTED, LineResult.REJECTED]
    assert lines[2].reason == ("After care ended on 7 April 2026, the notice period after the client's death on "
                               "5 April 2026")
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=leader())
    claim_transition(claim=claim, to_status=ClaimStatus.PAID, actor=officer())
    assert [p.payload["action"] for p in proposals_of(pp_death.KIND, client, date(2026, 4, 5))] == [
        "end_package", "end_package"]


def test_lines_approved_but_not_yet_paid_are_recovered_from_the_next_payment(care):
    """Approved lines are paid by the next run whatever happens: the overpayment (once a team
    leader approves it) is offset against that payment."""
    client, home, _, _ = care
    claim = ecm(home, visit("SC500001", date(2026, 4, 6)), reference="ECM-APPROVED")
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=leader())
    client = record_death(client, date(2026, 4, 5))
    proposal = proposals_of(pp_death.KIND, client, date(2026, 4, 5))[-1]
    assert proposal.summary == ("Recover £24.00 paid or approved to Moorland Care Ltd for care after it ended (1 claim "
                                "line(s) from 6 April 2026) as an overpayment")
    result = run(pp_death.KIND, client, date(2026, 4, 5), proposal, officer())
    assert Overpayment.objects.get(pk=result["overpayments"][0]).amount == D("24.00")
