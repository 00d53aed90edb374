from django.apps import AppConfig


class DirectPaymentsConfig(AppConfig):
    name = "direct_payments"
    verbose_name = "Direct payments"
