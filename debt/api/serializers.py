"""Serializers for the income API: shapes and types only; debt.services apply the rules.

Every create calls one service; a DomainError becomes a 400 naming the field (casework's
`domain_errors`).
"""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from casework.api.serializers import MoneyOutField, domain_errors
from casework.models import Client, LedgerEntry
from casework.money import DECIMAL_PLACES, MAX_DIGITS

from ..constants import ChargeSource, PaymentMethod
from ..models import AssessedCharge, ChargeableService, Invoice, InvoiceLine, Moratorium, Payment
from ..models.relief import MoratoriumKind
from ..services import billing, payments, relief


def _actor(serializer):
    return serializer.context["request"].user


class ClientFilterSerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, min_value=1, help_text="Client id")


# --- assessed charges --------------------------------------------------------------------------


class AssessedChargeSerializer(serializers.ModelSerializer):
    """A version of a client's assessed weekly charge for one service. A new version ends the open
    one before it the day before it starts; any other overlap is refused."""

    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all(), help_text="Client id")
    service = serializers.SlugRelatedField(slug_field="code", queryset=ChargeableService.objects.all(),
                                           help_text="Chargeable service code, such as home_care")

    class Meta:
        model = AssessedCharge
        fields = ["id", "client", "service", "version", "weekly_amount", "effective_from", "effective_to",
                  "assessment_reference", "reason", "source", "created_at"]
        read_only_fields = ["id", "version", "source", "created_at"]

    def create(self, validated_data):
        with domain_errors():
            return billing.charge_create(actor=_actor(self), source=ChargeSource.API, **validated_data)


# --- payments ----------------------------------------------------------------------------------


class AllocationSerializer(serializers.Serializer):
    invoice = serializers.IntegerField(help_text="Invoice id")
    invoice_number = serializers.CharField()
    amount = serializers.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)


class PaymentSerializer(serializers.ModelSerializer):
    """A payment received. It is allocated to the client's unpaid invoices oldest first; any
    remainder stays on the account as a credit."""

    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all(), help_text="Client id")
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    allocations = serializers.SerializerMethodField(help_text="Net amount allocated to each invoice")
    unallocated = MoneyOutField(help_text="What is left on the account as a credit")

    class Meta:
        model = Payment
        fields = ["id", "client", "amount", "method", "received_on", "reference", "allocations", "unallocated",
                  "created_at"]
        read_only_fields = ["id", "created_at"]

    @extend_schema_field(AllocationSerializer(many=True))
    def get_allocations(self, payment) -> list:
        net: dict[int, dict] = {}
        for allocation in payment.allocations.all():  # prefetched with their invoices
            row = net.setdefault(allocation.invoice_id, {"invoice": allocation.invoice_id,
                                                         "invoice_number": allocation.invoice.number, "amount": 0})
            row["amount"] += allocation.amount
        return [AllocationSerializer(row).data for row in net.values() if row["amount"]]

    def create(self, validated_data):
        with domain_errors():
            return payments.payment_record(actor=_actor(self), **validated_data)


# --- invoices ----------------------------------------------------------------------------------


class InvoiceLineSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = InvoiceLine
        fields = ["id", "kind", "service", "assessed_charge", "date_from", "date_to", "days", "weekly_rate", "amount",
                  "explanation"]
        read_only_fields = fields


class InvoiceSerializer(serializers.ModelSerializer):
    """An issued invoice (or, with a negative total and `corrects`, a credit note), with what is
    still outstanding after payments and posted write-offs."""

    lines = InvoiceLineSerializer(many=True, read_only=True)
    paid = MoneyOutField()
    written_off = MoneyOutField()
    outstanding = MoneyOutField()

    class Meta:
        model = Invoice
        fields = ["id", "number", "client", "period_start", "period_end", "issue_date", "due_date", "total", "paid",
                  "written_off", "outstanding", "corrects", "reason", "lines"]
        read_only_fields = fields


class InvoiceFilterSerializer(ClientFilterSerializer):
    owing = serializers.BooleanField(required=False, help_text="true: only invoices with something outstanding")


# --- credit notes ------------------------------------------------------------------------------


class CreditLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, max_value=2**31 - 1,
                                    help_text="Invoice line id (the invoice's `lines`)")
    amount = serializers.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES,
                                      help_text="Amount to credit from the line, more than 0.00")


