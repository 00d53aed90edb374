"""Financial affairs pages: the list, a case with its checklist, status changes, starting a case
from the client, and mental capacity assessments on the client. Views parse, call one service and
let casework's `handle` turn a DomainError into a form error."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from casework.constants import CaseType
from casework.exports import Column, personal_export_response, requested_format
from casework.forms import officer_choices
from casework.models import AffairsCase, AffairsKind, AffairsStatus, Client, StepCapture
from casework.roles import has_any_role
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from . import selectors, services
from .forms import AffairsStartForm, AffairsStatusForm, CapacityAssessmentForm, CostsForm, DeputyForm, FeeForm, StepForm
from .roles import AFFAIRS_READERS, AFFAIRS_WORKERS, CAPACITY_READERS, CAPACITY_RECORDERS

PAGE_SIZE = 50

LIST_COLUMNS = [
    Column("Case", lambda a: a.reference),
    Column("Kind", lambda a: a.get_kind_display()),
    Column("Status", lambda a: a.get_status_display()),
    Column("Client reference", lambda a: a.case.client.reference),
    Column("Client", lambda a: a.case.client.full_name),
    Column("Officer", lambda a: (a.case.assigned_officer.get_full_name() or a.case.assigned_officer.username)
           if a.case.assigned_officer_id else ""),
    Column("Team", lambda a: a.case.team.name),
    Column("Title", lambda a: a.case.title),
    Column("Started", lambda a: a.created_at),
    Column("Review date", lambda a: a.review_date),
    Column("Reason", lambda a: a.reason),
    Column("Finished", lambda a: a.finished_at),
]


def _affairs(pk: int) -> AffairsCase:
    return get_object_or_404(AffairsCase.objects.select_related("case", "case__client", "case__team",
                                                                "case__assigned_officer", "deputy"), pk=pk)


def _affairs_url(affairs: AffairsCase) -> str:
    return reverse("casework:affairs_detail", args=[affairs.pk])


@role_required(AFFAIRS_READERS)
def affairs_list(request):
    selected = {name: request.GET.get(name, "").strip()[:20] for name in ("kind", "status", "officer")}
    if selected["kind"] not in AffairsKind.values:
        selected["kind"] = ""
    if selected["status"] not in AffairsStatus.values:
        selected["status"] = ""
    queryset = selectors.affairs_list(user=request.user, **selected)
    fmt = requested_format(request)
    if fmt:
        return personal_export_response(request, queryset.iterator(), LIST_COLUMNS, "financial-affairs", fmt,
                                        client_of=lambda affairs: affairs.case.client_id)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    log_record_views(request, [affairs.case.client_id for affairs in page])
    return render(request, "casework/affairs/list.html", {
        "page_obj": page, "total": queryset.count(),
        "selected": selected, "kinds": AffairsKind.choices, "statuses": AffairsStatus.choices,
        "officers": [("me", "Me"), ("none", "Unassigned")]
        + [(o.pk, o.get_full_name() or o.username) for o in officer_choices()],
        "today": timezone.localdate(),
    })


@role_required(AFFAIRS_READERS)
def affairs_detail(request, pk: int):
    affairs = _affairs(pk)
    client = affairs.case.client
    log_record_views(request, client)
    can_work = has_any_role(request.user, AFFAIRS_WORKERS) and affairs.is_active
    return render(request, "casework/affairs/detail.html", {
        "affairs": affairs, "case": affairs.case, "client": client, "checklist": selectors.checklist(affairs),
        "costs": list(affairs.costs.select_related("ledger_entry", "recorded_by")),
        "assessments": list(client.capacity_assessments.select_related("recorded_by")[:5]),
        "can_work": can_work, "can_change_status": bool(affairs.ALLOWED_TRANSITIONS[affairs.status])
        and has_any_role(request.user, AFFAIRS_WORKERS),
        "can_record_capacity": has_any_role(request.user, CAPACITY_RECORDERS),
        "today": timezone.localdate(),
    })


def _form_page(request, affairs: AffairsCase, form, title: str, summary=None):
    log_record_views(request, affairs.case.client_id)
    return render(request, "casework/form_page.html", {
        "form": form, "title": title, "back_url": _affairs_url(affairs), "multipart": True, "summary": summary,
        "caption": f"{affairs.reference} – {affairs.case.client.full_name}"})


@role_required(AFFAIRS_WORKERS)
def affairs_step(request, pk: int, code: str):
    """Record one checklist step; the step's `capture` decides the form."""
    affairs = _affairs(pk)
    definition = next((row.definition for row in selectors.checklist(affairs) if row.definition.code == code
                       and row.step is None and row.definition.active), None)
    if definition is None or not affairs.is_active:
        raise Http404("No step to record here")
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    summary = [("Step", definition.label)] + ([("Guidance", definition.hint)] if definition.hint else [])
    if definition.capture == StepCapture.FEE:
        form = FeeForm(data, files)
        rate = services.fee_on(services.APPLICATION_FEE_CODE, timezone.localdate())
        if rate:
            summary.append(("Standard fee today", f"£{rate.amount:,.2f} (from {rate.effective_from:%d %B %Y})"))
        action = lambda d: services.affairs_record_fee(  # noqa: E731
            affairs=affairs, outcome=d["outcome"], done_on=d["done_on"], amount_paid=d["amount_paid"],
            note=d["note"], upload=d["document"], actor=request.user)
    elif definition.capture == StepCapture.DEPUTY:
        form = DeputyForm(data, files)
        action = lambda d: services.affairs_appoint_deputy(  # noqa: E731
            affairs=affairs, actor=request.user, upload=d.pop("document"), **d)
    elif definition.capture == StepCapture.COSTS:
        form = CostsForm(data, files)
        action = lambda d: services.affairs_recover_costs(  # noqa: E731
            affairs=affairs, amount=d["amount"], effective_date=d["effective_date"], reason=d["reason"],
            upload=d["document"], actor=request.user) or True
    else:
        form = StepForm(data, files, definition=definition)
        action = lambda d: services.affairs_complete_step(  # noqa: E731
            affairs=affairs, code=code, done_on=d["done_on"], note=d["note"], upload=d["document"], actor=request.user)
    if handle(request, form, action):
        messages.success(request, f"Recorded: {definition.label}")
        return redirect(_affairs_url(affairs))
    return _form_page(request, affairs, form, definition.label, summary)


