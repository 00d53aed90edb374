"""Litigation friend on a legal referral (CPR Part 21) and the Pre-Action Protocol timing rule as
data: reply within 30 days of deemed service (Pre-Action Protocol for Debt Claims, in force
1 October 2017), a first class letter deemed served on the second business day after posting
(CPR 6.26)."""
from datetime import date

from django.db import migrations, models

SOURCE = ("Pre-Action Protocol for Debt Claims (30 days to reply to the letter before claim); "
          "CPR 6.26 (first class post: the second business day after posting)")


def seed(apps, schema_editor):
    apps.get_model("debt", "PreActionRule").objects.get_or_create(
        method="first_class_post", effective_from=date(2017, 10, 1),
        defaults={"reply_days": 30, "deemed_service_business_days": 2, "source": SOURCE})


class Migration(migrations.Migration):

    dependencies = [
        ('debt', '0012_limitation_warning_levels'),
    ]

    operations = [
        migrations.AddField(
            model_name='legalreferral',
            name='litigation_friend_address',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='legalreferral',
            name='litigation_friend_certificate_on',
            field=models.DateField(blank=True, null=True, verbose_name='date of the certificate of suitability (N235)'),
        ),
        migrations.AddField(
            model_name='legalreferral',
            name='litigation_friend_name',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='legalreferral',
            name='litigation_friend_relationship',
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.CreateModel(
            name='PreActionRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('method', models.CharField(choices=[('first_class_post', 'First class post')], default='first_class_post', max_length=20)),
                ('reply_days', models.PositiveIntegerField(help_text='Calendar days the debtor has to reply, from deemed service')),
                ('deemed_service_business_days', models.PositiveIntegerField(help_text='Business days after posting on which the letter is deemed served')),
                ('effective_from', models.DateField()),
                ('source', models.CharField(max_length=300)),
            ],
            options={
                'ordering': ['method', '-effective_from'],
                'constraints': [models.UniqueConstraint(fields=('method', 'effective_from'), name='preactionrule_unique')],
            },
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
