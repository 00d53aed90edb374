"""High-cost exceptions: guide prices per area, provider contract status, urgent placements, the
exceptions with their triggers and dated notes (append-only at the database too), and the reasons a
challenge ends without a saving (data a finance administrator can change)."""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


NOTES_TABLE = "provider_payments_highcostexceptionnote"
NO_SAVING_REASONS = [
    ("needs_justify_cost", "The assessed needs justify the cost", 10),
    ("provider_refused", "The provider would not reduce the price", 20),
    ("no_alternative", "No suitable alternative provider or service", 30),
    ("choice_top_up", "The client's choice, met by a third-party top-up", 40),
    ("package_ended", "The package ended before the challenge concluded", 50),
    ("other", "Another reason (see the note)", 90),
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE TRIGGER {NOTES_TABLE}_append_only BEFORE UPDATE OR DELETE ON {NOTES_TABLE} "
            f"FOR EACH ROW EXECUTE FUNCTION careledger_refuse_change()", params=None)
    seed_defaults(apps)


def seed_defaults(apps):
    """The no-saving reasons a council starts from (idempotent)."""
    NoSavingReason = apps.get_model("provider_payments", "NoSavingReason")
    for code, name, order in NO_SAVING_REASONS:
        NoSavingReason.objects.get_or_create(code=code, defaults={"name": name, "order": order})


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {NOTES_TABLE}_append_only ON {NOTES_TABLE}", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("provider_payments", "0003_death_notice_period"),
        ("casework", "0007_deaths"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HighCostException',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('open', 'Open'), ('under_review', 'Under review'), ('negotiating', 'Negotiating with the provider'), ('closed', 'Closed')], default='open', max_length=15)),
                ('weekly_cost', models.DecimalField(decimal_places=2, max_digits=13)),
                ('weekly_guide', models.DecimalField(blank=True, decimal_places=2, max_digits=13, null=True)),
                ('detected_on', models.DateField()),
                ('detected_at', models.DateTimeField(auto_now_add=True)),
                ('review', models.TextField(blank=True)),
                ('alternative', models.TextField(blank=True, verbose_name='alternative proposed')),
                ('proposed_weekly_cost', models.DecimalField(blank=True, decimal_places=2, max_digits=13, null=True)),
                ('outcome', models.CharField(blank=True, choices=[('saving', 'Saving achieved'), ('no_saving', 'No saving')], max_length=10)),
                ('new_weekly_cost', models.DecimalField(blank=True, decimal_places=2, max_digits=13, null=True)),
                ('saving_from', models.DateField(blank=True, null=True)),
                ('saving_days', models.PositiveIntegerField(blank=True, null=True)),
                ('weekly_saving', models.DecimalField(blank=True, decimal_places=2, max_digits=13, null=True)),
                ('full_year_saving', models.DecimalField(blank=True, decimal_places=2, max_digits=13, null=True)),
                ('outcome_note', models.TextField(blank=True)),
                ('closed_on', models.DateField(blank=True, null=True)),
            ],
            options={
                'ordering': ['-detected_on', '-id'],
            },
        ),
        migrations.CreateModel(
            name='HighCostExceptionNote',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('noted_on', models.DateField(help_text='The day of the conversation or the review')),
                ('text', models.TextField()),
                ('added_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['noted_on', 'id'],
            },
        ),
        migrations.CreateModel(
            name='HighCostExceptionTrigger',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('rule', models.CharField(choices=[('over_guide', 'Weekly cost above the guide price'), ('non_contracted', 'Provider not on contract'), ('urgent_placement', 'Urgent residential placement above the guide price'), ('increase', 'Cost increased on the previous version'), ('residential_support', 'Extra support within a residential placement')], max_length=20)),
                ('detail', models.CharField(max_length=300)),
                ('weekly_cost', models.DecimalField(decimal_places=2, max_digits=13)),
                ('weekly_guide', models.DecimalField(blank=True, decimal_places=2, max_digits=13, null=True)),
                ('previous_weekly_cost', models.DecimalField(blank=True, decimal_places=2, max_digits=13, null=True)),
                ('detected_on', models.DateField()),
                ('detected_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['detected_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='NoSavingReason',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=30, unique=True)),
                ('name', models.CharField(max_length=200)),
                ('active', models.BooleanField(default=True)),
                ('order', models.PositiveIntegerField(default=0)),
            ],
            options={
                'ordering': ['order', 'name'],
            },
        ),
        migrations.CreateModel(
            name='ProviderContract',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('contracted', models.BooleanField()),
                ('effective_from', models.DateField()),
                ('note', models.CharField(blank=True, max_length=300)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['provider__name', 'effective_from'],
            },
        ),
        migrations.CreateModel(
            name='UrgentPlacement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(max_length=300)),
                ('recorded_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.AlterModelOptions(
            name='guideprice',
            options={'ordering': ['service_type__name', 'area__name', 'effective_from']},
        ),
        migrations.RemoveConstraint(
            model_name='guideprice',
            name='guide_price_unique',
        ),
        migrations.AddField(
            model_name='guideprice',
            name='area',
            field=models.ForeignKey(blank=True, help_text='Empty: every area', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='guide_prices', to='casework.area'),
        ),
        migrations.AddConstraint(
            model_name='guideprice',
            constraint=models.UniqueConstraint(condition=models.Q(('area__isnull', True)), fields=('service_type', 'effective_from'), name='guide_price_unique'),
        ),
        migrations.AddConstraint(
            model_name='guideprice',
            constraint=models.UniqueConstraint(condition=models.Q(('area__isnull', False)), fields=('service_type', 'area', 'effective_from'), name='guide_price_area_unique'),
        ),
        migrations.AddConstraint(
            model_name='guideprice',
            constraint=models.CheckConstraint(condition=models.Q(('price__gt', 0)), name='guide_price_positive'),
        ),
        migrations.AddField(
            model_name='highcostexception',
            name='area',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.area'),
        ),
        migrations.AddField(
            model_name='highcostexception',
            name='case',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='high_cost_exceptions', to='casework.case'),
        ),
        migrations.AddField(
            model_name='highcostexception',
            name='closed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='highcostexception',
            name='package',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='high_cost_exceptions', to='provider_payments.carepackage'),
        ),
        migrations.AddField(
            model_name='highcostexception',
            name='reviewed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='highcostexceptionnote',
            name='added_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='highcostexceptionnote',
            name='exception',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='notes', to='provider_payments.highcostexception'),
        ),
        migrations.AddField(
            model_name='highcostexceptiontrigger',
            name='exception',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='triggers', to='provider_payments.highcostexception'),
        ),
        migrations.AddField(
            model_name='highcostexception',
            name='no_saving_reason',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='exceptions', to='provider_payments.nosavingreason'),
        ),
        migrations.AddField(
            model_name='providercontract',
            name='created_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='providercontract',
            name='provider',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='contract_statuses', to='provider_payments.provider'),
        ),
        migrations.AddField(
            model_name='urgentplacement',
            name='package',
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='urgent_placement', to='provider_payments.carepackage'),
        ),
        migrations.AddField(
            model_name='urgentplacement',
            name='recorded_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='highcostexceptiontrigger',
            constraint=models.UniqueConstraint(fields=('exception', 'rule'), name='hce_trigger_one_per_rule'),
        ),
        migrations.AddIndex(
            model_name='highcostexception',
            index=models.Index(fields=['status', 'detected_on'], name='hce_status_idx'),
        ),
        migrations.AddIndex(
            model_name='highcostexception',
            index=models.Index(fields=['closed_on'], name='hce_closed_idx'),
        ),
        migrations.AddConstraint(
            model_name='highcostexception',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'closed'), _negated=True), fields=('package',), name='high_cost_exception_one_open_per_package'),
        ),
        migrations.AddConstraint(
            model_name='highcostexception',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'closed'), _negated=True), models.Q(('full_year_saving__isnull', False), ('new_weekly_cost__isnull', False), ('outcome', 'saving'), ('weekly_saving__gt', 0)), models.Q(('no_saving_reason__isnull', False), ('outcome', 'no_saving')), _connector='OR'), name='high_cost_exception_closed_has_outcome'),
        ),
        migrations.AddConstraint(
            model_name='providercontract',
            constraint=models.UniqueConstraint(fields=('provider', 'effective_from'), name='provider_contract_unique'),
        ),
        migrations.RunPython(forward, backward),
    ]
