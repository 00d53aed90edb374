from django.db import models


class BacsOriginator(models.Model):
    """The council's Bacs service user number and the account payments are drawn from, as data
    with an effective date (the one in force on the payment date is used)."""

    service_user_number = models.CharField(max_length=6)
    sort_code = models.CharField(max_length=6)
    account_number = models.CharField(max_length=8)
    account_name = models.CharField(max_length=18)
    effective_from = models.DateField(unique=True)

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"SUN {self.service_user_number} from {self.effective_from}"


class JournalAccount(models.Model):
    """The finance system's control codes the payment journal credits (creditors for the Bacs
    total, the overpayments debtor for offsets)."""

    PURPOSES = [("creditors", "Creditors control (payments made)"), ("overpayments", "Provider overpayments debtor")]

    purpose = models.CharField(max_length=20, choices=PURPOSES, unique=True)
    cost_centre = models.CharField(max_length=20)
    subjective_code = models.CharField(max_length=20)

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}: {self.cost_centre}/{self.subjective_code}"
