"""The payment run (PP-06, PP-08): Standard 18 layout and totals, idempotency, offsets, disputes,
scheduled residential payments, release by a team leader, urgent payments and overpayments."""
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage

from casework.models import Run
from casework.runs.services import run_start
from casework.services import DomainError, NotAllowed
from provider_payments.bacs import BacsCredit, Originator, standard18
from provider_payments.constants import (
    ClaimStatus,
    DisputeStatus,
    LineResult,
    OverpaymentSource,
    OverpaymentStatus,
    PaymentRunStatus,
    RecoveryMethod,
    UrgentMethod,
    UrgentStatus,
)
from provider_payments.models import Payment, PaymentRun, ProviderLedgerEntry, ScheduledPayment
from provider_payments.services.claims import claim_transition
from provider_payments.services.common import provider_balance
from provider_payments.services.disputes import dispute_add_note, dispute_open, dispute_transition
from provider_payments.services.overpayments import (
    overpayment_receipt,
    overpayment_record,
    overpayment_transition,
    overpayments_after_death,
)
from provider_payments.services.payment_run import payment_run_transition
from provider_payments.services.run_review import exceptions_open
from provider_payments.services.urgent import urgent_request, urgent_transition

from .factories import ClientFactory, UserFactory
from .factories_provider import CarePackageFactory, ProviderFactory, RateFactory, leader, officer, second_officer, service
from .test_provider_validation import ecm, invoice, visit

pytestmark = pytest.mark.django_db
PAY_DAY = date(2026, 4, 20)  # a Monday on the four-weekly schedule from 21 April 2025


def test_standard18_layout_and_totals_exactly():
    originator = Originator("123456", "400000", "12345678", "Northmoor Council")
    text = standard18(originator, [
        BacsCredit("200000", "55000001", "MOORLAND CARE LTD", "PR202604200001", Decimal("1359.00")),
        BacsCredit("309012", "52345678", "Heather & Co.", "PR202604200002", Decimal("0.99")),
    ], processing_day=date(2026, 4, 20), created=date(2026, 4, 17), serial="000042")
    records = text.split("\r\n")
    assert records[-1] == "" and len(records) == 11
    assert [len(r) for r in records[:-1]] == [80, 80, 80, 80, 100, 100, 100, 80, 80, 80]
    assert records[0] == "VOL1000042" + " " * 27 + " " * 4 + "123456" + " " * 4 + " " * 28 + "1"
    assert records[1] == ("HDR1A123456S" + " " * 9 + "000042" + "00010001" + " " * 6 + " 26107 26107 000000"
                          + " " * 20)
    assert records[3] == "UHL1 26110999999    00000000" + "1 DAILY  001" + " " * 40
    assert records[4] == ("200000" "55000001" "0" "99" "400000" "12345678" "    " "00000135900"
                          "NORTHMOOR COUNCIL " "PR202604200001    " "MOORLAND CARE LTD ")
    assert records[5][35:46] == "00000000099" and records[5][82:100] == "HEATHER & CO.     "
    assert records[6] == ("400000" "12345678" "0" "17" "400000" "12345678" "    " "00000135999"
                          "CONTRA            " "PAYMENTS 000042   " "NORTHMOOR COUNCIL ")
    assert records[7].startswith("EOF1A123456S") and records[8].startswith("EOF2F0200000100")
    assert records[9] == "UTL1" + "0000000135999" + "0000000135999" + "0000001" + "0000002" + " " * 36


@pytest.fixture
def approved_claim(django_capture_on_commit_callbacks):
    provider = ProviderFactory(name="Moorland Care Ltd")
    RateFactory(provider=provider, rate=Decimal("24.00"))
    CarePackageFactory(provider=provider, client=ClientFactory(reference="SC500001"))
    claim = ecm(provider, visit("SC500001", date(2026, 3, 24)) + visit("SC500001", date(2026, 3, 24), "17:00", actual=45)
                + visit("SC500001", date(2026, 3, 24), "17:00"))
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=second_officer())
    return provider, claim


def start_run(django_capture_on_commit_callbacks, on=PAY_DAY, actor=None) -> Run:
    with django_capture_on_commit_callbacks(execute=True):
        run = run_start(job="provider_payments", business_date=on, trigger="test", actor=actor)
    run.refresh_from_db()
    return run


