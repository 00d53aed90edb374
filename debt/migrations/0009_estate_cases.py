"""Estate cases (rules DC-01 to DC-07): the estate details of a deceased client's case, the
follow-ups recorded on it, and how many days pass between follow-ups as data with effective dates
(28 days from the start, which an administrator corrects when local practice changes)."""
from datetime import date

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def follow_up_rule(apps, schema_editor):
    apps.get_model("debt", "EstateFollowUpRule").objects.get_or_create(
        effective_from=date(2000, 1, 1), defaults={"interval_days": 28})


class Migration(migrations.Migration):
    dependencies = [
        ("debt", "0008_moratorium_debts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='EstateCase',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('date_of_death', models.DateField()),
                ('probate_status', models.CharField(choices=[('not_known', 'Not known yet'), ('search_made', 'Probate search made'), ('grant_issued', 'Grant issued'), ('no_grant_expected', 'No grant expected')], default='not_known', max_length=20)),
                ('probate_search_on', models.DateField(blank=True, null=True)),
                ('grant_issued_on', models.DateField(blank=True, null=True)),
                ('grant_reference', models.CharField(blank=True, max_length=100)),
                ('estimated_value', models.DecimalField(blank=True, decimal_places=2, max_digits=13, null=True)),
                ('stage', models.CharField(choices=[('open', 'Open: no claim sent yet'), ('claim_sent', 'Claim sent to the personal representative'), ('closed', 'Closed')], default='open', max_length=15)),
                ('claim_sent_on', models.DateField(blank=True, null=True)),
                ('next_follow_up_on', models.DateField()),
                ('outcome', models.CharField(blank=True, choices=[('paid_in_full', 'Paid in full'), ('paid_in_part', 'Paid in part'), ('no_estate', 'No estate'), ('insolvent', 'Insolvent estate'), ('recorded_in_error', 'Death recorded in error')], max_length=20)),
                ('outcome_note', models.CharField(blank=True, max_length=1000)),
                ('closed_on', models.DateField(blank=True, null=True)),
                ('opened_on', models.DateField()),
                ('case', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='estate', to='casework.case')),
                ('claim_letter', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.letter')),
                ('opened_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('representative', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='estate_cases', to='casework.representative')),
                ('write_off', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='estate_cases', to='debt.writeoffrequest')),
            ],
            options={
                'ordering': ['next_follow_up_on', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='EstateFollowUp',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('note', models.TextField()),
                ('contact_made', models.BooleanField(default=False)),
                ('previous_follow_up_on', models.DateField()),
                ('next_follow_up_on', models.DateField()),
                ('recorded_at', models.DateTimeField(auto_now_add=True)),
                ('estate', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='follow_ups', to='debt.estatecase')),
                ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-recorded_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='EstateFollowUpRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('interval_days', models.PositiveSmallIntegerField()),
                ('effective_from', models.DateField(unique=True)),
            ],
            options={
                'ordering': ['-effective_from'],
                'constraints': [models.CheckConstraint(condition=models.Q(('interval_days__gt', 0)), name='estatefollowup_positive')],
            },
        ),
        migrations.AddIndex(
            model_name='estatecase',
            index=models.Index(condition=models.Q(('stage', 'closed'), _negated=True), fields=['next_follow_up_on'], name='estatecase_due_idx'),
        ),
        migrations.AddConstraint(
            model_name='estatecase',
            constraint=models.CheckConstraint(condition=models.Q(('stage', 'closed'), ('outcome', ''), _connector='OR'), name='estatecase_outcome_only_when_closed'),
        ),
        migrations.AddConstraint(
            model_name='estatecase',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('stage', 'closed'), _negated=True), models.Q(('outcome', ''), _negated=True), _connector='OR'), name='estatecase_closed_has_outcome'),
        ),
        migrations.AddConstraint(
            model_name='estatecase',
            constraint=models.CheckConstraint(condition=models.Q(('estimated_value__isnull', True), ('estimated_value__gte', 0), _connector='OR'), name='estatecase_value_not_negative'),
        ),
        migrations.RunPython(follow_up_rule, migrations.RunPython.noop),
    ]
