from django.apps import AppConfig


class DebtConfig(AppConfig):
    name = "debt"
    verbose_name = "Debt"

    def ready(self) -> None:
        # Registrations with casework's engines: the billing job, the invoice letter, the client panel.
        from casework.panels import register_client_panel
        from casework.selectors import register_search_provider

        from . import jobs, letters  # noqa: F401
        from .views.billing import client_invoices_panel

        register_client_panel(client_invoices_panel)
        register_search_provider(_invoice_number_search)
        from casework.api.registry import register_api_routes
        from casework.letters.statement import register_payment_terms

        from .services.billing import payment_terms_days

        register_payment_terms(payment_terms_days)

        from .api.urls import router as api_router

        register_api_routes(api_router.registry)
        from . import legal_apps, recovery_apps, relief_apps, writeoffs_apps

        legal_apps.ready()
        recovery_apps.ready()
        relief_apps.ready()
        writeoffs_apps.ready()
        from . import estates_apps

        estates_apps.ready()
        from . import unbilled_apps

        unbilled_apps.ready()
        from . import death  # what a client's death does to their invoices, recovery and plans

        death.register()
        from . import history  # payment allocations, assessed charges and invoices in a client's history

        history.register()
        _forget_decisions_on_change()


def _forget_decisions_on_change() -> None:
    """A write-off or legal referral decided, a plan's or hold's change, a case escalated, closed or
    assigned: the decisions queue's kept rows no longer hold (debt/queue.py)."""
    from django.db.models.signals import post_delete, post_save

    from casework.models import Case

    from .models import DebtHold, LegalReferral, RepaymentPlan, WriteOffRequest
    from .queue import forget

    for model in (WriteOffRequest, LegalReferral, RepaymentPlan, DebtHold, Case):
        post_save.connect(forget, sender=model, dispatch_uid=f"decisions-forget-save-{model.__name__}")
        post_delete.connect(forget, sender=model, dispatch_uid=f"decisions-forget-delete-{model.__name__}")


def _invoice_number_search(term: str):
    """Find the client an invoice or credit note number belongs to, from the client search."""
    from django.db.models import Q

    from .models import Invoice

    compact = term.replace(" ", "").upper()
    if not compact.startswith(("INV", "CRN")):
        return None
    return Q(pk__in=Invoice.objects.filter(number__iexact=compact).values("client_id"))
