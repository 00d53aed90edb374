"""Surplus waivers: an audit's surplus kept by the recipient instead of recovered, once another
person approved it (the outcome "Surplus waived"); append-only at the database too (PostgreSQL)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


TABLE = "direct_payments_surpluswaiver"


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
        ('direct_payments', '0002_append_only_and_defaults'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='audit',
            name='outcome',
            field=models.CharField(blank=True, choices=[('satisfactory', 'Satisfactory'), ('advice', 'Satisfactory with advice'), ('surplus', 'Surplus to recover'), ('misuse', 'Misuse'), ('suspended', 'Payments suspended'), ('waived', 'Surplus waived')], max_length=12),
        ),
        migrations.AlterField(
            model_name='historicalaudit',
            name='outcome',
            field=models.CharField(blank=True, choices=[('satisfactory', 'Satisfactory'), ('advice', 'Satisfactory with advice'), ('surplus', 'Surplus to recover'), ('misuse', 'Misuse'), ('suspended', 'Payments suspended'), ('waived', 'Surplus waived')], max_length=12),
        ),
        migrations.CreateModel(
            name='SurplusWaiver',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason_kind', models.CharField(choices=[('planned_saving', 'A planned saving agreed for a purpose'), ('hardship', 'Recovering it would cause hardship'), ('uneconomical', 'The amount is uneconomical to recover'), ('other', 'Another reason')], max_length=20)),
                ('reason', models.CharField(max_length=1000)),
                ('closing_balance', models.DecimalField(decimal_places=2, max_digits=13)),
                ('liabilities', models.DecimalField(decimal_places=2, max_digits=13)),
                ('weekly_budget', models.DecimalField(decimal_places=2, max_digits=13)),
                ('contingency_weeks', models.PositiveSmallIntegerField()),
                ('contingency', models.DecimalField(decimal_places=2, max_digits=13)),
                ('contribution_refund', models.DecimalField(decimal_places=2, max_digits=13)),
                ('amount', models.DecimalField(decimal_places=2, help_text='The surplus waived', max_digits=13)),
                ('waived_at', models.DateTimeField(auto_now_add=True)),
                ('approved_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('audit', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='surplus_waiver', to='direct_payments.audit')),
                ('request', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.controlrequest')),
                ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-waived_at', 'id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='dp_surplus_waiver_positive')],
            },
        ),
        migrations.RunPython(append_only, drop_append_only),
    ]
