"""The county court money claim issue fees (rule DR-22; the fee is on the claim plus interest; the
5 % band rounds down to the penny) and the pleaded interest rate (8 % a year, County Courts Act
1984 s.69 as commonly pleaded: DR-20), as data an administrator corrects when they change."""
from datetime import date
from decimal import Decimal as D

from django.db import migrations

FEES = [("0", "300", "35"), ("300.01", "500", "50"), ("500.01", "1000", "70"), ("1000.01", "1500", "80"),
        ("1500.01", "3000", "115"), ("3000.01", "5000", "205"), ("5000.01", "10000", "455"),
        ("10000.01", "200000", None), ("200000.01", None, "10000")]


def forward(apps, schema_editor):
    CourtFeeBand = apps.get_model("debt", "CourtFeeBand")
    for lower, upper, fee in FEES:
        CourtFeeBand.objects.get_or_create(lower=D(lower), effective_from=date(2020, 1, 1), defaults={
            "upper": D(upper) if upper else None, "fixed_fee": D(fee) if fee else None,
            "percentage": None if fee else D("5")})
    apps.get_model("debt", "ClaimInterestRule").objects.get_or_create(
        effective_from=date(2000, 1, 1), defaults={"rate_percent": D("8.00")})


class Migration(migrations.Migration):
    dependencies = [("debt", "0006_legal_action")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
