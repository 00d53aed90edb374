"""Administration of billing reference data: the services clients are charged for and the billing cycle."""
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import BillingCycle, ChargeableService


@admin.register(ChargeableService)
class ChargeableServiceAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "residential"]
    search_fields = ["code", "name"]


@admin.register(BillingCycle)
class BillingCycleAdmin(SimpleHistoryAdmin):
    list_display = ["name", "effective_from", "period_days", "anchor_date", "payment_terms_days",
                    "bill_days_after_period"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a cycle once in force explains issued invoices; replace it with a later one
