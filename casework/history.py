"""A client's history of changes: every change to their record and their money, newest first.

The rows come from several sources, each read in one query for a page however many rows it holds:

- the client's timeline (`TimelineEntry`), which every service writes in the transaction of the
  change: letters, holds, decisions, case changes, and the events of every app;
- the django-simple-history tables of the client and their representatives (field by field, old
  value and new; a record's creation lists the values it was created with);
- the client's ledger entries, posted and reversed (kind, amount, reference, description, reason);
- whatever other apps register with `register_history_source` (the debt app: payment allocations
  and the history of assessed charges) and `register_ledger_detail` (what an entry is: an invoice, a
  credit note, a payment and the import it came in).

A source that shows an event from the record itself names the timeline actions it replaces
(`replaces`), and those timeline entries are left out, so an event is shown once.

A page of n rows reads the newest (page number × n) rows of each source, merges them in time order
and takes the page: a bounded number of queries (one or two a source, one for the people's roles,
one for each kind of record a history row refers to) for any page of any client.
"""
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Case as SqlCase
from django.db.models import F, Q, Value, When, Window
from django.db.models.functions import Lag
from django.utils import dateformat, timezone

from casework.constants import CommunicationNeed, TimelineKind
from casework.money import format_pounds
from casework.roles import Role, roles_of

RECORD, MONEY, LETTERS, HOLDS, DECISIONS = "record", "money", "letters", "holds", "decisions"
KINDS = [
    (RECORD, "Record"),
    (MONEY, "Money"),
    (LETTERS, "Letters"),
    (HOLDS, "Holds"),
    (DECISIONS, "Decisions"),
]
KIND_LABELS = dict(KINDS)
SYSTEM_NAME = "System"
SYSTEM_ROLE = "Automatic"


# --- Rows ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """One value of a row: `old` is shown only when `has_old` (a change), else `new` is the value a
    record was created or an event recorded with. Both are display text; "" is blank."""

    field: str
    old: str
    new: str
    has_old: bool = True

    def __str__(self) -> str:
        if not self.has_old:
            return f"{self.field}: {self.new or 'blank'}"
        return f"{self.field}: {self.old or 'blank'} → {self.new or 'blank'}"


@dataclass
class HistoryRow:
    when: datetime
    kind: str
    record: str
    summary: str
    changes: list[Change]
    reason: str
    user: object | None
    amount: Decimal | None = None
    order: tuple = ()
    who: str = ""
    role: str = ""

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def changes_text(self) -> str:
        return "; ".join(str(c) for c in self.changes)

    def sort_key(self) -> tuple:
        return (self.when, self.order)


class HistorySource(ABC):
    """Rows of one kind of record. `kinds`: the kinds it can give; `replaces`: timeline actions it
    shows itself (an action ending in "." is a prefix)."""

    kinds: frozenset[str] = frozenset()
    replaces: tuple[str, ...] = ()
    rank = 0  # breaks ties of time between sources

    @abstractmethod
    def count(self, client, kind: str | None) -> int:
        """How many rows of `kind` (every kind when None) the client has here."""

    @abstractmethod
    def rows(self, client, kind: str | None, limit: int | None) -> list[HistoryRow]:
        """The newest `limit` rows (all when None), newest first."""

    def wanted(self, kind: str | None) -> bool:
        return kind is None or kind in self.kinds


_SOURCES: list[HistorySource] = []


def register_history_source(source: HistorySource) -> HistorySource:
    _SOURCES.append(source)
    return source


def sources() -> list[HistorySource]:
    return list(_SOURCES)


# --- Values as text --------------------------------------------------------------------------------

def long_date(value: date) -> str:
    return dateformat.format(value, "j F Y")


def _when_text(value: datetime) -> str:
    return dateformat.format(timezone.localtime(value) if timezone.is_aware(value) else value, "j F Y H:i")


def person(user) -> str:
    if user is None:
        return SYSTEM_NAME
    return user.get_full_name() or user.get_username()


def _label(name: str) -> str:
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


#: Keys of timeline values that hold a record's id (a whole number): the row's words already name
#: the record. So do keys ending in "_id".
ID_KEYS = frozenset({
    "entry", "hold", "request", "payment", "invoice", "credit_note", "charge", "plan", "moratorium", "task",
    "document", "representative", "letter", "officer", "team", "agreement", "audit", "flag", "liability",
    "recovery", "recovery_case", "estate", "referral", "investigation", "consequence", "death", "death_record",
    "erasure", "subject_access", "review", "case", "package", "exception", "statement", "property", "valuation",
    "run", "run_item", "batch", "import", "suspense", "transfer", "fee", "reversal", "user", "leader",
})


def _is_id(key: str, value) -> bool:
    return (key in ID_KEYS or key.endswith("_id")) and isinstance(value, int) and not isinstance(value, bool)
_MONEY_WORDS = ("amount", "total", "balance", "budget", "contribution", "unallocated", "uncredited", "owed", "fee",
                "cost", "value", "interest", "limit")


def _json_text(key: str, value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (list, tuple)):
        return ", ".join(_json_text(key, v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{_label(k)} {_json_text(k, v)}" for k, v in value.items())
    text = str(value)
    if isinstance(value, str) and len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return long_date(date.fromisoformat(text))
        except ValueError:
            return text
    if any(word in key.lower() for word in _MONEY_WORDS) and not isinstance(value, int):
        try:
            return format_pounds(Decimal(text))
        except (InvalidOperation, ValueError):
            return text
    if isinstance(value, str) and "_" in text and " " not in text:
        return text.replace("_", " ")
    return text


def json_changes(old, new) -> list[Change]:
    """A timeline entry's old and new values, key by key, without the ids of records."""
    if old is not None and not isinstance(old, dict):
        old = {"value": old}
    if new is not None and not isinstance(new, dict):
        new = {"value": new}
    old, new = old or {}, new or {}
    changes = []
    for key in dict.fromkeys([*new, *old]):
        if _is_id(key, new.get(key)) or _is_id(key, old.get(key)):
            continue
        if key in old and key in new and old[key] != new[key]:
            changes.append(Change(_key_label(key), _json_text(key, old[key]), _json_text(key, new[key])))
        elif (value := new.get(key, old.get(key))) is not None:  # a value recorded, or what was ended
            changes.append(Change(_key_label(key), "", _json_text(key, value), has_old=False))
    return changes


