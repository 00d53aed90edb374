"""Provider payments' money controls: nobody approves a claim they imported or changed; an override
that pays more than was claimed or commissioned waits for a team leader; the approver of a payment
run sees each payment against what it should be and the lines changed by hand, and opens the
exceptions before releasing; urgent payments, bank details, rates and uplifts each have a maker
and a checker. Through the services, the pages and the API."""
import csv
import io
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from rest_framework.test import APIClient

from casework.models import ControlAction, ControlRequest, ControlRequestStatus, MoneyAction, Run
from casework.runs.services import run_start
from casework.services import DomainError, NotAllowed
from casework.services.controls import control_request_transition
from casework.services.system import system_user
from provider_payments.constants import (
    ClaimStatus,
    LineResult,
    PaymentRunStatus,
    UpliftMethod,
    UpliftStatus,
    UrgentMethod,
    UrgentStatus,
)
from provider_payments.models import (
    ClaimLine,
    ClaimLineOverride,
    Payment,
    PaymentFlagRule,
    PaymentRun,
    PaymentRunExceptionsOpened,
    Rate,
    ToleranceRule,
)
from provider_payments.services.claims import claim_line_override, claim_transition, line_ceiling
from provider_payments.services.payment_run import payment_run_transition
from provider_payments.services.providers import bank_change_decide, bank_change_request
from provider_payments.services.rates import rate_change_request
from provider_payments.services.run_review import exceptions_open, exceptions_opened_by, provider_reviews
from provider_payments.services.uplifts import uplift_create, uplift_transition
from provider_payments.services.urgent import urgent_request, urgent_transition

from .conftest import sign_in
from .factories import ClientFactory, UserFactory
from .factories_provider import (
    CarePackageFactory,
    ProviderFactory,
    RateFactory,
    band,
    leader,
    officer,
    second_officer,
    service,
)
from .test_provider_validation import invoice

pytestmark = pytest.mark.django_db
PAY_DAY = date(2026, 4, 20)  # the four-weekly schedule's Monday
#: The red team's claim: one line claimed at £22.80, another at £48.00.
CLAIM = "SC500001,homecare,2026-03-23,0.95,24.00,22.80\nSC500001,homecare,2026-03-24,2,24.00,48.00\n"


def second_leader():
    return UserFactory(username="provider-leader-2", roles=["Team leader"])


@pytest.fixture
def provider():
    """14 hours of home care a week at £24.00 an hour (£1,344.00 for the four-week claim period)."""
    provider = ProviderFactory(name="Moorside Home Care Ltd")
    RateFactory(provider=provider, rate=D("24.00"))
    CarePackageFactory(provider=provider, client=ClientFactory(reference="SC500001"))
    return provider


def first_line(claim) -> ClaimLine:
    return claim.lines.get(row_number=2)


def inflate(claim, actor=None, amount="25000.00", note="Provider says the visits were double-handed"):
    return claim_line_override(line=first_line(claim), result=LineResult.ADJUSTED, payable_amount=D(amount),
                               note=note, actor=actor or officer())


def approve(request, actor, note=""):
    return control_request_transition(request=request, to=ControlRequestStatus.APPROVED, actor=actor, note=note)


# --- who may approve a claim ----------------------------------------------------------------------

def test_whoever_imported_a_claim_cannot_approve_it_and_the_approval_is_recorded_with_both(provider):
    claim = invoice(provider, CLAIM)
    with pytest.raises(NotAllowed, match="you imported it. Another provider payment officer or a team leader may "
                                         "approve it"):
        claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=officer())
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VALIDATED and not provider.ledger.exists()
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=second_officer())
    record = MoneyAction.objects.get(action=ControlAction.CLAIM_APPROVAL)
    assert (record.maker, record.checker, record.amount, record.reference) == (
        officer(), second_officer(), D("70.80"), "INV-1")
    assert record.subject == f"Moorside Home Care Ltd ({provider.supplier_number})" and record.client is None
    assert record.made_at == claim.imported_at and not record.same_person


