"""The unbilled provision queues (debt.unbilled): filter by kind, read why and since when, export."""
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from casework.exports import MONEY, Column, personal_export_response, requested_format
from casework.roles import Role
from casework.views.access import log_record_views, role_required

from .. import unbilled

#: Who may read the queues: income (charges and invoices), resource management and provider payments
#: (packages and what the provider is paid), team leaders, and the auditor.
UNBILLED_READERS = frozenset({Role.INCOME_OFFICER, Role.RESOURCE_MANAGEMENT_OFFICER, Role.PROVIDER_PAYMENT_OFFICER,
                              Role.TEAM_LEADER, Role.AUDITOR})
PAGE_SIZE = 50

COLUMNS = [
    Column("Queue", lambda r: r.kind_label),
    Column("Client reference", lambda r: r.client.reference),
    Column("Client", lambda r: r.client.full_name),
    Column("About", lambda r: r.subject),
    Column("Why", lambda r: r.why),
    Column("Since", lambda r: r.since),
    Column("Weekly amount", lambda r: r.amount, kind=MONEY),
]


@role_required(UNBILLED_READERS)
def unbilled_queue(request):
    today = timezone.localdate()
    kind = request.GET.get("kind", "")
    kind = kind if kind in unbilled.KINDS else ""
    every_row = unbilled.unbilled(today)
    rows = [r for r in every_row if not kind or r.kind == kind]
    if fmt := requested_format(request):
        return personal_export_response(request, rows, COLUMNS, f"unbilled-{kind or 'all'}", fmt,
                                        client_of=lambda row: row.client)
    counts = [(key, k.label, k.description, sum(1 for r in every_row if r.kind == key)) for key, k in unbilled.KINDS.items()]
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    log_record_views(request, [row.client for row in page])
    return render(request, "debt/unbilled/queue.html", {
        "page_obj": page, "counts": counts, "kind": kind,
        "kinds": [(key, k.label) for key, k in unbilled.KINDS.items()], "total": len(rows), "today": today,
        "lookback_days": unbilled.LOOKBACK_DAYS})
