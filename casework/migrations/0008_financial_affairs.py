"""Client financial affairs: affairs cases, their checklists (steps as data), Court of Protection
fees (as data with effective dates), section 47 costs and mental capacity assessments."""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from datetime import date
from decimal import Decimal

# (kind, code, label, hint, requires_date, requires_document, required, capture). The order is the
# position in each kind's list. Administrators correct these rows; nothing in code lists the steps.
STEPS = [
    ("appointeeship", "referral", "Referral received", "Who referred the client and why an appointee is needed",
     True, False, True, ""),
    ("appointeeship", "capacity_evidence", "Capacity evidence obtained",
     "Evidence that the client cannot manage their benefits (a capacity assessment or medical opinion)",
     True, True, True, ""),
    ("appointeeship", "dwp_visit", "DWP visit done (BF56 application)",
     "The council applies on form BF56; a DWP officer visits the client and the proposed appointee",
     True, False, True, ""),
    ("appointeeship", "appointment", "Appointment made by the DWP (BF57)",
     "The date the DWP appointed the council as appointee", True, True, True, ""),
    ("appointeeship", "benefits_managed", "Benefits managed by the council",
     "Which benefits are now paid to the council as appointee (note them)", True, False, True, ""),
    ("appointeeship", "client_account", "Client account set up",
     "The client's money account held by the council (note its reference)", True, False, True, ""),
    ("appointeeship", "annual_review", "Annual review held",
     "Review the appointeeship every year and whether deputyship is now needed (CP-01)", True, False, False, ""),
    ("deputyship", "forms_prepared", "Application forms prepared",
     "COP1 application, COP1A property and affairs annex, COP4 deputy's declaration", True, False, True, ""),
    ("deputyship", "capacity_assessment", "Capacity assessment obtained (COP3)",
     "COP3 completed by the assessor; attach it", True, True, True, ""),
    ("deputyship", "fee", "Court fee paid, or exemption or remission granted",
     "Help with fees is applied for on COP44A", True, False, True, "fee"),
    ("deputyship", "application_sent", "Application sent to the Court of Protection", "", True, False, True, ""),
    ("deputyship", "notifications", "Client and others notified",
     "Client notified (COP14), relatives and others notified (COP15); certificates of notification "
     "(COP20A, COP20B) sent to the court", True, False, True, ""),
    ("deputyship", "order_made", "Order made by the court", "Attach the sealed order", True, True, True, ""),
    ("deputyship", "deputy_appointed", "Deputy appointed",
     "Recorded on the client as their Court of Protection deputy", True, False, True, "deputy"),
    ("protection_of_property", "inventory", "Inventory of property made",
     "List the property and valuables found, with two officers present; attach the inventory", True, True, True, ""),
    ("protection_of_property", "home_secured", "Home secured",
     "Locks, keys held, utilities, post redirected", True, False, True, ""),
    ("protection_of_property", "pets", "Pets cared for",
     "Who is caring for any pets; note if there are none", True, False, True, ""),
    ("protection_of_property", "costs_recovered", "Costs recovered",
     "Reasonable costs of protecting the property may be recovered from the client (Care Act s.47(7))",
     True, False, True, "costs"),
    ("finance_only", "review", "Finance-only involvement reviewed", "Whether the finance-only involvement continues",
     True, False, True, ""),
]
# (code, label, effective_from, amount, source, note)
FEES = [
    ("cop_application", "Court of Protection application fee", date(2019, 7, 22), Decimal("365.00"),
     "https://www.anthonygold.co.uk/latest/blog/cop44a-form-how-can-you-get-help-with-court-of-protection-fees/",
     "UNCONFIRMED for later years: another source quotes £385 without a date. Check gov.uk and add a row "
     "with its effective date."),
]


def seed_reference_data(apps, schema_editor):
    Definition = apps.get_model("casework", "ChecklistStepDefinition")
    CourtFee = apps.get_model("casework", "CourtFee")
    positions: dict[str, int] = {}
    for kind, code, label, hint, requires_date, requires_document, required, capture in STEPS:
        positions[kind] = positions.get(kind, 0) + 10
        Definition.objects.update_or_create(kind=kind, code=code, defaults={
            "label": label, "hint": hint, "order": positions[kind], "requires_date": requires_date,
            "requires_document": requires_document, "required": required, "capture": capture})
    for code, label, effective_from, amount, source, note in FEES:
        CourtFee.objects.update_or_create(code=code, effective_from=effective_from, defaults={
            "label": label, "amount": amount, "source": source, "note": note})