def test_whoever_overrode_any_line_cannot_approve_the_claim_even_after_someone_changed_it_again(provider):
    claim = invoice(provider, CLAIM)
    done = claim_line_override(line=first_line(claim), result=LineResult.REJECTED, note="Visit not made",
                               actor=second_officer())
    assert done.result == LineResult.REJECTED and done.payable_amount == 0
    # A reduction is made at once, recorded as done alone.
    alone = MoneyAction.objects.get(action=ControlAction.CLAIM_OVERRIDE)
    assert (alone.maker, alone.checker, alone.amount, alone.reference) == (second_officer(), None, D("22.80"),
                                                                           "INV-1 row 2")
    assert alone.client.reference == "SC500001"
    # A team leader puts the line back; the officer who rejected it is still one of its makers.
    claim_line_override(line=first_line(claim), result=LineResult.ACCEPTED, note="Visit confirmed by rota",
                        actor=leader())
    assert first_line(claim).overridden_by == leader()
    with pytest.raises(NotAllowed, match="you overrode row 2. Another provider payment officer or a team leader"):
        claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=second_officer())
    with pytest.raises(NotAllowed, match="you overrode row 2"):
        claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=leader())
    assert list(ClaimLineOverride.objects.values_list("made_by__username", "result_before", "result")) == [
        ("provider-officer-2", LineResult.ACCEPTED, LineResult.REJECTED),
        ("provider-leader", LineResult.REJECTED, LineResult.ACCEPTED)]
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=second_leader())
    assert provider.ledger.get().amount == D("-70.80")


# --- overrides above the rules ------------------------------------------------------------------

def test_paying_more_than_was_claimed_waits_for_a_team_leader_other_than_its_maker(provider):
    claim = invoice(provider, CLAIM)
    request = inflate(claim)
    assert isinstance(request, ControlRequest)
    assert (request.action, request.amount, request.requested_by) == (ControlAction.CLAIM_OVERRIDE, D("24977.20"),
                                                                      officer())
    assert request.client.reference == "SC500001"
    assert "£25,000.00 is more than the £22.80 claimed" in dict((c[0], c[2]) for c in request.changes)[
        "Why a second person decides"]
    line = first_line(claim)
    assert (line.result, line.payable_amount, line.overridden_by) == (LineResult.ACCEPTED, D("22.80"), None)
    assert not MoneyAction.objects.exists() and not ClaimLineOverride.objects.exists()
    # Nothing else happens to the line, or the claim, while it waits.
    with pytest.raises(DomainError, match=f"already waiting for approval \\({request.reference}\\)"):
        claim_line_override(line=line, result=LineResult.REJECTED, note="Changed my mind", actor=second_officer())
    with pytest.raises(DomainError, match=f"1 override of this claim's lines is waiting for approval "
                                          f"\\({request.reference}\\)"):
        claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=second_leader())
    # Its maker cannot approve it, nor can an officer (no approval limit); a team leader can.
    with pytest.raises(NotAllowed, match="You made or changed this, so someone else must decide it"):
        approve(request, officer())
    with pytest.raises(NotAllowed, match="Your role cannot approve a provider claim line override: a team leader"):
        approve(request, second_officer())
    approve(request, leader(), note="Rota checked")
    line.refresh_from_db()
    assert (line.result, line.payable_amount, line.overridden_by, line.validated_result) == (
        LineResult.ADJUSTED, D("25000.00"), officer(), LineResult.ACCEPTED)
    record = ClaimLineOverride.objects.get()
    assert (record.made_by, record.approved_by, record.request, record.payable_before, record.note) == (
        officer(), leader(), request, D("22.80"), "Provider says the visits were double-handed")
    checked = MoneyAction.objects.get(action=ControlAction.CLAIM_OVERRIDE)
    assert (checked.maker, checked.checker, checked.amount, checked.request) == (officer(), leader(), D("24977.20"),
                                                                                request)
    # The officer imported it and overrode a line: someone else approves the claim.
    with pytest.raises(NotAllowed, match="you imported it and overrode row 2"):
        claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=officer())
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=second_officer())
    assert provider.ledger.get().amount == D("-25048.00")


def test_a_team_leader_approves_an_override_only_within_their_limit(provider):
    claim = invoice(provider, CLAIM)
    request = inflate(claim, amount="25000.01")  # £24,977.21 more than it paid
    assert request.amount == D("24977.21")
    approve(request, leader())
    request = inflate(invoice(provider, CLAIM.replace("03-2", "04-0"), reference="INV-2"), amount="25100.00")
    with pytest.raises(NotAllowed, match="You may approve up to £25,000.00; this comes to £25,077.20"):
        approve(request, leader())
    # Nor may they reject it: someone with a higher limit decides, or its maker withdraws it.
    with pytest.raises(NotAllowed, match="You may approve up to £25,000.00"):
        control_request_transition(request=request, to=ControlRequestStatus.REJECTED, actor=leader(),
                                   note="Far beyond the package")
    control_request_transition(request=request, to=ControlRequestStatus.WITHDRAWN, actor=officer())
    line = first_line(request_claim(request))
    assert line.payable_amount == D("22.80") and not line.overrides.exists()


