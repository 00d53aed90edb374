"""Deaths: confirm what happens now, a death's record and its reversal, and the list of deaths."""
from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from casework.correspondence import letter_recipient
from casework.exports import Column, personal_export_response, requested_format
from casework.models.deaths import ConsequenceStatus, DeathRecord, DeathRecordStatus
from casework.roles import has_any_role
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from .forms import DeathConfirmForm, DeathReverseForm
from .registry import HANDLERS
from .roles import DEATH_CONFIRMERS, DEATH_REVERSERS, DEATH_VIEWERS
from .services import Decision, death_apply_all, death_reverse, why_cannot_confirm


def _death(pk: int) -> DeathRecord:
    return get_object_or_404(DeathRecord.objects.select_related("client", "recorded_by", "reversed_by"), pk=pk)


def _label(kind: str, app_label: str) -> str:
    handler = HANDLERS.get(kind)
    return handler.label if handler else app_label.replace("_", " ").capitalize()


def _grouped(rows) -> list[tuple[str, list]]:
    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(_label(row.kind, row.app_label), []).append(row)
    return list(groups.items())


@role_required(DEATH_CONFIRMERS)
def death_confirm(request, pk: int):
    """Confirm what happens now: every proposed consequence, ticked to apply, with a note. A credit
    this user may not confirm (the death is not verified, and they recorded it or may not approve
    it) is shown as waiting for someone else, with no box to tick: it stays proposed."""
    death = _death(pk)
    proposed = list(death.consequences.filter(status=ConsequenceStatus.PROPOSED).select_related("death"))
    if death.status != DeathRecordStatus.RECORDED:
        messages.info(request, "This death was reversed as recorded in error: nothing is waiting for confirmation")
        return redirect("casework:death_detail", pk=death.pk)
    waiting = {row.pk: reason for row in proposed if (reason := why_cannot_confirm(row, request.user))}
    proposed = [row for row in proposed if row.pk not in waiting] + [row for row in proposed if row.pk in waiting]
    form = DeathConfirmForm(request.POST or None, consequences=[row for row in proposed if row.pk not in waiting])
    refused: dict[int, str] = {}
    if request.method == "POST" and form.consequences and form.is_valid():
        decisions = [Decision(row, apply, note) for row, apply, note in form.decisions()]
        refused = death_apply_all(death=death, decisions=decisions, actor=request.user)
        applied = sum(1 for d in decisions if d.apply and d.consequence.pk not in refused)
        if not refused:
            others = f"; {len(waiting)} waiting for someone else to confirm" if waiting else ""
            messages.success(request, f"{applied} applied, {len(decisions) - applied} not applied{others}")
            return redirect("casework:death_detail", pk=death.pk)
        proposed = list(death.consequences.filter(status=ConsequenceStatus.PROPOSED))
        for pk, message in refused.items():
            if pk not in {row.pk for row in proposed}:  # decided meanwhile by someone else
                messages.warning(request, message)
        form = DeathConfirmForm(request.POST, consequences=[row for row in proposed if row.pk not in waiting])
        form.is_valid()
    rows = []
    for row in proposed:
        ticked = form.cleaned_data.get(f"apply_{row.pk}", True) if form.is_bound and hasattr(form, "cleaned_data") else True
        note = form.cleaned_data.get(f"note_{row.pk}", "") if form.is_bound and hasattr(form, "cleaned_data") else ""
        rows.append({"row": row, "ticked": ticked, "note": note, "error": refused.get(row.pk) or row.error,
                     "waiting": waiting.get(row.pk, "")})
    groups: dict[str, list] = {}
    for item in rows:
        groups.setdefault(_label(item["row"].kind, item["row"].app_label), []).append(item)
    log_record_views(request, death.client_id)
    return render(request, "casework/deaths/confirm.html", {
        "death": death, "client": death.client, "groups": list(groups.items()),
        "errors": [item for item in rows if item["error"]],
        "decidable": any(not item["waiting"] for item in rows),
        "recipient": letter_recipient(death.client),
    })


