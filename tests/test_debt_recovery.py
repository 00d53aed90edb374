"""The recovery ladder and holds (issue 4: "The recovery ladder"; capacity rule AD-04; rules BL-03)."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from casework.constants import Capacity, CaseStatus, CaseType, RepresentativeKind
from casework.letters.types import get_letter_type
from casework.models import Case, ItemStatus, Letter, RunItem, Team
from casework.roles import Role
from casework.runs.services import run_start
from debt import recovery as rules
from debt.constants import HoldKind
from debt.models import DebtHold, DebtRecovery, PaymentAllocation, RecoveryEvent, RecoveryStage, RecoveryThreshold
from debt.recovery_apps import ready
from debt.services import recovery as services

from .conftest import sign_in
from .factories import ClientFactory, RepresentativeFactory, UserFactory
from .factories_debt import InvoiceFactory, PaymentFactory

DUE = date(2026, 11, 16)  # InvoiceFactory's due date
FIRST = DUE + timedelta(days=14)
SECOND = FIRST + timedelta(days=14)


@pytest.fixture
def ladder(db):
    ready()
    services.ensure_default_ladder()
    return {s.code: s for s in RecoveryStage.objects.all()}


@pytest.fixture
def run_on(django_capture_on_commit_callbacks):
    def run(on: date):
        with django_capture_on_commit_callbacks(execute=True):
            return run_start(job="recovery", business_date=on, trigger="test")
    return run


def item_for(run, client) -> RunItem:
    return RunItem.objects.get(run=run, subject=f"client:{client.pk}")


def stage_of(client) -> str | None:
    recovery = DebtRecovery.objects.filter(client=client).select_related("stage").first()
    return recovery.stage.code if recovery and recovery.stage else None


def pay(invoice, amount: str) -> None:
    payment = PaymentFactory(client=invoice.client, account=invoice.account, amount=Decimal(amount))
    PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=Decimal(amount),
                                     created_by=payment.created_by)


def test_ladder_advances_by_days_one_stage_at_a_time(ladder, run_on):
    invoice = InvoiceFactory()
    client = invoice.client
    run_on(FIRST - timedelta(days=1))
    assert stage_of(client) is None and not Letter.objects.filter(client=client).exists()
    run_on(FIRST)
    assert stage_of(client) == "first_reminder"
    assert list(Letter.objects.filter(client=client).values_list("letter_type", flat=True)) == ["recovery_first_reminder"]
    run_on(SECOND - timedelta(days=1))
    assert stage_of(client) == "first_reminder"
    run_on(SECOND)
    assert stage_of(client) == "second_reminder"
    assert Letter.objects.filter(client=client).count() == 2


def test_invoice_due_today_is_not_overdue(ladder):
    invoice = InvoiceFactory()
    assert not services.overdue_by_client(invoice.due_date).exists()
    assert services.overdue_by_client(invoice.due_date + timedelta(days=1)).get()["balance"] == Decimal("399.40")


def test_one_letter_per_debtor_lists_all_overdue_invoices(ladder, run_on):
    first = InvoiceFactory()
    second = InvoiceFactory(client=first.client, account=first.account, due_date=DUE + timedelta(days=7))
    run = run_on(FIRST)
    assert Letter.objects.filter(client=first.client).count() == 1
    assert item_for(run, first.client).status == ItemStatus.DONE
    invoices = services.overdue_invoices_for([first.client.pk], FIRST)[first.client.pk]
    context = get_letter_type("recovery_first_reminder").build_context(first.client, FIRST, invoices=invoices)
    assert first.number in context["invoices_table"] and second.number in context["invoices_table"]
    assert context["balance"] == "£798.80"


def test_partial_payment_clearing_oldest_invoice_reanchors_and_never_skips_a_stage(ladder, run_on):
    oldest = InvoiceFactory()
    newer = InvoiceFactory(client=oldest.client, account=oldest.account, due_date=DUE + timedelta(days=21))
    client = oldest.client
    run_on(FIRST)
    assert stage_of(client) == "first_reminder"
    pay(oldest, "399.40")  # clears the oldest: the anchor moves to the newer invoice's due date
    run_on(SECOND)  # second reminder was due on the old anchor, but not yet on the new one
    assert stage_of(client) == "first_reminder"
    assert DebtRecovery.objects.get(client=client).anchor_date == newer.due_date
    assert RecoveryEvent.objects.filter(client=client, kind="reanchored").exists()
    late = newer.due_date + timedelta(days=200)  # every later stage is overdue by now
    run_on(late)
    assert stage_of(client) == "second_reminder"  # one stage a night: nothing skipped
    run_on(late + timedelta(days=1))
    assert stage_of(client) == "second_reminder"  # 14 days after the second reminder, not sooner
    run_on(late + timedelta(days=14))
    assert stage_of(client) == "final_notice"


def test_part_payment_of_oldest_invoice_keeps_the_anchor(ladder, run_on):
    oldest = InvoiceFactory()
    InvoiceFactory(client=oldest.client, account=oldest.account, due_date=DUE + timedelta(days=21))
    pay(oldest, "100.00")
    run_on(FIRST)
    assert DebtRecovery.objects.get(client=oldest.client).anchor_date == DUE


@pytest.mark.parametrize("kind", HoldKind.values)
def test_every_hold_kind_stops_the_ladder_and_is_reported_as_a_skip(ladder, run_on, kind):
    invoice = InvoiceFactory()
    DebtHold.objects.create(client=invoice.client, kind=kind, note="Checking", placed_by=UserFactory(),
                            placed_on=DUE, review_date=DUE + timedelta(days=90))
    run = run_on(FIRST)
    item = item_for(run, invoice.client)
    assert item.status == ItemStatus.SKIPPED
    assert item.outcome.startswith("On hold:") and HoldKind(kind).label in item.outcome
    assert not Letter.objects.filter(client=invoice.client).exists()
    assert stage_of(invoice.client) is None


def test_released_hold_lets_the_ladder_resume(ladder, run_on):
    invoice = InvoiceFactory()
    officer = UserFactory()
    hold = services.hold_place(client=invoice.client, kind=HoldKind.DISPUTE, note="Says care was not received",
                               review_date=FIRST + timedelta(days=30), actor=officer, on=DUE)
    run_on(FIRST)
    assert stage_of(invoice.client) is None
    services.hold_release(hold=hold, actor=officer, on=FIRST)
    run_on(FIRST + timedelta(days=1))
    assert stage_of(invoice.client) == "first_reminder"


def test_a_hold_needs_a_future_review_date(ladder):
    from casework.services import DomainError

    with pytest.raises(DomainError):
        services.hold_place(client=ClientFactory(), kind=HoldKind.DISPUTE, note="x", review_date=DUE, actor=UserFactory(),
                            on=DUE)


def test_client_lacking_capacity_with_no_authority_gets_no_letter_and_goes_to_the_queue(ladder, run_on):
    invoice = InvoiceFactory(client=ClientFactory(capacity=Capacity.LACKS))
    client = invoice.client
    first = run_on(FIRST)
    assert item_for(first, client).status == ItemStatus.SKIPPED
    assert not Letter.objects.filter(client=client).exists()
    assert stage_of(client) is None
    case = Case.objects.get(client=client, case_type=CaseType.DEBT_RECOVERY)
    assert case.status == CaseStatus.ESCALATED
    assert case in Case.objects.team_queue(Team.objects.all())
    second = run_on(FIRST + timedelta(days=1))
    item = item_for(second, client)
    assert item.status == ItemStatus.SKIPPED and "no deputy, attorney or appointee" in item.outcome
    assert not Letter.objects.filter(client=client).exists()


def test_client_lacking_capacity_with_an_appointee_is_chased_through_them(ladder, run_on):
    invoice = InvoiceFactory(client=ClientFactory(capacity=Capacity.LACKS))
    RepresentativeFactory(client=invoice.client, kind=RepresentativeKind.APPOINTEE, name="Ann Appointee")
    run_on(FIRST)
    assert Letter.objects.get(client=invoice.client).recipient_name == "Ann Appointee"


@pytest.mark.django_db
def test_the_client_record_gives_its_holds_in_one_query(django_assert_num_queries):
    on = date(2026, 6, 1)
    lapsed = ClientFactory(capacity=Capacity.LACKS)  # their appointee's authority ended: held again
    RepresentativeFactory(client=lapsed, kind=RepresentativeKind.APPOINTEE, start_date=date(2025, 1, 1),
                          end_date=date(2026, 5, 31))
    covered = ClientFactory(capacity=Capacity.LACKS)
    RepresentativeFactory(client=covered, kind=RepresentativeKind.DEPUTY, start_date=date(2026, 6, 1))
    died = ClientFactory(capacity=Capacity.LACKS, date_of_death=date(2026, 5, 1), safeguarding_flag=True)
    well = ClientFactory()
    with django_assert_num_queries(1):
        holds = services.client_state_holds([lapsed.pk, covered.pk, died.pk, well.pk], on)
    assert {pk: [h.kind for h in hs] for pk, hs in holds.items()} == {
        lapsed.pk: [HoldKind.NO_AUTHORITY], died.pk: [HoldKind.DECEASED, HoldKind.SAFEGUARDING]}
    assert "died on 01 May 2026" in holds[died.pk][0].reason
    asked = services.client_state_holds(None, on, kinds=frozenset({HoldKind.NO_AUTHORITY}))  # every client, one kind
    assert {pk: [h.kind for h in hs] for pk, hs in asked.items()} == {lapsed.pk: [HoldKind.NO_AUTHORITY]}
    assert services.client_state_holds(None, on, kinds=frozenset({HoldKind.DISPUTE})) == {}


def test_deceased_client_is_held(ladder, run_on):
    invoice = InvoiceFactory(client=ClientFactory(date_of_death=DUE))
    run = run_on(FIRST)
    item = item_for(run, invoice.client)
    assert item.status == ItemStatus.SKIPPED and "died" in item.outcome
    assert not Letter.objects.filter(client=invoice.client).exists()


def test_safeguarding_flag_holds_the_debt(ladder, run_on):
    invoice = InvoiceFactory(client=ClientFactory(safeguarding_flag=True))
    run = run_on(FIRST)
    assert item_for(run, invoice.client).status == ItemStatus.SKIPPED
    assert not Letter.objects.filter(client=invoice.client).exists()


def test_balance_below_the_smallest_worth_chasing_is_skipped(ladder, run_on):
    invoice = InvoiceFactory(total=Decimal("9.99"))
    run = run_on(FIRST)
    item = item_for(run, invoice.client)
    assert item.status == ItemStatus.SKIPPED and "below" in item.outcome
    assert not Letter.objects.filter(client=invoice.client).exists()


def test_balance_over_the_escalation_threshold_opens_an_escalated_case_in_the_team_queue(ladder, run_on):
    RecoveryThreshold.objects.update(escalate_balance=Decimal("300.00"))
    invoice = InvoiceFactory()
    run_on(FIRST)
    case = Case.objects.get(client=invoice.client, case_type=CaseType.DEBT_RECOVERY)
    assert case.status == CaseStatus.ESCALATED
    assert case in Case.objects.team_queue(Team.objects.all())
    assert RecoveryEvent.objects.filter(client=invoice.client, kind="escalated").count() == 1
    run_on(FIRST + timedelta(days=1))
    assert RecoveryEvent.objects.filter(client=invoice.client, kind="escalated").count() == 1


def test_team_leader_review_stage_escalates_an_existing_case(ladder, run_on):
    invoice = InvoiceFactory()
    RecoveryStage.objects.exclude(code="team_leader_review").update(active=False)
    RecoveryStage.objects.filter(code="team_leader_review").update(delay_from="due_date", delay_days=14)
    from .factories import CaseFactory

    case = CaseFactory(client=invoice.client)
    run_on(FIRST)
    case.refresh_from_db()
    assert case.status == CaseStatus.ESCALATED
    assert stage_of(invoice.client) == "team_leader_review"


def test_rerunning_the_same_date_sends_nothing_twice(ladder, run_on):
    invoice = InvoiceFactory()
    first = run_on(FIRST)
    second = run_on(FIRST)
    assert first.pk == second.pk
    assert Letter.objects.filter(client=invoice.client).count() == 1
    # Even a second process acting on stale state cannot move the debtor twice in a day.
    debt = services.DebtSummary.of(services.overdue_invoices_for([invoice.client_id], FIRST)[invoice.client_id])
    again = services.recovery_advance(client=invoice.client, stage=ladder["first_reminder"], expected_from_id=None,
                                      debt=debt, on=FIRST, actor=UserFactory())
    assert again is None
    assert RecoveryEvent.objects.filter(client=invoice.client, kind="advanced").count() == 1


def test_paid_up_debtor_leaves_the_ladder(ladder, run_on):
    invoice = InvoiceFactory()
    run_on(FIRST)
    pay(invoice, "399.40")
    run = run_on(FIRST + timedelta(days=1))
    assert item_for(run, invoice.client).outcome == "Nothing overdue: left the recovery ladder"
    assert stage_of(invoice.client) is None


@pytest.mark.parametrize("entered, on, expected", [
    (None, FIRST - timedelta(days=1), None),
    (None, FIRST, "First"),
    (FIRST, SECOND - timedelta(days=1), None),
    (FIRST + timedelta(days=5), SECOND, None),  # 14 days from the previous stage, not from the anchor alone
    (FIRST + timedelta(days=5), SECOND + timedelta(days=5), "Second"),
])
def test_decide_times_each_stage_from_the_anchor_and_the_previous_stage(entered, on, expected):
    ladder = [rules.StageSpec(1, 10, "First", 14, "due_date", "letter"),
              rules.StageSpec(2, 20, "Second", 14, "previous_stage", "letter")]
    decision = rules.decide(ladder=ladder, current_id=1 if entered else None, entered_on=entered, anchor=DUE, on=on,
                            balance=Decimal("10"), thresholds=rules.Thresholds(Decimal("0")), already_escalated=False)
    assert (decision.advance_to.name if decision.advance_to else None) == expected


def test_pages_show_the_debtor_and_let_an_officer_place_and_release_a_hold(ladder, run_on, client):
    invoice = InvoiceFactory()
    run_on(FIRST)
    http = sign_in(client, UserFactory(roles=[Role.INCOME_OFFICER]))
    assert escape(invoice.client.full_name) in http.get(reverse("debt:recovery_list")).content.decode()
    assert http.get(reverse("debt:recovery_list") + "?format=csv").status_code == 200
    assert http.get(reverse("debt:recovery_list") + "?format=xlsx").status_code == 200
    assert http.get(reverse("debt:ladder")).status_code == 200
    detail = http.get(reverse("debt:recovery_detail", args=[invoice.client.pk])).content.decode()
    assert invoice.number in detail and "First reminder" in detail
    review = date.today() + timedelta(days=30)
    response = http.post(reverse("debt:hold_create", args=[invoice.client.pk]), {
        "kind": HoldKind.DISPUTE, "note": "Disputes the hours", "review_date_0": review.day,
        "review_date_1": review.month, "review_date_2": review.year})
    assert response.status_code == 302, response.content.decode()[:2000]
    hold = DebtHold.objects.get(client=invoice.client)
    http.post(reverse("debt:hold_release", args=[hold.pk]))
    hold.refresh_from_db()
    assert hold.released_on is not None


@pytest.mark.parametrize("paused, due", [(0, date(2026, 1, 15)), (60, date(2026, 3, 16))])
def test_after_a_breathing_space_recovery_resumes_with_its_dates_moved_on_by_its_length(paused, due):
    """BS: when a moratorium ends, the next stage falls due later by the days it lasted."""
    from debt import recovery as rules

    ladder = [rules.StageSpec(id=1, order=10, name="First reminder", delay_days=14, delay_from=rules.DUE_DATE,
                              action="letter", letter_type="")]
    decision = rules.decide(ladder=ladder, current_id=None, entered_on=None, anchor=date(2026, 1, 1),
                            on=date(2026, 1, 20), balance=Decimal("100.00"),
                            thresholds=rules.Thresholds(minimum_balance=Decimal("10.00")), already_escalated=False,
                            paused_days=paused)
    assert decision.next_due_on == due
    assert (decision.advance_to is not None) == (paused == 0)


# The set-based run ---------------------------------------------------------------------------------

def test_a_group_of_debtors_costs_the_same_statements_as_a_few(ladder, run_on):
    """One locking read and one INSERT per kind of row for the group: statements do not grow with debtors."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    early = [InvoiceFactory() for _ in range(2)]
    late = [InvoiceFactory(due_date=DUE + timedelta(days=20)) for _ in range(8)]
    with CaptureQueriesContext(connection) as few:
        run_on(FIRST)
    with CaptureQueriesContext(connection) as many:
        run = run_on(DUE + timedelta(days=34))
    assert [stage_of(i.client) for i in early] == ["second_reminder"] * 2
    assert [stage_of(i.client) for i in late] == ["first_reminder"] * 8
    assert RunItem.objects.filter(run=run, status=ItemStatus.DONE).count() == 10
    assert Letter.objects.filter(run_item__run=run).count() == 10
    assert len(many.captured_queries) <= len(few.captured_queries) + 3, (len(few), len(many))


