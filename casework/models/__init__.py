from .clients import Client, Representative, RecordAccess
from .cases import Case, Document, Task, Team, TimelineEntry
from .ledger import Account, LedgerEntry

__all__ = [
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
