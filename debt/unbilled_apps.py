"""Registrations for the unbilled provision queues; debt/apps.py calls ready()."""


def ready() -> None:
    from casework.navigation import register_nav_item
    from casework.roles import Role

    register_nav_item(label="Unbilled care", url_name="debt:unbilled",
                      roles={Role.INCOME_OFFICER, Role.RESOURCE_MANAGEMENT_OFFICER, Role.TEAM_LEADER}, order=38)
