"""National maximum interest rates to date (DPA Regs reg 9; rules.md DP-07, DP-13), the record of
the email that tells finance administrators a half-year's rate is missing, and the statement
wording that says so.

Rates: each half-year is loaded only with a published source. The half-years loaded by 0002
(January 2018 to June 2025) get the address of their source. No published figure was found for
April 2015 to December 2017 or for July 2025 onwards (the LGA page explains the method but lists
no figures; the OBR market gilt rate for 2025-26 was not found in a stored report), so those
half-years are deliberately left without a row: interest for them is refused, and the finance
administrators are emailed, until someone enters the published rate with its source in the admin.

Wording: a statement letter whose wording still reads "Interest was charged at {{ rates }}." gets a
new version that uses {{ interest_sentence }} instead, so a period without a published rate is
never described as "charged at no interest".
"""
from datetime import date

from django.db import migrations, models

BANES_URL = "https://bathnes.gov.uk/care-and-support-charging-and-financial-assessment-framework/20-annex-c"
WEST_SUSSEX_URL = ("https://westsussexconnecttosupport.org/alt-home/adult-social-care-publications/deferred-payments/"
                   "charges-for-deferred-payment-agreements")
#: Half-year -> where its published figure is stated.
SOURCE_URLS = {
    **{date(year, month, 1): BANES_URL for year in range(2018, 2025) for month in (1, 7)},
    date(2025, 1, 1): BANES_URL,
    date(2024, 1, 1): f"{BANES_URL} ; {WEST_SUSSEX_URL} (\"1 January 2024 to 30 June 2024 is 4.65%\")",
}
#: Periods searched for and not found in any published source: left without a rate on purpose.
NOT_FOUND = ["April 2015 to December 2017 (five half-years)", "July 2025 onwards"]

STATEMENT_LETTER = "dpa_statement"
OLD_SENTENCE = "Interest was charged at {{ rates }}."
NEW_SENTENCE = "{{ interest_sentence }}"


def load(apps, schema_editor):
    Rate = apps.get_model("deferred_payments", "NationalMaximumRate")
    for start, url in SOURCE_URLS.items():
        row = Rate.objects.filter(period_start=start).first()
        if row is None or "http" in row.source:
            continue
        row.source = f"{row.source}: {url}"[:300]
        row.save(update_fields=["source"])
    Template = apps.get_model("casework", "LetterTemplate")
    latest = Template.objects.filter(letter_type=STATEMENT_LETTER).order_by("-version").first()
    if latest is not None and OLD_SENTENCE in latest.body:
        Template.objects.create(letter_type=STATEMENT_LETTER, version=latest.version + 1, subject=latest.subject,
                                body=latest.body.replace(OLD_SENTENCE, NEW_SENTENCE), created_by=None,
                                change_note="The interest sentence names the rate and period, or says the rate "
                                            "is not yet published and no interest was added")


class Migration(migrations.Migration):
    dependencies = [("deferred_payments", "0003_fee_waivers"), ("casework", "0015_working_days")]
    operations = [
        migrations.CreateModel(
            name="RateMissingNotice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("period_start", models.DateField(help_text="1 January or 1 July", unique=True)),
                ("raised_on", models.DateField()),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("recipients", models.TextField(blank=True)),
                ("error", models.CharField(blank=True, max_length=300)),
            ],
            options={"ordering": ["-period_start"]},
        ),
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
