"""Every change to casework data goes through a function here; views, the API, commands and
tasks only call them. Each runs in one transaction and writes the timeline in that transaction."""
from .cases import (
    case_assign,
    case_create,
    case_hold,
    case_release_hold,
    case_transition,
    document_upload,
    task_complete,
    task_create,
    timeline_add,
)
from .clients import (
    client_create,
    client_record_death,
    client_record_view,
    client_records_viewed,
    client_update,
    representative_add,
    representative_end,
)
from .errors import DomainError, NotAllowed
from .ledger import account_for_client, ledger_post, ledger_post_by_hand, ledger_reverse, ledger_reverse_by_hand

__all__ = [
    "DomainError",
    "NotAllowed",
    "account_for_client",
    "case_assign",
    "case_create",
    "case_hold",
    "case_release_hold",
    "case_transition",
    "client_create",
    "client_record_death",
    "client_record_view",
    "client_records_viewed",
    "client_update",
    "document_upload",
    "ledger_post",
    "ledger_post_by_hand",
    "ledger_reverse",
    "ledger_reverse_by_hand",
    "representative_add",
    "representative_end",
    "task_complete",
    "task_create",
    "timeline_add",
]
