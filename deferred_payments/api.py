"""The deferred payments API on /api/v1/: agreements (read, and open one as an enquiry),
valuations (read, and add one: the equity limit is recomputed), the national maximum interest
rates by half-year (read) and statements (read). Every write calls one service.

Names: api:dpa-agreement-list/-detail, api:dpa-valuation-list/-detail, api:dpa-rate-list/-detail,
api:dpa-statement-list/-detail.
"""
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import GenericViewSet

from casework.api.serializers import MoneyOutField, domain_errors
from casework.api.views import API_READERS, ApiViewSet, RecordViewsMixin
from casework.models import Client, Team
from casework.roles import Role

from . import services
from .models import Agreement, NationalMaximumRate, Statement, Valuation

#: Who may open agreements and add valuations through the API.
DPA_API_WRITERS = frozenset({Role.DEFERRED_PAYMENT_OFFICER, Role.TEAM_LEADER, Role.SYSTEM_ACCOUNT})


class AgreementFilterSerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, min_value=1, help_text="Client id")
    state = serializers.CharField(required=False, help_text="State code, such as active")


class DeferredPaymentAgreementSerializer(serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all(), help_text="Client id")
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), write_only=True, help_text="Team id")
    reference = serializers.CharField(read_only=True)
    weekly_deferral = MoneyOutField()
    balance = MoneyOutField()
    equity_limit = serializers.SerializerMethodField()

    class Meta:
        model = Agreement
        fields = ["id", "reference", "client", "team", "state", "termination_reason", "care_home", "weekly_care_cost",
                  "weekly_contribution", "weekly_top_up", "weekly_deferral", "compounding", "day_basis",
                  "fee_treatment", "enquiry_on", "applied_on", "offered_on", "signed_on", "start_date",
                  "terminated_on", "due_date", "repaid_on", "balance", "equity_limit"]
        read_only_fields = [f for f in fields if f not in ("client", "team", "care_home", "enquiry_on")]
        # Blank until the agreement is terminated: the schema's enum includes "".
        extra_kwargs = {"termination_reason": {"allow_blank": True}}

    def get_equity_limit(self, agreement) -> str:
        position = services.equity_position(agreement, timezone.localdate(), total_owed=agreement.balance or 0)
        return str(position.limit)

    def create(self, validated_data):
        with domain_errors():
            agreement = services.agreement_create(actor=self.context["request"].user, **validated_data)
        agreement.balance = Decimal("0")  # nothing deferred yet
        return agreement


class ValuationSerializer(serializers.ModelSerializer):
    agreement = serializers.PrimaryKeyRelatedField(queryset=Agreement.objects.all(), write_only=True)
    agreement_id = serializers.IntegerField(source="property.agreement_id", read_only=True)

    class Meta:
        model = Valuation
        fields = ["id", "agreement", "agreement_id", "valued_on", "value", "valuer", "recorded_at"]
        read_only_fields = ["recorded_at"]

    def create(self, validated_data):
        with domain_errors():
            return services.valuation_add(actor=self.context["request"].user, **validated_data)


class DeferredInterestRateSerializer(serializers.ModelSerializer):
    period_end = serializers.DateField(read_only=True)

    class Meta:
        model = NationalMaximumRate
        fields = ["id", "period_start", "period_end", "rate", "source", "confidence"]


class StatementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Statement
        fields = ["id", "agreement", "kind", "period_start", "period_end", "figures", "requested_on", "letter",
                  "produced_at"]


@extend_schema_view(list=extend_schema(summary="List deferred payment agreements", parameters=[AgreementFilterSerializer]),
                    retrieve=extend_schema(summary="A deferred payment agreement"),
                    create=extend_schema(summary="Open a deferred payment agreement as an enquiry"))
class AgreementViewSet(ApiViewSet):
    client_path = "client_id"
    read_roles = API_READERS
    write_roles = DPA_API_WRITERS
    serializer_class = DeferredPaymentAgreementSerializer
    filter_serializer_class = AgreementFilterSerializer
    filter_lookups = {"client": "client_id"}

    def get_queryset(self):
        # An agreement with nothing on its account yet owes 0.00 (the schema's balance is never null).
        return Agreement.objects.annotate(balance=Sum("account__entries__amount", default=Decimal("0"))).order_by("id")


@extend_schema_view(list=extend_schema(summary="List property valuations"),
                    retrieve=extend_schema(summary="A property valuation"),
                    create=extend_schema(summary="Add a valuation (the equity limit is recomputed)"))
class ValuationViewSet(ApiViewSet):
    client_path = "property.agreement.client_id"
    read_roles = API_READERS
    write_roles = DPA_API_WRITERS
    serializer_class = ValuationSerializer
    queryset = Valuation.objects.select_related("property__agreement").order_by("id")


class ReadOnlyViewSet(RecordViewsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    read_roles = API_READERS
    lookup_value_regex = r"\d+"


@extend_schema_view(list=extend_schema(summary="National maximum interest rates by half-year"),
                    retrieve=extend_schema(summary="One half-year's national maximum rate"))
class RateViewSet(ReadOnlyViewSet):
    client_path = None  # national figures, no one's data
    serializer_class = DeferredInterestRateSerializer
    queryset = NationalMaximumRate.objects.order_by("period_start")


@extend_schema_view(list=extend_schema(summary="List deferred payment statements"),
                    retrieve=extend_schema(summary="A deferred payment statement"))
class StatementViewSet(ReadOnlyViewSet):
    client_path = "agreement.client_id"
    serializer_class = StatementSerializer
    queryset = Statement.objects.select_related("agreement").order_by("id")


router = SimpleRouter(trailing_slash=True)
router.register("deferred-payments/agreements", AgreementViewSet, basename="dpa-agreement")
router.register("deferred-payments/valuations", ValuationViewSet, basename="dpa-valuation")
router.register("deferred-payments/interest-rates", RateViewSet, basename="dpa-rate")
router.register("deferred-payments/statements", StatementViewSet, basename="dpa-statement")
