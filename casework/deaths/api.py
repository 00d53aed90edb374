"""Deaths in the integration API (/api/v1/deaths/): record a death, read deaths with their consequences.

Recording through the API proposes the consequences; only an officer confirms them (on the
"Confirm what happens now" page). Registered from CaseworkConfig.ready() through
casework.api.registry, so it sits on the one router.
"""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from casework.api.serializers import domain_errors
from casework.api.views import API_READERS, ApiViewSet
from casework.constants import DeathSource
from casework.models import Client
from casework.models.deaths import DeathConsequence, DeathRecord, DeathRecordStatus
from casework.roles import Role

from .roles import DEATH_RECORDERS
from .services import death_record


SOURCE_HELP = "Who told the council: " + ", ".join(f"{value} ({label})" for value, label in DeathSource.choices)


@extend_schema_field(OpenApiTypes.STR)
class DeathSourceField(serializers.ChoiceField):
    """Described as text listing its values, so the schema has no second enum for fields named
    "source" (the assessed charges' source has other values)."""

    def __init__(self, **kwargs):
        super().__init__(choices=DeathSource.choices, help_text=SOURCE_HELP, **kwargs)


class DeathConsequenceSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = DeathConsequence
        fields = ["id", "kind", "app_label", "object_ref", "summary", "status", "status_label", "order", "note",
                  "error", "decided_by", "decided_at", "reversed_by", "reversed_at"]
        read_only_fields = fields


class DeathRecordSerializer(serializers.ModelSerializer):
    """A recorded death with what each part of the system proposed or did because of it."""

    source = DeathSourceField(read_only=True)
    consequences = DeathConsequenceSerializer(many=True, read_only=True)

    class Meta:
        model = DeathRecord
        fields = ["id", "client", "date_of_death", "source", "verified", "status", "recorded_by", "recorded_at",
                  "reversed_by", "reversed_at", "reversal_reason", "consequences"]
        read_only_fields = fields


class DeathRecordCreateSerializer(serializers.Serializer):
    """Record a client's death. Its consequences are proposed for an officer to confirm, not applied."""

    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all(), help_text="Client id")
    date_of_death = serializers.DateField()
    source = DeathSourceField()
    verified = serializers.BooleanField(default=False, help_text="Verified, for example by the registrar")

    def create(self, validated_data):
        with domain_errors():
            return death_record(actor=self.context["request"].user, **validated_data)


class DeathRecordFilterSerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, min_value=1, help_text="Client id")
    status = serializers.ChoiceField(choices=DeathRecordStatus.choices, required=False)


@extend_schema_view(
    list=extend_schema(summary="List recorded deaths", parameters=[DeathRecordFilterSerializer]),
    retrieve=extend_schema(summary="A recorded death with its consequences and their statuses"),
)
class DeathRecordViewSet(ApiViewSet):
    """Deaths recorded once and handled everywhere. Reversal is done on the web by a team leader."""

    client_path = "client_id"
    read_roles = API_READERS
    write_roles = DEATH_RECORDERS | {Role.SYSTEM_ACCOUNT}
    serializer_class = DeathRecordSerializer
    filter_serializer_class = DeathRecordFilterSerializer
    filter_lookups = {"client": "client_id"}
    queryset = DeathRecord.objects.prefetch_related("consequences").order_by("id")

    @extend_schema(summary="Record a client's death (its consequences are proposed, not applied)",
                   request=DeathRecordCreateSerializer, responses={201: DeathRecordSerializer})
    def create(self, request, *args, **kwargs):
        incoming = DeathRecordCreateSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        death = incoming.save()
        return Response(self.get_serializer(self.get_queryset().get(pk=death.pk)).data, status=status.HTTP_201_CREATED)


router = SimpleRouter()
router.register("deaths", DeathRecordViewSet, basename="death")
