"""Payments, status events, reminders and statement uploads are append-only at the database too
(PostgreSQL); and the figures a council starts from, as data a finance administrator changes in
the admin: the direct payment policy, categorisation rules, irregularity thresholds, and the
income service that recovery invoices are raised under."""
from datetime import date
from decimal import Decimal

from django.db import migrations

APPEND_ONLY = ["direct_payments_agreementevent", "direct_payments_directpayment", "direct_payments_auditevent",
               "direct_payments_auditreminder", "direct_payments_statementupload"]

# (pattern, category, direction, priority): the first match by priority wins.
CATEGORY_RULES = [
    ("NORTHMOOR COUNCIL", "council_payment", "in", 10),
    ("CONTRIBUTION", "client_contribution", "in", 20),
    ("HMRC", "hmrc", "out", 20),
    ("PAYROLL", "payroll", "out", 30),
    ("PA WAGES", "pa_wages", "out", 30),
    ("WAGES", "pa_wages", "out", 40),
    ("INSURANCE", "insurance", "out", 40),
    ("CARE AGENCY", "care_agency", "out", 40),
    ("HOMECARE", "care_agency", "out", 40),
    ("HOME CARE", "care_agency", "out", 40),
    ("RESPITE", "respite", "out", 40),
    ("MOBILITY", "equipment", "out", 50),
    ("EQUIPMENT", "equipment", "out", 50),
    ("ACCOUNT FEE", "bank_charges", "out", 50),
    ("BANK CHARGE", "bank_charges", "out", 50),
    ("CASH", "cash", "out", 60),
    ("ATM", "cash", "out", 60),
    ("TRANSFER TO", "transfer_out", "out", 70),
    ("TFR TO", "transfer_out", "out", 70),
]

IRREGULARITY_RULES = [
    # code, threshold amount, threshold weeks, patterns
    ("cash_withdrawal", Decimal("100.00"), None, ""),
    ("family_transfer", None, None, "own account\nsavings\nmum\ndad\nson\ndaughter\nwife\nhusband"),
    ("non_care_merchant", None, None,
     "betfred\nwilliam hill\nladbrokes\ncoral\npaddy power\nbet365\nsky bet\nnational lottery\noff licence"),
    ("outside_plan", None, None, ""),
    ("no_care_spending", None, 4, ""),
    ("overdrawn", None, None, ""),
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in APPEND_ONLY:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION careledger_refuse_change()", params=None)
    Policy = apps.get_model("direct_payments", "Policy")
    CategoryRule = apps.get_model("direct_payments", "CategoryRule")
    IrregularityRule = apps.get_model("direct_payments", "IrregularityRule")
    ChargeableService = apps.get_model("debt", "ChargeableService")
    # Local policy (DPy-02, DPy-04, DPy-05): 4 weeks' contingency, first audit at 12 weeks, then yearly,
    # six-monthly for higher risk; 28 days to send statements (Haringey), a reminder 7 days after.
    Policy.objects.get_or_create(effective_from=date(2015, 4, 1))
    if not CategoryRule.objects.exists():
        for pattern, category, direction, priority in CATEGORY_RULES:
            CategoryRule.objects.create(pattern=pattern, category=category, direction=direction, priority=priority)
    for code, amount, weeks, patterns in IRREGULARITY_RULES:
        IrregularityRule.objects.get_or_create(code=code, defaults={
            "threshold_amount": amount, "threshold_weeks": weeks, "patterns": patterns})
    ChargeableService.objects.get_or_create(code="DP-RECOVERY", defaults={"name": "Direct payment recovery"})


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in APPEND_ONLY:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}", params=None)


class Migration(migrations.Migration):
    dependencies = [("direct_payments", "0001_initial"), ("debt", "0002_append_only_and_defaults")]
    operations = [migrations.RunPython(forward, backward)]