_KEY_LABELS = {"sha256": "SHA-256 of the file"}


def _key_label(key: str) -> str:
    return _KEY_LABELS.get(key) or _label(key)


# --- The people ------------------------------------------------------------------------------------

def name_people(rows: Iterable[HistoryRow]) -> None:
    """Each row's person (full name or username) and their roles: one query for every person's
    groups, kept on each user object as casework.roles.roles_of keeps them."""
    rows = list(rows)
    ids = {row.user.pk for row in rows if row.user is not None}
    names: dict[int, set[str]] = {pk: set() for pk in ids}
    if ids:
        for user_id, name in Group.objects.filter(user__in=ids).values_list("user", "name"):
            names[user_id].add(name)
    for row in rows:
        row.who = person(row.user)
        if row.user is None:
            row.role = SYSTEM_ROLE
            continue
        if getattr(row.user, "_careledger_roles", None) is None:
            row.user._careledger_roles = frozenset(role for role in Role if role.value in names[row.user.pk])
        held = roles_of(row.user)
        row.role = ", ".join(role.value for role in Role if role in held) or "No role"


# --- The timeline ----------------------------------------------------------------------------------

def _starts(*prefixes: str) -> Q:
    """Timeline actions: exactly these, or beginning with those ending in "."."""
    q = None
    for prefix in prefixes:
        one = Q(action__startswith=prefix) if prefix.endswith(".") else Q(action=prefix)
        q = one if q is None else q | one
    return q if q is not None else Q(pk__in=[])


#: Which kind each timeline entry is: the first rule it meets, else a change to the record.
TIMELINE_KIND_RULES: list[tuple[str, Q]] = [
    (LETTERS, Q(kind=TimelineKind.LETTER) | Q(action__contains="letter")
     | _starts("dpa.statement.", "debt.estate.claim.")),
    (HOLDS, Q(kind=TimelineKind.HOLD)
     | _starts("case.hold.", "debt.hold.", "debt.breathing_space.", "debt.plan.", "debt.billing.")),
    (DECISIONS, _starts(
        "debt.writeoff.", "debt.refund.", "debt.legal.", "debt.investigation.", "debt.section70.", "debt.estate.",
        "debt.death.", "debt.recovery.", "direct_payments.recovery.approved", "direct_payments.recovery.rejected",
        "direct_payments.audit.", "direct_payments.flag.", "direct_payments.agreement.status", "dpa.state.",
        "dpa.recovery.", "dpa.eligibility.", "dpa.fee_waiver.", "dpa.posting_reversal.", "client.death.",
        "client.erasure.", "client.erased", "client.subject_access.", "client.retention.", "case.status.",
        "affairs.status.", "provider.exception.status", "provider.package.status", "controls.")),
    (MONEY, Q(kind=TimelineKind.LEDGER) | _starts(
        "ledger.", "debt.payment.", "debt.charge.", "debt.credit_note.", "direct_payments.payment.",
        "direct_payments.liability.", "direct_payments.recovery.", "direct_payments.statement.", "dpa.deferral.",
        "dpa.interest.", "dpa.fee.", "dpa.repayment.", "dpa.existing_charge.", "dpa.posting.", "provider.package.")),
]