@role_required(AFFAIRS_WORKERS)
def affairs_costs(request, pk: int):
    """Charge further section 47 costs once the costs step is done."""
    affairs = _affairs(pk)
    if affairs.kind != AffairsKind.PROTECTION_OF_PROPERTY or not affairs.is_active:
        raise Http404("Costs are charged only on an active protection of property case")
    form = CostsForm(request.POST or None, request.FILES or None)
    form.fields["amount"].required = True
    if handle(request, form, lambda d: services.affairs_recover_costs(
            affairs=affairs, amount=d["amount"], effective_date=d["effective_date"], reason=d["reason"],
            upload=d["document"], actor=request.user)):
        messages.success(request, "Costs charged to the client's account")
        return redirect(_affairs_url(affairs))
    return _form_page(request, affairs, form, "Charge further costs")


@role_required(AFFAIRS_WORKERS)
def affairs_status(request, pk: int):
    affairs = _affairs(pk)
    form = AffairsStatusForm(request.POST or None, affairs=affairs)
    if handle(request, form, lambda d: services.affairs_transition(affairs=affairs, to_status=d["status"],
                                                                   reason=d["reason"], actor=request.user)):
        messages.success(request, "Status changed")
        return redirect(_affairs_url(affairs))
    missing = services.missing_required_steps(affairs)
    summary = [("Status", affairs.get_status_display())]
    if missing and affairs.is_active:
        summary.append(("Not yet done", "; ".join(d.label for d in missing)))
    return _form_page(request, affairs, form, f"Change the status of {affairs.reference}", summary)


