from rest_framework import serializers

from casework.money import DECIMAL_PLACES, MAX_DIGITS

from ..models import CarePackage, Claim, ClaimLine, Payment, PaymentRun, Provider, Rate


class ProviderSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="masked_account", read_only=True)

    class Meta:
        model = Provider
        fields = ["id", "name", "supplier_number", "cqc_location_id", "contact_name", "contact_phone",
                  "remittance_email", "payment_terms_days", "status", "account"]


class ProviderRateSerializer(serializers.ModelSerializer):
    service_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    band = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Rate
        fields = ["id", "provider", "service_type", "band", "rate", "effective_from", "uplift", "withdrawn_at"]


class CarePackageSerializer(serializers.ModelSerializer):
    service_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    band = serializers.SlugRelatedField(slug_field="code", read_only=True)
    client_reference = serializers.CharField(source="client.reference", read_only=True)

    class Meta:
        model = CarePackage
        fields = ["id", "reference", "client", "client_reference", "provider", "service_type", "band",
                  "units_per_week", "visit_pattern", "agreed_rate", "agreed_rate_reason", "start_date", "end_date",
                  "status"]


class ClaimLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClaimLine
        fields = ["row_number", "client_reference", "client", "service_code", "service_date", "start_time",
                  "planned_minutes", "actual_minutes", "units", "unit_rate", "amount", "package", "result", "reason",
                  "payable_units", "payable_rate", "payable_amount", "override_note"]


class ClaimSerializer(serializers.ModelSerializer):
    lines = ClaimLineSerializer(many=True, read_only=True)

    class Meta:
        model = Claim
        fields = ["id", "provider", "reference", "source", "period_start", "period_end", "status",
                  "commissioned_cost", "approved_at", "payment", "lines"]


class ProviderPaymentSerializer(serializers.ModelSerializer):
    provider_name = serializers.CharField(source="provider.name", read_only=True)

    class Meta:
        model = Payment
        fields = ["id", "provider", "provider_name", "gross", "offset", "net"]


class PaymentRunSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    payments = ProviderPaymentSerializer(many=True, read_only=True)

    class Meta:
        model = PaymentRun
        fields = ["id", "reference", "payment_date", "status", "total", "payment_count", "prepared_at",
                  "released_at", "payments"]


# --- decisions: approving a claim, a payment run's exceptions and its release ------------------


class DecisionNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="",
                                 help_text="A note for the record (optional)")


class ClaimApprovalSerializer(serializers.ModelSerializer):
    approved_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Claim
        fields = ["id", "provider", "reference", "status", "approved_by", "approved_at"]


class PaymentRunReleaseSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    released_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = PaymentRun
        fields = ["id", "reference", "status", "total", "payment_count", "released_by", "released_at"]


class UnusualPaymentSerializer(serializers.Serializer):
    provider = serializers.IntegerField(source="payment.provider_id")
    provider_name = serializers.CharField(source="payment.provider.name")
    gross = serializers.DecimalField(source="payment.gross", max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    net = serializers.DecimalField(source="payment.net", max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    commissioned = serializers.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    previous_net = serializers.DecimalField(source="previous.net", max_digits=MAX_DIGITS,
                                            decimal_places=DECIMAL_PLACES, allow_null=True, default=None)
    usual = serializers.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, allow_null=True)
    flags = serializers.ListField(child=serializers.CharField())


class RunOverrideSerializer(serializers.Serializer):
    claim = serializers.IntegerField(source="claim_id")
    claim_reference = serializers.CharField(source="claim.reference")
    provider = serializers.IntegerField(source="claim.provider_id")
    row_number = serializers.IntegerField(source="line.row_number")
    result_before = serializers.CharField()
    payable_before = serializers.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    result = serializers.CharField()
    payable_amount = serializers.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    note = serializers.CharField()
    made_by = serializers.CharField(source="made_by.username")
    made_at = serializers.DateTimeField()
    approved_by = serializers.CharField(source="approved_by.username", allow_null=True, default=None)
    approval_request = serializers.IntegerField(source="request_id", allow_null=True)


class RunDisputeSerializer(serializers.Serializer):
    dispute = serializers.IntegerField(source="pk")
    reference = serializers.CharField()
    provider = serializers.IntegerField(source="provider_id")
    claim_reference = serializers.CharField(source="claim.reference")
    amount = serializers.DecimalField(source="outcome_amount", max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField(source="outcome_note")


class PaymentRunExceptionsSerializer(serializers.Serializer):
    """What the releaser of a run must have seen: unusual payments, overridden lines, upheld disputes."""

    unusual_payments = UnusualPaymentSerializer(source="exceptions.flagged", many=True)
    overrides = RunOverrideSerializer(source="exceptions.overrides", many=True)
    disputes = RunDisputeSerializer(source="exceptions.disputes", many=True)
    opened_at = serializers.DateTimeField(source="opened.opened_at", allow_null=True, default=None,
                                          help_text="When you opened them since the run was prepared")
