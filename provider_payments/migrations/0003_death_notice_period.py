"""The notice period a provider is paid after a client's death, as data with effective dates, and
the defaults a council starts from: 0 days for care homes (no national figure; the council sets its
contract's period in the administration pages) and 0 days for care at home (care ends on the date
of death)."""
from datetime import date

import django.db.models.deletion
from django.db import migrations, models

DEFAULTS = [
    # billing basis, days, note
    ("scheduled", 0, "Care homes (residential and nursing): the contract's notice period after a death. No national "
                     "figure: 0 days until the council sets its contract's period."),
    ("delivered", 0, "Care at home and in the community ends on the date of death."),
]


def seed_defaults(apps):
    """Idempotent; transactional tests call it again after a flush."""
    DeathNoticePeriod = apps.get_model("provider_payments", "DeathNoticePeriod")
    for basis, days, note in DEFAULTS:
        DeathNoticePeriod.objects.get_or_create(billing_basis=basis, service_type=None, effective_from=date(2015, 4, 1),
                                                defaults={"days": days, "note": note})


def forward(apps, schema_editor):
    seed_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [("provider_payments", "0002_append_only_and_defaults")]

    operations = [
        migrations.CreateModel(
            name="DeathNoticePeriod",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("billing_basis", models.CharField(choices=[("delivered", "Delivered units, claimed by the provider"),
                                                            ("scheduled", "Commissioned weekly amount, paid on schedule (residential)")],
                                                   max_length=10)),
                ("effective_from", models.DateField()),
                ("days", models.PositiveSmallIntegerField(default=0, help_text="Days paid after the date of death")),
                ("note", models.CharField(blank=True, max_length=300)),
                ("service_type", models.ForeignKey(blank=True, help_text="Leave blank for every service paid on this basis",
                                                   null=True, on_delete=django.db.models.deletion.PROTECT,
                                                   related_name="death_notice_periods",
                                                   to="provider_payments.servicetype")),
            ],
            options={"ordering": ["billing_basis", "service_type__name", "effective_from"]},
        ),
        migrations.AddConstraint(
            model_name="deathnoticeperiod",
            constraint=models.UniqueConstraint(condition=models.Q(("service_type__isnull", True)),
                                               fields=("billing_basis", "effective_from"), name="death_notice_basis_once"),
        ),
        migrations.AddConstraint(
            model_name="deathnoticeperiod",
            constraint=models.UniqueConstraint(condition=models.Q(("service_type__isnull", False)),
                                               fields=("service_type", "effective_from"), name="death_notice_service_once"),
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