def request_claim(request):
    return ClaimLine.objects.get(pk=request.payload["line"]).claim


def test_an_override_waiting_is_not_carried_out_once_the_line_has_changed(provider):
    claim = invoice(provider, CLAIM)
    request = inflate(claim)
    # The death of the client rejected the line meanwhile (its service, not an officer's override page).
    ClaimLine.objects.filter(pk=first_line(claim).pk).update(payable_amount=D("0"), result=LineResult.REJECTED)
    with pytest.raises(DomainError, match="has changed since the override was asked for"):
        approve(request, leader())


def test_reductions_and_overrides_within_claimed_and_commissioned_cost_and_tolerance_happen_at_once(provider):
    # Claimed at £25.00 and £26.00 an hour against the card's £24.00: each paid at £48.00 for 2 hours.
    claim = invoice(provider, "SC500001,homecare,2026-03-23,2,25.00,50.00\nSC500001,homecare,2026-03-24,2,26.00,52.00\n")
    dearer, dearest = claim.lines.order_by("row_number")
    assert (dearer.result, dearer.payable_amount, dearest.payable_amount) == (LineResult.ADJUSTED, D("48.00"),
                                                                              D("48.00"))
    ceiling = line_ceiling(dearer)
    # The visit tolerance (5 minutes, ToleranceRule) at the £24.00 rate is £2.00.
    assert (ceiling.commissioned, ceiling.tolerance, ceiling.commissioned_limit) == (D("48.00"), D("2.00"),
                                                                                    D("50.00"))
    assert ceiling.why == "2 hours at £24.00"
    done = claim_line_override(line=dearer, result=LineResult.ACCEPTED, note="Agreed variation", actor=officer())
    assert done.payable_amount == D("50.00")
    assert MoneyAction.objects.get().checker is None
    request = claim_line_override(line=dearest, result=LineResult.ACCEPTED, note="Agreed variation", actor=officer())
    assert isinstance(request, ControlRequest) and request.amount == D("4.00")
    control_request_transition(request=request, to=ControlRequestStatus.WITHDRAWN, actor=officer())
    # The tolerance is data: ten minutes from a date makes the same override one within the rules.
    ToleranceRule.objects.create(service_type=service(), effective_from=date(2026, 3, 1), tolerance_minutes=10)
    done = claim_line_override(line=dearest, result=LineResult.ACCEPTED, note="Agreed variation", actor=officer())
    assert done.payable_amount == D("52.00")


def test_paying_a_line_nothing_commissions_needs_a_second_person():
    provider = ProviderFactory()
    RateFactory(provider=provider)
    ClientFactory(reference="SC500009")  # no package with this provider
    claim = invoice(provider, "SC500009,homecare,2026-03-23,2,24.00,48.00\n")
    line = claim.lines.get()
    assert line.result == LineResult.REJECTED
    assert line_ceiling(line).why == "no approved package covers it"
    request = claim_line_override(line=line, result=LineResult.ACCEPTED, note="Spot purchase", actor=officer())
    assert isinstance(request, ControlRequest) and request.amount == D("48.00")


# --- the payment run's approval ----------------------------------------------------------------

def earlier_payments(provider, nets=("600.00", "650.00", "700.00")):
    """Payments in three earlier four-weekly runs, the latest last."""
    for i, net in enumerate(nets):
        on = PAY_DAY - timedelta(days=28 * (len(nets) - i))
        run = Run.objects.create(job="provider_payments", business_date=on, trigger="test")
        payment_run = PaymentRun.objects.create(run=run, payment_date=on, status=PaymentRunStatus.RELEASED,
                                                total=D(net), payment_count=1, prepared_at=run.created_at)
        Payment.objects.create(payment_run=payment_run, provider=provider, gross=D(net), net=D(net),
                               sort_code=provider.sort_code, account_number=provider.account_number,
                               account_name=provider.account_name)


