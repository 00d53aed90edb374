from django.apps import AppConfig


class DebtConfig(AppConfig):
    name = "debt"
    verbose_name = "Debt"