def test_the_run_pays_approved_claims_once_with_files_and_balanced_ledger(approved_claim, django_capture_on_commit_callbacks):
    provider, claim = approved_claim
    run = start_run(django_capture_on_commit_callbacks)
    assert run.status == "completed"
    payment = Payment.objects.get()
    assert (payment.gross, payment.offset, payment.net) == (Decimal("42.00"), Decimal("0"), Decimal("42.00"))
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID and claim.payment == payment
    assert provider_balance(provider) == 0
    payment_run = PaymentRun.objects.get()
    assert payment_run.total == Decimal("42.00") and payment_run.status == PaymentRunStatus.PREPARED
    # Run (Bacs input) Monday 20 April 2026: processed Tuesday 21 April (day 111), paid Wednesday 22 April.
    assert (payment_run.payment_date, payment_run.reference) == (date(2026, 4, 22), "PR20260422")
    bacs = default_storage.open(payment_run.bacs_file.name).read().decode()
    assert bacs.split("\r\n")[3][4:10] == " 26111"
    assert bacs.split("\r\n")[4][35:46] == "00000004200"
    journal = default_storage.open(payment_run.journal_file.name).read().decode().splitlines()
    assert journal[1].endswith("ASC110,5201,Provider payments: Home care,42.00,0.00")
    assert journal[2].endswith("FIN900,9100,Bacs payments to providers,0.00,42.00")
    assert default_storage.open(payment.remittance.name).read().startswith(b"%PDF")
    # Starting the job again for the date resumes the same run; a second date finds nothing to pay.
    again = start_run(django_capture_on_commit_callbacks)
    assert again.pk == run.pk and Payment.objects.count() == 1
    start_run(django_capture_on_commit_callbacks, on=date(2026, 5, 18))
    assert Payment.objects.count() == 1
    assert ProviderLedgerEntry.objects.filter(provider=provider, kind="payment").count() == 1


def test_reprocessing_a_provider_in_the_same_run_never_pays_twice(approved_claim, django_capture_on_commit_callbacks):
    from casework.models import RunItem
    from provider_payments.services.payment_run import process_payment

    run = start_run(django_capture_on_commit_callbacks)
    item = RunItem.objects.get(run=run)
    assert process_payment(run, item, {}) == "Already paid £42.00 in this run"
    assert Payment.objects.count() == 1


def test_a_provider_without_approved_bank_details_is_held(approved_claim, django_capture_on_commit_callbacks):
    provider, _ = approved_claim
    provider.sort_code = ""
    provider.save()
    run = start_run(django_capture_on_commit_callbacks)
    assert run.items.get().outcome == "Held: No approved bank details"
    assert Payment.objects.count() == 0


def test_offsets_reduce_the_payment_and_recover_the_overpayment(approved_claim, django_capture_on_commit_callbacks):
    provider, _ = approved_claim
    found = overpayment_record(provider=provider, amount=Decimal("50.00"), source=OverpaymentSource.AUDIT,
                               description="Audit of February visits", actor=officer())
    with pytest.raises(DomainError, match="You made or changed this, so someone else must approve the recovery"):
        overpayment_transition(overpayment=found, to_status=OverpaymentStatus.APPROVED,
                               actor=leader_same(found))
    overpayment_transition(overpayment=found, to_status=OverpaymentStatus.APPROVED, actor=leader())
    assert provider_balance(provider) == Decimal("8.00")  # owes 50, is owed 42
    start_run(django_capture_on_commit_callbacks)
    payment = Payment.objects.get()
    assert (payment.gross, payment.offset, payment.net) == (Decimal("42.00"), Decimal("42.00"), Decimal("0.00"))
    found.refresh_from_db()
    assert found.status == OverpaymentStatus.APPROVED  # £8 still to recover
    assert provider_balance(provider) == Decimal("8.00")
    assert PaymentRun.objects.get().bacs_file.name == ""  # nothing to send by Bacs


def leader_same(overpayment):
    """The person who found the overpayment, given the team leader role too."""
    user = overpayment.identified_by
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get_or_create(name="Team leader")[0])
    user._careledger_roles = None
    return user


def test_overpayment_by_invoice_is_recovered_when_paid():
    provider = ProviderFactory()
    found = overpayment_record(provider=provider, amount=Decimal("120.00"), source=OverpaymentSource.VALIDATION,
                               description="Visits paid twice in March", method=RecoveryMethod.INVOICE, actor=officer())
    with pytest.raises(DomainError, match="number of the invoice"):
        overpayment_transition(overpayment=found, to_status=OverpaymentStatus.APPROVED, actor=leader())
    overpayment_transition(overpayment=found, to_status=OverpaymentStatus.APPROVED, actor=leader(),
                           invoice_number="SI0001234")
    overpayment_receipt(overpayment=found, amount=Decimal("100.00"), received_on=date(2026, 5, 1), actor=officer())
    assert provider_balance(provider) == Decimal("20.00")
    overpayment_receipt(overpayment=found, amount=Decimal("20.00"), received_on=date(2026, 5, 8), actor=officer())
    found.refresh_from_db()
    assert found.status == OverpaymentStatus.RECOVERED and provider_balance(provider) == 0


