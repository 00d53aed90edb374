"""Fee waivers: a credit that cancels all or part of a fee, posted once another person approved
it; append-only at the database too (PostgreSQL)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


TABLE = "deferred_payments_feewaiver"


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
                              "FOR EACH ROW EXECUTE FUNCTION careledger_refuse_change()", params=None)


def drop_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('casework', '0013_money_control_limits'),
        ('deferred_payments', '0002_reference_data_and_guards'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='FeeWaiver',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=13)),
                ('reason', models.CharField(max_length=1000)),
                ('waived_at', models.DateTimeField(auto_now_add=True)),
                ('approved_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('entry', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.ledgerentry')),
                ('fee', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='waivers', to='deferred_payments.feeposting')),
                ('request', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.controlrequest')),
                ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['waived_at', 'id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='dpa_fee_waiver_positive')],
            },
        ),
        migrations.RunPython(append_only, drop_append_only),
    ]