def prepared_run(django_capture_on_commit_callbacks, actor=None) -> PaymentRun:
    with django_capture_on_commit_callbacks(execute=True):
        run_start(job="provider_payments", business_date=PAY_DAY, trigger="test", actor=actor)
    return PaymentRun.objects.get(run__business_date=PAY_DAY)


@pytest.fixture
def inflated_run(provider, django_capture_on_commit_callbacks):
    """The red team's run: the £22.80 line paid at £25,000.00 (approved by a team leader), the claim
    approved by another officer, against three earlier payments of £600, £650 and £700."""
    earlier_payments(provider)
    claim = invoice(provider, CLAIM)
    approve(inflate(claim), leader(), note="Rota checked")
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=second_officer())
    return prepared_run(django_capture_on_commit_callbacks)


def test_each_payment_is_shown_against_commissioned_cost_previous_run_and_usual_and_flagged(inflated_run):
    review = provider_reviews(inflated_run)[0]
    assert (review.payment.net, review.commissioned, review.against_commissioned) == (D("25048.00"), D("1344.00"),
                                                                                    D("23704.00"))
    assert (review.previous.net, review.against_previous, review.usual, review.usual_count) == (
        D("700.00"), D("24348.00"), D("650.00"), 3)
    assert review.flags == [
        "£25,048.00 is 38.5 times its usual £650.00 (the median of its last 3 runs; flagged above 1.50 times)",
        "Its claims pay £25,048.00, £23,704.00 more than the £1,344.00 commissioned for their periods"]
    # The ratio and the number of runs are data from a date: at 50 times the first flag goes.
    PaymentFlagRule.objects.create(effective_from=date(2026, 4, 1), ratio=D("50"), usual_runs=2)
    review = provider_reviews(inflated_run)[0]
    assert review.usual == D("675.00") and len(review.flags) == 1 and review.flags[0].startswith("Its claims pay")


def test_a_payment_within_its_usual_range_is_not_flagged(provider, django_capture_on_commit_callbacks):
    earlier_payments(provider, nets=("60.00", "70.80", "80.00"))
    claim = invoice(provider, CLAIM)
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=leader())
    review = provider_reviews(prepared_run(django_capture_on_commit_callbacks))[0]
    assert (review.payment.net, review.usual, review.flags) == (D("70.80"), D("70.80"), [])


def test_the_approval_page_lists_each_override_with_who_when_and_why_and_the_flag(inflated_run):
    approver = second_leader()
    http = sign_in(HttpClient(), approver)
    page = http.get(reverse("provider_payments:run_release", args=[inflated_run.pk])).content.decode()
    made = ClaimLineOverride.objects.get()
    when = timezone.localtime(made.made_at)
    for text in ["Each provider&#x27;s payment", "Moorside Home Care Ltd", "£25,048.00", "£1,344.00", "£23,704.00",
                 "£700.00 (PR20260323)", "£24,348.00", "£650.00", "Flagged", "38.5 times its usual £650.00",
                 "Lines overridden by hand", "£22.80", "£25,000.00", escape(officer().get_full_name()),
                 f"{when:%d %b %Y %H:%M}", "Provider says the visits were double-handed",
                 f"{escape(leader().get_full_name())} ({made.request.reference})",
                 "You must open the run's exceptions before you can release it", "Open the exceptions (2)"]:
        assert text in page, text
    # The run's own page shows the same overrides.
    run_page = http.get(reverse("provider_payments:run_detail", args=[inflated_run.pk])).content.decode()
    for text in ["Lines overridden by hand", "Provider says the visits were double-handed",
                 escape(officer().get_full_name()), "1 unusual payment, 1 line overridden by hand, 0 upheld disputes",
                 "Exceptions (2)"]:
        assert text in run_page, text


