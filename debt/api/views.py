"""The income API: assessed charges, payments, invoices, credit notes, refunds, debts and Breathing
Space moratoria.

Every view names its `read_roles` and `write_roles` (casework.api.permissions). Nothing here
updates or deletes: charges change by a new version, payments by a reversal in the web pages.
"""
from django.db.models import DecimalField, ExpressionWrapper, F, Min, Prefetch, Q, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from casework.api.views import API_READERS, ApiViewSet, RecordViewsMixin, done_or_waiting
from casework.api.serializers import ControlRequestSerializer
from casework.constants import AccountKind, EntryKind
from casework.models import Client, LedgerEntry
from casework.money import DECIMAL_PLACES, MAX_DIGITS, ZERO
from casework.roles import Role

from ..holds import holds_for_clients
from ..models import AssessedCharge, DebtRecovery, Invoice, Moratorium, Payment, PaymentAllocation
from ..selectors import with_allocated, with_outstanding
from . import serializers as s

#: Who may send charges, payments and moratoria: income officers, team leaders and other systems.
INCOME_WRITERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER, Role.SYSTEM_ACCOUNT})
#: Who may ask for a credit note or a refund, as on the web pages; the money controls decide
#: whether it happens at once or waits for another person's approval.
CREDIT_MAKERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})
_MONEY = DecimalField(max_digits=MAX_DIGITS + 4, decimal_places=DECIMAL_PLACES)


@extend_schema_view(
    list=extend_schema(summary="List assessed charges", parameters=[s.ClientFilterSerializer]),
    retrieve=extend_schema(summary="An assessed charge version"),
    create=extend_schema(summary="Add a version of a client's assessed weekly charge"),
)
class AssessedChargeViewSet(ApiViewSet):
    """Clients' assessed weekly contributions per service, every version kept."""

    client_path = "client_id"
    read_roles = API_READERS
    write_roles = INCOME_WRITERS
    serializer_class = s.AssessedChargeSerializer
    filter_serializer_class = s.ClientFilterSerializer
    filter_lookups = {"client": "client_id"}
    queryset = AssessedCharge.objects.select_related("service").order_by("client_id", "service_id", "version")


@extend_schema_view(
    list=extend_schema(summary="List payments", parameters=[s.ClientFilterSerializer]),
    retrieve=extend_schema(summary="A payment and its allocations"),
    create=extend_schema(summary="Record a payment (allocated to the oldest unpaid invoices first)"),
)
class PaymentViewSet(ApiViewSet):
    """Payments received, each allocated to invoices; reversals are made in the web pages."""

    client_path = "client_id"
    read_roles = API_READERS
    write_roles = INCOME_WRITERS
    serializer_class = s.PaymentSerializer
    filter_serializer_class = s.ClientFilterSerializer
    filter_lookups = {"client": "client_id"}

    def get_queryset(self):
        allocations = PaymentAllocation.objects.select_related("invoice").order_by("invoice__due_date", "id")
        return (with_allocated(Payment.objects.all())
                .annotate(unallocated=ExpressionWrapper(F("amount") - F("allocated"), output_field=_MONEY))
                .prefetch_related(Prefetch("allocations", queryset=allocations)).order_by("received_on", "id"))

    def perform_create(self, serializer):
        payment = serializer.save()
        serializer.instance = self.get_queryset().get(pk=payment.pk)  # with its allocations


