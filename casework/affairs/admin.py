"""Administration of the financial affairs reference data (checklist steps and Court of Protection
fees with effective dates). The affairs cases and capacity assessments name clients and are not in
the admin: they change only through casework.affairs.services, on the service's own pages."""
from django.contrib import admin

from casework.models import ChecklistStepDefinition, CourtFee


@admin.register(ChecklistStepDefinition)
class ChecklistStepDefinitionAdmin(admin.ModelAdmin):
    list_display = ["kind", "order", "code", "label", "requires_date", "requires_document", "required", "capture",
                    "active"]
    list_filter = ["kind", "active"]


@admin.register(CourtFee)
class CourtFeeAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "effective_from", "amount", "source"]
    list_filter = ["code"]