def _timeline_kind():
    return SqlCase(*[When(q, then=Value(kind)) for kind, q in TIMELINE_KIND_RULES], default=Value(RECORD),
                   output_field=models.CharField())


class TimelineSource(HistorySource):
    kinds = frozenset(KIND_LABELS)
    rank = 1

    def _queryset(self, client, kind):
        from casework.models import TimelineEntry

        replaced = [pattern for source in sources() for pattern in source.replaces]
        replaced += [pattern for detail in _LEDGER_DETAILS for pattern in detail.replaces]
        qs = TimelineEntry.objects.filter(client=client).annotate(history_kind=_timeline_kind())
        if replaced:
            qs = qs.exclude(_starts(*replaced))
        if kind:
            qs = qs.filter(history_kind=kind)
        return qs

    def count(self, client, kind):
        return self._queryset(client, kind).count()

    def rows(self, client, kind, limit):
        qs = self._queryset(client, kind).select_related("actor", "case").order_by("-occurred_at", "-id")
        return [self._row(entry) for entry in (qs[:limit] if limit is not None else qs)]

    @staticmethod
    def _row(entry) -> HistoryRow:
        parts = []
        if entry.case_id:
            parts.append(f"Case {entry.case.reference}: {entry.case.title}")
        if entry.letter_id:
            parts.append(f"Letter L{entry.letter_id:08d}")
        record = "; ".join(parts)
        return HistoryRow(when=entry.occurred_at, kind=entry.history_kind, record=record, summary=entry.summary,
                          changes=json_changes(entry.old_value, entry.new_value), reason=entry.body,
                          user=entry.actor, order=(TimelineSource.rank, entry.pk))


# --- Simple-history tables -------------------------------------------------------------------------

@dataclass
class HistoryItem:
    """One historical record with what changed, for a source's `describe`."""

    record: object
    type: str  # "+", "~" or "-"
    changes: list[Change]
    text: Callable[[str], str]  # a field's value as shown


def _field_label(f) -> str:
    return _label(str(f.verbose_name))


