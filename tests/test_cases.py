"""Cases: one service per status change, holds that stop automated action, an add-only timeline."""
from datetime import timedelta

import pytest
from django.utils import timezone

from casework import services
from casework.constants import CaseStatus, CaseType, TimelineKind
from casework.models import Case, TimelineEntry
from casework.models.base import ImmutableError
from casework.roles import Role

from .factories import CaseFactory, ClientFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    return UserFactory(username="caseworker", roles=[Role.INCOME_OFFICER])


def test_opening_a_case_records_it_on_the_timeline(officer):
    case = services.case_create(client=ClientFactory(), case_type=CaseType.DEBT_RECOVERY, title="Arrears",
                                team=TeamFactory(), actor=officer)
    assert case.timeline.get().action == "case.opened"
    assert case.reference == f"CASE-{case.pk:06d}"


@pytest.mark.parametrize("start, target, allowed", [
    (CaseStatus.OPEN, CaseStatus.IN_PROGRESS, True),
    (CaseStatus.OPEN, CaseStatus.CLOSED, True),
    (CaseStatus.IN_PROGRESS, CaseStatus.OPEN, False),
    (CaseStatus.CLOSED, CaseStatus.ESCALATED, False),
    (CaseStatus.CLOSED, CaseStatus.IN_PROGRESS, True),
    (CaseStatus.ESCALATED, CaseStatus.AWAITING_RESPONSE, True),
])
def test_case_status_changes_follow_the_transition_table(officer, start, target, allowed):
    case = CaseFactory(status=start)
    if allowed:
        services.case_transition(case=case, to_status=target, actor=officer, reason="because")
        case.refresh_from_db()
        assert case.status == target
        entry = case.timeline.get(action="case.status.changed")
        assert entry.old_value == {"status": start} and entry.new_value == {"status": target}
        assert entry.actor == officer
    else:
        with pytest.raises(services.DomainError, match="cannot move"):
            services.case_transition(case=case, to_status=target, actor=officer, reason="because")
        case.refresh_from_db()
        assert case.status == start and not case.timeline.exists()


def test_moving_to_the_same_status_is_a_no_op(officer):
    case = CaseFactory(status=CaseStatus.OPEN)
    services.case_transition(case=case, to_status=CaseStatus.OPEN, actor=officer)
    assert not case.timeline.exists()


def test_escalating_or_closing_needs_a_reason(officer):
    with pytest.raises(services.DomainError) as exc:
        services.case_transition(case=CaseFactory(), to_status=CaseStatus.ESCALATED, actor=officer)
    assert exc.value.field == "reason"


def test_closing_a_case_stamps_when(officer):
    case = services.case_transition(case=CaseFactory(), to_status=CaseStatus.CLOSED, actor=officer, reason="Paid")
    assert case.closed_at is not None


def test_a_hold_needs_a_future_review_date_and_stops_automated_action(officer):
    case = CaseFactory()
    with pytest.raises(services.DomainError) as exc:
        services.case_hold(case=case, reason="Dispute", review_date=timezone.localdate(), actor=officer)
    assert exc.value.field == "review_date"
    services.case_hold(case=case, reason="Dispute", review_date=timezone.localdate() + timedelta(days=7), actor=officer)
    assert not Case.objects.not_on_hold().filter(pk=case.pk).exists()
    services.case_release_hold(case=case, actor=officer)
    assert Case.objects.not_on_hold().filter(pk=case.pk).exists()
    assert list(case.timeline.values_list("action", flat=True)) == ["case.hold.released", "case.hold.placed"]


def test_holds_come_back_for_review_when_due(officer):
    case = CaseFactory(assigned_officer=officer, hold_reason="Appeal", hold_review_date=timezone.localdate() - timedelta(days=1))
    assert list(Case.objects.holds_to_review(officer, timezone.localdate())) == [case]


def test_assignment_is_recorded_and_the_team_queue_holds_unassigned_and_escalated(officer):
    team = TeamFactory()
    unassigned = CaseFactory(team=team)
    escalated = CaseFactory(team=team, assigned_officer=officer, status=CaseStatus.ESCALATED)
    held = CaseFactory(team=team, assigned_officer=officer)
    assert set(Case.objects.team_queue([team])) == {unassigned, escalated}
    services.case_assign(case=unassigned, officer=officer, actor=officer)
    assert set(Case.objects.team_queue([team])) == {escalated}
    assert unassigned.timeline.get().kind == TimelineKind.ASSIGNMENT
    assert held not in Case.objects.team_queue([team])


def test_timeline_entries_cannot_be_edited_or_deleted(officer):
    entry = services.timeline_add(case=CaseFactory(), kind=TimelineKind.CALL, summary="Called", body="", actor=officer)
    entry.summary = "changed"
    with pytest.raises(ImmutableError):
        entry.save()
    with pytest.raises(ImmutableError):
        entry.delete()


def test_only_people_kinds_of_entry_can_be_added_by_hand(officer):
    with pytest.raises(services.DomainError):
        services.timeline_add(case=CaseFactory(), kind=TimelineKind.STATUS, summary="x", body="", actor=officer)


def test_a_call_cannot_be_recorded_in_the_future(officer):
    with pytest.raises(services.DomainError) as exc:
        services.timeline_add(case=CaseFactory(), kind=TimelineKind.CALL, summary="x", body="", actor=officer,
                              occurred_at=timezone.now() + timedelta(hours=1))
    assert exc.value.field == "occurred_at"


