"""Approvals: requests above their maker's limit, decided by someone else; and the separation
report of every money-moving action with its maker and checker. Thin: parse, call one service."""
from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from casework.exports import MONEY, Column, personal_export_response, requested_format
from casework.forms import GovForm
from casework.models import ControlAction, ControlRequest, ControlRequestStatus, MoneyAction
from casework.money import ZERO, format_pounds, to_pennies
from casework.roles import CASEWORKERS, READERS, Role, roles_of
from casework.services import controls as services

from .access import log_record_views, role_required
from .forms import handle

PAGE_SIZE = 50
#: Who may read the separation report.
SEPARATION_READERS = frozenset({Role.AUDITOR, Role.TEAM_LEADER})


def _who(user) -> str:
    if user is None:
        return ""
    # The groups are prefetched on lists and exports: one query for all rows, not one a row.
    names = {g.name for g in user.groups.all()}
    roles = ", ".join(sorted(r.value for r in Role if r.value in names))
    name = user.get_full_name() or user.get_username()
    return f"{name} ({roles})" if roles else name


REQUEST_COLUMNS = [
    Column("Reference", lambda r: r.reference),
    Column("What", lambda r: r.get_action_display()),
    Column("Account", lambda r: r.subject),
    Column("Summary", lambda r: r.summary),
    Column("Amount", lambda r: r.amount, kind=MONEY),
    Column("Status", lambda r: r.get_status_display()),
    Column("Asked by", lambda r: _who(r.requested_by)),
    Column("Asked", lambda r: r.requested_at),
    Column("Reason", lambda r: r.reason),
    Column("Decided by", lambda r: _who(r.decided_by)),
    Column("Decided", lambda r: r.decided_at),
    Column("Decision note", lambda r: r.decision_note),
    Column("Result", lambda r: r.result_reference),
]


@role_required(READERS)
def control_request_list(request):
    """Requests waiting for a decision first; filter by status and kind; the waiting list is a team
    leader's queue."""
    requests = ControlRequest.objects.select_related("requested_by", "decided_by", "client").prefetch_related(
        "requested_by__groups", "decided_by__groups")
    status = request.GET.get("status", ControlRequestStatus.REQUESTED)
    if status in ControlRequestStatus.values:
        requests = requests.filter(status=status)
    else:
        status = ""
    action = request.GET.get("action", "")
    if action in ControlAction.values:
        requests = requests.filter(action=action)
    else:
        action = ""
    mine = request.GET.get("mine") == "1"
    if mine:
        requests = requests.filter(requested_by=request.user)
    requests = requests.order_by("-requested_at", "-id")
    if fmt := requested_format(request):
        return personal_export_response(request, requests, REQUEST_COLUMNS, "approval-requests", fmt)
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    for item in page:
        item.cannot_decide = services.why_cannot_decide(item, request.user)
    log_record_views(request, page)
    return render(request, "casework/controls/request_list.html", {
        "page_obj": page, "statuses": ControlRequestStatus.choices, "selected": status,
        "actions": ControlAction.choices, "selected_action": action, "mine": mine,
        "can_read_separation": bool(roles_of(request.user) & SEPARATION_READERS)})


def _request(pk: int) -> ControlRequest:
    return get_object_or_404(ControlRequest.objects.select_related("requested_by", "decided_by", "client"), pk=pk)


def _context(item: ControlRequest, user) -> dict:
    """What the decider sees: what will change, who asked and why, and what this maker and this
    account have had of the same action lately."""
    since = timezone.now() - timedelta(days=365)
    same_account = MoneyAction.objects.filter(action=item.action, occurred_at__gte=since)
    same_account = same_account.filter(client=item.client) if item.client_id else same_account.filter(
        subject=item.subject)
    recent = list(same_account.select_related("maker", "checker")[:10])
    done = same_account.aggregate(n=Count("id"), t=Sum("amount"))
    by_maker = ControlRequest.objects.filter(requested_by=item.requested_by, action=item.action,
                                             requested_at__gte=since).exclude(pk=item.pk)
    return {
        "item": item, "changes": item.changes or [], "recent": recent, "recent_count": done["n"],
        "recent_total": to_pennies(done["t"] or ZERO),
        "maker_count": by_maker.count(),
        "maker_total": to_pennies(by_maker.aggregate(t=Sum("amount"))["t"] or ZERO),
        "asked_by": _who(item.requested_by), "decided_by": _who(item.decided_by),
        "cannot_decide": services.why_cannot_decide(item, user),
        "can_withdraw": item.status == ControlRequestStatus.REQUESTED and item.requested_by_id == user.pk,
    }


@role_required(READERS)
def control_request_detail(request, pk: int):
    item = _request(pk)
    log_record_views(request, item)
    return render(request, "casework/controls/request_detail.html", _context(item, request.user))


class DecisionForm(GovForm):
    note = forms.CharField(label="Note for the record", max_length=1000, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, submit_label: str, note_label: str = "", note_required: bool = False, **kwargs):
        self.submit_label = submit_label
        super().__init__(*args, **kwargs)
        self.fields["note"].required = note_required
        if note_label:
            self.fields["note"].label = note_label