def unseed_reference_data(apps, schema_editor):
    apps.get_model("casework", "ChecklistStepDefinition").objects.all().delete()
    apps.get_model("casework", "CourtFee").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("casework", "0007_deaths"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AffairsCase',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('appointeeship', 'Appointeeship (the council as DWP appointee)'), ('deputyship', 'Court of Protection deputyship (property and affairs)'), ('protection_of_property', 'Protection of property (Care Act section 47)'), ('finance_only', 'Finance only')], max_length=30)),
                ('status', models.CharField(choices=[('open', 'Open'), ('in_progress', 'In progress'), ('completed', 'Completed'), ('withdrawn', 'Withdrawn')], default='open', max_length=20)),
                ('reason', models.TextField(blank=True, help_text='Why the council is involved (required for finance only)')),
                ('review_date', models.DateField(blank=True, null=True)),
                ('court_reference', models.CharField(blank=True, max_length=60)),
                ('fee_outcome', models.CharField(blank=True, choices=[('paid', 'Paid in full'), ('exempt', 'Exempt (help with fees)'), ('remitted', 'Remitted in full'), ('part_remitted', 'Part remitted')], max_length=20)),
                ('fee_standard', models.DecimalField(blank=True, decimal_places=2, max_digits=13, null=True)),
                ('fee_paid', models.DecimalField(blank=True, decimal_places=2, max_digits=13, null=True)),
                ('status_reason', models.CharField(blank=True, max_length=300)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('case', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='affairs', to='casework.case')),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('deputy', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.representative')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='AffairsCost',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(max_length=300)),
                ('recorded_at', models.DateTimeField(auto_now_add=True)),
                ('affairs', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='costs', to='casework.affairscase')),
                ('ledger_entry', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.ledgerentry')),
                ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['recorded_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='ChecklistStepDefinition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('appointeeship', 'Appointeeship (the council as DWP appointee)'), ('deputyship', 'Court of Protection deputyship (property and affairs)'), ('protection_of_property', 'Protection of property (Care Act section 47)'), ('finance_only', 'Finance only')], max_length=30)),
                ('code', models.SlugField(max_length=40)),
                ('label', models.CharField(max_length=200)),
                ('hint', models.CharField(blank=True, max_length=400)),
                ('order', models.PositiveIntegerField()),
                ('requires_date', models.BooleanField(default=True)),
                ('requires_document', models.BooleanField(default=False)),
                ('required', models.BooleanField(default=True, help_text='Must be done before the case can be completed')),
                ('capture', models.CharField(blank=True, choices=[('', 'Date, note and document'), ('fee', 'Court fee paid, exempt or remitted'), ('deputy', 'The appointed deputy'), ('costs', "Costs charged to the client's account")], default='', max_length=10)),
                ('active', models.BooleanField(default=True)),
            ],
            options={
                'ordering': ['kind', 'order', 'id'],
                'constraints': [models.UniqueConstraint(fields=('kind', 'code'), name='affairs_step_kind_code_unique')],
            },
        ),
        migrations.CreateModel(
            name='CourtFee',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(max_length=40)),
                ('label', models.CharField(max_length=200)),
                ('effective_from', models.DateField()),
                ('amount', models.DecimalField(decimal_places=2, max_digits=13)),
                ('source', models.CharField(blank=True, max_length=300)),
                ('note', models.CharField(blank=True, max_length=400)),
            ],
            options={
                'ordering': ['code', '-effective_from'],
                'constraints': [models.UniqueConstraint(fields=('code', 'effective_from'), name='affairs_court_fee_code_date_unique'), models.CheckConstraint(condition=models.Q(('amount__gte', 0)), name='affairs_court_fee_not_negative')],
            },
        ),
        migrations.AddField(
            model_name='affairscase',
            name='fee_rate',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.courtfee'),
        ),
        migrations.CreateModel(
            name='CapacityAssessment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('assessed_on', models.DateField()),
                ('assessor', models.CharField(help_text='Name and role of the person who assessed', max_length=200)),
                ('decision', models.CharField(help_text='The financial decision the assessment was about', max_length=300)),
                ('outcome', models.CharField(choices=[('has', 'Has capacity to manage finances'), ('lacks', 'Lacks capacity to manage finances')], max_length=10)),
                ('note', models.TextField(blank=True)),
                ('recorded_at', models.DateTimeField(auto_now_add=True)),
                ('case', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.case')),
                ('client', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='capacity_assessments', to='casework.client')),
                ('evidence', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.document')),
                ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-assessed_on', '-id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('outcome__in', ['has', 'lacks'])), name='capacity_assessment_outcome_known')],
            },
        ),
        migrations.CreateModel(
            name='ChecklistStep',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('done_on', models.DateField(blank=True, null=True)),
                ('note', models.TextField(blank=True)),
                ('completed_at', models.DateTimeField(auto_now_add=True)),
                ('affairs', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='steps', to='casework.affairscase')),
                ('completed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('document', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.document')),
                ('definition', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.checkliststepdefinition')),
            ],
            options={
                'ordering': ['definition__order', 'id'],
                'constraints': [models.UniqueConstraint(fields=('affairs', 'definition'), name='affairs_step_once')],
            },
        ),
        migrations.AddIndex(
            model_name='affairscase',
            index=models.Index(fields=['kind', 'status'], name='affairs_kind_status_idx'),
        ),
        migrations.AddConstraint(
            model_name='affairscase',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'finance_only'), _negated=True), models.Q(models.Q(('reason', ''), _negated=True), ('review_date__isnull', False)), _connector='OR'), name='affairs_finance_only_has_reason_and_review'),
        ),
        migrations.RunPython(seed_reference_data, unseed_reference_data),
    ]
