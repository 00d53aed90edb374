"""The team leader's decisions queue (debt.queue): filter, sort, export, and bulk assign the cases behind it."""
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone

from casework import services
from casework.exports import MONEY, Column, personal_export_response, requested_format
from casework.forms import BulkAssignForm
from casework.models import Case, Team
from casework.roles import QUEUE_MANAGERS, Role, has_any_role
from casework.views.access import log_record_views, role_required

from .. import queue

#: Who may read the queue; only QUEUE_MANAGERS may assign from it.
QUEUE_READERS = frozenset({Role.TEAM_LEADER, Role.AUDITOR})
PAGE_SIZE = 25  # rows are long (why, amount, case and officer): 25 to a page, as QueueRow.url expects

COLUMNS = [
    Column("Kind", lambda r: r.kind_label),
    Column("Client reference", lambda r: r.client.reference),
    Column("Client", lambda r: r.client.full_name),
    Column("Amount", lambda r: r.amount, kind=MONEY),
    Column("Since", lambda r: r.since),
    Column("Why", lambda r: r.why),
    Column("Case", lambda r: r.case.reference if r.case else ""),
    Column("Team", lambda r: r.case.team_name if r.case else ""),
    Column("Officer", lambda r: r.case.officer if r.case else ""),
]


def _selected(request) -> dict:
    kind = request.GET.get("kind", "")
    team = request.GET.get("team", "")
    sort = request.GET.get("sort", "")
    return {"kind": kind if kind in queue.KINDS else "", "team": team if team.isdigit() else "",
            "sort": sort if sort in queue.SORTS else "since"}


@role_required(QUEUE_READERS)
def decisions(request):
    selected = _selected(request)
    fmt = requested_format(request)
    every_row, built = queue.decisions_kept(timezone.localdate(), fresh=bool(fmt) or "fresh" in request.GET)
    rows = queue.filter_rows(every_row, kind=selected["kind"],
                             team_id=int(selected["team"]) if selected["team"] else None)
    rows = queue.sort_rows(rows, selected["sort"])
    if fmt:
        return personal_export_response(request, rows, COLUMNS, "decisions", fmt, client_of=lambda row: row.client.pk)
    can_assign = has_any_role(request.user, QUEUE_MANAGERS)
    case_ids = {r.case.pk for r in rows if r.case}
    form = BulkAssignForm(request.POST if request.method == "POST" else None,
                          case_queryset=Case.objects.filter(pk__in=case_ids))
    if request.method == "POST":
        if not can_assign:
            raise PermissionDenied
        if form.is_valid():
            officer = form.cleaned_data["officer"]
            with transaction.atomic():
                for case in form.cleaned_data["cases"]:
                    services.case_assign(case=case, officer=officer, actor=request.user)
            messages.success(request, f"{len(form.cleaned_data['cases'])} case(s) assigned to "
                                      f"{officer.get_full_name() or officer.username}")
            return redirect(request.get_full_path())
    counts = queue.counts(every_row)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    log_record_views(request, [row.client.pk for row in page])
    context = {
        "page_obj": page,
        "total": len(rows),
        "counts": [(key, queue.KINDS[key].label, n) for key, n in counts.items()],
        "kinds": [(key, kind.label) for key, kind in queue.KINDS.items()],
        "sorts": list(queue.SORTS.items()),
        "teams": Team.objects.order_by("name").values_list("pk", "name"),
        "selected": selected,
        "form": form,
        "can_assign": can_assign,
        "built": built,
        "kept_seconds": settings.DECISIONS_CACHE_SECONDS,
    }
    return render(request, "debt/queue/decisions.html", context)
