"""The income team's consequences of a death: charges for days after it credited to the penny,
recovery stopped, repayment plans cancelled, and all of it undone when the death was recorded in error."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from casework import selectors, services
from casework.constants import EntryKind
from casework.deaths import registry
from casework.deaths.services import Decision, death_apply_all, death_consequence_decide, death_record, death_reverse
from casework.models import LedgerEntry, TimelineEntry
from casework.roles import Role
from debt import billing
from debt import death as debt_death
from debt.constants import LineKind, PaymentMethod
from debt.models import Invoice, RepaymentPlan
from debt.models.relief import PlanStatus
from debt.selectors import invoice_outstanding
from debt.services.billing import charge_view, load_billing_data
from tests.factories import ClientFactory, UserFactory
from tests.factories_debt import AssessedChargeFactory, InvoiceFactory, InvoiceLineFactory

pytestmark = pytest.mark.django_db

PERIOD = billing.Period(date(2026, 3, 2), date(2026, 3, 29))
NEXT = billing.Period(date(2026, 3, 30), date(2026, 4, 26))
DAY_10 = date(2026, 3, 11)


@pytest.fixture(autouse=True)
def debt_handlers_only():
    saved = dict(registry.HANDLERS)
    registry.HANDLERS.clear()
    debt_death.register()
    yield
    registry.HANDLERS.clear()
    registry.HANDLERS.update(saved)


@pytest.fixture
def officer():
    return UserFactory(username="officer", roles=[Role.INCOME_OFFICER])


def four_weekly(weekly: str, *, client=None, period=PERIOD):
    """An issued invoice for one four-weekly period of an open-ended weekly charge."""
    client = client or ClientFactory()
    charge = AssessedChargeFactory(client=client, weekly_amount=Decimal(weekly), effective_from=date(2026, 1, 5))
    amount = billing.pro_rata(Decimal(weekly), 28)
    invoice = InvoiceFactory(client=client, period_start=period.start, period_end=period.end,
                             issue_date=period.end + timedelta(days=1), due_date=period.end + timedelta(days=15),
                             total=amount)
    InvoiceLineFactory(invoice=invoice, assessed_charge=charge, service=charge.service, date_from=period.start,
                       date_to=period.end, days=28, weekly_rate=Decimal(weekly), amount=amount)
    return client, invoice


def apply_all(death, actor):
    return death_apply_all(death=death, actor=actor, decisions=[Decision(c, True) for c in death.consequences.all()])


def billed_with_death_credits(client):
    """What the billing run loads for the client: its load_billing_data counts the death credits."""
    return load_billing_data([client.pk])[client.pk]


def test_worked_example_84_a_week_death_on_day_10_credits_18_days_at_12_pounds(officer):
    """£84.00 a week is £12.00 a day; 2 to 29 March is 28 days (£336.00). Death on 11 March (day
    10): 12 to 29 March is 18 days after it, 18 × £12.00 = £216.00, leaving 10 days, £120.00."""
    client, invoice = four_weekly("84.00")
    death = death_record(client=client, date_of_death=DAY_10, source="registrar", verified=True, actor=officer)
    proposal = death.consequences.get(kind=debt_death.CREDIT_KIND)
    assert proposal.payload["amount"] == "216.00" and proposal.payload["days"] == 18
    assert apply_all(death, officer) == {}
    credit = invoice.credit_notes.get()
    assert credit.total == Decimal("-216.00") and credit.number.startswith("CRN")
    assert "11 March 2026" in credit.reason
    assert invoice_outstanding(invoice) == Decimal("120.00")
    entry = LedgerEntry.objects.get(reference=credit.number)
    assert entry.kind == EntryKind.CREDIT and entry.amount == Decimal("-216.00")


@pytest.mark.parametrize("weekly, died, credit", [
    ("84.00", date(2026, 3, 11), "216.00"),    # 18 days × £12.00
    ("99.85", date(2026, 3, 11), "256.76"),    # £399.40 − 10 days (£142.64)
    ("100.00", date(2026, 3, 2), "385.71"),    # £400.00 − 1 day (£14.29): the death on the first day
    ("100.00", date(2026, 3, 28), "14.29"),    # one day after the death
    ("100.00", date(2026, 3, 29), None),       # died on the last day: nothing after it
    ("100.00", date(2026, 2, 20), "400.00"),   # died before the period: all of it
])
def test_credit_is_the_line_less_what_billing_charges_up_to_the_death(weekly, died, credit):
    client, invoice = four_weekly(weekly)
    proposals = debt_death.propose_credits(client, died)
    if credit is None:
        assert proposals == []
        return
    assert proposals[0].payload["amount"] == credit
    kept = billing.charge_lines(PERIOD, [charge_view(c) for c in client.assessed_charges.all()], died)
    assert Decimal(credit) + sum((l.amount for l in kept), Decimal("0")) == invoice.total


def test_billing_after_the_credit_adds_no_second_credit_for_the_same_days(officer):
    client, invoice = four_weekly("84.00")
    death = death_record(client=client, date_of_death=DAY_10, source="registrar", verified=True, actor=officer)
    apply_all(death, officer)
    client.refresh_from_db()
    data = billed_with_death_credits(client)
    draft = billing.invoice_draft(NEXT, data["charges"], date_of_death=client.date_of_death, earlier=data["earlier"],
                                  billed=data["billed"])
    assert draft.lines == [] and draft.total == 0


def test_reversal_rebills_the_days_by_reversing_entries_and_the_ledger_balance_is_back_exactly(officer):
    client, invoice = four_weekly("84.00")
    account = services.account_for_client(client)
    before = selectors.account_balance(account)
    death = death_record(client=client, date_of_death=DAY_10, source="registrar", verified=True, actor=officer)
    apply_all(death, officer)
    credit = invoice.credit_notes.get()
    leader = UserFactory(username="leader", roles=[Role.TEAM_LEADER])
    death_reverse(death=death, reason="Recorded against the wrong client", actor=leader)

    assert selectors.account_balance(account) == before
    reversal = LedgerEntry.objects.get(reverses=credit.ledger_entry)
    assert reversal.amount == Decimal("216.00")
    rebill = Invoice.objects.get(ledger_entry=reversal)
    assert rebill.corrects is None and rebill.total == Decimal("216.00") and rebill.period_start == PERIOD.start
    line = rebill.lines.get()
    assert line.kind == LineKind.ADJUSTMENT and (line.date_from, line.date_to, line.days) == (
        date(2026, 3, 12), date(2026, 3, 29), 18)
    assert Invoice.objects.filter(pk=credit.pk).exists()  # nothing is deleted
    assert invoice_outstanding(invoice) + invoice_outstanding(rebill) == Decimal("336.00")
    # Billing, now that there is no death, bills nothing more and credits nothing for the period.
    client.refresh_from_db()
    data = billed_with_death_credits(client)
    draft = billing.invoice_draft(NEXT, data["charges"], date_of_death=None, earlier=data["earlier"],
                                  billed=data["billed"])
    assert [l.kind for l in draft.lines] == [LineKind.CHARGE] and draft.total == Decimal("336.00")


def test_payments_the_credit_freed_go_back_onto_the_rebill(officer):
    from debt.services.payments import payment_record

    client, invoice = four_weekly("84.00")
    payment_record(client=client, amount=Decimal("336.00"), method=PaymentMethod.BANK_TRANSFER,
                   received_on=date(2026, 4, 1), reference="BT1", actor=officer)
    assert invoice_outstanding(invoice) == 0
    death = death_record(client=client, date_of_death=DAY_10, source="registrar", verified=True, actor=officer)
    apply_all(death, officer)
    assert death.consequences.get(kind=debt_death.CREDIT_KIND).result["freed"] == "216.00"
    death_reverse(death=death, reason="Wrong client", actor=officer)
    rebill = Invoice.objects.get(client=client, corrects__isnull=True, total=Decimal("216.00"))
    assert invoice_outstanding(invoice) == 0 and invoice_outstanding(rebill) == 0


def test_recovery_stop_lists_each_open_debt_and_its_stage_and_holds_until_reversed(officer):
    client, invoice = four_weekly("84.00")
    death = death_record(client=client, date_of_death=DAY_10, source="registrar", verified=True, actor=officer)
    stop = death.consequences.get(kind=debt_death.RECOVERY_KIND)
    assert invoice.number in stop.summary and "£336.00" in stop.summary and "not yet on the recovery ladder" in stop.summary
    assert stop.payload["invoices"] == [{"number": invoice.number, "outstanding": "336.00"}]
    apply_all(death, officer)
    stop.refresh_from_db()
    from debt.models import DebtHold
    hold = DebtHold.objects.get(pk=stop.result["hold"])
    # Reviewed after the representatives' two months for claims (the seeded DeathHoldReviewRule).
    assert hold.kind == "deceased" and hold.released_on is None
    assert hold.review_date == timezone.localdate() + relativedelta(months=2)
    death_reverse(death=death, reason="Wrong client", actor=officer)
    hold.refresh_from_db()
    assert hold.released_on == timezone.localdate()


def test_the_review_of_a_deaths_recovery_hold_follows_the_rule_in_force(officer):
    from debt.models import DebtHold, DeathHoldReviewRule

    today = timezone.localdate()
    DeathHoldReviewRule.objects.create(effective_from=today, months=3)
    DeathHoldReviewRule.objects.create(effective_from=today + timedelta(days=1), months=6)  # not yet in force
    client, _ = four_weekly("84.00")
    death = death_record(client=client, date_of_death=DAY_10, source="registrar", verified=True, actor=officer)
    apply_all(death, officer)
    hold = DebtHold.objects.get(pk=death.consequences.get(kind=debt_death.RECOVERY_KIND).result["hold"])
    assert hold.review_date == today + relativedelta(months=3)


def test_no_debt_no_recovery_proposal(officer):
    client = ClientFactory()
    death = death_record(client=client, date_of_death=DAY_10, source="family", verified=False, actor=officer)
    assert not death.consequences.exists()


def test_active_repayment_plans_are_cancelled_with_the_reason_and_stay_cancelled_on_reversal(officer):
    client, _ = four_weekly("84.00")
    plan = RepaymentPlan.objects.create(client=client, total=Decimal("336.00"), instalment_amount=Decimal("50.00"),
                                        start_date=date(2026, 4, 1), method=PaymentMethod.BANK_TRANSFER,
                                        agreed_by=officer)
    death = death_record(client=client, date_of_death=DAY_10, source="registrar", verified=True, actor=officer)
    proposal = death.consequences.get(kind=debt_death.PLANS_KIND)
    assert proposal.object_ref == f"Plan {plan.pk}"
    apply_all(death, officer)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CANCELLED and "died on 11 March 2026" in plan.status_reason
    death_reverse(death=death, reason="Wrong client", actor=officer)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CANCELLED
    assert TimelineEntry.objects.filter(client=client, action="debt.death.plan_not_reopened").exists()


def test_an_invoice_credited_meanwhile_is_refused_and_left_proposed(officer):
    from debt.services.billing import credit_note_raise

    client, invoice = four_weekly("84.00")
    death = death_record(client=client, date_of_death=DAY_10, source="registrar", verified=True, actor=officer)
    credit_note_raise(invoice=invoice, reason="Care not delivered", actor=officer)
    refused = apply_all(death, officer)
    row = death.consequences.get(kind=debt_death.CREDIT_KIND)
    assert row.pk in refused and row.status == "proposed" and "credited" in row.error


def test_an_adjustment_line_is_credited_in_proportion_to_its_days_after_the_death():
    from types import SimpleNamespace

    line = SimpleNamespace(kind=LineKind.ADJUSTMENT, date_from=date(2026, 3, 2), date_to=date(2026, 3, 29), days=28,
                           weekly_rate=Decimal("0.00"), amount=Decimal("28.00"))
    assert debt_death.line_credit_after_death(line, date(2026, 3, 11)) == Decimal("18.00")
    negative = SimpleNamespace(**{**vars(line), "amount": Decimal("-28.00")})
    assert debt_death.line_credit_after_death(negative, date(2026, 3, 11)) == Decimal("0.00")


# A credit after a death is a money control -----------------------------------------------------

@pytest.fixture
def leader():
    return UserFactory(username="leader", roles=[Role.TEAM_LEADER])


def reported_by_family(client, actor, on=DAY_10):
    return death_record(client=client, date_of_death=on, source="family", verified=False, actor=actor)


def credit_row(death):
    return death.consequences.get(kind=debt_death.CREDIT_KIND)


def death_credits():
    from casework.models import ControlAction, MoneyAction

    return MoneyAction.objects.filter(action=ControlAction.DEATH_CREDIT)


def test_an_unverified_deaths_credit_confirmed_by_its_recorder_is_refused(officer):
    """The red team's case: a death reported by family, unverified, dated to the start of the
    invoice period, and its credit confirmed by the officer who recorded it."""
    client, invoice = four_weekly("84.00")
    death = reported_by_family(client, officer, on=PERIOD.start)
    refused = apply_all(death, officer)
    row = credit_row(death)
    assert refused == {row.pk: "You made or changed this, so someone else must confirm this credit: the death is "
                                "not verified"}
    assert row.status == "proposed" and row.error == ""
    assert not invoice.credit_notes.exists() and invoice_outstanding(invoice) == Decimal("336.00")
    assert death.consequences.get(kind=debt_death.RECOVERY_KIND).status == "applied"  # the rest goes ahead
    assert not death_credits().exists()


def test_an_unverified_deaths_credit_is_confirmed_by_a_team_leader_other_than_the_recorder(officer, leader):
    client, invoice = four_weekly("84.00")
    death = reported_by_family(client, officer)
    another_officer = UserFactory(username="officer-2", roles=[Role.INCOME_OFFICER])
    with pytest.raises(services.DomainError, match="confirmed by a team leader other than who recorded the death"):
        death_consequence_decide(consequence=credit_row(death), apply=True, actor=another_officer)
    death_consequence_decide(consequence=credit_row(death), apply=True, actor=leader)
    credit = invoice.credit_notes.get()
    assert credit.total == Decimal("-216.00") and credit_row(death).decided_by == leader
    action = death_credits().get()
    assert (action.amount, action.reference, action.maker, action.checker) == (Decimal("216.00"), credit.number,
                                                                               officer, leader)
    assert client.last_name not in action.summary


def test_a_team_leader_who_recorded_an_unverified_death_needs_another_team_leader(leader):
    client, _ = four_weekly("84.00")
    death = reported_by_family(client, leader)
    with pytest.raises(services.DomainError, match="someone else must confirm this credit"):
        death_consequence_decide(consequence=credit_row(death), apply=True, actor=leader)
    other = UserFactory(username="leader-2", roles=[Role.TEAM_LEADER])
    assert death_consequence_decide(consequence=credit_row(death), apply=True, actor=other).status == "applied"


def test_a_verified_deaths_credit_is_confirmed_alone_and_recorded_as_done_alone(officer):
    client, invoice = four_weekly("84.00")
    death = death_record(client=client, date_of_death=DAY_10, source="registrar", verified=True, actor=officer)
    assert apply_all(death, officer) == {}
    action = death_credits().get()
    assert (action.amount, action.maker, action.checker) == (Decimal("216.00"), officer, None)
    assert action.reference == invoice.credit_notes.get().number


def test_declining_an_unverified_deaths_credit_needs_no_second_person(officer):
    client, invoice = four_weekly("84.00")
    death = reported_by_family(client, officer)
    row = death_consequence_decide(consequence=credit_row(death), apply=False, note="Not yet confirmed", actor=officer)
    assert row.status == "declined" and not invoice.credit_notes.exists() and not death_credits().exists()


def test_the_billing_run_does_not_credit_an_unconfirmed_deaths_days_by_adjustment(officer, leader):
    """Billing the next period must not credit, as an adjustment, the days the death's credit
    (waiting for a second person) would credit: that would be a way round its control."""
    from debt.services.billing import draft_for

    client, invoice = four_weekly("84.00")
    death = reported_by_family(client, officer)
    apply_all(death, officer)  # the credit is refused: it waits for someone else
    client.refresh_from_db()
    assert draft_for(client, NEXT, billed_with_death_credits(client)).lines == []
    death_consequence_decide(consequence=credit_row(death), apply=True, actor=leader)
    assert draft_for(client, NEXT, billed_with_death_credits(client)).lines == []  # credited once, by the note
    assert invoice_outstanding(invoice) == Decimal("120.00")


def test_a_verified_deaths_days_are_not_credited_by_billing_while_its_credit_waits(officer):
    from debt.services.billing import draft_for

    client, invoice = four_weekly("84.00")
    death = death_record(client=client, date_of_death=DAY_10, source="registrar", verified=True, actor=officer)
    client.refresh_from_db()
    assert draft_for(client, NEXT, billed_with_death_credits(client)).lines == []
    apply_all(death, officer)
    assert draft_for(client, NEXT, billed_with_death_credits(client)).lines == []
    assert invoice_outstanding(invoice) == Decimal("120.00")


def test_an_invoice_issued_after_an_unverified_death_was_recorded_is_billed_to_the_death(officer):
    """Periods invoiced once the death was recorded were billed up to it: their adjustments still
    follow the date of death (the days after it are not charged again)."""
    from debt.services.billing import draft_for

    client, _ = four_weekly("84.00", period=billing.Period(date(2026, 2, 2), date(2026, 3, 1)))
    reported_by_family(client, officer)  # nothing to credit: the invoice ends before the death
    client.refresh_from_db()
    first = draft_for(client, PERIOD, billed_with_death_credits(client))
    assert [(line.kind, line.date_from, line.date_to, line.amount) for line in first.lines] == [
        (LineKind.CHARGE, PERIOD.start, DAY_10, Decimal("120.00"))]
    invoice = InvoiceFactory(client=client, period_start=PERIOD.start, period_end=PERIOD.end, total=first.total)
    line = first.lines[0]
    charge = client.assessed_charges.get(pk=line.charge_pk)
    InvoiceLineFactory(invoice=invoice, assessed_charge=charge, service=charge.service, date_from=line.date_from,
                       date_to=line.date_to, days=line.days, weekly_rate=line.weekly_rate, amount=line.amount)
    assert draft_for(client, NEXT, billed_with_death_credits(client)).lines == []


def test_the_confirm_page_shows_the_recorders_credit_as_waiting_and_a_team_leader_confirms_it(client_as, user_for):
    from django.urls import reverse

    recorder = user_for(Role.INCOME_OFFICER)
    client, invoice = four_weekly("84.00")
    death = reported_by_family(client, recorder)
    row = credit_row(death)
    url = reverse("casework:death_confirm", args=[death.pk])
    http = client_as(Role.INCOME_OFFICER)
    page = http.get(url).content.decode()
    assert f'id="waiting_{row.pk}"' in page and f'name="apply_{row.pk}"' not in page
    assert "Waiting for someone else to confirm: You made or changed this" in page
    stop = death.consequences.get(kind=debt_death.RECOVERY_KIND)
    done = http.post(url, {f"apply_{stop.pk}": "on", f"apply_{row.pk}": "on"}, follow=True)
    assert "1 applied, 0 not applied; 1 waiting for someone else to confirm" in done.content.decode()
    row.refresh_from_db()
    assert row.status == "proposed" and not invoice.credit_notes.exists()
    leader = client_as(Role.TEAM_LEADER)
    assert f'name="apply_{row.pk}"' in leader.get(url).content.decode()
    assert leader.post(url, {f"apply_{row.pk}": "on"}).status_code == 302
    row.refresh_from_db()
    assert row.status == "applied" and invoice.credit_notes.get().total == Decimal("-216.00")
