from django.apps import AppConfig


class ProviderPaymentsConfig(AppConfig):
    name = "provider_payments"
    verbose_name = "Provider payments"

    def ready(self) -> None:
        # Registrations with casework's engines and the income app's seam: the payment run job,
        # the navigation entry, demo data, the API, and the actual cost of care that caps charges.
        from casework.api.registry import register_api_routes
        from casework.demo import register_demo_seeder
        from casework.navigation import register_nav_item
        from casework.roles import READERS
        from debt.billing import register_actual_cost

        from . import jobs  # noqa: F401
        from .api.urls import router
        from .demo import seed_provider_payments
        from .selectors import actual_weekly_cost

        register_nav_item(label="Provider payments", url_name="provider_payments:home", roles=READERS, order=45)
        register_demo_seeder(seed_provider_payments, order=60)
        register_api_routes(router.registry)
        register_actual_cost(actual_weekly_cost)
