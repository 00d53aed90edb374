"""Administration of income reference data: chargeable services, the billing cycle, limitation and
write-off approval levels (each with effective dates)."""
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    BillingCycle,
    BreathingSpaceRule,
    ChargeableService,
    ClaimInterestRule,
    CourtFeeBand,
    DeathHoldReviewRule,
    EstateFollowUpRule,
    LimitationRule,
    LimitationWarningLevel,
    PlanRule,
    PreActionRule,
    RecoveryStage,
    RecoveryThreshold,
    SpendingGuideline,
    WriteOffLevel,
)


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


@admin.register(LimitationRule)
class LimitationRuleAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "years", "warning_months"]


@admin.register(LimitationWarningLevel)
class LimitationWarningLevelAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "days_before", "urgent"]


@admin.register(WriteOffLevel)
class WriteOffLevelAdmin(admin.ModelAdmin):
    list_display = ["group_name", "maximum_amount", "period_days", "effective_from"]
    list_filter = ["group_name"]


@admin.register(RecoveryStage)
class RecoveryStageAdmin(SimpleHistoryAdmin):
    list_display = ["order", "code", "name", "delay_days", "delay_from", "action", "letter_type", "active",
                    "effective_from"]
    ordering = ["order"]


@admin.register(RecoveryThreshold)
class RecoveryThresholdAdmin(SimpleHistoryAdmin):
    list_display = ["effective_from", "minimum_balance", "escalate_balance", "escalate_age_days"]


@admin.register(BreathingSpaceRule)
class BreathingSpaceRuleAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "standard_days", "review_request_days", "midway_review_from_day",
                    "midway_review_to_day", "crisis_extra_days"]


@admin.register(PlanRule)
class PlanRuleAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "grace_days", "breaks_allowed"]


@admin.register(SpendingGuideline)
class SpendingGuidelineAdmin(admin.ModelAdmin):
    """The Standard Financial Statement's spending guidelines are licensed: an administrator enters them."""

    list_display = ["category", "household_type", "monthly_trigger", "effective_from"]
    list_filter = ["category", "household_type"]


@admin.register(CourtFeeBand)
class CourtFeeBandAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "lower", "upper", "fixed_fee", "percentage"]
    ordering = ["-effective_from", "lower"]


@admin.register(ClaimInterestRule)
class ClaimInterestRuleAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "rate_percent"]


@admin.register(PreActionRule)
class PreActionRuleAdmin(admin.ModelAdmin):
    list_display = ["method", "effective_from", "deemed_service_business_days", "reply_days", "source"]
    ordering = ["method", "-effective_from"]


@admin.register(DeathHoldReviewRule)
class DeathHoldReviewRuleAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "months"]
    ordering = ["-effective_from"]


@admin.register(EstateFollowUpRule)
class EstateFollowUpRuleAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "interval_days"]
    ordering = ["-effective_from"]
