from django.conf import settings
from django.db import models

from .base import AppendOnlyModel, AppendOnlyQuerySet
from .cases import Case
from .clients import Client
from .runs import Run, RunItem  # noqa: F401


class LetterTemplate(AppendOnlyModel):
    """One version of the wording of a letter type. Editing saves a new version; the highest
    version is the one in use. Letters keep the version they were produced from.

    `body` uses only {{ field }} placeholders offered by the letter type (see casework.letters.types);
    it is checked when saved and cannot run code.
    """

    letter_type = models.CharField(max_length=60)
    version = models.PositiveIntegerField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    change_note = models.CharField(max_length=300, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["letter_type", "-version"]
        constraints = [models.UniqueConstraint(fields=["letter_type", "version"], name="lettertemplate_unique_version")]

    def __str__(self) -> str:
        return f"{self.letter_type} v{self.version}"


class Letter(AppendOnlyModel):
    """A letter as sent: rendered once to PDF, stored with its SHA-256, never changed.

    `run_item` is unique, so a run can produce at most one letter per item however often it is
    retried or resumed.
    """

    letter_type = models.CharField(max_length=60)
    template = models.ForeignKey(LetterTemplate, on_delete=models.PROTECT, related_name="letters")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="letters")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="letters")
    run_item = models.OneToOneField(RunItem, on_delete=models.PROTECT, null=True, blank=True, related_name="letter")
    recipient_name = models.CharField(max_length=300)
    recipient_address = models.JSONField(help_text="Address lines, postcode last")
    postcode = models.CharField(max_length=8, blank=True)
    large_print = models.BooleanField(default=False)
    pages = models.PositiveIntegerField()
    file = models.FileField(upload_to="letters/%Y/%m/", max_length=200)
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "-created_at"], name="letter_client_idx")]

    def __str__(self) -> str:
        return f"Letter {self.pk} {self.letter_type} to {self.recipient_name}"

    @property
    def reference(self) -> str:
        return f"L{self.pk:08d}" if self.pk else "L-draft"


class PrintBatchStatus(models.TextChoices):
    READY = "ready", "Ready for release"
    HELD = "held", "Held"
    RELEASED = "released", "Released to print"


class PrintBatch(models.Model):
    """A run's letters for the print and post supplier: one PDF in postcode order and a manifest.

    A team leader may hold a batch before release; a held batch cannot be released until the hold
    is lifted.
    """

    ALLOWED_TRANSITIONS = {
        PrintBatchStatus.READY: {PrintBatchStatus.HELD, PrintBatchStatus.RELEASED},
        PrintBatchStatus.HELD: {PrintBatchStatus.READY},
        PrintBatchStatus.RELEASED: set(),
    }

    run = models.OneToOneField(Run, on_delete=models.PROTECT, related_name="print_batch")
    status = models.CharField(max_length=10, choices=PrintBatchStatus.choices, default=PrintBatchStatus.READY)
    letter_count = models.PositiveIntegerField()
    page_count = models.PositiveIntegerField()
    pdf = models.FileField(upload_to="print-batches/", max_length=200)
    manifest = models.FileField(upload_to="print-batches/", max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    hold_reason = models.CharField(max_length=300, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())