@extend_schema_view(
    list=extend_schema(summary="List invoices and credit notes", parameters=[s.InvoiceFilterSerializer]),
    retrieve=extend_schema(summary="An invoice with its lines and what it still owes"),
)
class InvoiceViewSet(RecordViewsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Issued invoices and credit notes. They are never changed: a correction is a credit note."""

    client_path = "client_id"
    read_roles = API_READERS
    serializer_class = s.InvoiceSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        lines = Prefetch("lines", queryset=s.InvoiceLine.objects.select_related("service").order_by("id"))
        return with_outstanding(Invoice.objects.all()).prefetch_related(lines).order_by("issue_date", "number")

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        params = s.InvoiceFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        if params.validated_data.get("client"):
            queryset = queryset.filter(client_id=params.validated_data["client"])
        if params.validated_data.get("owing"):
            queryset = queryset.filter(total__gt=0, outstanding__gt=0)
        return queryset


@extend_schema_view(
    list=extend_schema(summary="List credit notes", parameters=[s.ClientFilterSerializer]),
    retrieve=extend_schema(summary="A credit note with its lines"),
)
class CreditNoteViewSet(ApiViewSet):
    """Credit notes (an invoice's corrections: negative lines and a ledger credit). A credit note is
    a team leader's decision: within the caller's limit it is raised at once, otherwise it waits
    for someone else's approval in Careledger."""

    client_path = "client_id"
    read_roles = API_READERS
    write_roles = CREDIT_MAKERS
    serializer_class = s.InvoiceSerializer
    filter_serializer_class = s.ClientFilterSerializer
    filter_lookups = {"client": "client_id"}

    def get_queryset(self):
        lines = Prefetch("lines", queryset=s.InvoiceLine.objects.select_related("service").order_by("id"))
        return (with_outstanding(Invoice.objects.filter(corrects__isnull=False)).prefetch_related(lines)
                .order_by("issue_date", "number"))

    @extend_schema(summary="Ask for a credit note of an invoice (raised at once within the caller's limit, otherwise "
                           "sent for approval)", request=s.CreditNoteCreateSerializer,
                   responses={201: s.InvoiceSerializer, 202: ControlRequestSerializer})
    def create(self, request, *args, **kwargs):
        incoming = s.CreditNoteCreateSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        return done_or_waiting(incoming.save(),
                                lambda credit: s.InvoiceSerializer(self.get_queryset().get(pk=credit.pk)).data)


@extend_schema_view(
    list=extend_schema(summary="List refunds to clients", parameters=[s.ClientFilterSerializer]),
    retrieve=extend_schema(summary="A refund to a client"),
)
class RefundViewSet(ApiViewSet):
    """Refunds of clients' credit. Within the caller's REFUND limit a refund is paid at once;
    above it, it waits for a team leader's approval in Careledger."""

    client_path = "account.client_id"
    read_roles = API_READERS
    write_roles = CREDIT_MAKERS
    serializer_class = s.RefundSerializer
    filter_serializer_class = s.ClientFilterSerializer
    filter_lookups = {"client": "account__client_id"}
    queryset = (LedgerEntry.objects.filter(kind=EntryKind.REFUND, account__kind=AccountKind.CLIENT_CHARGES)
                .select_related("account").order_by("effective_date", "id"))

    @extend_schema(summary="Refund a client's credit (paid at once within the caller's limit, otherwise sent for "
                           "approval)", request=s.RefundCreateSerializer,
                   responses={201: s.RefundSerializer, 202: ControlRequestSerializer})
    def create(self, request, *args, **kwargs):
        incoming = s.RefundCreateSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        return done_or_waiting(incoming.save(), lambda entry: s.RefundSerializer(entry).data)


@extend_schema_view(
    list=extend_schema(summary="List clients who owe money, with stage and holds", parameters=[s.ClientFilterSerializer]),
    retrieve=extend_schema(summary="One client's debt, stage and holds (by client id)"),
)
class DebtViewSet(RecordViewsMixin, GenericViewSet):
    """One entry per client who owes money on invoices: balances, recovery stage and holds today."""

    client_path = "client_id"
    read_roles = API_READERS
    serializer_class = s.DebtSerializer
    lookup_field = "client_id"
    lookup_url_kwarg = "client"
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        """Per client: outstanding, overdue (due before today) and the oldest unpaid due date."""
        today = timezone.localdate()
        owing = Q(outstanding__gt=0)
        return (with_outstanding(Invoice.objects.filter(total__gt=0)).values("client_id")
                .annotate(total_outstanding=Coalesce(Sum("outstanding"), ZERO, output_field=_MONEY),
                          overdue=Coalesce(Sum("outstanding", filter=Q(due_date__lt=today)), ZERO,
                                           output_field=_MONEY),
                          oldest_due_date=Min("due_date", filter=owing))
                .filter(total_outstanding__gt=0).order_by("client_id"))

    def _rows(self, groups: list[dict]) -> list[dict]:
        """Add each client's reference, ladder place and holds: three queries for the whole page."""
        ids = [g["client_id"] for g in groups]
        references = dict(Client.objects.filter(pk__in=ids).values_list("pk", "reference"))
        recoveries = {r.client_id: r for r in DebtRecovery.objects.filter(client_id__in=ids).select_related("stage")}
        holds = holds_for_clients(ids, timezone.localdate())
        rows = []
        for group in groups:
            recovery = recoveries.get(group["client_id"])
            stage = recovery.stage if recovery else None
            rows.append({
                "client_id": group["client_id"], "client_reference": references[group["client_id"]],
                "outstanding": group["total_outstanding"], "overdue": group["overdue"],
                "oldest_due_date": group["oldest_due_date"], "stage": stage.code if stage else None,
                "stage_name": stage.name if stage else None,
                "stage_entered_on": recovery.stage_entered_on if recovery else None,
                "escalated_on": recovery.escalated_on if recovery else None,
                "holds": [vars(h) for h in holds.get(group["client_id"], [])],
            })
        return rows

    def list(self, request, *args, **kwargs):
        queryset = self.get_queryset()
        params = s.ClientFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        if params.validated_data.get("client"):
            queryset = queryset.filter(client_id=params.validated_data["client"])
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(self._rows(list(page)), many=True).data)

    def retrieve(self, request, *args, **kwargs):
        group = self.get_queryset().filter(client_id=kwargs["client"]).first()
        if group is None:
            raise Http404("This client owes nothing on invoices")
        return Response(self.get_serializer(self._rows([group])[0]).data)


@extend_schema_view(
    list=extend_schema(summary="List Breathing Space moratoria", parameters=[s.ClientFilterSerializer]),
    retrieve=extend_schema(summary="A Breathing Space moratorium"),
    create=extend_schema(summary="Record a moratorium from the Insolvency Service notice"),
)
class MoratoriumViewSet(ApiViewSet):
    """Breathing Space moratoria. Ending, review requests and treatment end are recorded in the web pages."""

    client_path = "client_id"
    read_roles = API_READERS
    write_roles = INCOME_WRITERS
    serializer_class = s.MoratoriumSerializer
    filter_serializer_class = s.ClientFilterSerializer
    filter_lookups = {"client": "client_id"}
    queryset = Moratorium.objects.prefetch_related("invoices").order_by("start_date", "id")
