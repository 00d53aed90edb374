"""Administration of retention rules (data with effective dates). The data protection records
(subject access requests, erasure requests and their redactions, retention reviews) name clients and
are not in the admin: they are seen and changed through casework.privacy's pages and services."""
from django.contrib import admin

from casework.models import RetentionRule


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    list_display = ["record_kind", "event", "years", "effective_from", "effective_to", "basis"]
    list_filter = ["record_kind", "event"]
