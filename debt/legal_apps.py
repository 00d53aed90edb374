"""Registrations for the investigation and legal referral pages; debt/apps.py calls ready()."""
_DONE = False


def case_legal_panel(case, request) -> dict | None:
    """The case's investigations and the client's legal referrals, on the case page."""
    from casework.roles import has_any_role

    from .models import LegalReferral
    from .views.legal import INVESTIGATORS

    investigations = list(case.investigations.all()[:10])
    referrals = list(LegalReferral.objects.filter(client_id=case.client_id)[:10])
    can_work = has_any_role(request.user, INVESTIGATORS)
    if not investigations and not referrals and not can_work:
        return None
    return {"title": "Investigations and legal action", "template": "debt/legal/case_panel.html",
            "context": {"case": case, "investigations": investigations, "referrals": referrals, "can_work": can_work}}


def ready() -> None:
    global _DONE
    if _DONE:
        return
    from casework.panels import register_case_panel

    register_case_panel(case_legal_panel)
    _DONE = True
