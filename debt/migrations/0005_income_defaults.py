"""Starting figures for recovery, relief and write-offs (data an administrator changes, each with
an effective date), and append-only triggers (PostgreSQL) for the new logs.

The recovery ladder and thresholds are UNCONFIRMED local practice (rules BL-03); the Breathing
Space periods come from the Debt Respite Scheme regulations (60 days; review request within 19
days; crisis moratorium ends 30 days after treatment); limitation is six years from the day a
charge fell due (DR-03). Write-off levels are an example scheme of delegation. Spending guidelines
are licensed and are not seeded: an administrator enters them.
"""
from datetime import date
from decimal import Decimal

from django.db import migrations

APPEND_ONLY = ["debt_recoveryevent", "debt_suppressedaction", "debt_planmiss"]
START = date(2015, 4, 1)


def forward(apps, schema_editor):
    from debt.services.recovery import DEFAULT_LADDER

    if schema_editor.connection.vendor == "postgresql":
        for table in APPEND_ONLY:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION careledger_refuse_change()",
                params=None,
            )
    RecoveryStage = apps.get_model("debt", "RecoveryStage")
    for order, code, name, days, delay_from, action, letter_type, reply in DEFAULT_LADDER:
        RecoveryStage.objects.get_or_create(code=code, defaults={
            "order": order, "name": name, "delay_days": days, "delay_from": delay_from, "action": action,
            "letter_type": letter_type, "response_days": reply, "effective_from": START})
    apps.get_model("debt", "RecoveryThreshold").objects.get_or_create(effective_from=START, defaults={
        "minimum_balance": Decimal("10.00"), "escalate_balance": Decimal("5000.00"), "escalate_age_days": 180})
    apps.get_model("debt", "BreathingSpaceRule").objects.get_or_create(effective_from=date(2021, 5, 4), defaults={
        "standard_days": 60, "review_request_days": 19, "crisis_extra_days": 30})
    apps.get_model("debt", "PlanRule").objects.get_or_create(effective_from=START, defaults={
        "grace_days": 7, "breaks_allowed": 1})
    apps.get_model("debt", "LimitationRule").objects.get_or_create(effective_from=START, defaults={
        "years": 6, "warning_months": 6})
    WriteOffLevel = apps.get_model("debt", "WriteOffLevel")
    for group, limit in [("Income officer", Decimal("50.00")), ("Team leader", Decimal("1000.00")),
                         ("Write-off approver (unlimited)", None)]:
        WriteOffLevel.objects.get_or_create(group_name=group, effective_from=START, defaults={"maximum_amount": limit})
    apps.get_model("auth", "Group").objects.get_or_create(name="Write-off approver (unlimited)")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in APPEND_ONLY:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}", params=None)


class Migration(migrations.Migration):
    dependencies = [("debt", "0004_recovery_relief_writeoffs"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(forward, backward)]
