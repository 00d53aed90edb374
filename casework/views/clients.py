from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from casework import exports, history, selectors, services
from casework.correspondence import letter_recipient
from casework.panels import client_panels_for
from casework.exports import MONEY, Column, personal_export_response, requested_format
from casework.forms import ClientForm, DeathForm, EndRepresentativeForm, LedgerEntryForm, RepresentativeForm, ReverseEntryForm, StatementFilterForm
from casework.models import Client, ControlRequest, LedgerEntry, RecordAccess, Representative
from casework.roles import CASEWORKERS, CLIENT_EDITORS, LEDGER_POSTERS, LEDGER_REVERSERS, READERS, Role, has_any_role

from .access import log_record_views, role_required
from .forms import handle

TIMELINE_LIMIT = 50
STATEMENT_COLUMNS = [
    Column("Effective date", lambda l: l.entry.effective_date),
    Column("Posted", lambda l: l.entry.posted_at),
    Column("Type", lambda l: l.entry.get_kind_display()),
    Column("Reference", lambda l: l.entry.reference),
    Column("Description", lambda l: l.entry.description),
    Column("Debit", lambda l: l.entry.amount if l.entry.amount > 0 else None, kind=MONEY),
    Column("Credit", lambda l: -l.entry.amount if l.entry.amount < 0 else None, kind=MONEY),
    Column("Balance", lambda l: l.balance, kind=MONEY),
    Column("Posted by", lambda l: l.entry.posted_by.get_username()),
    Column("Reverses", lambda l: l.entry.reverses.reference if l.entry.reverses_id else ""),
    Column("Reason", lambda l: l.entry.reason),
]


def _client(pk: int) -> Client:
    return get_object_or_404(Client, pk=pk)


@role_required(CLIENT_EDITORS)
def client_create(request):
    form = ClientForm(request.POST or None)
    client = handle(request, form, lambda data: services.client_create(actor=request.user, **data))
    if client:
        messages.success(request, f"Client {client.full_name} ({client.reference}) created")
        return redirect("casework:client_detail", pk=client.pk)
    return render(request, "casework/form_page.html", {"form": form, "title": "Add a client",
                                                        "back_url": "casework:search"})


@role_required(READERS)
def client_detail(request, pk: int):
    client = get_object_or_404(Client, pk=pk)
    log_record_views(request, client)
    representatives = list(client.representatives.all())
    account = services.account_for_client(client)
    timeline = list(client.timeline.select_related("actor", "case", "document")[:TIMELINE_LIMIT])
    cases = list(client.cases.select_related("team", "assigned_officer"))
    today = timezone.localdate()
    context = {
        "client": client,
        "representatives": representatives,
        "active_representatives": [r for r in representatives if r.is_active_on(today)],
        "recipient": letter_recipient(client, representatives=representatives),
        "account": account,
        "balance": selectors.account_balance(account),
        "recent_entries": list(account.entries.order_by("-effective_date", "-id")[:5]),
        "cases": cases,
        "timeline": timeline,
        "timeline_truncated": len(timeline) == TIMELINE_LIMIT,
        "can_edit": has_any_role(request.user, CLIENT_EDITORS),
        "can_post": has_any_role(request.user, LEDGER_POSTERS),
        "can_open_case": has_any_role(request.user, CASEWORKERS),
        "panels": client_panels_for(client, request),
    }
    return render(request, "casework/client_detail.html", context)


@role_required(CLIENT_EDITORS)
def client_edit(request, pk: int):
    client = _client(pk)
    fields = [f for f in ClientForm.base_fields if f != "reason"]
    initial = {name: getattr(client, name) for name in fields}
    form = ClientForm(request.POST or None, initial=initial, editing=True)

    def save(data):
        reason = data.pop("reason", "")
        return services.client_update(client=client, actor=request.user, reason=reason, **data)

    if handle(request, form, save):
        messages.success(request, "Client details saved")
        return redirect("casework:client_detail", pk=client.pk)
    log_record_views(request, client)
    return render(request, "casework/form_page.html", {"form": form, "title": f"Change details: {client.full_name}",
                                                        "back_url": client_url(client)})


def client_url(client: Client) -> str:
    from django.urls import reverse

    return reverse("casework:client_detail", args=[client.pk])


@role_required(CASEWORKERS)
def client_death(request, pk: int):
    client = _client(pk)
    form = DeathForm(request.POST or None)
    done = handle(request, form, lambda d: services.client_record_death(
        client=client, date_of_death=d["date_of_death"], source=d["source"], verified=d["verified"], actor=request.user))
    if done:
        messages.success(request, "Death recorded. Letters now go to the executor or personal representatives.")
        return redirect("casework:death_confirm", pk=done.death_record.pk)
    log_record_views(request, client)
    return render(request, "casework/form_page.html", {"form": form, "title": f"Record the death of {client.full_name}",
                                                        "back_url": client_url(client)})


@role_required(CLIENT_EDITORS)
def representative_add(request, pk: int):
    client = _client(pk)
    form = RepresentativeForm(request.POST or None, initial={"start_date": timezone.localdate()})
    if handle(request, form, lambda d: services.representative_add(client=client, actor=request.user, **d)):
        messages.success(request, "Representative added")
        return redirect("casework:client_detail", pk=client.pk)
    log_record_views(request, client)
    return render(request, "casework/form_page.html", {"form": form, "title": f"Add a representative for {client.full_name}",
                                                        "back_url": client_url(client)})


