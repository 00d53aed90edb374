"""The committed-spend forecast in the integration API, read only: one JSON summary of a financial
year by month and service type (provider_payments.forecast computes it, as the web page does)."""
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.viewsets import ViewSet

from casework.api.views import API_READERS

from .. import forecast as fc


class CommittedSpendForecastFilterSerializer(serializers.Serializer):
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100,
                                    help_text="The calendar year the financial year starts in (2026 for 2026/27)")
    service_type = serializers.IntegerField(required=False, min_value=1)
    area = serializers.RegexField(r"^(\d+|none)$", required=False, help_text="An area id, or 'none' for no area")
    team = serializers.RegexField(r"^(\d+|none)$", required=False, help_text="A team id, or 'none' for no team")


class CommittedSpendAmountsSerializer(serializers.Serializer):
    actual = serializers.DecimalField(max_digits=15, decimal_places=2, help_text="Paid so far")
    committed = serializers.DecimalField(max_digits=15, decimal_places=2, help_text="Approved packages from today")
    outturn = serializers.DecimalField(max_digits=15, decimal_places=2, help_text="actual + committed")
    provisional = serializers.DecimalField(max_digits=15, decimal_places=2, help_text="Provisional packages, apart")


class CommittedSpendMonthSerializer(CommittedSpendAmountsSerializer):
    month = serializers.DateField(help_text="First day of the month")
    service_type = serializers.IntegerField(allow_null=True)
    service_type_name = serializers.CharField()


@extend_schema_serializer(many=False)  # the list action answers one summary, not an array of them
class CommittedSpendForecastSerializer(serializers.Serializer):
    financial_year = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    forecast_from = serializers.DateField()
    package_count = serializers.IntegerField()
    unpriced_packages = serializers.ListField(child=serializers.CharField())
    totals = CommittedSpendAmountsSerializer()
    months = CommittedSpendMonthSerializer(many=True)


def _amounts(row: fc.ForecastRow) -> dict:
    return {"actual": row.actual, "committed": row.committed, "outturn": row.outturn, "provisional": row.provisional}


class CommittedSpendForecastViewSet(ViewSet):
    """The committed-spend forecast of a financial year, by month and service type."""

    client_path = None  # totals by month and service type, no one's data
    read_roles = API_READERS
    write_roles: frozenset = frozenset()

    @extend_schema(summary="Committed-spend forecast by month and service type",
                   parameters=[CommittedSpendForecastFilterSerializer],
                   responses=CommittedSpendForecastSerializer)
    def list(self, request):
        params = CommittedSpendForecastFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        today = timezone.localdate()

        def choice(name):
            value = data.get(name)
            return value if value in (None, fc.NONE) else int(value)

        report = fc.forecast(fc.Filters(year=data.get("year") or fc.financial_year_of(today),
                                        service_type=data.get("service_type"), area=choice("area"),
                                        team=choice("team")), today)
        body = {"financial_year": report.label, "start": report.start, "end": report.end,
                "forecast_from": report.forecast_from, "package_count": report.package_count,
                "unpriced_packages": report.unpriced, "totals": _amounts(report.total),
                "months": [{"month": month, "service_type": row.key, "service_type_name": row.group, **_amounts(row)}
                           for month, row in report.by_month_and_service]}
        return Response(CommittedSpendForecastSerializer(body).data)
