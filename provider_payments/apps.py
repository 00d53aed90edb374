from django.apps import AppConfig


class ProviderPaymentsConfig(AppConfig):
    name = "provider_payments"
    verbose_name = "Provider payments"
