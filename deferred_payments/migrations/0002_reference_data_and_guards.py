"""Reference data as the rules digest gives it (rules.md DP-13, FA-02, DP-04, DP-10, DC-08), each
row editable in the Django admin; and, on PostgreSQL, triggers that refuse UPDATE and DELETE of
eligibility checks and valuations (evidence is only ever added to).

National maximum rates are loaded for the half-years the digest confirms (January 2018 to June
2025). Earlier and later half-years are UNCONFIRMED there and are deliberately not loaded: interest
for them is refused until a finance administrator enters the published rate.
"""
from datetime import date
from decimal import Decimal

from django.db import migrations

BANES = "BANES Annex C (rules.md DP-13)"
RATES = [
    (date(2018, 1, 1), "1.45", BANES, "Medium"), (date(2018, 7, 1), "1.85", BANES, "Medium"),
    (date(2019, 1, 1), "1.65", BANES, "Medium"), (date(2019, 7, 1), "1.65", BANES, "Medium"),
    (date(2020, 1, 1), "1.45", BANES + "; independently confirmed", "High"), (date(2020, 7, 1), "1.05", BANES, "Medium"),
    (date(2021, 1, 1), "0.45", BANES, "Medium"), (date(2021, 7, 1), "0.75", BANES, "Medium"),
    (date(2022, 1, 1), "0.95", BANES, "Medium"), (date(2022, 7, 1), "1.55", BANES, "Medium"),
    (date(2023, 1, 1), "3.18", BANES, "Medium"), (date(2023, 7, 1), "3.43", BANES, "Medium"),
    (date(2024, 1, 1), "4.65", BANES + "; West Sussex", "High"), (date(2024, 7, 1), "4.05", BANES + "; Hull", "High"),
    (date(2025, 1, 1), "4.25", BANES, "Medium"),
]
#: Fees are local policy (DP-09): these are published examples loaded as the council's starting
#: figures from the start of the scheme, for the finance administrator to replace with its own.
FEES = [
    ("set_up", "176.10", "Reading Appendix J 2024/25 administration set-up (DP-10): local figure, set your own"),
    ("annual", "281.90", "Reading Appendix J 2024/25 annual administration (DP-10): local figure, set your own"),
    ("valuation", "326.00", "West Sussex valuation (DP-10): local figure, set your own"),
    ("land_registry", None, "Land Registry fees at cost (Scale 2): entered each time"),
]
APPEND_ONLY_TABLES = ["deferred_payments_eligibilitycheck", "deferred_payments_valuation"]


def load(apps, schema_editor):
    NationalMaximumRate = apps.get_model("deferred_payments", "NationalMaximumRate")
    for start, rate, source, confidence in RATES:
        NationalMaximumRate.objects.get_or_create(period_start=start, defaults={
            "rate": Decimal(rate), "source": source, "confidence": confidence})
    apps.get_model("deferred_payments", "CapitalLimit").objects.get_or_create(
        effective_from=date(2010, 4, 1), defaults={"lower_limit": Decimal("14250.00"), "upper_limit": Decimal("23250.00"),
                                                   "source": "FA-02: unchanged since April 2010, 2024/25 and 2025/26"})
    apps.get_model("deferred_payments", "CouncilInterestRate").objects.get_or_create(
        effective_from=date(2015, 4, 1), defaults={"rate": None, "note": "The council charges the national maximum"})
    apps.get_model("deferred_payments", "DeferredPaymentRule").objects.get_or_create(
        effective_from=date(2015, 4, 1), defaults={
            "value_percent": Decimal(90), "alert_percent": Decimal(70), "death_due_days": 90,
            "charge_registration_days": 60, "on_request_statement_days": 28, "statement_grace_days": 14,
            "note": "DP-04 (90%), DP-05 (revaluation trigger: local, 70% chosen), DC-08 (90 days)"})
    Fee = apps.get_model("deferred_payments", "AdministrationFee")
    for kind, amount, source in FEES:
        Fee.objects.get_or_create(kind=kind, effective_from=date(2015, 4, 1), defaults={
            "amount": Decimal(amount) if amount else None, "source": source})
    if schema_editor.connection.vendor == "postgresql":
        for table in APPEND_ONLY_TABLES:
            schema_editor.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                                  f"FOR EACH ROW EXECUTE FUNCTION careledger_refuse_change()", params=None)


def unload(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in APPEND_ONLY_TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}", params=None)


class Migration(migrations.Migration):
    dependencies = [("deferred_payments", "0001_initial"), ("casework", "0004_append_only_letters_and_events")]
    operations = [migrations.RunPython(load, unload)]