def test_item_by_item_fallback_decides_exactly_as_the_group(ladder, run_on, monkeypatch):
    from dataclasses import replace

    from casework.runs import registry

    monkeypatch.setitem(registry.JOBS, "recovery", replace(registry.JOBS["recovery"], process_group=None))
    chased = InvoiceFactory()
    held = InvoiceFactory(client=ClientFactory(safeguarding_flag=True))
    small = InvoiceFactory(total=Decimal("9.99"))
    run = run_on(FIRST)
    assert item_for(run, chased.client).outcome.startswith("First reminder: letter L")
    assert item_for(run, held.client).outcome == "On hold: Safeguarding concern recorded on the client"
    assert item_for(run, small.client).outcome == "Overdue balance £9.99 is below the £10.00 worth chasing"
    assert run_on(FIRST).pk == run.pk and Letter.objects.count() == 1


def test_a_second_run_the_same_day_cannot_advance_twice_even_with_stale_rows(ladder, run_on):
    from casework.models import Run
    from debt.jobs_recovery import prepare_recovery, process_group_recovery

    invoice = InvoiceFactory()
    run = run_on(FIRST)
    # A stale process with what it loaded before the first run finished: the locked rows win.
    prepared = prepare_recovery(Run(business_date=FIRST, started_by=None), [f"client:{invoice.client_id}"])
    prepared["recoveries"] = {}
    answers = process_group_recovery(run, [item_for(run, invoice.client)], prepared)
    assert answers[item_for(run, invoice.client).pk] == "No stage due: Second reminder is due on 14 December 2026"
    assert Letter.objects.filter(client=invoice.client).count() == 1
    assert RecoveryEvent.objects.filter(client=invoice.client, kind="advanced").count() == 1