@role_required(CAPACITY_READERS)
def affairs_client(request, pk: int):
    """A client's financial affairs cases and capacity assessments."""
    client = get_object_or_404(Client, pk=pk)
    log_record_views(request, client)
    return render(request, "casework/affairs/client.html", {
        "client": client,
        "affairs_cases": list(AffairsCase.objects.filter(case__client=client).select_related("case")),
        "assessments": list(client.capacity_assessments.select_related("recorded_by", "evidence")),
        "can_start": has_any_role(request.user, AFFAIRS_WORKERS) and not client.date_of_death,
        "can_read_affairs": has_any_role(request.user, AFFAIRS_READERS),
        "can_record_capacity": has_any_role(request.user, CAPACITY_RECORDERS),
    })


@role_required(AFFAIRS_WORKERS)
def affairs_start(request, pk: int):
    client = get_object_or_404(Client, pk=pk)
    kind = request.GET.get("kind", "")
    titles = {AffairsKind.APPOINTEESHIP: "Appointeeship: benefits management",
              AffairsKind.DEPUTYSHIP: "Court of Protection deputyship application",
              AffairsKind.PROTECTION_OF_PROPERTY: "Protection of property",
              AffairsKind.FINANCE_ONLY: "Finance only"}
    initial = {"team": request.user.teams.first(), "assigned_officer": request.user,
               "kind": kind if kind in AffairsKind.values else None, "title": titles.get(kind, "")}
    form = AffairsStartForm(request.POST or None, initial=initial)
    affairs = handle(request, form, lambda d: services.affairs_start(client=client, actor=request.user, **d))
    if affairs:
        messages.success(request, f"{affairs.get_kind_display()} case {affairs.reference} started")
        return redirect(_affairs_url(affairs))
    log_record_views(request, client)
    return render(request, "casework/form_page.html", {
        "form": form, "title": f"Start a financial affairs case for {client.full_name}",
        "back_url": reverse("casework:affairs_client", args=[client.pk]), "caption": client.reference})


@role_required(CAPACITY_RECORDERS)
def capacity_record(request, pk: int):
    client = get_object_or_404(Client, pk=pk)
    form = CapacityAssessmentForm(request.POST or None, request.FILES or None)
    assessment = handle(request, form, lambda d: services.capacity_assessment_record(
        client=client, assessed_on=d["assessed_on"], assessor=d["assessor"], decision=d["decision"],
        outcome=d["outcome"], note=d["note"], upload=d["document"], actor=request.user))
    if assessment:
        messages.success(request, "Capacity assessment recorded")
        return redirect("casework:affairs_client", pk=client.pk)
    current = (f"{client.get_capacity_display()}" + (f" (assessed {client.capacity_assessed_on:%d %B %Y})"
                                                       if client.capacity_assessed_on else ""))
    log_record_views(request, client)
    return render(request, "casework/form_page.html", {
        "form": form, "title": "Record a mental capacity assessment", "multipart": True,
        "caption": f"{client.full_name} ({client.reference})", "summary": [("Current record", current)],
        "back_url": reverse("casework:affairs_client", args=[client.pk])})


def case_affairs_panel(case, request):
    """On the casework case page: a link to the affairs case and its progress."""
    if case.case_type not in (CaseType.FINANCIAL_AFFAIRS, CaseType.PROTECTION_OF_PROPERTY, CaseType.FINANCE_ONLY):
        return None
    affairs = AffairsCase.objects.filter(case=case).first()
    if affairs is None or not has_any_role(request.user, AFFAIRS_READERS):
        return None
    rows = selectors.checklist(affairs)
    return {"title": "Financial affairs", "template": "casework/affairs/case_panel.html", "context": {
        "affairs": affairs, "done": sum(1 for r in rows if r.done), "total": len(rows)}}
