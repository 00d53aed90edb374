"""Administration of direct payment reference data: the policy figures, categorisation rules,
irregularity thresholds and saved bank formats (each change kept in its history)."""
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import BankFormat, CategoryRule, IrregularityRule, Policy


@admin.register(Policy)
class PolicyAdmin(SimpleHistoryAdmin):
    list_display = ["effective_from", "default_contingency_weeks", "first_audit_weeks", "audit_interval_months",
                    "higher_risk_interval_months", "statement_days", "reminder_after_days", "payment_match_days"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a policy once in force explains past audits; add a later one instead


@admin.register(CategoryRule)
class CategoryRuleAdmin(SimpleHistoryAdmin):
    list_display = ["priority", "pattern", "match_on", "direction", "category", "active"]
    list_filter = ["category", "active"]
    search_fields = ["pattern"]


@admin.register(IrregularityRule)
class IrregularityRuleAdmin(SimpleHistoryAdmin):
    list_display = ["code", "enabled", "threshold_amount", "threshold_weeks"]


@admin.register(BankFormat)
class BankFormatAdmin(SimpleHistoryAdmin):
    list_display = ["name", "date_column", "date_format", "description_column", "amount_column", "paid_in_column",
                    "paid_out_column", "balance_column"]
    search_fields = ["name"]
    readonly_fields = ["created_by"]
