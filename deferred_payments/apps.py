from django.apps import AppConfig


class DeferredPaymentsConfig(AppConfig):
    name = "deferred_payments"
    verbose_name = "Deferred payments"

    def ready(self) -> None:
        # Registrations with casework's engines: letters, jobs, the client panel, navigation,
        # demo data, the API collections and what a client's death does here.
        from casework.api.registry import register_api_routes
        from casework.demo import register_demo_seeder
        from casework.navigation import register_nav_item
        from casework.panels import register_client_panel
        from casework.roles import READERS

        from . import death, jobs, letters  # noqa: F401
        from .api import router
        from .demo import seed_demo
        from .views import client_panel

        jobs.register()
        register_client_panel(client_panel)
        register_nav_item(label="Deferred payments", url_name="deferred_payments:agreement_list", roles=READERS,
                          order=40)
        register_demo_seeder(seed_demo, order=60)
        register_api_routes(router.registry)
        death.register()
