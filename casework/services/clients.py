import logging
from datetime import date

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from casework.constants import TimelineKind
from casework.models import Client, RecordAccess, Representative, TimelineEntry

from .errors import DomainError
from .ledger import account_for_client

CLIENT_FIELDS = [
    "reference", "nhs_number", "title", "first_name", "middle_names", "last_name", "preferred_name",
    "date_of_birth", "address_line_1", "address_line_2", "town", "county", "postcode", "phone", "email",
    "capacity", "capacity_assessed_on", "capacity_assessor", "communication_needs", "communication_language",
    "safeguarding_flag", "safeguarding_note", "area",
]


def _normalised(fields: dict) -> dict:
    """Spaces in NHS numbers and postcodes are how people type them, not errors."""
    if fields.get("nhs_number"):
        fields["nhs_number"] = "".join(str(fields["nhs_number"]).split())
    if fields.get("postcode"):
        fields["postcode"] = " ".join(str(fields["postcode"]).split()).upper()
    return fields


def _validated(instance, exclude=None):
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(messages[0], field=None if field == "__all__" else field) from exc


def _system_entry(*, client: Client, action: str, summary: str, actor, old=None, new=None, reason: str = "") -> None:
    TimelineEntry.objects.create(
        client=client, kind=TimelineKind.SYSTEM, action=action, summary=summary, body=reason,
        old_value=old, new_value=new, actor=actor, occurred_at=timezone.now(),
    )


@transaction.atomic
def client_create(*, actor, **fields) -> Client:
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise DomainError(f"Unknown client fields: {', '.join(sorted(unknown))}")
    client = Client(**_normalised(fields))
    client._history_user = actor
    _validated(client)
    client.save()
    account_for_client(client)
    _system_entry(client=client, action="client.created", summary="Client record created", actor=actor)
    return client


@transaction.atomic
def client_update(*, client: Client, actor, reason: str = "", **fields) -> Client:
    """Change a client's details; the timeline records each changed field's old and new value."""
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise DomainError(f"Unknown client fields: {', '.join(sorted(unknown))}")
    client = Client.objects.select_for_update().get(pk=client.pk)
    fields = _normalised(fields)
    old = {name: getattr(client, name) for name in fields}
    for name, value in fields.items():
        setattr(client, name, value)
    _validated(client)
    changed = {name for name in fields if old[name] != getattr(client, name)}
    if not changed:
        return client
    client._history_user = actor
    client._change_reason = reason
    client.save()
    _system_entry(
        client=client, action="client.updated", actor=actor, reason=reason,
        summary="Details changed: " + ", ".join(Client._meta.get_field(n).verbose_name for n in sorted(changed)),
        old={n: _jsonable(old[n]) for n in sorted(changed)},
        new={n: _jsonable(getattr(client, n)) for n in sorted(changed)},
    )
    return client


def _jsonable(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, models.Model):  # a foreign key such as the area: its name
        return str(value)
    return value


@transaction.atomic
def representative_add(*, client: Client, actor, **fields) -> Representative:
    rep = Representative(client=client, **fields)
    rep._history_user = actor
    _validated(rep, exclude=["client"])
    rep.save()
    _system_entry(
        client=client, action="client.representative.added", actor=actor,
        summary=f"{rep.get_kind_display()} added: {rep.name}", new={"representative": rep.pk, "kind": rep.kind},
    )
    return rep


@transaction.atomic
def representative_end(*, representative: Representative, end_date: date, actor, reason: str) -> Representative:
    rep = Representative.objects.select_for_update().get(pk=representative.pk)
    if end_date < rep.start_date:
        raise DomainError("End date must be on or after the start date", field="end_date")
    if not reason.strip():
        raise DomainError("Give a reason for ending this representative's authority", field="reason")
    old = rep.end_date
    rep.end_date = end_date
    rep._history_user = actor
    rep._change_reason = reason
    rep.save(update_fields=["end_date"])
    _system_entry(
        client=rep.client, action="client.representative.ended", actor=actor, reason=reason,
        summary=f"{rep.get_kind_display()} {rep.name}: authority ends {end_date:%d %B %Y}",
        old={"end_date": _jsonable(old)}, new={"end_date": end_date.isoformat()},
    )
    return rep