def test_a_death_recorded_late_turns_paid_care_after_it_into_an_overpayment(approved_claim,
                                                                            django_capture_on_commit_callbacks):
    from casework.services import client_record_death

    provider, claim = approved_claim
    start_run(django_capture_on_commit_callbacks)
    client = claim.lines.first().client
    client = client_record_death(client=client, date_of_death=date(2026, 3, 23), source="registrar", verified=True,
                                 actor=officer())
    made = overpayments_after_death(client=client, actor=officer())
    assert [(o.amount, o.source) for o in made] == [(Decimal("42.00"), OverpaymentSource.LATE_DEATH)]
    assert overpayments_after_death(client=client, actor=officer()) == []  # not counted twice


def test_an_upheld_dispute_is_paid_on_the_next_run(django_capture_on_commit_callbacks):
    provider = ProviderFactory()
    RateFactory(provider=provider, rate=Decimal("24.00"))
    CarePackageFactory(provider=provider, client=ClientFactory(reference="SC500001"))
    claim = invoice(provider, "SC500001,homecare,2026-03-23,2,25.00,50.00\n")
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=second_officer())
    line = claim.lines.get()
    assert line.result == LineResult.ADJUSTED
    dispute = dispute_open(claim=claim, lines=[line], reason="Our contract rate is £25.00", actor=officer())
    dispute_add_note(dispute=dispute, text="Contract schedule 3 attached", actor=officer())
    with pytest.raises(DomainError, match="no more than £2.00"):
        dispute_transition(dispute=dispute, to_status=DisputeStatus.UPHELD, actor=leader(), note="Agreed",
                           amount=Decimal("3.00"))
    dispute_transition(dispute=dispute, to_status=DisputeStatus.UPHELD, actor=leader(), note="Variation agreed",
                       amount=Decimal("2.00"))
    with pytest.raises(DomainError, match="cannot move from upheld to not upheld"):
        dispute_transition(dispute=dispute, to_status=DisputeStatus.NOT_UPHELD, actor=leader(), note="x")
    start_run(django_capture_on_commit_callbacks)
    payment = Payment.objects.get()
    assert payment.gross == Decimal("50.00")  # 48.00 validated + 2.00 upheld
    dispute.refresh_from_db()
    assert dispute.payment == payment and provider_balance(provider) == 0


def test_scheduled_residential_care_is_paid_once_per_period(django_capture_on_commit_callbacks):
    provider = ProviderFactory()
    RateFactory(provider=provider, service_type=service("residential"), rate=Decimal("850.00"),
                effective_from=date(2025, 4, 1))
    CarePackageFactory(provider=provider, service_type=service("residential"), units_per_week=Decimal("1"),
                       start_date=date(2026, 3, 30))
    start_run(django_capture_on_commit_callbacks)
    row = ScheduledPayment.objects.get()
    # In arrears for 23 March to 19 April, from the package's start on 30 March: 21 days, 3 weeks.
    assert (row.period_start, row.period_end, row.amount) == (date(2026, 3, 30), date(2026, 4, 19), Decimal("2550.00"))
    start_run(django_capture_on_commit_callbacks, on=date(2026, 5, 18))
    assert [r.amount for r in ScheduledPayment.objects.order_by("period_start")] == [Decimal("2550.00"),
                                                                                     Decimal("3400.00")]


def test_release_needs_a_team_leader_other_than_who_started_the_run(approved_claim, django_capture_on_commit_callbacks):
    starter = leader()
    start_run(django_capture_on_commit_callbacks, actor=starter)
    payment_run = PaymentRun.objects.get()
    with pytest.raises(NotAllowed):
        payment_run_transition(payment_run=payment_run, to_status=PaymentRunStatus.RELEASED, actor=officer())
    with pytest.raises(NotAllowed, match="someone else must release the run you started"):
        payment_run_transition(payment_run=payment_run, to_status=PaymentRunStatus.RELEASED, actor=starter)
    other = UserFactory(username="second-leader", roles=["Team leader"])
    exceptions_open(payment_run=payment_run, user=other)
    payment_run = payment_run_transition(payment_run=payment_run, to_status=PaymentRunStatus.RELEASED, actor=other)
    assert payment_run.status == PaymentRunStatus.RELEASED and payment_run.released_by == other


def test_urgent_payment_needs_a_second_person_and_goes_on_the_ledger():
    provider = ProviderFactory()
    requester = leader()
    urgent = urgent_request(provider=provider, amount=Decimal("4000.00"), method=UrgentMethod.FASTER,
                            reason="Provider cannot meet payroll", actor=requester)
    with pytest.raises(DomainError, match="You made or changed this, so someone else must decide the urgent payment"):
        urgent_transition(urgent=urgent, to_status=UrgentStatus.APPROVED, actor=requester)
    urgent_transition(urgent=urgent, to_status=UrgentStatus.APPROVED,
                      actor=UserFactory(username="second-leader", roles=["Team leader"]))
    urgent_transition(urgent=urgent, to_status=UrgentStatus.PAID, actor=officer(), paid_on=date(2026, 4, 2))
    assert provider_balance(provider) == Decimal("4000.00")