@role_required(DEATH_VIEWERS)
def death_detail(request, pk: int):
    death = _death(pk)
    consequences = list(death.consequences.select_related("decided_by", "reversed_by"))
    can_reverse = death.status == DeathRecordStatus.RECORDED and has_any_role(request.user, DEATH_REVERSERS)
    log_record_views(request, death.client_id)
    return render(request, "casework/deaths/detail.html", {
        "death": death, "client": death.client, "groups": _grouped(consequences),
        "awaiting": sum(1 for c in consequences if c.status == ConsequenceStatus.PROPOSED),
        "can_confirm": death.status == DeathRecordStatus.RECORDED and has_any_role(request.user, DEATH_CONFIRMERS),
        "reverse_form": DeathReverseForm() if can_reverse else None,
        "recipient": letter_recipient(death.client),
    })


@role_required(DEATH_REVERSERS)
def death_reverse_view(request, pk: int):
    death = _death(pk)
    if death.status != DeathRecordStatus.RECORDED:
        messages.info(request, "This death has already been reversed")
        return redirect("casework:death_detail", pk=death.pk)
    form = DeathReverseForm(request.POST or None)
    if handle(request, form, lambda d: death_reverse(death=death, reason=d["reason"], actor=request.user)):
        messages.success(request, f"The death of {death.client.full_name} was reversed as recorded in error")
        return redirect("casework:death_detail", pk=death.pk)
    log_record_views(request, death.client_id)
    return render(request, "casework/form_page.html", {
        "form": form, "title": f"Reverse the death of {death.client.full_name}: recorded in error",
        "back_url": reverse("casework:death_detail", args=[death.pk]),
        "summary": [("Date of death", f"{death.date_of_death:%d %B %Y}"),
                    ("What happens", "Every applied consequence is reversed (credits re-billed, holds lifted), "
                                     "the client's date of death is cleared and the record kept as reversed.")]})


DEATH_COLUMNS = [
    Column("Client reference", lambda d: d.client.reference),
    Column("Client", lambda d: d.client.full_name),
    Column("Date of death", lambda d: d.date_of_death),
    Column("Source", lambda d: d.get_source_display()),
    Column("Verified", lambda d: d.verified),
    Column("Status", lambda d: d.get_status_display()),
    Column("Recorded by", lambda d: d.recorded_by.get_username()),
    Column("Recorded at", lambda d: d.recorded_at),
    Column("Awaiting confirmation", lambda d: d.awaiting),
    Column("Applied", lambda d: d.applied),
    Column("Not applied", lambda d: d.declined),
    Column("Reversed by", lambda d: d.reversed_by.get_username() if d.reversed_by_id else ""),
    Column("Reversed at", lambda d: d.reversed_at),
    Column("Reason for reversal", lambda d: d.reversal_reason),
]
SHOW = {"all": "All deaths", "awaiting": "Consequences awaiting confirmation", "recorded": "Recorded",
        "reversed": "Reversed (recorded in error)"}


def deaths_queryset(show: str):
    """Deaths with counts of their consequences by status; `show` picks the list's filter."""
    rows = DeathRecord.objects.select_related("client", "recorded_by", "reversed_by").annotate(
        awaiting=Count("consequences", filter=Q(consequences__status=ConsequenceStatus.PROPOSED)),
        applied=Count("consequences", filter=Q(consequences__status=ConsequenceStatus.APPLIED)),
        declined=Count("consequences", filter=Q(consequences__status=ConsequenceStatus.DECLINED)),
    )
    if show == "awaiting":
        rows = rows.filter(status=DeathRecordStatus.RECORDED, awaiting__gt=0)
    elif show in (DeathRecordStatus.RECORDED, DeathRecordStatus.REVERSED):
        rows = rows.filter(status=show)
    return rows.order_by("-recorded_at", "-id")


@role_required(DEATH_VIEWERS)
def death_list(request):
    show = request.GET.get("show", "all")
    if show not in SHOW:
        show = "all"
    rows = deaths_queryset(show)
    fmt = requested_format(request)
    if fmt:
        return personal_export_response(request, rows.iterator(), DEATH_COLUMNS, "deaths", fmt)
    deaths = list(rows[:500])
    log_record_views(request, deaths)
    return render(request, "casework/deaths/list.html", {
        "deaths": deaths, "show": show, "choices": SHOW.items(),
        "awaiting_count": deaths_queryset("awaiting").count()})
