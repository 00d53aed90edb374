"""Administration of teams (reference data; users and roles are Django's own admin). No client-level
record is registered in the admin: the administrator roles may not read client records, and
clients, cases, ledgers, timelines, documents and record accesses are seen through the service's own
pages (see casework.admin_site)."""
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from casework.models import Team


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ["name"]
    filter_horizontal = ["members", "leaders"]
