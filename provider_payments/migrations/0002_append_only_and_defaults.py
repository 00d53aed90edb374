"""Provider ledger entries, recoveries and provider events are append-only at the database too
(PostgreSQL); and the reference data a council starts from (an administrator can change it): service
types with their units, rate bands, the default visit tolerance and a four-weekly payment schedule."""
from datetime import date

from django.db import migrations

APPEND_ONLY = ["provider_payments_providerledgerentry", "provider_payments_overpaymentrecovery",
               "provider_payments_providerevent"]
SERVICE_TYPES = [
    # code, name, unit, billing basis, income chargeable service, cost centre, subjective
    ("homecare", "Home care", "hour", "delivered", "home_care", "ASC110", "5201"),
    ("daycare", "Day care", "session", "delivered", "day_care", "ASC120", "5202"),
    ("supported_living", "Supported living", "hour", "delivered", "supported_living", "ASC130", "5203"),
    ("sleep_in", "Sleep-in night", "night", "delivered", "", "ASC110", "5204"),
    ("residential", "Residential care", "week", "scheduled", "residential", "ASC210", "5301"),
    ("nursing", "Nursing care", "week", "scheduled", "nursing", "ASC220", "5302"),
]
BANDS = [("standard", "Standard"), ("complex", "Complex"), ("rural", "Rural")]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in APPEND_ONLY:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION careledger_refuse_change()",
                params=None,
            )
    seed_defaults(apps)


def seed_defaults(apps):
    """The reference data (idempotent); transactional tests call it again after a flush."""
    ServiceType = apps.get_model("provider_payments", "ServiceType")
    Band = apps.get_model("provider_payments", "Band")
    ToleranceRule = apps.get_model("provider_payments", "ToleranceRule")
    PaymentSchedule = apps.get_model("provider_payments", "PaymentSchedule")
    JournalAccount = apps.get_model("provider_payments", "JournalAccount")
    BacsOriginator = apps.get_model("provider_payments", "BacsOriginator")
    JournalAccount.objects.get_or_create(purpose="creditors", defaults={"cost_centre": "FIN900", "subjective_code": "9100"})
    JournalAccount.objects.get_or_create(purpose="overpayments", defaults={"cost_centre": "FIN900", "subjective_code": "9200"})
    # A placeholder originator for the council to correct in the administration pages.
    BacsOriginator.objects.get_or_create(effective_from=date(2020, 1, 1), defaults={
        "service_user_number": "123456", "sort_code": "400000", "account_number": "12345678",
        "account_name": "NORTHMOOR COUNCIL"})
    for code, name, unit, basis, charging, centre, subjective in SERVICE_TYPES:
        ServiceType.objects.get_or_create(code=code, defaults={
            "name": name, "unit": unit, "billing_basis": basis, "charging_service_code": charging,
            "cost_centre": centre, "subjective_code": subjective})
    for code, name in BANDS:
        Band.objects.get_or_create(code=code, defaults={"name": name})
    # Visits within 5 minutes of plan are paid as planned; shorter ones by the minute (PP-05).
    if not ToleranceRule.objects.filter(service_type__isnull=True).exists():
        ToleranceRule.objects.create(effective_from=date(2020, 1, 1), tolerance_minutes=5, round_to_minutes=1)
    # Four-weekly in arrears (PP-06), paying on Mondays four-weekly from 21 April 2025.
    PaymentSchedule.objects.get_or_create(name="Four-weekly in arrears", defaults={
        "frequency": 28, "timing": "arrears", "anchor_date": date(2025, 4, 21)})


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in APPEND_ONLY:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}", params=None)


class Migration(migrations.Migration):
    dependencies = [("provider_payments", "0001_initial"), ("casework", "0004_append_only_letters_and_events")]
    operations = [migrations.RunPython(forward, backward)]
