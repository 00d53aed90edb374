from django.apps import AppConfig


class DeferredPaymentsConfig(AppConfig):
    name = "deferred_payments"
    verbose_name = "Deferred payments"