def test_release_is_refused_until_its_approver_has_opened_the_exceptions(inflated_run):
    approver = second_leader()
    http = sign_in(HttpClient(), approver)
    url = reverse("provider_payments:run_release", args=[inflated_run.pk])
    refused = http.post(url, {"note": ""})
    assert refused.status_code == 200
    assert "Open the exceptions of PR20260422 before releasing it" in refused.content.decode()
    # Someone else having opened them is not enough.
    exceptions_open(payment_run=inflated_run, user=leader())
    assert "Open the exceptions" in http.post(url, {"note": ""}).content.decode()
    inflated_run.refresh_from_db()
    assert inflated_run.status == PaymentRunStatus.PREPARED
    page = http.get(reverse("provider_payments:run_exceptions", args=[inflated_run.pk])).content.decode()
    for text in ["Unusual payments", "38.5 times its usual", "Lines overridden by hand",
                 "Provider says the visits were double-handed", "Continue to approval"]:
        assert text in page, text
    opened = PaymentRunExceptionsOpened.objects.get(opened_by=approver)
    assert opened.opened_at >= inflated_run.prepared_at
    http.get(reverse("provider_payments:run_exceptions", args=[inflated_run.pk]))
    assert PaymentRunExceptionsOpened.objects.filter(opened_by=approver).count() == 1  # the first time counts
    assert "You opened the 2 exceptions of this run" in http.get(url).content.decode()
    response = http.post(url, {"note": "Checked the override with the rota"})
    assert response.status_code == 302
    inflated_run.refresh_from_db()
    assert (inflated_run.status, inflated_run.released_by) == (PaymentRunStatus.RELEASED, approver)
    record = MoneyAction.objects.get(action=ControlAction.PAYMENT_RUN)
    assert (record.maker, record.checker, record.amount, record.reference) == (system_user(), approver,
                                                                              D("25048.00"), "PR20260422")


def test_an_opening_before_the_run_was_prepared_does_not_count(inflated_run):
    approver = second_leader()
    exceptions_open(payment_run=inflated_run, user=approver)
    PaymentRun.objects.filter(pk=inflated_run.pk).update(prepared_at=timezone.now() + timedelta(minutes=1))
    inflated_run.refresh_from_db()
    assert exceptions_opened_by(inflated_run, approver) is None
    with pytest.raises(DomainError, match="Open the exceptions"):
        payment_run_transition(payment_run=inflated_run, to_status=PaymentRunStatus.RELEASED, actor=approver)


def test_whoever_started_the_run_cannot_release_it_even_having_opened_the_exceptions(
        provider, django_capture_on_commit_callbacks):
    claim = invoice(provider, CLAIM)
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=leader())
    starter = second_leader()
    payment_run = prepared_run(django_capture_on_commit_callbacks, actor=starter)
    exceptions_open(payment_run=payment_run, user=starter)
    with pytest.raises(NotAllowed, match="someone else must release the run you started: another team leader"):
        payment_run_transition(payment_run=payment_run, to_status=PaymentRunStatus.RELEASED, actor=starter)
    exceptions_open(payment_run=payment_run, user=leader())
    payment_run_transition(payment_run=payment_run, to_status=PaymentRunStatus.RELEASED, actor=leader())
    assert MoneyAction.objects.get(action=ControlAction.PAYMENT_RUN).maker == starter


def test_the_exceptions_export_as_csv_and_xlsx(inflated_run):
    http = sign_in(HttpClient(), UserFactory(username="pp-auditor", roles=["Auditor"]))
    url = reverse("provider_payments:run_exceptions", args=[inflated_run.pk])
    response = http.get(url + "?format=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [(r["Exception"], r["Reference"]) for r in rows] == [
        ("Unusual payment", Payment.objects.get(payment_run=inflated_run).bacs_reference),
        ("Line overridden by hand", "INV-1 row 2")]
    assert rows[0]["Detail"].startswith("£25,048.00 is 38.5 times its usual £650.00") and "; Its claims pay" in (
        rows[0]["Detail"])
    assert rows[1]["Amount"] == "24977.20" and rows[1]["Why"] == "Provider says the visits were double-handed"
    assert http.get(url + "?format=xlsx").content[:2] == b"PK"
    # An auditor reading them is recorded, but cannot release the run.
    assert PaymentRunExceptionsOpened.objects.count() == 0
    http.get(url)
    assert PaymentRunExceptionsOpened.objects.count() == 1
    assert http.post(reverse("provider_payments:run_release", args=[inflated_run.pk])).status_code == 403


# --- the pages a provider payment officer sees ----------------------------------------------------

