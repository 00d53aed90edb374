from rest_framework import serializers

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
