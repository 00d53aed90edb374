"""The integration API: read and create clients, representatives, cases and ledger entries.

Every view names its `read_roles` and `write_roles` (see casework.api.permissions). Nothing here
updates or deletes: ledger entries are never changed, and client, representative and case changes
are not offered through the API yet.

Every answer to a read that carries clients' data is logged as a view of each client in it (one
RecordAccess row per client, casework.services.client_records_viewed): every view says how its rows
lead to a client in `client_path`, or None when it carries no client's data (RecordViewsMixin).
"""
from django.core.exceptions import ImproperlyConfigured
from django.db.models import DecimalField, Manager, Q, Sum, Value
from django.db.models.functions import Coalesce
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from casework import services
from casework.constants import AccountKind
from casework.models import Case, Client, ControlRequest, LedgerEntry, Representative
from casework.money import DECIMAL_PLACES, MAX_DIGITS, ZERO
from casework.roles import CASEWORKERS, CLIENT_EDITORS, LEDGER_POSTERS, READERS, Role

from . import serializers as s

API_READERS = READERS | {Role.SYSTEM_ACCOUNT}


def client_ids(rows, path: str | None) -> list[int]:
    """The clients `rows` carry, following `path` from each row: attributes or dict keys joined by
    dots ("client_id", "agreement.client_id"); a to-many step ("lines.client_id") follows every
    related row. None on the way (a line matched to no client) is skipped."""
    if not path:
        return []
    values = list(rows)
    for step in path.split("."):
        following = []
        for value in values:
            value = value.get(step) if isinstance(value, dict) else getattr(value, step)
            if isinstance(value, Manager):
                following.extend(value.all())
            elif value is not None:
                following.append(value)
        values = following
    return values


class RecordViewsMixin:
    """Logs every client whose data a read answer carries: the rows of a list's page (its filters
    applied), the record of a detail call. Each view sets `client_path`, how one of its rows leads
    to a client id (see client_ids), or None for a collection that carries no client's data; a view
    that says neither is refused (tests/test_record_view_coverage.py checks every registered view)."""

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        instance = args[0] if args else kwargs.get("instance")
        if instance is not None and self.request.method in SAFE_METHODS:
            if not hasattr(self, "client_path"):
                raise ImproperlyConfigured(f"{type(self).__name__} must say how its rows lead to a client "
                                           f"(client_path), or that they carry no client's data (None)")
            rows = instance if kwargs.get("many") else [instance]
            ids = client_ids(rows, self.client_path)
            if ids:
                services.client_records_viewed(clients_or_ids=ids, user=self.request.user,
                                               path=self.request.get_full_path())
        return serializer


class ApiViewSet(RecordViewsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                 GenericViewSet):
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
    list=extend_schema(summary="List clients (each client in the page is logged as viewed)",
                       parameters=[s.ClientFilterSerializer]),
    retrieve=extend_schema(summary="A client's record (the view is logged)"),
    create=extend_schema(summary="Create a client"),
)
class ClientViewSet(ApiViewSet):
    """People receiving, or assessed for, care and support. Every record read, in a list or alone, is logged."""

    client_path = "pk"
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

    client_path = "client_id"
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

    client_path = "client_id"
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

    client_path = "account.client_id"
    read_roles = API_READERS
    write_roles = LEDGER_POSTERS | {Role.SYSTEM_ACCOUNT}
    serializer_class = s.LedgerEntrySerializer
    filter_serializer_class = s.LedgerEntryFilterSerializer
    filter_lookups = {"client": "account__client_id", "account": "account_id"}
    queryset = LedgerEntry.objects.select_related("account").order_by("effective_date", "id")

    @extend_schema(
        summary="Post an entry to a client's care charges account",
        request=s.LedgerEntryCreateSerializer,
        responses={201: s.LedgerEntrySerializer, 202: s.ControlRequestSerializer},
        description="Within what the caller's role may post alone the entry is posted (201). Every reduction, and "
                    "anything above that limit, becomes an approval request that someone else decides in "
                    "Careledger (202); the entry is posted only when it is approved.",
    )
    def create(self, request, *args, **kwargs):
        incoming = s.LedgerEntryCreateSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        return done_or_waiting(incoming.save(),
                               lambda entry: self.get_serializer(self.get_queryset().get(pk=entry.pk)).data)


def done_or_waiting(result, done) -> Response:
    """The answer to a money action through a controlled service: 201 with `done(result)` when it
    happened at once, or 202 with the approval request it waits on."""
    if isinstance(result, ControlRequest):
        return Response(s.ControlRequestSerializer(result).data, status=status.HTTP_202_ACCEPTED)
    return Response(done(result), status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="List approval requests", parameters=[s.ControlRequestFilterSerializer]),
    retrieve=extend_schema(summary="An approval request"),
)
class ControlRequestViewSet(RecordViewsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Actions above their maker's limit and their decisions. Decisions are made in Careledger by a
    person other than the one who asked, never through the API."""

    client_path = "client_id"  # None for a request about a provider: nobody's record
    read_roles = API_READERS
    write_roles: frozenset = frozenset()
    serializer_class = s.ControlRequestSerializer
    lookup_value_regex = r"\d+"
    queryset = ControlRequest.objects.select_related("requested_by", "decided_by").order_by("-requested_at", "-id")

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action != "list":
            return queryset
        params = s.ControlRequestFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data = {k: v for k, v in params.validated_data.items() if v not in (None, "")}
        if "client" in data:
            queryset = queryset.filter(client_id=data["client"])
        if "status" in data:
            queryset = queryset.filter(status=data["status"])
        return queryset
