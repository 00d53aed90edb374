"""Administration of the financial affairs reference data (checklist steps and Court of Protection
fees with effective dates); the case records are read-only here: they change only through
casework.affairs.services."""
from django.contrib import admin

from casework.admin import ReadOnlyAdmin
from casework.models import AffairsCase, CapacityAssessment, ChecklistStepDefinition, CourtFee


@admin.register(ChecklistStepDefinition)
class ChecklistStepDefinitionAdmin(admin.ModelAdmin):
    list_display = ["kind", "order", "code", "label", "requires_date", "requires_document", "required", "capture",
                    "active"]
    list_filter = ["kind", "active"]


@admin.register(CourtFee)
class CourtFeeAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "effective_from", "amount", "source"]
    list_filter = ["code"]


@admin.register(AffairsCase)
class AffairsCaseAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "status", "review_date", "created_at"]
    list_filter = ["kind", "status"]


@admin.register(CapacityAssessment)
class CapacityAssessmentAdmin(ReadOnlyAdmin):
    list_display = ["client", "assessed_on", "assessor", "outcome"]
    list_filter = ["outcome"]