# Breathing Space and the ladder ----------------------------------------------------------------------

def _moratorium(client, invoices=None, register_entry=DUE - timedelta(days=1)):
    from debt.models import BreathingSpaceRule
    from debt.services.relief import moratorium_record

    # Seeded by a migration; pinned here, since a browser test's flush may have removed it.
    BreathingSpaceRule.objects.update_or_create(effective_from=date(2021, 5, 4), defaults={"standard_days": 60})
    return moratorium_record(client=client, kind="standard", register_entry_date=register_entry,
                             adviser_name="Sam Adviser", adviser_organisation="StepChange", insolvency_reference="BS1",
                             actor=UserFactory(), invoices=invoices)


def test_a_breathing_space_holds_only_the_debts_it_covers_and_the_rest_keep_moving(ladder, run_on):
    from debt.models import SuppressedAction

    covered = InvoiceFactory()
    other = InvoiceFactory(client=covered.client, account=covered.account, due_date=DUE + timedelta(days=7),
                           issue_date=DUE - timedelta(days=7))
    _moratorium(covered.client, invoices=[covered])
    run = run_on(FIRST)  # the covered invoice is left out: anchored on the other one, not yet due a reminder
    assert item_for(run, covered.client).outcome == "No stage due: First reminder is due on 07 December 2026"
    run = run_on(other.due_date + timedelta(days=14))
    assert stage_of(covered.client) == "first_reminder"
    event = RecoveryEvent.objects.get(client=covered.client, kind="advanced")
    assert (event.balance, event.anchor_date) == (Decimal("399.40"), other.due_date)
    assert event.reason == "First reminder: 1 overdue invoice(s), £399.40"
    logged = SuppressedAction.objects.get(client=covered.client)
    assert logged.action == "debt.recovery.letter" and logged.detail.startswith(f"{covered.number} left out of the First")


