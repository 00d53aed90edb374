"""Registrations of the recovery ladder with casework's engines and debt's hold registry.

debt/apps.py calls `ready()` from DebtConfig.ready(). Safe to call more than once.
"""
_DONE = False


def ready() -> None:
    global _DONE
    if _DONE:
        return
    from casework.panels import register_client_panel

    from . import jobs_recovery, recovery_letters
    from .holds import register_hold_source
    from .services import recovery as services
    from .views.recovery import client_recovery_panel

    recovery_letters.register()
    jobs_recovery.register()
    from .constants import HoldKind

    register_hold_source(services.manual_holds)  # officers' holds: any kind
    register_hold_source(services.client_state_holds,
                         kinds=[HoldKind.NO_AUTHORITY, HoldKind.DECEASED, HoldKind.SAFEGUARDING])
    register_client_panel(client_recovery_panel)
    _DONE = True
