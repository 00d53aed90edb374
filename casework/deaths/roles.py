"""Who may do what with deaths.

Any officer who works cases records a death and confirms what happens because of it (the
existing record-death page is for CASEWORKERS). Reversing a death recorded in error undoes
credits, holds and other apps' changes, so it is for team leaders and resource management
officers (who handle estates). Everyone who reads client records may see deaths; the "Deaths"
list is in the navigation of resource management officers and team leaders.
"""
from casework.roles import CASEWORKERS, READERS, Role

DEATH_RECORDERS = CASEWORKERS
DEATH_CONFIRMERS = CASEWORKERS
DEATH_REVERSERS = frozenset({Role.TEAM_LEADER, Role.RESOURCE_MANAGEMENT_OFFICER})
DEATH_VIEWERS = READERS
DEATH_NAV = frozenset({Role.TEAM_LEADER, Role.RESOURCE_MANAGEMENT_OFFICER})