def test_tasks_are_created_completed_once_and_recorded(officer):
    case = CaseFactory(assigned_officer=officer)
    task = services.task_create(case=case, title="Chase", due_date=timezone.localdate(), actor=officer)
    assert list(services_tasks_for(officer)) == [task]
    services.task_complete(task=task, actor=officer)
    services.task_complete(task=task, actor=officer)
    assert TimelineEntry.objects.filter(case=case, action="case.task.completed").count() == 1
    assert not services_tasks_for(officer).exists()


def services_tasks_for(user):
    from casework.selectors import my_tasks

    return my_tasks(user)


def test_case_history_records_who_changed_what(officer):
    case = services.case_transition(case=CaseFactory(), to_status=CaseStatus.IN_PROGRESS, actor=officer)
    latest = case.history.first()
    assert latest.history_user == officer and latest.status == CaseStatus.IN_PROGRESS


# --- who may be given a case or a task -----------------------------------------------------------

NOT_CASEWORKERS = [Role.AUDITOR, Role.FINANCE_ADMINISTRATOR, Role.SYSTEM_ADMINISTRATOR, Role.SYSTEM_ACCOUNT, None]


@pytest.mark.parametrize("role", NOT_CASEWORKERS, ids=lambda r: r.name if r else "NO_ROLE")
def test_a_case_or_task_is_never_given_to_someone_whose_role_does_not_work_cases(officer, role):
    from casework.services import DomainError

    outsider = UserFactory(roles=[role] if role else [])
    case = CaseFactory()
    with pytest.raises(DomainError) as refused:
        services.case_assign(case=case, officer=outsider, actor=officer)
    assert refused.value.field == "officer" and "does not work cases" in refused.value.message
    with pytest.raises(DomainError) as refused:
        services.case_create(client=ClientFactory(), case_type=CaseType.DEBT_RECOVERY, title="Arrears",
                             team=TeamFactory(), actor=officer, assigned_officer=outsider)
    assert refused.value.field == "assigned_officer"
    with pytest.raises(DomainError) as refused:
        services.task_create(case=case, title="Ring", due_date=timezone.localdate(), actor=officer,
                             assigned_to=outsider)
    assert refused.value.field == "assigned_to" and "cannot be given a task" in refused.value.message
    case.refresh_from_db()
    assert case.assigned_officer is None and not case.tasks.exists() and Case.objects.count() == 1


@pytest.mark.parametrize("role", [Role.INCOME_OFFICER, Role.DEFERRED_PAYMENT_OFFICER, Role.DIRECT_PAYMENT_OFFICER,
                                  Role.PROVIDER_PAYMENT_OFFICER, Role.RESOURCE_MANAGEMENT_OFFICER, Role.TEAM_LEADER])
def test_every_role_that_works_cases_may_be_given_one(officer, role):
    worker = UserFactory(roles=[role])
    case = services.case_assign(case=CaseFactory(), officer=worker, actor=officer)
    assert case.assigned_officer == worker
    assert services.task_create(case=case, title="Ring", due_date=timezone.localdate(), actor=officer,
                                assigned_to=worker).assigned_to == worker


def test_an_inactive_officer_is_not_given_a_case(officer):
    from casework.services import DomainError

    gone = UserFactory(roles=[Role.INCOME_OFFICER], is_active=False)
    with pytest.raises(DomainError, match="is not an active user"):
        services.case_assign(case=CaseFactory(), officer=gone, actor=officer)


def test_the_web_forms_offer_and_accept_only_those_whose_role_works_cases(client_as):
    from django.urls import reverse

    case = CaseFactory()
    worker = UserFactory(roles=[Role.DIRECT_PAYMENT_OFFICER], first_name="Wendy", last_name="Worker")
    auditor = UserFactory(roles=[Role.AUDITOR], first_name="Audrey", last_name="Auditor")
    admin = UserFactory(roles=[Role.SYSTEM_ADMINISTRATOR], first_name="Sid", last_name="Sysadmin")
    leader = client_as(Role.TEAM_LEADER)
    url = reverse("casework:case_assign", args=[case.pk])
    page = leader.get(url).content.decode()
    assert "Wendy Worker" in page and "Audrey Auditor" not in page and "Sid Sysadmin" not in page
    for outsider in (auditor, admin):
        response = leader.post(url, {"officer": outsider.pk, "team": ""})
        assert response.status_code == 200 and response.context["form"].errors["officer"]
    task_url = reverse("casework:task_create", args=[case.pk])
    response = leader.post(task_url, {"title": "Ring", "due_date_0": "1", "due_date_1": "1", "due_date_2": "2030",
                                      "assigned_to": admin.pk})
    assert response.status_code == 200 and response.context["form"].errors["assigned_to"]
    queue = reverse("casework:team_queue")
    CaseFactory(status=CaseStatus.ESCALATED, team=case.team)
    response = leader.post(queue, {"cases": [case.pk], "officer": auditor.pk})
    assert response.status_code == 200 and response.context["form"].errors["officer"]
    case.refresh_from_db()
    assert case.assigned_officer is None and not case.tasks.exists()
    assert leader.post(url, {"officer": worker.pk, "team": ""}).status_code == 302
    case.refresh_from_db()
    assert case.assigned_officer == worker


def test_the_debt_queue_assigns_only_to_those_whose_role_works_cases(client_as):
    from django.urls import reverse

    case = CaseFactory(status=CaseStatus.ESCALATED)
    auditor = UserFactory(roles=[Role.AUDITOR])
    response = client_as(Role.TEAM_LEADER).post(reverse("debt:decisions"), {"cases": [case.pk], "officer": auditor.pk})
    assert response.status_code == 200 and response.context["form"].errors["officer"]
    case.refresh_from_db()
    assert case.assigned_officer is None
