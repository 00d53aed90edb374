"""Direct payments on /api/v1/: agreements, payments, audits with their outcome, and statement
uploads. Reading is for staff who read records and system accounts; writing agreements is for
direct payment officers, team leaders and system accounts. Payments, audits and uploads are
read-only here: they are made by the payment run and in the audit pages, through the services."""
from rest_framework import serializers
from rest_framework.routers import SimpleRouter

from casework.api.views import API_READERS, ApiViewSet
from casework.money import DECIMAL_PLACES, MAX_DIGITS
from casework.roles import Role
from casework.services import DomainError

from .models import Agreement, Audit, DirectPayment, StatementUpload

DP_WRITERS = frozenset({Role.DIRECT_PAYMENT_OFFICER, Role.TEAM_LEADER, Role.SYSTEM_ACCOUNT})


def _money(**kwargs):
    return serializers.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)


class DirectPaymentAgreementSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    weekly_budget = _money()
    weekly_contribution = _money(required=False)
    contingency_weeks = serializers.IntegerField(required=False, min_value=0, max_value=52)
    first_audit_weeks = serializers.IntegerField(required=False, min_value=1, max_value=104)
    audit_interval_months = serializers.IntegerField(required=False, min_value=1, max_value=36)

    class Meta:
        model = Agreement
        fields = ["id", "reference", "client", "team", "recipient_kind", "recipient_name", "weekly_budget",
                  "weekly_contribution", "frequency", "account_type", "start_date", "end_date", "contingency_weeks",
                  "first_audit_weeks", "audit_interval_months", "risk", "support_plan_categories", "status",
                  "status_reason"]
        read_only_fields = ["status", "status_reason"]

    def create(self, validated):
        from .services import agreement_create

        try:
            return agreement_create(actor=self.context["request"].user, **validated)
        except DomainError as exc:
            raise serializers.ValidationError({exc.field or "non_field_errors": [exc.message]}) from exc


class DirectPaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = DirectPayment
        fields = ["id", "agreement", "period_start", "period_end", "paid_on", "due_amount", "reduction", "amount",
                  "source", "note", "ledger_entry"]


class AuditSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)

    class Meta:
        model = Audit
        fields = ["id", "reference", "agreement", "period_start", "period_end", "status", "requested_on",
                  "statements_due_on", "outcome", "misuse_referral", "outcome_note", "completed_on"]


class UploadSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatementUpload
        fields = ["id", "audit", "kind", "bank_format", "original_name", "sha256", "rows", "first_date", "last_date",
                  "opening_balance", "closing_balance", "uploaded_at"]


class AgreementViewSet(ApiViewSet):
    """Direct payment agreements (create: figures not given come from the policy in force)."""

    client_path = "client_id"
    read_roles = API_READERS
    write_roles = DP_WRITERS
    serializer_class = DirectPaymentAgreementSerializer
    queryset = Agreement.objects.order_by("pk")


class _ReadOnly(ApiViewSet):
    read_roles = API_READERS
    write_roles = frozenset()
    http_method_names = ["get", "head", "options"]


class DirectPaymentViewSet(_ReadOnly):
    """Payments made to direct payment recipients."""

    client_path = "agreement.client_id"
    serializer_class = DirectPaymentSerializer
    queryset = DirectPayment.objects.select_related("agreement").order_by("pk")


class AuditViewSet(_ReadOnly):
    """Direct payment audits with their status and outcome."""

    client_path = "agreement.client_id"
    serializer_class = AuditSerializer
    queryset = Audit.objects.select_related("agreement").order_by("pk")


class UploadViewSet(_ReadOnly):
    """Statements accepted for audits."""

    client_path = "audit.agreement.client_id"
    serializer_class = UploadSerializer
    queryset = StatementUpload.objects.select_related("audit__agreement").order_by("pk")


router = SimpleRouter(trailing_slash=True)
router.register("direct-payment-agreements", AgreementViewSet, basename="dpagreement")
router.register("direct-payments", DirectPaymentViewSet, basename="directpayment")
router.register("direct-payment-audits", AuditViewSet, basename="dpaudit")
router.register("direct-payment-statements", UploadViewSet, basename="dpstatement")
