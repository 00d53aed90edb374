from django.apps import AppConfig


class DirectPaymentsConfig(AppConfig):
    name = "direct_payments"
    verbose_name = "Direct payments"

    def ready(self) -> None:
        # Registrations with casework's engines: jobs, letters, navigation, client panel, demo data, API,
        # and what a client's death does here.
        from casework.api.registry import register_api_routes
        from casework.demo import register_demo_seeder
        from casework.navigation import register_nav_item
        from casework.panels import register_client_panel
        from casework.privacy.registry import register_subject_access_source

        from . import death, jobs, letters  # noqa: F401
        from .api import router
        from .demo import seed_direct_payments
        from .views.agreements import client_panel
        from .views.common import DP_READERS

        register_nav_item(label="Direct payments", url_name="direct_payments:home", roles=DP_READERS, order=45)
        register_client_panel(client_panel)
        register_demo_seeder(seed_direct_payments, order=60)
        register_api_routes(router.registry)
        death.register()
        from .privacy import direct_payment_records

        register_subject_access_source(direct_payment_records)
