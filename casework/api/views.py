"""The integration API: read and create clients, representatives, cases and ledger entries.

Every view names its `read_roles` and `write_roles` (see casework.api.permissions). Nothing here
updates or deletes: ledger entries are never changed, and client, representative and case changes
are not offered through the API yet.
"""
from django.db.models import DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from casework import services
from casework.constants import AccountKind
from casework.models import Case, Client, LedgerEntry, Representative
from casework.money import DECIMAL_PLACES, MAX_DIGITS, ZERO
from casework.roles import CASEWORKERS, CLIENT_EDITORS, LEDGER_POSTERS, READERS, Role

from . import serializers as s

API_READERS = READERS | {Role.SYSTEM_ACCOUNT}


class ApiViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, GenericViewSet):
    """List, retrieve and create; list filters are checked by `filter_serializer_class`."""

    read_roles: frozenset = frozenset()
    write_roles: frozenset = frozenset()
    filter_serializer_class: type[s.serializers.Serializer] | None = None
    #: query parameter -> queryset lookup
    filter_lookups: dict[str, str] = {}
    lookup_value_regex = r"\d+"

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action != "list" or self.filter_serializer_class is None:
            return queryset
        params = self.filter_serializer_class(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        lookups = {
            self.filter_lookups.get(name, name): value
            for name, value in params.validated_data.items()
            if value not in (None, "")
        }
        return queryset.filter(**lookups)


@extend_schema_view(
    list=extend_schema(summary="List clients", parameters=[s.ClientFilterSerializer]),
    retrieve=extend_schema(summary="A client's record (the view is logged)"),
    create=extend_schema(summary="Create a client"),
)
class ClientViewSet(ApiViewSet):
    """People receiving, or assessed for, care and support. Viewing one record is logged."""

    read_roles = API_READERS
    write_roles = CLIENT_EDITORS | {Role.SYSTEM_ACCOUNT}
    serializer_class = s.ClientSerializer
    filter_serializer_class = s.ClientFilterSerializer

    def get_queryset(self):
        balance = Sum("accounts__entries__amount", filter=Q(accounts__kind=AccountKind.CLIENT_CHARGES))
        as_money = DecimalField(max_digits=MAX_DIGITS + 4, decimal_places=DECIMAL_PLACES)
        return Client.objects.annotate(balance=Coalesce(balance, Value(ZERO), output_field=as_money)).order_by(
            "last_name", "first_name", "reference", "id"
        )

    def retrieve(self, request, *args, **kwargs):
        client = self.get_object()
        services.client_record_view(client=client, user=request.user, path=request.path)
        return Response(self.get_serializer(client).data)

    def perform_create(self, serializer):
        client = serializer.save()
        serializer.instance = self.get_queryset().get(pk=client.pk)  # with its balance


@extend_schema_view(
    list=extend_schema(summary="List representatives", parameters=[s.RepresentativeFilterSerializer]),
    retrieve=extend_schema(summary="A representative"),
    create=extend_schema(summary="Add a representative to a client"),
)
class RepresentativeViewSet(ApiViewSet):
    """People with authority to act for a client, or whom the council should contact."""

    read_roles = API_READERS
    write_roles = CLIENT_EDITORS | {Role.SYSTEM_ACCOUNT}
    serializer_class = s.RepresentativeSerializer
    filter_serializer_class = s.RepresentativeFilterSerializer
    filter_lookups = {"client": "client_id"}
    queryset = Representative.objects.order_by("client_id", "start_date", "id")


@extend_schema_view(
    list=extend_schema(summary="List cases", parameters=[s.CaseFilterSerializer]),
    retrieve=extend_schema(summary="A case"),
    create=extend_schema(summary="Open a case"),
)
class CaseViewSet(ApiViewSet):
    """Cases officers work on clients. Status changes are not offered through the API."""

    read_roles = API_READERS
    write_roles = CASEWORKERS
    serializer_class = s.CaseSerializer
    filter_serializer_class = s.CaseFilterSerializer
    filter_lookups = {"client": "client_id"}
    queryset = Case.objects.order_by("id")


@extend_schema_view(
    list=extend_schema(summary="List ledger entries", parameters=[s.LedgerEntryFilterSerializer]),
    retrieve=extend_schema(summary="A ledger entry"),
)
class LedgerEntryViewSet(ApiViewSet):
    """Movements of money on clients' accounts. Entries are never changed or deleted."""

    read_roles = API_READERS
    write_roles = LEDGER_POSTERS | {Role.SYSTEM_ACCOUNT}
    serializer_class = s.LedgerEntrySerializer
    filter_serializer_class = s.LedgerEntryFilterSerializer
    filter_lookups = {"client": "account__client_id", "account": "account_id"}
    queryset = LedgerEntry.objects.select_related("account").order_by("effective_date", "id")

    @extend_schema(
        summary="Post an entry to a client's care charges account",
        request=s.LedgerEntryCreateSerializer,
        responses={201: s.LedgerEntrySerializer},
    )
    def create(self, request, *args, **kwargs):
        incoming = s.LedgerEntryCreateSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        entry = incoming.save()
        entry = self.get_queryset().get(pk=entry.pk)
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)
