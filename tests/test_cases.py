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
