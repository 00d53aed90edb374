"""Administration of retention rules (data with effective dates); the data protection records are
read-only here: they change only through casework.privacy's services."""
from django.contrib import admin

from casework.admin import ReadOnlyAdmin
from casework.models import ErasureRedaction, ErasureRequest, RetentionReview, RetentionRule, SubjectAccessRequest


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    list_display = ["record_kind", "event", "years", "effective_from", "effective_to", "basis"]
    list_filter = ["record_kind", "event"]


@admin.register(SubjectAccessRequest)
class SubjectAccessRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "client", "requested_by", "requested_at", "sha256"]


@admin.register(ErasureRequest)
class ErasureRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "client", "status", "requested_by", "decided_by", "completed_at"]
    list_filter = ["status"]


@admin.register(ErasureRedaction)
class ErasureRedactionAdmin(ReadOnlyAdmin):
    list_display = ["erasure", "table_name", "row_id", "redacted_at"]


@admin.register(RetentionReview)
class RetentionReviewAdmin(ReadOnlyAdmin):
    list_display = ["client", "status", "marked_on", "retention_ended_on"]
    list_filter = ["status"]
