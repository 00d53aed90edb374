from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone

from casework import selectors, services
from casework.constants import CaseStatus, CaseType, Priority
from casework.exports import Column, personal_export_response, requested_format
from casework.forms import BulkAssignForm
from casework.models import Case, Team
from casework.roles import CLIENT_EDITORS, QUEUE_MANAGERS, READERS, STAFF, Role, has_any_role

from .access import log_record_views, role_required

PAGE_SIZE = 50

CASE_COLUMNS = [
    Column("Case", lambda c: c.reference),
    Column("Type", lambda c: c.get_case_type_display()),
    Column("Title", lambda c: c.title),
    Column("Client reference", lambda c: c.client.reference),
    Column("Client", lambda c: c.client.full_name),
    Column("Team", lambda c: c.team.name),
    Column("Officer", lambda c: (c.assigned_officer.get_full_name() or c.assigned_officer.username) if c.assigned_officer else ""),
    Column("Status", lambda c: c.get_status_display()),
    Column("Priority", lambda c: c.get_priority_display()),
    Column("Due date", lambda c: c.due_date),
    Column("On hold until", lambda c: c.hold_review_date),
    Column("Hold reason", lambda c: c.hold_reason),
]
TASK_COLUMNS = [
    Column("Task", lambda t: t.title),
    Column("Due date", lambda t: t.due_date),
    Column("Case", lambda t: t.case.reference),
    Column("Client", lambda t: t.case.client.full_name),
]
CLIENT_COLUMNS = [
    Column("Reference", lambda c: c.reference),
    Column("Name", lambda c: c.full_name),
    Column("Date of birth", lambda c: c.date_of_birth),
    Column("NHS number", lambda c: c.nhs_number),
    Column("Address", lambda c: ", ".join(c.address_lines)),
    Column("Date of death", lambda c: c.date_of_death),
]


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@role_required(STAFF)
def home(request):
    """Each role lands where its work is; a system administrator, whose work is in Administration,
    on a page of links to it (the admin's "View site" comes here, so it never leads back to itself)."""
    if has_any_role(request.user, READERS):
        return redirect("casework:my_work")
    if has_any_role(request.user, {Role.FINANCE_ADMINISTRATOR}):
        return redirect("letters:template_list")
    return render(request, "casework/home.html")


@role_required(READERS)
def my_work(request):
    today = timezone.localdate()
    cases = selectors.my_cases(request.user)
    show = request.GET.get("show", "cases")
    fmt = requested_format(request)
    if fmt:
        if show == "tasks":
            return personal_export_response(request, selectors.my_tasks(request.user), TASK_COLUMNS, "my-tasks", fmt,
                                            client_of=lambda task: task.case.client_id)
        return personal_export_response(request, cases, CASE_COLUMNS, "my-cases", fmt)
    tasks = list(selectors.my_tasks(request.user)[:200])
    page_obj = _page(request, cases)
    context = {
        "today": today,
        "page_obj": page_obj,
        "case_count": page_obj.paginator.count,
        # Urgent tasks (a limitation date in its last 30 days, say) come first, then overdue, then due.
        "urgent_tasks": [t for t in tasks if t.urgent],
        "overdue_tasks": [t for t in tasks if t.due_date < today and not t.urgent],
        "due_tasks": [t for t in tasks if t.due_date >= today and not t.urgent],
        "holds_to_review": list(Case.objects.holds_to_review(request.user, today).select_related("client")),
    }
    log_record_views(request, page_obj, [t.case.client_id for t in tasks], context["holds_to_review"])
    return render(request, "casework/my_work.html", context)


def _filtered_cases(request, queryset):
    """Filters shared by the team queue and the case list; each value is checked against its choices."""
    filters = {
        "case_type": (request.GET.get("case_type", ""), CaseType.values),
        "status": (request.GET.get("status", ""), CaseStatus.values),
        "priority": (request.GET.get("priority", ""), [str(v) for v in Priority.values]),
    }
    for name, (value, allowed) in filters.items():
        if value in allowed:
            queryset = queryset.filter(**{name: value})
    team = request.GET.get("team", "")
    if team.isdigit():
        queryset = queryset.filter(team_id=int(team))
    return queryset


def _filter_context(request) -> dict:
    return {
        "case_types": CaseType.choices,
        "statuses": CaseStatus.choices,
        "priorities": Priority.choices,
        "teams": Team.objects.values_list("pk", "name"),
        "selected": {k: request.GET.get(k, "") for k in ("case_type", "status", "priority", "team")},
    }


@role_required(QUEUE_MANAGERS)
def team_queue(request):
    queryset = _filtered_cases(request, selectors.team_queue(request.user))
    fmt = requested_format(request)
    if fmt:
        return personal_export_response(request, queryset, CASE_COLUMNS, "team-queue", fmt)
    form = BulkAssignForm(request.POST if request.method == "POST" else None, case_queryset=queryset)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            for case in form.cleaned_data["cases"]:
                services.case_assign(case=case, officer=form.cleaned_data["officer"], actor=request.user)
        officer = form.cleaned_data["officer"]
        messages.success(request, f"{len(form.cleaned_data['cases'])} case(s) assigned to "
                                  f"{officer.get_full_name() or officer.username}")
        return redirect(request.get_full_path())
    page = _page(request, queryset)
    context = {"page_obj": page, "form": form, "total": page.paginator.count, **_filter_context(request)}
    log_record_views(request, page)
    return render(request, "casework/team_queue.html", context)


@role_required(READERS)
def case_list(request):
    queryset = _filtered_cases(request, Case.objects.select_related("client", "team", "assigned_officer"))
    if request.GET.get("officer") == "me":
        queryset = queryset.filter(assigned_officer=request.user)
    fmt = requested_format(request)
    if fmt:
        return personal_export_response(request, queryset, CASE_COLUMNS, "cases", fmt)
    page = _page(request, queryset)
    context = {"page_obj": page, "total": page.paginator.count, **_filter_context(request)}
    log_record_views(request, page)
    return render(request, "casework/case_list.html", context)


@role_required(READERS)
def search(request):
    term = request.GET.get("q", "").strip()[:100]
    results = selectors.search_clients(term) if term else None
    fmt = requested_format(request)
    if fmt and results is not None:
        return personal_export_response(request, results, CLIENT_COLUMNS, "client-search", fmt)
    context = {"term": term, "page_obj": _page(request, results) if results is not None else None,
               "can_create": has_any_role(request.user, CLIENT_EDITORS)}
    if context["page_obj"] is not None:
        log_record_views(request, context["page_obj"])
    return render(request, "casework/search.html", context)
