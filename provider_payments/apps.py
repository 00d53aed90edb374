from django.apps import AppConfig


class ProviderPaymentsConfig(AppConfig):
    name = "provider_payments"
    verbose_name = "Provider payments"

    def ready(self) -> None:
        # Registrations with casework's engines and the income app's seam: the payment run job,
        # the navigation entry, demo data, the API, the actual cost of care that caps charges, and what a
        # client's death does here.
        from casework.api.registry import register_api_routes
        from casework.demo import register_demo_seeder
        from casework.navigation import register_nav_item
        from casework.roles import READERS, Role
        from debt.billing import register_actual_cost

        from . import jobs, jobs_exceptions  # noqa: F401
        from . import death
        from .api.exceptions import router as exceptions_router
        from .api.urls import router
        from .demo import seed_provider_payments
        from .demo_exceptions import seed_high_cost_exceptions
        from .selectors import actual_weekly_cost

        register_nav_item(label="Provider payments", url_name="provider_payments:home", roles=READERS, order=45)
        register_demo_seeder(seed_provider_payments, order=60)
        register_api_routes(router.registry)
        # High-cost exceptions: the challenge queue for resource management officers and team leaders.
        register_nav_item(label="High-cost exceptions", url_name="provider_payments:exception_list",
                          roles={Role.RESOURCE_MANAGEMENT_OFFICER, Role.TEAM_LEADER}, order=46)
        register_demo_seeder(seed_high_cost_exceptions, order=65)
        register_api_routes(exceptions_router.registry)
        register_actual_cost(actual_weekly_cost)
        death.register()
        from casework.privacy.registry import register_subject_access_source

        from .privacy import remittance_records

        register_subject_access_source(remittance_records)
        from . import forecast_apps

        forecast_apps.ready()
