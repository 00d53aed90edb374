from .clients import Client, Representative, RecordAccess
from .cases import Case, Document, Task, Team, TimelineEntry
from .ledger import Account, LedgerEntry
from .letters import Letter, LetterTemplate, PrintBatch, PrintBatchStatus
from .runs import ItemStatus, Run, RunEvent, RunItem, RunStatus
from .privacy import (ErasureRedaction, ErasureRequest, ErasureStatus, RetentionReview, RetentionReviewStatus,
                      RetentionRule, SubjectAccessRequest)

__all__ = [
    "ErasureRedaction",
    "ErasureRequest",
    "ErasureStatus",
    "RetentionReview",
    "RetentionReviewStatus",
    "RetentionRule",
    "SubjectAccessRequest",
    "ItemStatus",
    "Letter",
    "LetterTemplate",
    "PrintBatch",
    "PrintBatchStatus",
    "Run",
    "RunEvent",
    "RunItem",
    "RunStatus",
    "Account",
    "Case",
    "Client",
    "Document",
    "LedgerEntry",
    "RecordAccess",
    "Representative",
    "Task",
    "Team",
    "TimelineEntry",
]
