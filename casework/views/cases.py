from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from casework import services
from casework.correspondence import letter_recipient
from casework.forms import AssignForm, CaseForm, DocumentForm, HoldForm, StatusForm, TaskForm, TimelineEntryForm
from casework.models import Case, Document, Task
from casework.panels import panels_for
from casework.roles import CASEWORKERS, QUEUE_MANAGERS, READERS, has_any_role

from .access import log_record_views, role_required
from .forms import handle

TIMELINE_LIMIT = 100


def _case(pk: int) -> Case:
    return get_object_or_404(Case.objects.select_related("client", "team", "assigned_officer"), pk=pk)


def case_url(case: Case) -> str:
    return reverse("casework:case_detail", args=[case.pk])


@role_required(CASEWORKERS)
def case_create(request, pk: int):
    from casework.models import Client

    client = get_object_or_404(Client, pk=pk)
    initial = {"team": request.user.teams.first(), "assigned_officer": request.user}
    form = CaseForm(request.POST or None, initial=initial)
    case = handle(request, form, lambda d: services.case_create(client=client, actor=request.user, **d))
    if case:
        messages.success(request, f"Case {case.reference} opened")
        return redirect(case_url(case))
    log_record_views(request, client)
    return render(request, "casework/form_page.html", {"form": form, "title": f"Open a case for {client.full_name}",
                                                        "back_url": reverse("casework:client_detail", args=[client.pk])})


@role_required(READERS)
def case_detail(request, pk: int):
    case = _case(pk)
    log_record_views(request, case.client)
    timeline = list(case.timeline.select_related("actor", "document")[:TIMELINE_LIMIT])
    representatives = list(case.client.representatives.all())
    can_work = has_any_role(request.user, CASEWORKERS)
    context = {
        "case": case,
        "client": case.client,
        "timeline": timeline,
        "timeline_truncated": len(timeline) == TIMELINE_LIMIT,
        "tasks": list(case.tasks.select_related("assigned_to", "completed_by")),
        "documents": list(case.documents.select_related("uploaded_by")),
        "recipient": letter_recipient(case.client, representatives=representatives),
        "note_form": TimelineEntryForm() if can_work else None,
        "can_work": can_work,
        "can_assign": has_any_role(request.user, QUEUE_MANAGERS),
        "today": timezone.localdate(),
        "panels": panels_for(case, request),
    }
    return render(request, "casework/case_detail.html", context)


def _case_form_page(request, case, form, title):
    log_record_views(request, case.client_id)
    return render(request, "casework/form_page.html", {"form": form, "title": title, "back_url": case_url(case),
                                                        "caption": f"{case.reference} – {case.client.full_name}"})


@role_required(CASEWORKERS)
def case_note(request, pk: int):
    case = _case(pk)
    form = TimelineEntryForm(request.POST or None)
    if handle(request, form, lambda d: services.timeline_add(case=case, actor=request.user, **d)):
        messages.success(request, "Added to the timeline")
        return redirect(case_url(case))
    return _case_form_page(request, case, form, "Add to the timeline")


@role_required(CASEWORKERS)
def case_status(request, pk: int):
    case = _case(pk)
    form = StatusForm(request.POST or None, case=case)
    if handle(request, form, lambda d: services.case_transition(case=case, to_status=d["status"], actor=request.user,
                                                                reason=d["reason"])):
        messages.success(request, "Status changed")
        return redirect(case_url(case))
    return _case_form_page(request, case, form, f"Change the status of {case.reference}")


@role_required(QUEUE_MANAGERS)
def case_assign(request, pk: int):
    case = _case(pk)
    form = AssignForm(request.POST or None, initial={"officer": case.assigned_officer})
    if handle(request, form, lambda d: services.case_assign(case=case, officer=d["officer"], team=d["team"],
                                                            actor=request.user)):
        messages.success(request, "Case assigned")
        return redirect(case_url(case))
    return _case_form_page(request, case, form, f"Assign {case.reference}")


@role_required(CASEWORKERS)
@require_POST
def case_take(request, pk: int):
    """An officer picks up a case from the queue."""
    case = _case(pk)
    services.case_assign(case=case, officer=request.user, actor=request.user)
    messages.success(request, f"{case.reference} is now assigned to you")
    return redirect(case_url(case))


@role_required(CASEWORKERS)
def case_hold(request, pk: int):
    case = _case(pk)
    form = HoldForm(request.POST or None)
    if handle(request, form, lambda d: services.case_hold(case=case, actor=request.user, **d)):
        messages.success(request, "Case put on hold")
        return redirect(case_url(case))
    return _case_form_page(request, case, form, f"Put {case.reference} on hold")


@role_required(CASEWORKERS)
@require_POST
def case_release(request, pk: int):
    case = _case(pk)
    try:
        services.case_release_hold(case=case, actor=request.user)
        messages.success(request, "Hold released")
    except services.DomainError as exc:
        messages.error(request, exc.message)
    return redirect(case_url(case))


@role_required(CASEWORKERS)
def task_create(request, pk: int):
    case = _case(pk)
    form = TaskForm(request.POST or None)
    if handle(request, form, lambda d: services.task_create(case=case, actor=request.user, **d)):
        messages.success(request, "Task added")
        return redirect(case_url(case))
    return _case_form_page(request, case, form, f"Add a task to {case.reference}")


@role_required(CASEWORKERS)
@require_POST
def task_complete(request, pk: int):
    task = get_object_or_404(Task, pk=pk)
    services.task_complete(task=task, actor=request.user)
    messages.success(request, f"Task done: {task.title}")
    target = request.POST.get("next", "")
    return redirect(target if target in (reverse("casework:my_work"),) else case_url(task.case))


@role_required(CASEWORKERS)
def document_upload(request, pk: int):
    case = _case(pk)
    form = DocumentForm(request.POST or None, request.FILES or None)
    if handle(request, form, lambda d: services.document_upload(case=case, upload=d["file"],
                                                                description=d["description"], actor=request.user)):
        messages.success(request, "Document uploaded")
        return redirect(case_url(case))
    log_record_views(request, case.client_id)
    return render(request, "casework/form_page.html", {"form": form, "title": f"Upload a document to {case.reference}",
                                                        "back_url": case_url(case), "multipart": True})


@role_required(READERS)
def document_download(request, pk: int):
    """Documents are kept outside the web root and reach a browser only through this check."""
    doc = get_object_or_404(Document, pk=pk)
    log_record_views(request, doc.client_id)
    try:
        handle_ = doc.file.open("rb")
    except FileNotFoundError:
        raise Http404("The document's file is missing")
    response = FileResponse(handle_, content_type=doc.content_type, as_attachment=True, filename=doc.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    return response
