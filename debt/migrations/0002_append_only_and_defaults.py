"""Invoices, their lines, payments, allocations and imports are append-only at the database too
(PostgreSQL), and the default billing cycle and services a council starts from (data an
administrator can change)."""
from datetime import date

from django.db import migrations

APPEND_ONLY = ["debt_invoice", "debt_invoiceline", "debt_payment", "debt_paymentallocation", "debt_paymentimport"]
SERVICES = [
    ("home_care", "Home care", False),
    ("day_care", "Day care", False),
    ("supported_living", "Supported living", False),
    ("respite", "Respite care", True),
    ("residential", "Residential care", True),
    ("nursing", "Nursing care", True),
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in APPEND_ONLY:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION careledger_refuse_change()",
                params=None,
            )
    BillingCycle = apps.get_model("debt", "BillingCycle")
    ChargeableService = apps.get_model("debt", "ChargeableService")
    # Four-weekly in arrears (BL-01), 13 periods from the first Monday of the 2025/26 year; 14 days to pay (BL-02).
    BillingCycle.objects.get_or_create(effective_from=date(2025, 4, 7), defaults={
        "name": "Four-weekly in arrears", "period_days": 28, "anchor_date": date(2025, 4, 7),
        "payment_terms_days": 14, "bill_days_after_period": 1})
    for code, name, residential in SERVICES:
        ChargeableService.objects.get_or_create(code=code, defaults={"name": name, "residential": residential})


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in APPEND_ONLY:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}", params=None)


class Migration(migrations.Migration):
    dependencies = [("debt", "0001_initial"), ("casework", "0004_append_only_letters_and_events")]
    operations = [migrations.RunPython(forward, backward)]
