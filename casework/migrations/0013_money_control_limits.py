"""The money controls' starting limits (a council changes them as data, with effective dates), and
the record of money-moving actions made append-only at the database (PostgreSQL)."""
from decimal import Decimal

from django.db import migrations

FROM = "2020-01-01"
OFFICERS = ["Income officer", "Deferred payment officer", "Direct payment officer", "Resource management officer"]
TEAM_LEADER = "Team leader"

# (action, groups, entry kind, direction, alone up to, approve up to, approve any amount, period days)
LIMITS = [
    # Ledger entries posted by hand: increases within a modest sum alone; every reduction needs a second person.
    *[("manual_posting", OFFICERS + [TEAM_LEADER], kind, "increase", alone, None, False, None)
      for kind, alone in [("charge", "2000.00"), ("fee", "500.00"), ("interest", "500.00"), ("adjustment", "500.00"),
                          ("refund", None)]],
    ("manual_posting", [TEAM_LEADER], "", "", None, "10000.00", False, None),
    # A system account (a council's cash receipting or case-management system) passes on charges and receipts.
    ("manual_posting", ["System account"], "charge", "increase", "5000.00", None, False, None),
    ("manual_posting", ["System account"], "payment", "reduce", "5000.00", None, False, None),
    # Reversing an entry that reduces what is owed (a charge, fee or interest): a team leader alone up to
    # £1,000 a year for one account, above that another team leader.
    ("ledger_reversal", [TEAM_LEADER], "", "reduce", "1000.00", "10000.00", False, 365),
    ("ledger_reversal", [TEAM_LEADER], "", "increase", "100000.00", None, False, None),
    # Refunds of a client's credit: officers up to £250 alone, a team leader approves up to £10,000.
    ("refund", ["Income officer", "Resource management officer"], "", "", "250.00", None, False, 365),
    ("refund", [TEAM_LEADER], "", "", "1000.00", "10000.00", False, 365),
    # Credit notes: a team leader's decision (alone up to £2,500 a year for one account).
    ("credit_note", [TEAM_LEADER], "", "", "2500.00", "10000.00", False, 365),
    # Credits for care after a death: alone once the death is verified; before that, a team leader decides.
    ("death_credit", [TEAM_LEADER], "", "", None, None, True, None),
    # Provider claim lines paid above what was claimed or commissioned.
    ("claim_override", [TEAM_LEADER], "", "", None, "25000.00", False, None),
    # Waivers: never alone.
    ("overpayment_waiver", [TEAM_LEADER], "", "", None, "5000.00", False, 365),
    ("dp_surplus_waiver", [TEAM_LEADER], "", "", None, "5000.00", False, 365),
    ("dpa_fee_waiver", [TEAM_LEADER], "", "", None, "1000.00", False, 365),
    # Reversing a deferred payment posting (a charge, interest or fee deferred in error) reduces the debt.
    ("dpa_reversal", [TEAM_LEADER], "", "", "1000.00", "10000.00", False, 365),
]


def load(apps) -> None:
    """The starting rows (also called by the test suite after a transactional test empties the table)."""
    ControlLimit = apps.get_model("casework", "ControlLimit")
    rows = []
    for action, groups, kind, direction, alone, approve, any_amount, days in LIMITS:
        for group in groups:
            rows.append(ControlLimit(
                action=action, group_name=group, entry_kind=kind, direction=direction,
                alone_up_to=Decimal(alone) if alone else None, approve_up_to=Decimal(approve) if approve else None,
                approve_any_amount=any_amount, period_days=days, effective_from=FROM,
                note="Starting limit; change with a new row from the date it applies"))
    ControlLimit.objects.bulk_create(rows)


def forward(apps, schema_editor):
    load(apps)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE TRIGGER casework_moneyaction_append_only BEFORE UPDATE OR DELETE ON casework_moneyaction "
            "FOR EACH ROW EXECUTE FUNCTION careledger_refuse_change()", params=None)


def backward(apps, schema_editor):
    apps.get_model("casework", "ControlLimit").objects.all().delete()
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS casework_moneyaction_append_only ON casework_moneyaction",
                              params=None)


class Migration(migrations.Migration):
    dependencies = [("casework", "0012_money_controls")]
    operations = [migrations.RunPython(forward, backward)]
