"""Who may do what with clients' financial affairs.

Resource management officers work these cases and team leaders oversee them; the auditor reads.
Any caseworker may record a mental capacity assessment (they already edit the client's capacity
fields) and any reader may see them.
"""
from casework.roles import CASEWORKERS, READERS, Role

AFFAIRS_WORKERS = frozenset({Role.RESOURCE_MANAGEMENT_OFFICER, Role.TEAM_LEADER})
AFFAIRS_READERS = AFFAIRS_WORKERS | {Role.AUDITOR}
CAPACITY_RECORDERS = CASEWORKERS
CAPACITY_READERS = READERS