def _decide(request, pk: int, to: str):
    item = _request(pk)
    if to == ControlRequestStatus.WITHDRAWN:
        if item.requested_by_id != request.user.pk or item.status != ControlRequestStatus.REQUESTED:
            messages.error(request, "Only the person who asked can withdraw a request that is still waiting")
            return redirect("casework:control_request_detail", pk=pk)
        form = DecisionForm(request.POST or None, submit_label="Withdraw the request",
                            note_label="Why are you withdrawing it? (optional)")
    else:
        if reason := services.why_cannot_decide(item, request.user):
            messages.error(request, reason)
            return redirect("casework:control_request_detail", pk=pk)
        approve = to == ControlRequestStatus.APPROVED
        form = DecisionForm(request.POST or None,
                            submit_label="Approve and carry out" if approve else "Reject",
                            note_label="Note for the record (optional)" if approve else "Why is it rejected?",
                            note_required=not approve)
    done = handle(request, form, lambda d: services.control_request_transition(
        request=item, to=to, actor=request.user, note=d["note"]))
    if done:
        words = done.get_status_display().lower()
        extra = f": {done.result_reference}" if done.result_reference else ""
        messages.success(request, f"{done.reference} {words}{extra}")
        return redirect("casework:control_request_detail", pk=pk)
    verb = {ControlRequestStatus.APPROVED: "Approve", ControlRequestStatus.REJECTED: "Reject",
            ControlRequestStatus.WITHDRAWN: "Withdraw"}[to]
    summary = [("What", item.get_action_display()), ("Account", item.subject), ("Summary", item.summary),
               ("Amount", format_pounds(item.amount)), ("Asked by", _who(item.requested_by)),
               ("Reason given", item.reason)]
    summary += [(label, f"{before} → {after}" if before and after else (after or before))
                for label, before, after in (item.changes or [])]
    log_record_views(request, item)
    return render(request, "casework/form_page.html", {
        "form": form, "title": f"{verb} {item.reference}", "summary": summary,
        "back_url": reverse("casework:control_request_detail", args=[pk])})


@role_required(CASEWORKERS)
def control_request_approve(request, pk: int):
    return _decide(request, pk, ControlRequestStatus.APPROVED)


@role_required(CASEWORKERS)
def control_request_reject(request, pk: int):
    return _decide(request, pk, ControlRequestStatus.REJECTED)


@role_required(CASEWORKERS)
def control_request_withdraw(request, pk: int):
    return _decide(request, pk, ControlRequestStatus.WITHDRAWN)


# The separation report ---------------------------------------------------------------------------

SEPARATION_COLUMNS = [
    Column("When", lambda m: m.occurred_at),
    Column("What", lambda m: m.get_action_display()),
    Column("Account", lambda m: m.subject),
    Column("Reference", lambda m: m.reference),
    Column("Summary", lambda m: m.summary),
    Column("Amount", lambda m: m.amount, kind=MONEY),
    Column("Maker", lambda m: _who(m.maker)),
    Column("Made", lambda m: m.made_at),
    Column("Checker", lambda m: _who(m.checker) if m.checker_id else "Done alone, within the maker's limit"),
    Column("Checked", lambda m: m.checked_at),
    Column("Same person", lambda m: "Yes" if m.same_person else "No"),
    Column("Approval request", lambda m: m.request.reference if m.request_id else ""),
]


def _day(request, name: str, default: date) -> tuple[date, str]:
    text = request.GET.get(name, "").strip()
    if not text:
        return default, ""
    try:
        return date.fromisoformat(text), ""
    except ValueError:
        return default, f"Enter the {name} date as a real date, like {default:%Y-%m-%d}"


@role_required(SEPARATION_READERS)
def separation_report(request):
    """Every money-moving action in a period with maker, checker, amount and time; any action whose
    maker and checker are the same person is shown first (there should be none)."""
    today = timezone.localdate()
    end, end_error = _day(request, "to", today)
    start, start_error = _day(request, "from", today.replace(day=1))
    errors = [e for e in (start_error, end_error) if e]
    if start > end:
        errors.append("The start date must be on or before the end date")
        start = end
    rows = MoneyAction.objects.select_related("maker", "checker", "request").prefetch_related(
        "maker__groups", "checker__groups").filter(
        occurred_at__date__gte=start, occurred_at__date__lte=end)
    action = request.GET.get("action", "")
    if action in ControlAction.values:
        rows = rows.filter(action=action)
    else:
        action = ""
    only = request.GET.get("only", "")
    if only == "same":
        rows = rows.filter(checker=F("maker"))
    elif only == "alone":
        rows = rows.filter(checker__isnull=True)
    else:
        only = ""
    rows = rows.order_by("-occurred_at", "-id")
    if fmt := requested_format(request):
        return personal_export_response(request, rows, SEPARATION_COLUMNS,
                                        f"separation-{start:%Y%m%d}-{end:%Y%m%d}", fmt)
    period = MoneyAction.objects.filter(occurred_at__date__gte=start, occurred_at__date__lte=end)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    log_record_views(request, page)  # each action's account names its client
    return render(request, "casework/controls/separation.html", {
        "page_obj": page, "start": start, "end": end,
        "errors": errors, "actions": ControlAction.choices, "selected_action": action, "only": only,
        "only_options": [("alone", "Done alone, within the maker's limit"), ("same", "Made and checked by one person")],
        "same_count": period.filter(checker=F("maker")).count(),
        "alone_count": period.filter(checker__isnull=True).count(),
        "checked_count": period.filter(checker__isnull=False).exclude(checker=F("maker")).count(),
        "total": to_pennies(period.aggregate(t=Sum("amount"))["t"] or ZERO),
    })
