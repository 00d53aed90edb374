"""What the financial affairs records hold about a client, for subject access exports, and the
free text that an approved erasure clears (see casework.privacy.registry). Documents attached to
steps and assessments are casework Documents, so casework's own source and erasure cover them."""
from casework.privacy.registry import Section, rows_of


def affairs_records(client) -> list[Section]:
    from casework.models import AffairsCase, AffairsCost, CapacityAssessment, ChecklistStep

    affairs = AffairsCase.objects.filter(case__client=client).order_by("id")
    return [
        Section("capacity_assessments", "Mental capacity assessments",
                rows_of(CapacityAssessment.objects.filter(client=client).order_by("assessed_on", "id")),
                ["casework.capacityassessment"]),
        Section("financial_affairs", "Financial affairs cases", rows_of(affairs), ["casework.affairscase"]),
        Section("financial_affairs_steps", "Financial affairs checklist steps",
                rows_of(ChecklistStep.objects.filter(affairs__in=affairs).order_by("affairs", "id")),
                ["casework.checkliststep"]),
        Section("financial_affairs_costs", "Protection of property costs",
                rows_of(AffairsCost.objects.filter(affairs__in=affairs).order_by("id")), ["casework.affairscost"]),
    ]


def affairs_free_text(client, erasure) -> dict:
    """Clear who assessed, notes and reasons; dates, outcomes, kinds and amounts stay."""
    from casework.models import AffairsCase, AffairsCost, CapacityAssessment, ChecklistStep

    affairs = AffairsCase.objects.filter(case__client=client)
    return {
        "casework.capacityassessment": CapacityAssessment.objects.filter(client=client).update(
            assessor="", decision="", note=""),
        "casework.affairscase": affairs.update(reason="", status_reason="", court_reference=""),
        "casework.checkliststep": ChecklistStep.objects.filter(affairs__in=affairs).update(note=""),
        "casework.affairscost": AffairsCost.objects.filter(affairs__in=affairs).update(reason=""),
    }
