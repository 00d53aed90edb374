"""Administration of deferred payment reference data: capital limits, national maximum interest
rates by half-year, the council's rate, the rules (margin, alert threshold, periods) and fees."""
from django.contrib import admin

from .models import AdministrationFee, CapitalLimit, CouncilInterestRate, DeferredPaymentRule, NationalMaximumRate


@admin.register(NationalMaximumRate)
class NationalMaximumRateAdmin(admin.ModelAdmin):
    list_display = ["period_start", "period_end", "rate", "confidence", "source"]
    ordering = ["-period_start"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a rate once used explains posted interest; correct it, and interest is recalculated


@admin.register(CouncilInterestRate)
class CouncilInterestRateAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "rate", "note"]


@admin.register(CapitalLimit)
class CapitalLimitAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "lower_limit", "upper_limit", "source"]


@admin.register(DeferredPaymentRule)
class DeferredPaymentRuleAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "value_percent", "alert_percent", "death_due_days", "charge_registration_days",
                    "statement_grace_days"]


@admin.register(AdministrationFee)
class AdministrationFeeAdmin(admin.ModelAdmin):
    list_display = ["kind", "effective_from", "amount", "source"]
    list_filter = ["kind"]