def test_the_claim_page_shows_the_override_waiting_and_who_may_approve_it(provider):
    claim = invoice(provider, CLAIM)
    http = sign_in(HttpClient(), officer())
    response = http.post(reverse("provider_payments:claim_line_override", args=[first_line(claim).pk]),
                         {"result": "adjusted", "payable_amount": "25000.00", "note": "Double-handed visits"})
    request = ControlRequest.objects.get()
    assert response.status_code == 302
    page = http.get(response["Location"]).content.decode()
    assert f"paying £25,000.00 needs a second person, so it is waiting for approval as {request.reference}" in page
    assert f"Override waiting for approval: £25,000.00 asked for ({request.reference})" in page
    assert reverse("casework:control_request_detail", args=[request.pk]) in page
    assert "Who may approve it" in page and ">Approve claim<" not in page
    form = http.get(reverse("provider_payments:claim_line_override", args=[first_line(claim).pk])).content.decode()
    assert f"An override of this row is waiting for approval ({request.reference})" in form
    refused = http.post(reverse("provider_payments:claim_approve", args=[claim.pk]), {"note": ""})
    assert f"1 override of this claim&#x27;s lines is waiting for approval ({request.reference})" in (
        refused.content.decode())
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VALIDATED
    # Once decided, the importer is told who may approve instead.
    control_request_transition(request=request, to=ControlRequestStatus.REJECTED, actor=leader(), note="No evidence")
    page = http.get(reverse("provider_payments:claim_approve", args=[claim.pk])).content.decode()
    assert "you imported it. Another provider payment officer or a team leader may approve it" in page


def test_the_override_page_says_what_may_be_paid_alone(provider):
    claim = invoice(provider, CLAIM)
    http = sign_in(HttpClient(), officer())
    page = http.get(reverse("provider_payments:claim_line_override", args=[first_line(claim).pk])).content.decode()
    assert "£22.80 (0.95 hours at £24.00)" in page  # the commissioned cost of the line
    assert "Paying more than £22.80 on this row: it waits for a team leader&#x27;s approval" in page


# --- the API ------------------------------------------------------------------------------------

