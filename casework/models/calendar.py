"""Days on which banks, courts and the council do not work, as data with their source.

England and Wales bank holidays are loaded from the published list (``manage.py load_bank_holidays``,
which reads the ``holidays`` package's England and Wales calendar) and a finance administrator adds
council closure days or corrects a day on the working-days page. Weekends are never working days.
A day is removed by marking it withdrawn, so the calendar's history shows who changed what and why.
"""
from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class NonWorkingKind(models.TextChoices):
    BANK_HOLIDAY = "bank_holiday", "Bank holiday (England and Wales)"
    CLOSURE = "closure", "Council closure day"


class NonWorkingDay(models.Model):
    day = models.DateField(unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=NonWorkingKind.choices, default=NonWorkingKind.BANK_HOLIDAY)
    source = models.CharField(max_length=200, help_text="Where the day comes from: the published list or a decision.")
    withdrawn = models.BooleanField(default=False, help_text="A day withdrawn is a working day again.")
    reason = models.CharField(max_length=300, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    changed_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["day"]

    def __str__(self):
        return f"{self.day:%d %B %Y}: {self.name}"
