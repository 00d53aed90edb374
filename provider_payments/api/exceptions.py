"""High-cost exceptions in the integration API, read only (registered from provider_payments/apps.py
as api:highcostexception-list and -detail). Challenges are worked through the web pages' services."""
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.routers import SimpleRouter

from ..models import HighCostException, HighCostExceptionNote, HighCostExceptionTrigger
from .views import ReadOnlyViewSet


class HighCostExceptionTriggerSerializer(serializers.ModelSerializer):
    class Meta:
        model = HighCostExceptionTrigger
        fields = ["rule", "detail", "weekly_cost", "weekly_guide", "previous_weekly_cost", "detected_on"]


class HighCostExceptionNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = HighCostExceptionNote
        fields = ["noted_on", "text", "added_at"]


class HighCostExceptionSerializer(serializers.ModelSerializer):
    package_reference = serializers.CharField(source="package.reference", read_only=True)
    client_reference = serializers.CharField(source="package.client.reference", read_only=True)
    provider = serializers.IntegerField(source="package.provider_id", read_only=True)
    area = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    no_saving_reason = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    triggers = HighCostExceptionTriggerSerializer(many=True, read_only=True)
    notes = HighCostExceptionNoteSerializer(many=True, read_only=True)

    class Meta:
        model = HighCostException
        fields = ["id", "reference", "package", "package_reference", "client_reference", "provider", "case", "area",
                  "status", "weekly_cost", "weekly_guide", "detected_on", "review", "alternative",
                  "proposed_weekly_cost", "outcome", "new_weekly_cost", "saving_from", "saving_days", "weekly_saving",
                  "full_year_saving", "no_saving_reason", "outcome_note", "closed_on", "triggers", "notes"]


@extend_schema_view(list=extend_schema(summary="List high-cost exceptions with their triggers and notes"),
                    retrieve=extend_schema(summary="A high-cost exception"))
class HighCostExceptionViewSet(ReadOnlyViewSet):
    client_path = "package.client_id"
    serializer_class = HighCostExceptionSerializer
    queryset = (HighCostException.objects.select_related("package__client", "area", "no_saving_reason")
                .prefetch_related("triggers", "notes").order_by("-id"))


router = SimpleRouter(trailing_slash=True)
router.register("high-cost-exceptions", HighCostExceptionViewSet, basename="highcostexception")
