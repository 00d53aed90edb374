"""Administration of provider payments reference data: service types, bands, rates (read only:
added on the provider's page with a second person's approval), guide prices, visit tolerance rules,
payment schedules, the Bacs originator, the journal's control codes, the notice period paid after a
client's death and the rule that flags an unusual payment in a run."""
from django.contrib import admin

from .models import (
    BacsOriginator,
    Band,
    DeathNoticePeriod,
    GuidePrice,
    JournalAccount,
    PaymentFlagRule,
    PaymentSchedule,
    Rate,
    ServiceType,
    ToleranceRule,
)


@admin.register(ServiceType)
class ServiceTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "unit", "billing_basis", "charging_service_code", "cost_centre", "subjective_code"]
    search_fields = ["code", "name"]


@admin.register(Band)
class BandAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]


@admin.register(Rate)
class RateAdmin(admin.ModelAdmin):
    """Rates are read here. They are added on the provider's page, where a team leader other than
    who asked approves each one (or by an approved uplift); an existing rate is never edited (a new
    rate from a later date replaces it)."""

    list_display = ["provider", "service_type", "band", "rate", "effective_from", "uplift", "withdrawn_at"]
    list_filter = ["service_type", "band"]
    search_fields = ["provider__name", "provider__supplier_number"]
    fields = ["provider", "service_type", "band", "rate", "effective_from", "reason"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(GuidePrice)
class GuidePriceAdmin(admin.ModelAdmin):
    list_display = ["service_type", "area", "price", "effective_from"]
    list_filter = ["area", "service_type"]


@admin.register(ToleranceRule)
class ToleranceRuleAdmin(admin.ModelAdmin):
    list_display = ["service_type", "effective_from", "tolerance_minutes", "round_to_minutes", "pay_overrun"]


@admin.register(PaymentSchedule)
class PaymentScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "frequency", "timing", "anchor_date"]


@admin.register(BacsOriginator)
class BacsOriginatorAdmin(admin.ModelAdmin):
    list_display = ["service_user_number", "sort_code", "account_number", "account_name", "effective_from"]


@admin.register(JournalAccount)
class JournalAccountAdmin(admin.ModelAdmin):
    list_display = ["purpose", "cost_centre", "subjective_code"]


@admin.register(DeathNoticePeriod)
class DeathNoticePeriodAdmin(admin.ModelAdmin):
    """The notice period a provider is paid after a client's death: add a row from a date to change it."""

    list_display = ["billing_basis", "service_type", "effective_from", "days", "note"]
    list_filter = ["billing_basis"]


@admin.register(PaymentFlagRule)
class PaymentFlagRuleAdmin(admin.ModelAdmin):
    """When a provider's payment in a run is flagged as unusual: add a row from a date to change it."""

    list_display = ["effective_from", "ratio", "usual_runs", "note"]