def client_record_view(*, client: Client, user, path: str) -> None:
    """Log that someone viewed a client's record (special category data), and notice a member of
    staff viewing records in unusual numbers."""
    client_records_viewed(clients_or_ids=[client], user=user, path=path)


def _client_id(item) -> int | None:
    """A client's id from a Client, an id, or any record carrying `client_id` (an invoice, a case)."""
    if item is None:
        return None
    if isinstance(item, Client):
        return item.pk
    if isinstance(item, int) and not isinstance(item, bool):
        return item
    client_id = getattr(item, "client_id", None)
    if client_id is None and not hasattr(item, "client_id"):
        raise TypeError(f"Not a client, a client id or a record with a client: {item!r}")
    return client_id


def client_records_viewed(*, clients_or_ids, user, path: str) -> int:
    """Log that someone was shown these clients' data in one answer (a page, a list, an export or an
    API call): one RecordAccess row per distinct client, written in one INSERT, and every one counted
    towards the unusual-viewing alert. `clients_or_ids` holds Clients, client ids or records with a
    `client_id`; None is skipped (a row with no client). Returns the number of clients logged."""
    ids = list(dict.fromkeys(i for i in map(_client_id, clients_or_ids) if i is not None))
    if not ids:
        return 0
    path = path[:300]
    RecordAccess.objects.bulk_create(
        [RecordAccess(client_id=client_id, user=user, path=path) for client_id in ids], batch_size=10_000)
    _count_record_view(user, len(ids))
    return len(ids)


def _count_record_view(user, viewed: int = 1) -> None:
    """Views of client records by one user in the clock hour, counted in the shared cache; reaching
    RECORD_VIEWS_ALERT_PER_HOUR logs a warning on careledger.security, once that hour (ASVS 8.1.4).
    A list, an export or an API page counts every client it showed. The RecordAccess rows stay the
    record of what was seen."""
    limit = settings.RECORD_VIEWS_ALERT_PER_HOUR
    if not limit or user is None or not user.pk or viewed < 1:
        return
    now = timezone.now()
    hour = now.strftime("%Y-%m-%d %H:00")
    key = f"record-views:{user.pk}:{now:%Y%m%d%H}"
    if cache.add(key, viewed, timeout=3900):
        count = viewed
    else:
        try:
            count = cache.incr(key, viewed)
        except ValueError:  # expired between the two calls
            cache.add(key, viewed, timeout=3900)
            count = viewed
    if count - viewed < limit <= count:  # this answer crossed the limit: once that hour
        logging.getLogger("careledger.security").warning(
            "Unusual record viewing: %s has viewed %d client records in the hour from %s UTC", user.get_username(),
            count, hour)


@transaction.atomic
def client_record_death(*, client: Client, date_of_death: date, source: str, verified: bool, actor) -> Client:
    """Record a client's death with its source: the one place the client's death fields are set.

    Writes the DeathRecord and one proposed DeathConsequence per proposal of every app's registered
    handler (casework.deaths.services.death_propose); nothing is applied until an officer confirms.
    A second recording while one stands is refused: a wrong date is corrected by reversing the
    death as recorded in error and recording it again."""
    from casework.deaths.services import death_propose, death_refuse_second

    client = Client.objects.select_for_update().get(pk=client.pk)
    death_refuse_second(client)
    if date_of_death > timezone.localdate():
        raise DomainError("Date of death cannot be in the future", field="date_of_death")
    if client.date_of_birth and date_of_death < client.date_of_birth:
        raise DomainError("Date of death must be after the date of birth", field="date_of_death")
    old = {"date_of_death": _jsonable(client.date_of_death), "death_source": client.death_source}
    client.date_of_death = date_of_death
    client.death_source = source
    client.death_verified = verified
    client.death_recorded_on = timezone.localdate()
    client._history_user = actor
    client.save(update_fields=["date_of_death", "death_source", "death_verified", "death_recorded_on", "updated_at"])
    _system_entry(
        client=client, action="client.death.recorded", actor=actor,
        summary=f"Death recorded: {date_of_death:%d %B %Y} ({client.get_death_source_display()}"
        f"{', verified' if verified else ', not yet verified'})",
        old=old, new={"date_of_death": date_of_death.isoformat(), "death_source": source},
    )
    client.death_record = death_propose(client=client, date_of_death=date_of_death, source=source, verified=verified,
                                        actor=actor)
    return client
