"""Overpayment waivers: all or part of what a provider owes of an overpayment waived once another
person approved it (a WAIVER ledger entry, and the status "Closed: the rest waived"); append-only
at the database too (PostgreSQL)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


TABLE = "provider_payments_overpaymentwaiver"


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
                              "FOR EACH ROW EXECUTE FUNCTION careledger_refuse_change()", params=None)


def drop_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('casework', '0014_overpayment_recovery_action'),
        ('provider_payments', '0005_claim_override_and_run_controls'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='overpayment',
            name='status',
            field=models.CharField(choices=[('identified', 'Identified'), ('approved', 'Approved for recovery'), ('recovered', 'Recovered'), ('waived', 'Closed: the rest waived'), ('cancelled', 'Cancelled')], default='identified', max_length=12),
        ),
        migrations.AlterField(
            model_name='providerledgerentry',
            name='kind',
            field=models.CharField(choices=[('claim', 'Claim approved'), ('scheduled', 'Scheduled payment due'), ('adjustment', 'Dispute adjustment'), ('payment', 'Payment made'), ('urgent', 'Urgent payment'), ('overpayment', 'Overpayment'), ('receipt', 'Overpayment invoice paid'), ('waiver', 'Overpayment waived')], max_length=12),
        ),
        migrations.CreateModel(
            name='OverpaymentWaiver',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=13)),
                ('reason', models.CharField(max_length=1000)),
                ('waived_at', models.DateTimeField(auto_now_add=True)),
                ('approved_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('entry', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='provider_payments.providerledgerentry')),
                ('overpayment', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='waivers', to='provider_payments.overpayment')),
                ('request', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.controlrequest')),
                ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['waived_at', 'id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='overpayment_waiver_positive')],
            },
        ),
        migrations.RunPython(append_only, drop_append_only),
    ]