class CreditNoteCreateSerializer(serializers.Serializer):
    """Ask for a credit note of an invoice: a team leader's decision. Within the caller's limit it is
    raised at once (201, the credit note); an officer's, or one above the limit, is sent for another
    person's approval (202, the approval request) and nothing is credited until it is approved."""

    invoice = serializers.PrimaryKeyRelatedField(queryset=Invoice.objects.all(), help_text="Invoice id")
    reason = serializers.CharField(max_length=300)
    lines = CreditLineSerializer(many=True, required=False,
                                 help_text="A part credit: an amount on each chosen line. Leave out to credit "
                                           "everything not yet credited")

    def create(self, validated_data):
        invoice = validated_data["invoice"]
        chosen = None
        if "lines" in validated_data:
            by_pk = {line.pk: line for line in InvoiceLine.objects.filter(
                pk__in=[row["line"] for row in validated_data["lines"]])}
            chosen = []
            for row in validated_data["lines"]:
                line = by_pk.get(row["line"])
                if line is None or line.invoice_id != invoice.pk:
                    raise serializers.ValidationError(
                        {"lines": [f"Line {row['line']} is not on invoice {invoice.number}"]})
                chosen.append((line, row["amount"]))
        with domain_errors():
            return billing.credit_note_request(invoice=invoice, reason=validated_data["reason"], actor=_actor(self),
                                               lines=chosen)


# --- refunds -----------------------------------------------------------------------------------


class RefundSerializer(serializers.ModelSerializer):
    """A refund of a client's credit, as posted to their account (a positive amount: it takes the
    credit back off the account)."""

    client = serializers.IntegerField(source="account.client_id", read_only=True, help_text="Client id")

    class Meta:
        model = LedgerEntry
        fields = ["id", "client", "amount", "effective_date", "reference", "description", "posted_at"]
        read_only_fields = fields


class RefundCreateSerializer(serializers.Serializer):
    """Refund a client's credit. Within the caller's REFUND limit it is paid at once (201, the
    refund); above it, it is sent to a team leader for approval (202, the approval request) and
    nothing is paid until it is approved."""

    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all(), help_text="Client id")
    amount = serializers.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reason = serializers.CharField(max_length=300)
    reference = serializers.CharField(max_length=60, required=False, default="")

    def create(self, validated_data):
        with domain_errors():
            return payments.refund_issue(actor=_actor(self), **validated_data)


# --- debts -------------------------------------------------------------------------------------


class HoldSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="dispute, reassessment, breathing_space, safeguarding, no_authority, "
                                           "deceased or repayment_plan")
    reason = serializers.CharField()
    since = serializers.DateField(allow_null=True)
    review_date = serializers.DateField(allow_null=True)
    placed_by = serializers.CharField()


class DebtSerializer(serializers.Serializer):
    """A client's debt: what is owed, how much is overdue, their place on the recovery ladder and
    every hold in force today (while any hold is in force, nothing is sent and no stage advances)."""

    client = serializers.IntegerField(source="client_id", help_text="Client id")
    client_reference = serializers.CharField()
    outstanding = MoneyOutField()
    overdue = MoneyOutField(help_text="Outstanding on invoices past their due date")
    oldest_due_date = serializers.DateField(allow_null=True)
    stage = serializers.CharField(allow_null=True, help_text="Recovery stage code; null before the first stage")
    stage_name = serializers.CharField(allow_null=True)
    stage_entered_on = serializers.DateField(allow_null=True)
    escalated_on = serializers.DateField(allow_null=True)
    holds = HoldSerializer(many=True)


# --- Breathing Space ---------------------------------------------------------------------------


class MoratoriumSerializer(serializers.ModelSerializer):
    """A Breathing Space moratorium from the Insolvency Service notice. It starts the day after the
    register entry; with no `invoices` it covers every debt owed at the start."""

    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all(), help_text="Client id")
    kind = serializers.ChoiceField(choices=MoratoriumKind.choices, default=MoratoriumKind.STANDARD)
    invoices = serializers.PrimaryKeyRelatedField(queryset=Invoice.objects.all(), many=True, required=False,
                                                  help_text="Invoice ids covered; empty covers every debt")

    class Meta:
        model = Moratorium
        fields = ["id", "client", "kind", "register_entry_date", "start_date", "expected_end", "treatment_ended_on",
                  "ended_on", "end_reason", "adviser_name", "adviser_organisation", "adviser_contact",
                  "insolvency_reference", "covers_all_debts", "invoices", "review_due_on", "created_at"]
        read_only_fields = ["id", "start_date", "expected_end", "ended_on", "end_reason", "covers_all_debts",
                            "review_due_on", "created_at"]
        # Blank until the moratorium ends: the schema's enum includes "" (a read-only field loses allow_blank).
        extra_kwargs = {"end_reason": {"allow_blank": True}}
        validators = []  # the service refuses a duplicate notice, naming insolvency_reference

    def create(self, validated_data):
        with domain_errors():
            return relief.moratorium_record(actor=_actor(self), **validated_data)
