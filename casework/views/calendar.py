"""The working-days page: the non-working days (bank holidays and council closures) by year with
their source; a finance administrator adds a closure day, withdraws a day or restores one, each with
a reason (casework.services.working_days holds the writes). Team leaders and auditors may look."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from casework.exports import Column, export_response, requested_format
from casework.forms import WorkingDayAddForm, WorkingDayReasonForm
from casework.models import NonWorkingDay
from casework.roles import Role
from casework.services.working_days import non_working_day_add, non_working_day_withdraw
from casework.views.access import role_required
from casework.views.forms import handle

#: Who keeps the calendar.
CALENDAR_KEEPERS = frozenset({Role.FINANCE_ADMINISTRATOR})
#: Who may see it.
CALENDAR_VIEWERS = CALENDAR_KEEPERS | {Role.TEAM_LEADER, Role.AUDITOR}

COLUMNS = [
    Column("Date", lambda d: d.day),
    Column("Day", lambda d: f"{d.day:%A}"),
    Column("Name", lambda d: d.name),
    Column("Kind", lambda d: d.get_kind_display()),
    Column("Status", lambda d: "Withdrawn: a working day" if d.withdrawn else "Not a working day"),
    Column("Source", lambda d: d.source),
    Column("Reason", lambda d: d.reason),
    Column("Changed by", lambda d: (d.changed_by.get_full_name() or d.changed_by.username) if d.changed_by else ""),
]


def _year(request) -> int:
    try:
        return int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year


@role_required(CALENDAR_VIEWERS)
def working_days(request):
    year = _year(request)
    days = NonWorkingDay.objects.filter(day__year=year).select_related("changed_by").order_by("day")
    if fmt := requested_format(request):
        return export_response(days, COLUMNS, f"non-working-days-{year}", fmt)
    years = sorted(set(NonWorkingDay.objects.dates("day", "year").values_list("day__year", flat=True))
                   | {timezone.localdate().year})
    keeper = bool(CALENDAR_KEEPERS & set(request.user.groups.values_list("name", flat=True)))
    return render(request, "casework/calendar/working_days.html", {
        "title": f"Non-working days in {year}", "year": year, "years": years, "days": days,
        "keeper": keeper, "columns": COLUMNS})


@role_required(CALENDAR_KEEPERS)
def working_day_add(request):
    form = WorkingDayAddForm(request.POST or None)
    added = handle(request, form, lambda d: non_working_day_add(day=d["day"], name=d["name"], kind=d["kind"],
                                                                 reason=d["reason"], user=request.user))
    if added:
        messages.success(request, f"{added.day:%A %d %B %Y} ({added.name}) is now a non-working day")
        return redirect(f"{reverse('casework:working_days')}?year={added.day.year}")
    return render(request, "casework/form_page.html", {"form": form, "title": "Add a non-working day",
                                                       "back_url": reverse("casework:working_days")})


def _change(request, pk: int, *, withdraw: bool):
    row = get_object_or_404(NonWorkingDay, pk=pk)
    form = WorkingDayReasonForm(request.POST or None)
    if withdraw:
        form.submit_label = "Withdraw the day"
        done = handle(request, form, lambda d: non_working_day_withdraw(day=row, reason=d["reason"], user=request.user))
    else:
        form.submit_label = "Restore the day"
        done = handle(request, form, lambda d: non_working_day_add(day=row.day, name=row.name, kind=row.kind,
                                                                    reason=d["reason"], user=request.user))
    if done:
        messages.success(request, f"{row.day:%A %d %B %Y} is now " + ("a working day" if withdraw else
                                                                        "a non-working day again"))
        return redirect(f"{reverse('casework:working_days')}?year={row.day.year}")
    summary = [("Date", f"{row.day:%A %d %B %Y}"), ("Name", row.name), ("Kind", row.get_kind_display()),
               ("Source", row.source)]
    title = f"{'Withdraw' if withdraw else 'Restore'} {row.name}"
    return render(request, "casework/form_page.html", {"form": form, "title": title, "summary": summary,
                                                       "back_url": f"{reverse('casework:working_days')}?year={row.day.year}"})


@role_required(CALENDAR_KEEPERS)
def working_day_withdraw(request, pk: int):
    return _change(request, pk, withdraw=True)


@role_required(CALENDAR_KEEPERS)
def working_day_restore(request, pk: int):
    return _change(request, pk, withdraw=False)
