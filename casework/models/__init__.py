from .clients import Area, Client, Representative, RecordAccess
from .cases import Case, Document, Task, Team, TimelineEntry
from .ledger import Account, LedgerEntry
from .letters import Letter, LetterTemplate, PrintBatch, PrintBatchStatus
from .runs import ItemStatus, Run, RunEvent, RunItem, RunStatus
from .deaths import ConsequenceStatus, DeathConsequence, DeathRecord, DeathRecordStatus
from .privacy import (ErasureRedaction, ErasureRequest, ErasureStatus, RetentionReview, RetentionReviewStatus,
                      RetentionRule, SubjectAccessRequest)
from .accounts import UserSession
from .calendar import NonWorkingDay, NonWorkingKind
from .council import CouncilDetails
from .controls import (ControlAction, ControlLimit, ControlRequest, ControlRequestStatus, Direction,
                       MoneyAction)
from .affairs import (AffairsCase, AffairsCost, AffairsKind, AffairsStatus, CapacityAssessment, ChecklistStep,
                      ChecklistStepDefinition, CourtFee, FeeOutcome, StepCapture)

__all__ = [
    "CouncilDetails",
    "NonWorkingDay",
    "NonWorkingKind",
    "ControlAction",
    "ControlLimit",
    "ControlRequest",
    "ControlRequestStatus",
    "Direction",
    "MoneyAction",
    "AffairsCase",
    "AffairsCost",
    "AffairsKind",
    "AffairsStatus",
    "CapacityAssessment",
    "ChecklistStep",
    "ChecklistStepDefinition",
    "CourtFee",
    "FeeOutcome",
    "StepCapture",
    "Area",
    "ConsequenceStatus",
    "DeathConsequence",
    "DeathRecord",
    "DeathRecordStatus",
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
    "UserSession",
]
