"""Recovery pages: the debtors on the ladder, one debtor's recovery, holds, and the ladder itself."""
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import DecimalField, OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from casework.exports import MONEY, Column, personal_export_response, requested_format
from casework.forms import GovForm, _date
from casework.models import Client
from casework.roles import READERS, Role, has_any_role
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from ..holds import holds_for, holds_for_clients
from ..models import DebtHold, DebtRecovery, RecoveryEvent, RecoveryStage
from ..services import recovery as services

RECOVERY_WRITERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})
PAGE_SIZE = 25
LIST_COLUMNS = [
    Column("Client reference", lambda r: r.client.reference), Column("Client", lambda r: r.client.full_name),
    Column("Stage", lambda r: r.stage.name if r.stage_id else ""), Column("Since", lambda r: r.stage_entered_on),
    Column("Oldest unpaid due", lambda r: r.anchor_date), Column("Overdue balance", lambda r: r.balance, kind=MONEY),
    Column("Escalated on", lambda r: r.escalated_on), Column("Holds", lambda r: "; ".join(h.reason for h in r.holds)),
]


class HoldForm(GovForm):
    submit_label = "Put on hold"
    kind = forms.ChoiceField(label="Why is the debt on hold?",
                             choices=[(k.value, k.label) for k in services.MANUAL_HOLD_KINDS])
    note = forms.CharField(label="Details", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    review_date = _date("Review date", help_text="The hold must be reviewed by this date. For example, 27 3 2026")


def _recoveries(on):
    balances = services.overdue_by_client(on).filter(client_id=OuterRef("client_id")).values("balance")
    money = DecimalField(max_digits=13, decimal_places=2)
    return (DebtRecovery.objects.in_recovery().select_related("client", "stage")
            .annotate(balance=Subquery(balances, output_field=money)).order_by("-stage__order", "stage_entered_on"))


@role_required(READERS)
def recovery_list(request):
    on = timezone.localdate()
    stages = list(RecoveryStage.objects.all())
    rows = _recoveries(on)
    stage = request.GET.get("stage", "")
    if stage:
        rows = rows.filter(stage__code=stage)
    fmt = requested_format(request)
    if fmt:
        all_rows = list(rows[:settings.PERSONAL_DATA_EXPORT_MAX_ROWS + 1])  # a longer export is refused
        _attach_holds(all_rows, on)
        return personal_export_response(request, all_rows, LIST_COLUMNS, "debt-recovery", fmt)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    _attach_holds(page.object_list, on)
    log_record_views(request, page)
    return render(request, "debt/recovery/list.html", {"page_obj": page, "stages": stages, "stage": stage})


def _attach_holds(rows, on) -> None:
    rows = list(rows)
    holds = holds_for_clients([r.client_id for r in rows], on)
    for row in rows:
        row.holds = holds.get(row.client_id, [])


@role_required(READERS)
def recovery_detail(request, client_pk: int):
    client = get_object_or_404(Client, pk=client_pk)
    on = timezone.localdate()
    invoices = services.overdue_invoices_for([client.pk], on).get(client.pk, [])
    log_record_views(request, client)
    return render(request, "debt/recovery/detail.html", {
        "client": client, "recovery": DebtRecovery.objects.filter(client=client).select_related("stage").first(),
        "invoices": invoices, "balance": services.DebtSummary.of(invoices).balance,
        "events": RecoveryEvent.objects.filter(client=client).select_related("from_stage", "to_stage", "actor", "letter",
                                                                              "case"),
        "holds": holds_for(client.pk, on),
        "manual_holds": DebtHold.objects.filter(client=client).select_related("placed_by", "released_by"),
        "can_write": has_any_role(request.user, RECOVERY_WRITERS),
    })


@role_required(RECOVERY_WRITERS)
def hold_create(request, client_pk: int):
    client = get_object_or_404(Client, pk=client_pk)
    form = HoldForm(request.POST or None)
    hold = handle(request, form, lambda d: services.hold_place(client=client, actor=request.user, **d))
    if hold:
        messages.success(request, f"Recovery of {client.full_name}'s debt is on hold until {hold.review_date:%d %B %Y}")
        return redirect("debt:recovery_detail", client_pk=client.pk)
    log_record_views(request, client)
    return render(request, "casework/form_page.html", {
        "form": form, "title": "Put recovery on hold", "caption": f"{client.full_name} · {client.reference}",
        "back_url": reverse("debt:recovery_detail", args=[client.pk])})


@role_required(RECOVERY_WRITERS)
@require_POST
def hold_release(request, pk: int):
    hold = get_object_or_404(DebtHold, pk=pk)
    services.hold_release(hold=hold, actor=request.user, note=request.POST.get("note", ""))
    messages.success(request, f"{hold.get_kind_display()} hold released")
    return redirect("debt:recovery_detail", client_pk=hold.client_id)


@role_required(READERS)
def ladder(request):
    on = timezone.localdate()
    return render(request, "debt/recovery/ladder.html", {
        "stages": RecoveryStage.objects.all(), "thresholds": services.thresholds_on(on),
        "all_thresholds": services.RecoveryThreshold.objects.select_related("escalation_team")})


def client_recovery_panel(client: Client, request) -> dict | None:
    """The client's recovery stage and holds, on the client page."""
    on = timezone.localdate()
    recovery = DebtRecovery.objects.filter(client=client).select_related("stage").first()
    holds = holds_for(client.pk, on)
    if (recovery is None or recovery.stage_id is None) and not holds:
        return None
    return {"title": "Debt recovery", "template": "debt/recovery/panel.html",
            "context": {"client": client, "recovery": recovery, "holds": holds}}
