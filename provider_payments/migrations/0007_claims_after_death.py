"""A rejected claim line carries no payable hours (services/payable.py): lines rejected by an
officer's override, a death's among them, kept the hours they had, so a claim's payable hours
still counted them. Their hours are set to nothing; what each line had is kept in its override
record and, for a death, in the death's recorded result (used if the death is reversed)."""
from django.db import migrations


def clear_rejected_hours(apps, schema_editor):
    ClaimLine = apps.get_model("provider_payments", "ClaimLine")
    ClaimLine.objects.filter(result="rejected").exclude(payable_units=0).update(payable_units=0)


class Migration(migrations.Migration):
    dependencies = [("provider_payments", "0006_overpayment_waivers")]
    operations = [migrations.RunPython(clear_rejected_hours, migrations.RunPython.noop)]
