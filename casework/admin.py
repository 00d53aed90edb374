"""Administration of reference data and users. Financial and timeline records are read-only here:
they change only through the services, and never in place."""
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from casework.models import Case, Client, Document, LedgerEntry, RecordAccess, Representative, Task, Team, TimelineEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ["name"]
    filter_horizontal = ["members", "leaders"]


@admin.register(Client)
class ClientAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    list_display = ["reference", "last_name", "first_name", "postcode", "date_of_death"]
    search_fields = ["reference", "last_name", "nhs_number", "postcode"]


@admin.register(Representative)
class RepresentativeAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    list_display = ["name", "kind", "client", "start_date", "end_date"]
    list_select_related = ["client"]


@admin.register(Case)
class CaseAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    list_display = ["id", "case_type", "client", "team", "assigned_officer", "status"]
    list_filter = ["case_type", "status", "team"]
    list_select_related = ["client", "team", "assigned_officer"]


@admin.register(Task)
class TaskAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    list_display = ["title", "case", "due_date", "completed_at"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["reference", "account", "kind", "amount", "effective_date", "posted_by", "posted_at"]
    list_filter = ["kind"]
    list_select_related = ["account", "posted_by"]


@admin.register(TimelineEntry)
class TimelineEntryAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "client", "case", "kind", "summary", "actor"]
    list_select_related = ["client", "case", "actor"]


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "client", "case", "uploaded_by", "uploaded_at"]


@admin.register(RecordAccess)
class RecordAccessAdmin(ReadOnlyAdmin):
    list_display = ["viewed_at", "user", "client", "path"]
    list_select_related = ["user", "client"]