class ModelHistorySource(HistorySource):
    """The simple-history rows of a model tied to the client (`client_lookup`: the historical
    model's filter, such as "client_id" or "id"), as rows of one kind. `describe(item)` gives the
    row's (record, summary); `reason(item)` its reason (default: the history's change reason);
    `hidden`: fields never shown; `list_labels`: labels for the codes of a list field."""

    def __init__(self, model, *, client_lookup: str, kind: str, describe: Callable[[HistoryItem], tuple[str, str]],
                 hidden: Iterable[str] = (), replaces: Iterable[str] = (), rank: int = 2,
                 reason: Callable[[HistoryItem], str] | None = None, list_labels: dict | None = None):
        self.model = model
        self.client_lookup = client_lookup
        self.kinds = frozenset({kind})
        self.kind = kind
        self.describe = describe
        self.hidden = frozenset(hidden) | {"id"}
        self.replaces = tuple(replaces)
        self.rank = rank
        self.reason = reason
        self.list_labels = list_labels or {}

    def _queryset(self, client):
        return self.model.history.filter(**{self.client_lookup: client.pk})

    def count(self, client, kind):
        return self._queryset(client).count()

    def fields(self) -> list:
        return [f for f in self.model.history.model.tracked_fields if f.name not in self.hidden]

    def rows(self, client, kind, limit):
        qs = (self._queryset(client).select_related("history_user")
              .annotate(previous_history_id=Window(Lag("history_id"), partition_by=[F("id")],
                                                   order_by=[F("history_date").asc(), F("history_id").asc()]))
              .order_by("-history_date", "-history_id"))
        records = list(qs[:limit] if limit is not None else qs)
        wanted = {r.previous_history_id for r in records if r.previous_history_id}
        have = {r.history_id: r for r in records}
        missing = wanted - set(have)
        if missing:
            have.update((r.history_id, r) for r in self.model.history.filter(history_id__in=missing))
        fields = self.fields()
        names = self._related_names(fields, have.values())
        return [self._row(r, have.get(r.previous_history_id), fields, names) for r in records]

    @staticmethod
    def _related_names(fields, records) -> dict:
        """Every related record a value refers to, by (model, pk): one query for each related model."""
        wanted: dict = {}
        for f in fields:
            if f.is_relation and f.many_to_one:
                ids = {getattr(r, f.attname) for r in records} - {None}
                if ids:
                    wanted.setdefault(f.related_model, set()).update(ids)
        names = {}
        user_model = get_user_model()
        for related, ids in wanted.items():
            for obj in related._default_manager.filter(pk__in=ids):
                names[(related, obj.pk)] = person(obj) if related is user_model else str(obj)
        return names

    def _text(self, f, value, names) -> str:
        if value is None or value == "" or value == []:
            return ""
        if f.is_relation:
            return names.get((f.related_model, value), str(value))
        if f.choices:
            return str(dict(f.flatchoices).get(value, value))
        if isinstance(f, models.BooleanField):
            return "Yes" if value else "No"
        if isinstance(f, models.DateTimeField):
            return _when_text(value)
        if isinstance(f, models.DateField):
            return long_date(value)
        if isinstance(f, models.DecimalField):
            return format_pounds(value)
        if isinstance(value, (list, tuple)):
            labels = self.list_labels.get(f.name, {})
            return ", ".join(str(labels.get(v, v)) for v in value)
        return str(value)

    def _row(self, record, previous, fields, names) -> HistoryRow:
        def value(r, f):
            return getattr(r, f.attname)

        changes = []
        if record.history_type == "~" and previous is not None:
            for f in fields:
                before, after = value(previous, f), value(record, f)
                if before != after:
                    changes.append(Change(_field_label(f), self._text(f, before, names), self._text(f, after, names)))
        else:  # created (or deleted, or a change whose earlier row is gone): the values it holds
            for f in fields:
                v = value(record, f)
                if v is None or v == "" or v == [] or v is False:
                    continue
                changes.append(Change(_field_label(f), "", self._text(f, v, names), has_old=False))
        by_name = {f.name: f for f in fields}
        hidden_fields = {f.name: f for f in self.model.history.model.tracked_fields}

        def text(name: str) -> str:
            f = by_name.get(name) or hidden_fields[name]
            return self._text(f, value(record, f), names)

        item = HistoryItem(record=record, type=record.history_type, changes=changes, text=text)
        label, summary = self.describe(item)
        reason = self.reason(item) if self.reason else (record.history_change_reason or "")
        return HistoryRow(when=record.history_date, kind=self.kind, record=label, summary=summary, changes=changes,
                          reason=reason, user=record.history_user, order=(self.rank, record.history_id))


def changed_words(item: HistoryItem) -> str:
    return ", ".join(c.field[:1].lower() + c.field[1:] for c in item.changes)


NO_CHANGE = "saved with no change to its recorded details"


def _client_describe(item: HistoryItem) -> tuple[str, str]:
    if item.type == "+":
        return "Client record", "Client record created"
    if item.type == "-":
        return "Client record", "Client record deleted"
    if not item.changes:
        return "Client record", f"Client record {NO_CHANGE}"
    return "Client record", f"Details changed: {changed_words(item)}"


def _representative_describe(item: HistoryItem) -> tuple[str, str]:
    rep = item.record
    label = f"Representative: {rep.name}"
    if item.type == "+":
        return label, f"{item.text('kind')} added: {rep.name}"
    if item.type == "-":
        return label, f"{item.text('kind')} removed: {rep.name}"
    if [c.field for c in item.changes] == ["End date"] and rep.end_date:
        return label, f"Authority of {rep.name} ends {long_date(rep.end_date)}"
    if not item.changes:
        return label, f"Representative {NO_CHANGE}"
    return label, f"Details of {rep.name} changed: {changed_words(item)}"


# --- The ledger ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LedgerDetail:
    """What another app knows of a ledger entry: `related` the select_related paths it reads (reverse
    one-to-one relations such as "invoice"), `describe(entry)` -> (summary, extra changes, reason or
    None) or None when the entry is not one of its records."""

    related: tuple[str, ...]
    describe: Callable
    replaces: tuple[str, ...] = ()


