"""Registrations for the committed-spend forecast page; provider_payments/apps.py calls ready()."""


def ready() -> None:
    from casework.navigation import register_nav_item
    from casework.roles import Role

    register_nav_item(label="Spend forecast", url_name="provider_payments:forecast",
                      roles={Role.PROVIDER_PAYMENT_OFFICER, Role.RESOURCE_MANAGEMENT_OFFICER, Role.TEAM_LEADER,
                             Role.AUDITOR}, order=47)
