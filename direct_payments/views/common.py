"""Who may do what in the direct payment pages, and small helpers the pages share."""
from datetime import date

from django.core.paginator import Paginator
from django.shortcuts import render

from casework.roles import READERS, Role

#: Who may read direct payment pages.
DP_READERS = READERS | {Role.FINANCE_ADMINISTRATOR}
#: Who may record agreements, payments and audits.
DP_OFFICERS = frozenset({Role.DIRECT_PAYMENT_OFFICER, Role.TEAM_LEADER})
#: Who may change the lifecycle of an agreement (suspend, resume, end).
DP_STATUS_CHANGERS = DP_OFFICERS
#: Who may approve or reject a recovery.
DP_APPROVERS = frozenset({Role.TEAM_LEADER})
#: Who maintains the categorisation rules.
RULE_EDITORS = frozenset({Role.FINANCE_ADMINISTRATOR})
PAGE_SIZE = 50


def page_of(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def date_param(request, name: str) -> date | None:
    try:
        return date.fromisoformat(request.GET.get(name, "").strip())
    except ValueError:
        return None


def form_page(request, form, title: str, back_url: str, summary: list | None = None, **extra):
    return render(request, "casework/form_page.html",
                  {"form": form, "title": title, "back_url": back_url, "summary": summary or [], **extra})