_LEDGER_DETAILS: list[LedgerDetail] = []


def register_ledger_detail(related: Iterable[str], describe: Callable, replaces: Iterable[str] = ()) -> None:
    """`replaces`: timeline actions the entries so described show (as a source's `replaces`)."""
    _LEDGER_DETAILS.append(LedgerDetail(tuple(related), describe, tuple(replaces)))


class LedgerSource(HistorySource):
    kinds = frozenset({MONEY})
    replaces = ("ledger.",)
    rank = 3

    def _queryset(self, client):
        from casework.models import LedgerEntry

        return LedgerEntry.objects.filter(account__client=client)

    def count(self, client, kind):
        return self._queryset(client).count()

    def rows(self, client, kind, limit):
        related = ["posted_by", "account", "reverses"] + [path for d in _LEDGER_DETAILS for path in d.related]
        qs = self._queryset(client).select_related(*related).order_by("-posted_at", "-id")
        return [self._row(entry) for entry in (qs[:limit] if limit is not None else qs)]

    @staticmethod
    def _row(entry) -> HistoryRow:
        kind = entry.get_kind_display()
        if entry.reverses_id:
            summary = f"{kind} {entry.reverses.reference} of {format_pounds(abs(entry.amount))} reversed"
        else:
            summary = f"{kind} of {format_pounds(abs(entry.amount))} posted to {entry.account.number}"
        changes = [
            Change("Kind", "", kind, has_old=False),
            Change("Amount", "", format_pounds(entry.amount), has_old=False),
            Change("Effective date", "", long_date(entry.effective_date), has_old=False),
            Change("Reference", "", entry.reference, has_old=False),
            Change("Description", "", entry.description, has_old=False),
        ]
        if entry.reverses_id:
            changes.append(Change("Reverses", "", entry.reverses.reference, has_old=False))
        reason = entry.reason
        for detail in _LEDGER_DETAILS:
            found = detail.describe(entry)
            if found:
                summary, extra, detail_reason = found
                changes.extend(extra)
                reason = reason or detail_reason or ""
                break
        return HistoryRow(when=entry.posted_at, kind=MONEY, record=f"Account {entry.account.number}", summary=summary,
                          changes=changes, reason=reason, user=entry.posted_by, amount=entry.amount,
                          order=(LedgerSource.rank, entry.pk))


# --- The history of one client ---------------------------------------------------------------------

class ClientHistory:
    """A client's history rows, newest first, optionally of one kind: a sequence Django's Paginator
    can page (it asks for `count()` and a slice)."""

    def __init__(self, client, kind: str | None = None):
        self.client = client
        self.kind = kind if kind in KIND_LABELS else None
        self._count: int | None = None

    def _sources(self) -> list[HistorySource]:
        return [s for s in sources() if s.wanted(self.kind)]

    def count(self) -> int:
        if self._count is None:
            self._count = sum(s.count(self.client, self.kind) for s in self._sources())
        return self._count

    def __len__(self) -> int:
        return self.count()

    def _merged(self, limit: int | None) -> list[HistoryRow]:
        rows = [row for s in self._sources() for row in s.rows(self.client, self.kind, limit)]
        rows.sort(key=HistoryRow.sort_key, reverse=True)
        return rows

    def __getitem__(self, key):
        if not isinstance(key, slice):
            raise TypeError("A client's history is read a page (a slice) at a time")
        start, stop = key.start or 0, key.stop
        rows = self._merged(stop)[start:stop]
        name_people(rows)
        return rows

    def all(self) -> list[HistoryRow]:
        rows = self._merged(None)
        name_people(rows)
        return rows


def _register_casework_sources() -> None:
    from casework.models import Client, Representative

    register_history_source(TimelineSource())
    register_history_source(ModelHistorySource(
        Client, client_lookup="id", kind=RECORD, describe=_client_describe, hidden=["created_at", "updated_at"],
        replaces=["client.created", "client.updated"], list_labels={"communication_needs": dict(CommunicationNeed.choices)}))
    register_history_source(ModelHistorySource(
        Representative, client_lookup="client_id", kind=RECORD, describe=_representative_describe,
        hidden=["client", "created_at"], replaces=["client.representative.added", "client.representative.ended"]))
    register_history_source(LedgerSource())


_register_casework_sources()