def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_refuses_approvals_the_same_way(provider, django_capture_on_commit_callbacks):
    claim = invoice(provider, CLAIM)
    url = f"/api/v1/provider-claims/{claim.pk}/approve/"
    refused = api(officer()).post(url, {"note": ""}, format="json")
    assert refused.status_code == 403
    assert "you imported it. Another provider payment officer or a team leader may approve it" in refused.json()[
        "detail"]
    request = inflate(claim, actor=second_officer())
    waiting = api(leader()).post(url, {}, format="json")
    assert waiting.status_code == 400
    assert f"waiting for approval ({request.reference})" in waiting.json()["non_field_errors"][0]
    approve(request, leader())
    assert api(second_officer()).post(url, {}, format="json").status_code == 403  # overrode row 2
    assert api(UserFactory(username="pp-api-auditor", roles=["Auditor"])).post(url, {}).status_code == 403
    done = api(second_leader()).post(url, {"note": "Checked"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == ClaimStatus.APPROVED
    assert done.json()["approved_by"] == "provider-leader-2"
    # The run: release refused until the releaser has opened its exceptions, here or on the page.
    payment_run = prepared_run(django_capture_on_commit_callbacks)
    release = f"/api/v1/provider-payment-runs/{payment_run.pk}/release/"
    refused = api(leader()).post(release, {}, format="json")
    assert refused.status_code == 400 and "Open the exceptions of PR20260422" in refused.json()["non_field_errors"][0]
    assert api(second_officer()).post(release, {}, format="json").status_code == 403  # not a team leader
    seen = api(leader()).get(f"/api/v1/provider-payment-runs/{payment_run.pk}/exceptions/")
    assert seen.status_code == 200
    body = seen.json()
    assert [(o["row_number"], o["payable_before"], o["payable_amount"], o["made_by"], o["approved_by"], o["note"])
            for o in body["overrides"]] == [(2, "22.80", "25000.00", "provider-officer-2", "provider-leader",
                                             "Provider says the visits were double-handed")]
    assert body["unusual_payments"][0]["flags"][0].startswith("Its claims pay £25,048.00")
    assert body["opened_at"] is not None
    released = api(leader()).post(release, {"note": "Override checked"}, format="json")
    assert released.status_code == 200
    assert (released.json()["status"], released.json()["released_by"]) == (PaymentRunStatus.RELEASED,
                                                                           "provider-leader")


def test_the_api_turns_a_bad_note_into_a_400():
    provider = ProviderFactory()
    response = api(leader()).post("/api/v1/provider-payment-runs/999999/release/", {"note": "x" * 301},
                                  format="json")
    assert response.status_code == 404
    claim = invoice(provider, "SC500001,homecare,2026-03-23,2,24.00,48.00\n")
    response = api(leader()).post(f"/api/v1/provider-claims/{claim.pk}/approve/", {"note": "x" * 301}, format="json")
    assert response.status_code == 400 and "note" in response.json()


# --- urgent payments, bank details, rates and uplifts -------------------------------------------

def test_urgent_payments_and_bank_details_record_their_maker_and_checker():
    provider = ProviderFactory()
    urgent = urgent_request(provider=provider, amount=D("4000.00"), method=UrgentMethod.CHAPS,
                            reason="Cannot meet payroll", actor=leader())
    with pytest.raises(DomainError, match="someone else must decide the urgent payment you asked for"):
        urgent_transition(urgent=urgent, to_status=UrgentStatus.APPROVED, actor=leader())
    urgent_transition(urgent=urgent, to_status=UrgentStatus.APPROVED, actor=second_leader())
    record = MoneyAction.objects.get(action=ControlAction.URGENT_PAYMENT)
    assert (record.maker, record.checker, record.amount, record.reference) == (leader(), second_leader(),
                                                                              D("4000.00"), f"URG-{urgent.pk:06d}")
    change = bank_change_request(provider=provider, sort_code="309012", account_number="52345678",
                                 account_name="Moorside Care", evidence="Call back", actor=officer())
    bank_change_decide(change=change, approve=True, actor=leader())
    record = MoneyAction.objects.get(action=ControlAction.BANK_DETAILS)
    assert (record.maker, record.checker, record.amount) == (officer(), leader(), D("0"))
    assert record.summary.endswith("to 30-**-** ****5678")


def test_an_uplift_is_recorded_with_its_author_as_maker_and_its_approver_as_checker(provider):
    uplift = uplift_create(name="April 2026", effective_from=date(2026, 4, 1), method=UpliftMethod.PERCENTAGE,
                           percentage=D("5"), providers=[provider], actor=leader())
    with pytest.raises(DomainError, match="someone else must approve the uplift you made"):
        uplift_transition(uplift=uplift, to_status=UpliftStatus.APPROVED, actor=leader())
    uplift_transition(uplift=uplift, to_status=UpliftStatus.APPROVED, actor=second_leader())
    uplift_transition(uplift=uplift, to_status=UpliftStatus.APPLIED, actor=leader())
    record = MoneyAction.objects.get(action=ControlAction.UPLIFT)
    # 14 hours a week from £24.00 to £25.20.
    assert (record.maker, record.checker, record.amount) == (leader(), second_leader(), D("16.80"))


def test_a_rate_added_by_hand_waits_for_a_team_leader_other_than_who_asked(provider):
    http = sign_in(HttpClient(), officer())
    response = http.post(reverse("provider_payments:rate_add", args=[provider.pk]), {
        "service_type": service().pk, "band": band().pk, "rate": "31.00", "effective_from_0": "1",
        "effective_from_1": "5", "effective_from_2": "2026", "reason": "Contract variation 4"})
    assert response.status_code == 302
    request = ControlRequest.objects.get(action=ControlAction.RATE_CHANGE)
    assert request.summary == "Home care (Standard) rate £31.00 from 1 May 2026 (now £24.00)"
    assert not Rate.objects.filter(rate=D("31.00")).exists()
    page = http.get(reverse("provider_payments:provider_detail", args=[provider.pk])).content.decode()
    assert "Rates waiting for approval" in page and request.reference in page
    with pytest.raises(NotAllowed, match="You made or changed this"):
        approve(request, officer())
    with pytest.raises(DomainError, match="already waiting for approval"):
        rate_change_request(provider=provider, service_type=service(), band=band(), rate=D("32.00"),
                            effective_from=date(2026, 5, 1), reason="Again", actor=second_officer())
    approve(request, leader())
    rate = Rate.objects.get(rate=D("31.00"))
    assert (rate.created_by, rate.effective_from) == (officer(), date(2026, 5, 1))
    assert f"approved by provider-leader, {request.reference}" in rate.reason
    record = MoneyAction.objects.get(action=ControlAction.RATE_CHANGE)
    assert (record.maker, record.checker, record.amount) == (officer(), leader(), D("31.00"))