def test_a_breathing_space_over_all_debts_holds_logs_once_and_moves_the_dates_on_when_it_ends(ladder, run_on):
    from debt.models import SuppressedAction
    from debt.services.relief import moratorium_end

    invoice = InvoiceFactory()
    moratorium = _moratorium(invoice.client)  # starts on the due date
    for day in (FIRST, FIRST + timedelta(days=1)):
        item = item_for(run_on(day), invoice.client)
        assert item.status == ItemStatus.SKIPPED and item.outcome.startswith("On hold: Breathing Space BS1")
    logged = SuppressedAction.objects.get(client=invoice.client)  # once, not every night
    assert (logged.moratorium, logged.action) == (moratorium, "debt.recovery.stage")
    assert logged.detail.startswith(f"First reminder not sent for {invoice.number} (due 30 November 2026)")
    moratorium_end(moratorium=moratorium, ended_on=DUE + timedelta(days=9), reason="cancelled", actor=UserFactory())
    run_on(FIRST + timedelta(days=9))  # 10 days protected (16 to 25 November): due on 10 December
    assert stage_of(invoice.client) is None
    run_on(FIRST + timedelta(days=10))
    assert stage_of(invoice.client) == "first_reminder"


def test_the_letter_before_claim_encloses_the_statement_information_sheet_reply_form_and_financial_statement(ladder):
    """PA-03: the letter before claim carries four enclosures, each from a new page; other stages carry none."""
    from io import BytesIO

    from pypdf import PdfReader

    from casework.letters import services as letters

    first = InvoiceFactory()
    pay(first, "99.40")
    InvoiceFactory(client=first.client, account=first.account, due_date=DUE + timedelta(days=7))
    on = DUE + timedelta(days=60)
    invoices = services.overdue_invoices_for([first.client.pk], on)[first.client.pk]
    letter = letters.letter_produce(client=first.client, letter_type="recovery_letter_before_claim", on=on,
                                    context=get_letter_type("recovery_letter_before_claim").build_context(
                                        first.client, on, invoices=invoices))
    with letter.file.open("rb") as handle:
        pages = [" ".join(p.extract_text().split()) for p in PdfReader(BytesIO(handle.read())).pages]
    text = " ".join(pages)
    for heading in ("Statement of account", "Information sheet", "Reply form", "Financial statement"):
        assert sum(page.startswith(heading) or f" {heading} " in f" {page[:200]} " for page in pages) >= 1, heading
    # £99.40 paid of the first £399.40 invoice: £300.00 left on it, £699.40 owed in all.
    assert "Paid or credited" in text and "£99.40" in text and "£300.00" in text and "£699.40" in text
    assert "I dispute the debt" in text and "Earnings" in text and "Food and housekeeping" in text
    assert letter.pages >= 5
    reminder = letters.letter_produce(client=first.client, letter_type="recovery_first_reminder", on=on,
                                      context=get_letter_type("recovery_first_reminder").build_context(
                                          first.client, on, invoices=invoices))
    with reminder.file.open("rb") as handle:
        assert "Reply form" not in " ".join(p.extract_text() for p in PdfReader(BytesIO(handle.read())).pages)