@role_required(CLIENT_EDITORS)
def representative_end(request, pk: int):
    rep = get_object_or_404(Representative.objects.select_related("client"), pk=pk)
    form = EndRepresentativeForm(request.POST or None)
    if handle(request, form, lambda d: services.representative_end(representative=rep, actor=request.user, **d)):
        messages.success(request, f"Authority of {rep.name} ended")
        return redirect("casework:client_detail", pk=rep.client_id)
    log_record_views(request, rep.client_id)
    return render(request, "casework/form_page.html", {"form": form, "title": f"End the authority of {rep.name}",
                                                        "back_url": client_url(rep.client)})


@role_required(READERS)
def client_statement(request, pk: int):
    client = _client(pk)
    account = services.account_for_client(client)
    filters = StatementFilterForm(request.GET or None)
    start = end = None
    if filters.is_valid():
        start, end = filters.cleaned_data.get("start"), filters.cleaned_data.get("end")
    result = selectors.statement(account, start=start, end=end)
    fmt = requested_format(request)
    if fmt:
        return personal_export_response(request, result.lines, STATEMENT_COLUMNS, f"statement-{account.number}", fmt,
                                        client_of=lambda line: client)
    log_record_views(request, client)
    return render(request, "casework/statement.html", {
        "client": client, "account": account, "statement": result, "filters": filters,
        "can_reverse": has_any_role(request.user, LEDGER_REVERSERS),
    })


@role_required(LEDGER_POSTERS)
def ledger_post(request, pk: int):
    client = _client(pk)
    account = services.account_for_client(client)
    form = LedgerEntryForm(request.POST or None, initial={"effective_date": timezone.localdate()})
    entry = handle(request, form, lambda d: services.ledger_post_by_hand(account=account, actor=request.user, **d))
    if isinstance(entry, ControlRequest):
        messages.success(request, f"Sent for approval as {entry.reference}: nothing is posted until someone else "
                                  f"approves it")
        return redirect("casework:control_request_detail", pk=entry.pk)
    if entry:
        messages.success(request, f"{entry.get_kind_display()} of £{abs(entry.amount):,.2f} posted")
        return redirect("casework:client_statement", pk=client.pk)
    log_record_views(request, client)
    return render(request, "casework/form_page.html", {"form": form, "title": f"Post to {client.full_name}'s account",
                                                        "back_url": client_url(client)})


@role_required(LEDGER_REVERSERS)
def ledger_reverse(request, pk: int):
    entry = get_object_or_404(LedgerEntry.objects.select_related("account__client"), pk=pk)
    form = ReverseEntryForm(request.POST or None)
    done = handle(request, form,
                  lambda d: services.ledger_reverse_by_hand(entry=entry, actor=request.user, reason=d["reason"]))
    if isinstance(done, ControlRequest):
        messages.success(request, f"Sent for approval as {done.reference}: the entry is reversed only when another "
                                  f"team leader approves")
        return redirect("casework:control_request_detail", pk=done.pk)
    if done:
        messages.success(request, f"Entry {entry.reference} reversed")
        return redirect("casework:client_statement", pk=entry.account.client_id)
    log_record_views(request, entry.account.client_id)
    return render(request, "casework/form_page.html", {
        "form": form, "title": f"Reverse {entry.get_kind_display().lower()} {entry.reference} of £{abs(entry.amount):,.2f}",
        "back_url": client_url(entry.account.client)})


HISTORY_PAGE_SIZE = 50
HISTORY_COLUMNS = [
    Column("When", lambda r: r.when),
    Column("Who", lambda r: r.who),
    Column("Role", lambda r: r.role),
    Column("Kind", lambda r: r.kind_label),
    Column("Record", lambda r: r.record),
    Column("What happened", lambda r: r.summary),
    Column("Values", lambda r: r.changes_text),
    Column("Amount", lambda r: r.amount, kind=MONEY),
    Column("Reason or note", lambda r: r.reason),
]


@role_required(READERS)
def client_history(request, pk: int):
    """Every change to the client's record and money, newest first (casework.history), a page at a
    time, of one kind if asked; the same rows export to CSV and XLSX."""
    client = _client(pk)
    kind = request.GET.get("kind", "")
    kind = kind if kind in history.KIND_LABELS else ""
    rows = history.ClientHistory(client, kind or None)
    fmt = requested_format(request)
    if fmt:
        name = f"history-{client.reference}" + (f"-{kind}" if kind else "")
        return exports.personal_export_response(request, rows.all(), HISTORY_COLUMNS, name, fmt,
                                                client_of=lambda row: client)
    log_record_views(request, client)
    page = Paginator(rows, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    accesses = None
    if has_any_role(request.user, {Role.AUDITOR, Role.TEAM_LEADER}):
        accesses = RecordAccess.objects.filter(client=client).select_related("user")[:100]
    return render(request, "casework/client_history.html", {
        "client": client, "page_obj": page, "kinds": history.KINDS, "kind": kind, "accesses": accesses,
    })
