"""Reads for the financial affairs pages: the checklist of a case and the filtered list."""
from dataclasses import dataclass

from django.db.models import QuerySet

from casework.models import AffairsCase, ChecklistStep, ChecklistStepDefinition


@dataclass(frozen=True)
class ChecklistRow:
    definition: ChecklistStepDefinition
    step: ChecklistStep | None

    @property
    def done(self) -> bool:
        return self.step is not None


def checklist(affairs: AffairsCase) -> list[ChecklistRow]:
    """The kind's steps in order, each with what was recorded (or None). A step made inactive after
    it was done still shows, so the record stays whole."""
    done = {s.definition_id: s for s in affairs.steps.select_related("definition", "completed_by", "document")}
    definitions = ChecklistStepDefinition.objects.filter(kind=affairs.kind)
    return [ChecklistRow(d, done.get(d.pk)) for d in definitions if d.active or d.pk in done]


def affairs_list(*, kind: str = "", status: str = "", officer: str = "", user=None) -> QuerySet[AffairsCase]:
    """Affairs cases filtered by kind, status and officer ("me", "none" or a user id)."""
    queryset = AffairsCase.objects.select_related("case", "case__client", "case__assigned_officer", "case__team")
    if kind:
        queryset = queryset.filter(kind=kind)
    if status:
        queryset = queryset.filter(status=status)
    if officer == "me" and user is not None:
        queryset = queryset.filter(case__assigned_officer=user)
    elif officer == "none":
        queryset = queryset.filter(case__assigned_officer__isnull=True)
    elif officer.isdigit():
        queryset = queryset.filter(case__assigned_officer_id=int(officer))
    return queryset
