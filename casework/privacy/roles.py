"""Who may do what with data protection.

Team leaders answer subject access requests and request and approve erasure: they already read
every client record and manage their teams' work. System administrators run the system but do
not read client records anywhere in Careledger, so they are not given the one page that exports
all of a client's records. Auditors see the retention review queue, read only. An erasure needs
two different team leaders: one requests, another decides.
"""
from casework.roles import Role

SUBJECT_ACCESS_EXPORTERS = frozenset({Role.TEAM_LEADER})
ERASURE_REQUESTERS = frozenset({Role.TEAM_LEADER})
ERASURE_APPROVERS = frozenset({Role.TEAM_LEADER})
RETENTION_DECIDERS = frozenset({Role.TEAM_LEADER})
RETENTION_VIEWERS = frozenset({Role.TEAM_LEADER, Role.AUDITOR})
ERASURE_VIEWERS = frozenset({Role.TEAM_LEADER, Role.AUDITOR})
