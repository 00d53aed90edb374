"""Roles are Django groups; every view and API action names the roles it admits.

The group names below are the only spelling of a role anywhere in the code.
"""
from enum import StrEnum


class Role(StrEnum):
    INCOME_OFFICER = "Income officer"
    DEFERRED_PAYMENT_OFFICER = "Deferred payment officer"
    DIRECT_PAYMENT_OFFICER = "Direct payment officer"
    PROVIDER_PAYMENT_OFFICER = "Provider payment officer"
    RESOURCE_MANAGEMENT_OFFICER = "Resource management officer"
    TEAM_LEADER = "Team leader"
    FINANCE_ADMINISTRATOR = "Finance administrator"
    AUDITOR = "Auditor"
    SYSTEM_ADMINISTRATOR = "System administrator"
    SYSTEM_ACCOUNT = "System account"


OFFICERS = frozenset(
    {
        Role.INCOME_OFFICER,
        Role.DEFERRED_PAYMENT_OFFICER,
        Role.DIRECT_PAYMENT_OFFICER,
        Role.PROVIDER_PAYMENT_OFFICER,
        Role.RESOURCE_MANAGEMENT_OFFICER,
    }
)
#: Everyone who works cases: may read clients and cases and add to timelines.
CASEWORKERS = OFFICERS | {Role.TEAM_LEADER}
#: Everyone who may read case and client records (the auditor reads only).
READERS = CASEWORKERS | {Role.AUDITOR}
#: Who may post money to a ledger by hand.
LEDGER_POSTERS = frozenset({Role.INCOME_OFFICER, Role.DEFERRED_PAYMENT_OFFICER, Role.DIRECT_PAYMENT_OFFICER,
                            Role.RESOURCE_MANAGEMENT_OFFICER, Role.TEAM_LEADER})
#: Who may reverse a posted ledger entry.
LEDGER_REVERSERS = frozenset({Role.TEAM_LEADER})
#: Who may create and change client records.
CLIENT_EDITORS = CASEWORKERS
#: Who may work the team queue and assign cases to others.
QUEUE_MANAGERS = frozenset({Role.TEAM_LEADER})
#: Staff who use the web interface (system accounts use only the API).
STAFF = READERS | {Role.FINANCE_ADMINISTRATOR, Role.SYSTEM_ADMINISTRATOR}
ALL_ROLES = frozenset(Role)


def roles_of(user) -> frozenset[Role]:
    """The roles a user holds, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_careledger_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(role for role in Role if role.value in names)
        user._careledger_roles = cached
    return cached


def has_any_role(user, roles) -> bool:
    return bool(roles_of(user) & frozenset(roles))
