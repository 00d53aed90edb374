"""The committed-spend forecast page: filters, tables, a chart and CSV/XLSX export. Thin: parse the
filters, call provider_payments.forecast once, lay out what it returns."""
from django import forms
from django.shortcuts import render
from django.utils import timezone

from casework.exports import MONEY, Column, export_response, requested_format
from casework.models import Area, Team
from casework.views.access import role_required

from .. import forecast as fc
from ..models import ServiceType
from .common import VIEWERS

#: Years offered: this many before the current financial year, and the next one.
YEARS_BACK = 3
CHART_WIDTH = 420
BAR_HEIGHT = 30

EXPORT_COLUMNS = [
    Column("Grouped by", lambda r: r[0]),
    Column("Group", lambda r: r[1].group),
    Column("Paid so far", lambda r: r[1].actual, kind=MONEY),
    Column("Committed forecast", lambda r: r[1].committed, kind=MONEY),
    Column("Expected outturn", lambda r: r[1].outturn, kind=MONEY),
    Column("Provisional placements", lambda r: r[1].provisional, kind=MONEY),
    Column("Outturn with provisional", lambda r: r[1].with_provisional, kind=MONEY),
]


class ForecastFilterForm(forms.Form):
    year = forms.TypedChoiceField(label="Financial year", coerce=int, required=False, empty_value=None)
    service = forms.ChoiceField(label="Service type", required=False)
    area = forms.ChoiceField(label="Area", required=False)
    team = forms.ChoiceField(label="Team", required=False)

    def __init__(self, data, *, current_year: int):
        super().__init__(data)
        self.current_year = current_year
        self.fields["year"].choices = [(y, fc.year_label(y)) for y in range(current_year - YEARS_BACK, current_year + 2)]
        self.fields["service"].choices = [("", "All")] + [(str(pk), name) for pk, name in
                                                           ServiceType.objects.values_list("pk", "name")]
        self.fields["area"].choices = ([("", "All")] + [(str(pk), name) for pk, name in Area.objects.values_list("pk", "name")]
                                       + [(fc.NONE, fc.NO_AREA)])
        self.fields["team"].choices = ([("", "All")] + [(str(pk), name) for pk, name in Team.objects.values_list("pk", "name")]
                                       + [(fc.NONE, fc.NO_TEAM)])

    def filters(self) -> fc.Filters:
        """The filters chosen, or every default where the form is not valid (bad input never fails)."""
        data = self.cleaned_data if self.is_valid() else {}

        def choice(name):
            value = data.get(name) or None
            return value if value in (None, fc.NONE) else int(value)

        return fc.Filters(year=data.get("year") or self.current_year, service_type=choice("service"),
                          area=choice("area"), team=choice("team"))


def _export_rows(report: fc.ForecastReport) -> list[tuple]:
    return ([("Month", r) for r in report.by_month] + [("Service type", r) for r in report.by_service]
            + [("Area", r) for r in report.by_area] + [("Team", r) for r in report.by_team]
            + [("Month and service type", fc.ForecastRow(f"{m:%B %Y}: {r.group}", r.actual, r.committed, r.provisional))
               for m, r in report.by_month_and_service]
            + [("Total", report.total)])


def _chart(rows: list[fc.ForecastRow]) -> list[dict]:
    """Bars per month: paid, committed and provisional end to end, scaled to the largest month."""
    largest = max((r.actual + r.committed + r.provisional for r in rows), default=0) or 1
    chart = []
    for i, row in enumerate(rows):
        widths = [float(amount / largest) * CHART_WIDTH for amount in (row.actual, row.committed, row.provisional)]
        chart.append({"label": row.group, "y": i * BAR_HEIGHT, "actual": widths[0], "committed": widths[1],
                      "provisional": widths[2], "committed_x": 140 + widths[0],
                      "provisional_x": 140 + widths[0] + widths[1], "text_x": 146 + sum(widths),
                      "amount": row.with_provisional})
    return chart


@role_required(VIEWERS)
def forecast_page(request):
    today = timezone.localdate()
    form = ForecastFilterForm(request.GET, current_year=fc.financial_year_of(today))
    filters = form.filters()
    report = fc.forecast(filters, today)
    if fmt := requested_format(request):
        return export_response(_export_rows(report), EXPORT_COLUMNS, f"committed-spend-{report.label.replace('/', '-')}", fmt)
    by_month = report.by_month
    chart = _chart(by_month)
    return render(request, "provider_payments/forecast.html", {
        "form": form, "selected": {"year": str(filters.year), "service": str(filters.service_type or ""),
                                   "area": str(filters.area or ""), "team": str(filters.team or "")},
        "report": report, "by_month": by_month, "total": report.total, "chart": chart,
        "chart_height": len(chart) * BAR_HEIGHT, "team_rule": fc.TEAM_RULE,
        "sections": [("By service type", "Service type", report.by_service), ("By area", "Area", report.by_area),
                     ("By team", "Team", report.by_team)]})
