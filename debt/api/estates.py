"""Estate cases in the API (read only), for /api/v1/: api:estatecase-list and api:estatecase-detail.

debt/estates_apps.py hands this router's registry to casework.api.registry. Estate cases change
only in the web pages, through debt.services.estates.
"""
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import GenericViewSet

from casework.api.serializers import MoneyOutField
from casework.api.views import API_READERS, RecordViewsMixin

from ..estates import estate_cases
from ..models import EstateCase, EstateOutcome, EstateStage, ProbateStatus


class EstateCaseFilterSerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, min_value=1, help_text="Client id")
    stage = serializers.ChoiceField(choices=EstateStage.choices, required=False)
    probate_status = serializers.ChoiceField(choices=ProbateStatus.choices, required=False)
    outcome = serializers.ChoiceField(choices=EstateOutcome.choices, required=False)


class EstateCaseSerializer(serializers.ModelSerializer):
    """A deceased client's estate case: the personal representative, probate, the claim, the next
    follow-up and the outcome, with what the estate still owes on invoices and what has been paid
    since the death (both worked out from the invoices and the ledger, never stored)."""

    reference = serializers.CharField(read_only=True)
    client = serializers.IntegerField(source="case.client_id", read_only=True, help_text="Client id")
    client_reference = serializers.CharField(source="case.client.reference", read_only=True)
    balance_owed = MoneyOutField(help_text="What the client's invoices still owe")
    payments_since_death = MoneyOutField(help_text="Payments on the care charges account dated after the death")

    class Meta:
        model = EstateCase
        fields = ["id", "reference", "case", "client", "client_reference", "date_of_death", "representative",
                  "probate_status", "probate_search_on", "grant_issued_on", "grant_reference", "estimated_value",
                  "stage", "claim_sent_on", "claim_letter", "next_follow_up_on", "outcome", "outcome_note",
                  "closed_on", "write_off", "opened_on", "balance_owed", "payments_since_death"]
        read_only_fields = fields
        # Blank while the estate case is open: the schema's enum includes "".
        extra_kwargs = {"outcome": {"allow_blank": True}}


@extend_schema_view(
    list=extend_schema(summary="List estate cases", parameters=[EstateCaseFilterSerializer]),
    retrieve=extend_schema(summary="An estate case with what the estate owes and has paid"),
)
class EstateCaseViewSet(RecordViewsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Deceased clients' estate cases. Changes are made in the web pages."""

    client_path = "case.client_id"
    read_roles = API_READERS
    serializer_class = EstateCaseSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return estate_cases().order_by("pk")

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        params = EstateCaseFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        lookups = {"client": "case__client_id", "stage": "stage", "probate_status": "probate_status",
                   "outcome": "outcome"}
        return queryset.filter(**{lookups[name]: value for name, value in params.validated_data.items()
                                  if value not in (None, "")})


router = SimpleRouter(trailing_slash=True)
router.register("estate-cases", EstateCaseViewSet, basename="estatecase")
