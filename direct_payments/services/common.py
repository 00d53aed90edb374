"""What every direct payment service shares: the policy in force and timeline entries."""
from datetime import date

from django.utils import timezone

from casework.constants import TimelineKind
from casework.models import Client, TimelineEntry
from casework.services import DomainError

from ..models import Policy


def policy_on(day: date) -> Policy:
    policy = Policy.objects.filter(effective_from__lte=day).order_by("-effective_from").first()
    if policy is None:
        raise DomainError("No direct payment policy is in force: a finance administrator must set one up")
    return policy


def timeline(client: Client, action: str, summary: str, actor, *, kind: str = TimelineKind.SYSTEM, body: str = "",
             old=None, new=None) -> None:
    TimelineEntry.objects.create(client=client, kind=kind, action=action, summary=summary[:300], body=body,
                                 old_value=old, new_value=new, actor=actor, occurred_at=timezone.now())
