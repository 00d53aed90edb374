"""The team leader's decisions queue: each kind appears with why and since, and goes when dealt with."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.constants import CaseStatus
from casework.roles import Role
from debt import queue
from debt.constants import HoldKind, PaymentMethod
from debt.limitation import add_months
from debt.models import DebtHold, RepaymentPlan, WriteOffReason, WriteOffRequest, WriteOffStatus
from debt.models.relief import PlanStatus
from debt.services.payments import payment_record

from .factories import CaseFactory, ClientFactory, UserFactory
from .factories_debt import InvoiceFactory

pytestmark = pytest.mark.django_db
URL = "/income/decisions/"


def today():
    return timezone.localdate()


def rows_of(kind: str) -> list:
    return queue.KINDS[kind].rows(today())


def test_writeoff_waiting_for_approval_shows_until_decided():
    client = ClientFactory()
    request = WriteOffRequest.objects.create(client=client, amount=Decimal("75.00"),
                                             reason=WriteOffReason.HARDSHIP, requested_by=UserFactory())
    [row] = rows_of("writeoff")
    assert (row.client.pk, row.amount, row.since) == (client.pk, Decimal("75.00"), today())
    assert request.reference in row.why and "waiting for approval" in row.why
    WriteOffRequest.objects.filter(pk=request.pk).update(status=WriteOffStatus.REJECTED)
    assert rows_of("writeoff") == []


def test_escalated_debt_shows_with_its_case_until_the_case_moves_on():
    case = CaseFactory(status=CaseStatus.ESCALATED, title="Balance over £5,000")
    InvoiceFactory(client=case.client, total=Decimal("120.00"))
    [row] = rows_of("escalated")
    assert row.case.pk == case.pk and row.amount == Decimal("120.00") and "Balance over £5,000" in row.why
    assert row.since == case.opened_at.date()
    case.status = CaseStatus.IN_PROGRESS
    case.save()
    assert rows_of("escalated") == []


def test_broken_plan_shows_once_under_broken_plans_until_its_case_moves_on():
    case = CaseFactory(status=CaseStatus.ESCALATED)
    broken_on = today() - timedelta(days=3)
    RepaymentPlan.objects.create(client=case.client, total=Decimal("100.00"), instalment_amount=Decimal("25.00"),
                                 start_date=today() - timedelta(days=90), method=PaymentMethod.BANK_TRANSFER,
                                 agreed_by=UserFactory(), status=PlanStatus.BROKEN, times_broken=2,
                                 status_reason="Two instalments missed", status_changed_on=broken_on, case=case)
    [row] = rows_of("broken_plan")
    assert (row.case.pk, row.since) == (case.pk, broken_on) and "Two instalments missed" in row.why
    assert rows_of("escalated") == []  # not twice
    case.status = CaseStatus.IN_PROGRESS
    case.save()
    assert rows_of("broken_plan") == []


def test_hold_past_its_review_date_shows_until_released():
    client = ClientFactory()
    review = today() - timedelta(days=2)
    hold = DebtHold.objects.create(client=client, kind=HoldKind.DISPUTE, note="Says the hours are wrong",
                                   placed_by=UserFactory(), placed_on=today() - timedelta(days=30), review_date=review)
    DebtHold.objects.create(client=ClientFactory(), kind=HoldKind.DISPUTE, note="Not due yet", placed_by=UserFactory(),
                            placed_on=today() - timedelta(days=1), review_date=today() + timedelta(days=5))
    [row] = rows_of("hold_review")
    assert (row.client.pk, row.since) == (client.pk, review) and "Says the hours are wrong" in row.why
    DebtHold.objects.filter(pk=hold.pk).update(released_on=today())
    assert rows_of("hold_review") == []


def test_safeguarding_case_shows_only_while_the_client_owes_and_is_flagged():
    owing = ClientFactory(safeguarding_flag=True)
    InvoiceFactory(client=owing, total=Decimal("40.00"))
    ClientFactory(safeguarding_flag=True)  # owes nothing: no decision to make about a debt
    [row] = rows_of("protection")
    assert (row.client.pk, row.amount) == (owing.pk, Decimal("40.00")) and "Safeguarding" in row.why
    owing.safeguarding_flag = False
    owing.save()
    assert rows_of("protection") == []


def test_holds_asked_for_by_kind_come_only_from_the_sources_that_give_that_kind(django_assert_num_queries):
    from debt.holds import holds_for_clients

    client = ClientFactory(safeguarding_flag=True, date_of_death=today() - timedelta(days=3))
    DebtHold.objects.create(client=client, kind=HoldKind.DISPUTE, note="Queried", placed_by=UserFactory(),
                            placed_on=today(), review_date=today() + timedelta(days=30))
    every = {h.kind for h in holds_for_clients([client.pk], today())[client.pk]}
    assert {HoldKind.SAFEGUARDING, HoldKind.DECEASED, HoldKind.DISPUTE} <= every
    # officers' holds (any kind) and the client's own record: not Breathing Space or plans
    with django_assert_num_queries(2):
        wanted = holds_for_clients([client.pk], today(), kinds=queue.PROTECTION_HOLDS)
    assert [h.kind for h in wanted[client.pk]] == [HoldKind.SAFEGUARDING]
    ClientFactory()  # no hold: not in the answer for every client
    assert holds_for_clients(None, today(), kinds=queue.PROTECTION_HOLDS) == wanted
    assert holds_for_clients(None, today()).keys() == {client.pk}


def test_limitation_warning_shows_until_the_invoice_is_paid():
    due = add_months(today(), -(12 * 5 + 7))
    invoice = InvoiceFactory(due_date=due, issue_date=due - timedelta(days=14), total=Decimal("30.00"))
    [row] = rows_of("limitation")
    assert row.client.pk == invoice.client_id and row.amount == Decimal("30.00") and invoice.number in row.why
    assert row.since == add_months(due, 66)  # six years less the six warning months
    payment_record(client=invoice.client, amount=Decimal("30.00"), method=PaymentMethod.CARD, received_on=today(),
                   reference="PAID", actor=UserFactory())
    assert rows_of("limitation") == []


def test_page_counts_filters_and_sorts(client_as):
    CaseFactory(status=CaseStatus.ESCALATED, title="Escalated one")
    WriteOffRequest.objects.create(client=ClientFactory(), amount=Decimal("900.00"), reason=WriteOffReason.HARDSHIP,
                                   requested_by=UserFactory())
    http = client_as(Role.TEAM_LEADER)
    page = http.get(URL)
    assert page.status_code == 200
    counts = dict((key, n) for key, _, n in page.context["counts"])
    assert counts["escalated"] == 1 and counts["writeoff"] == 1 and counts["limitation"] == 0
    only = http.get(URL, {"kind": "writeoff"}).context["page_obj"].object_list
    assert [r.kind for r in only] == ["writeoff"]
    by_amount = http.get(URL, {"sort": "amount"}).context["page_obj"].object_list
    assert by_amount[0].amount == Decimal("900.00")


def test_the_queue_is_kept_between_views_until_a_decision_is_recorded_on_it(
        client_as, settings, django_capture_on_commit_callbacks):
    from debt.services.writeoffs import writeoff_reject

    settings.DECISIONS_CACHE_SECONDS = 30
    http = client_as(Role.TEAM_LEADER)
    request = WriteOffRequest.objects.create(client=ClientFactory(), amount=Decimal("12.00"),
                                             reason=WriteOffReason.HARDSHIP, requested_by=UserFactory())

    def kinds(**params):
        return [r.kind for r in http.get(URL, params).context["page_obj"].object_list]

    assert kinds() == ["writeoff"]
    page = http.get(URL).content.decode()
    assert "Worked out at" in page and "Work it out again now" in page and "?fresh=1" in page
    ClientFactory(safeguarding_flag=True)  # a change no decision records: not seen until the rows are built again
    InvoiceFactory(client=ClientFactory(safeguarding_flag=True))
    assert kinds() == ["writeoff"] and kinds(sort="amount") == ["writeoff"]
    assert sorted(kinds(fresh="1")) == ["protection", "writeoff"]  # built again on asking
    with django_capture_on_commit_callbacks(execute=True):
        writeoff_reject(request=request, actor=UserFactory(roles=[Role.TEAM_LEADER]), note="Can pay")
    assert kinds() == ["protection"]  # the decision shows at once
    export = b"".join(http.get(URL, {"format": "csv"}).streaming_content).decode()
    assert "Safeguarding" in export  # an export is always built afresh


def test_team_filter_keeps_rows_whose_case_is_in_the_team(client_as):
    mine = CaseFactory(status=CaseStatus.ESCALATED)
    CaseFactory(status=CaseStatus.ESCALATED)
    rows = client_as(Role.TEAM_LEADER).get(URL, {"team": mine.team_id}).context["page_obj"].object_list
    assert [r.case.pk for r in rows] == [mine.pk]


def test_export_lists_each_row_with_why_and_since(client_as):
    case = CaseFactory(status=CaseStatus.ESCALATED, title="Over the age threshold")
    response = client_as(Role.AUDITOR).get(URL, {"format": "csv"})
    text = b"".join(response.streaming_content).decode()
    assert "Kind,Client reference,Client,Amount,Since,Why" in text
    assert "Over the age threshold" in text and case.reference in text
    xlsx = client_as(Role.TEAM_LEADER).get(URL, {"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_team_leader_bulk_assigns_the_cases_behind_rows(client_as):
    case = CaseFactory(status=CaseStatus.ESCALATED)
    officer = UserFactory(roles=[Role.INCOME_OFFICER])
    response = client_as(Role.TEAM_LEADER).post(URL, {"cases": [case.pk], "officer": officer.pk})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assigned_officer == officer


def test_a_case_not_in_the_queue_cannot_be_assigned_from_it(client_as):
    elsewhere = CaseFactory(status=CaseStatus.OPEN)
    officer = UserFactory(roles=[Role.INCOME_OFFICER])
    response = client_as(Role.TEAM_LEADER).post(URL, {"cases": [elsewhere.pk], "officer": officer.pk})
    assert response.status_code == 200 and response.context["form"].errors
    elsewhere.refresh_from_db()
    assert elsewhere.assigned_officer is None


def test_auditor_reads_but_cannot_assign(client_as):
    case = CaseFactory(status=CaseStatus.ESCALATED)
    officer = UserFactory(roles=[Role.INCOME_OFFICER])
    http = client_as(Role.AUDITOR)
    assert http.get(URL).status_code == 200
    assert http.post(URL, {"cases": [case.pk], "officer": officer.pk}).status_code == 403
    assert reverse("debt:decisions") == URL


def test_queue_queries_do_not_grow_with_rows(django_assert_max_num_queries):
    from debt.models import LegalReferral

    for _ in range(5):
        case = CaseFactory(status=CaseStatus.ESCALATED, assigned_officer=UserFactory())
        InvoiceFactory(client=case.client)
        WriteOffRequest.objects.create(client=case.client, amount=Decimal("5.00"), reason=WriteOffReason.HARDSHIP,
                                       requested_by=UserFactory())
        # a referral names its case: the case's team and officer are read with it, not row by row
        LegalReferral.objects.create(client=case.client, amount=Decimal("5.00"), requested_by=UserFactory(), case=case)
    with django_assert_max_num_queries(25):
        rows = queue.decisions(today())
    assert len(rows) == 15


def test_rows_carry_names_and_ids_not_model_instances():
    """The queue is kept in the shared cache and read back on every view: plain values read back in
    a fraction of the time model instances take."""
    import io
    import pickle

    from django.db.models import Model

    officer = UserFactory(first_name="Ada", last_name="Lovelace")
    case = CaseFactory(status=CaseStatus.ESCALATED, assigned_officer=officer)
    InvoiceFactory(client=case.client)
    unassigned = CaseFactory(status=CaseStatus.ESCALATED, assigned_officer=None)
    InvoiceFactory(client=unassigned.client)
    rows = {row.client.pk: row for row in rows_of("escalated")}
    row = rows[case.client_id]
    assert row.client == queue.ClientRef(case.client.pk, case.client.reference, case.client.full_name)
    assert row.case == queue.CaseRef(case.pk, case.reference, case.team_id, case.team.name, "Ada Lovelace")
    assert rows[unassigned.client_id].case.officer == ""

    class NoModels(pickle.Pickler):
        def reducer_override(self, obj):
            assert not isinstance(obj, Model), obj
            return NotImplemented

    NoModels(io.BytesIO()).dump(list(rows.values()))


def test_queue_page_and_export_read_no_more_for_more_rows(client_as):
    """Rows show their client, case, team and officer: read with the rows, never one by one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from casework.constants import CaseType

    http = client_as(Role.TEAM_LEADER)
    officer = UserFactory(roles=[Role.INCOME_OFFICER], first_name="Olu", last_name="Officer")

    def add(n):
        for _ in range(n):
            case = CaseFactory(status=CaseStatus.ESCALATED, case_type=CaseType.DEBT_RECOVERY, assigned_officer=officer)
            InvoiceFactory(client=case.client)

    def queries(path):
        with CaptureQueriesContext(connection) as ctx:
            response = http.get(path)
        assert response.status_code == 200
        return len(ctx.captured_queries), response

    add(2)
    queries(URL)  # the session's first page writes it
    few = [queries(URL)[0], queries(URL + "?format=csv")[0]]
    add(8)
    many, page = queries(URL)
    assert [many, queries(URL + "?format=csv")[0]] == few
    assert page.content.decode().count("Olu Officer") == 10 + 1  # each row, and the choice of officer


def test_a_legal_referral_waiting_for_approval_is_in_the_queue_until_decided(client_as):
    from debt.models import LegalReferral
    from debt.models.legal import ReferralStatus
    from debt.queue import decisions

    from .factories_debt import InvoiceFactory

    invoice = InvoiceFactory()
    officer = UserFactory(username="legal-requester", roles=[Role.INCOME_OFFICER])
    referral = LegalReferral.objects.create(client=invoice.client, amount=invoice.total, requested_by=officer)
    referral.invoices.add(invoice)
    rows = [r for r in decisions(timezone.localdate()) if r.kind == "legal"]
    assert len(rows) == 1 and referral.reference in rows[0].why and rows[0].since == timezone.localdate()
    LegalReferral.objects.filter(pk=referral.pk).update(status=ReferralStatus.REJECTED)
    assert not [r for r in decisions(timezone.localdate()) if r.kind == "legal"]
