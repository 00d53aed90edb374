from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = "Casework"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.mail import utils as mail_utils
        from django.db.models.signals import post_migrate

        from casework import checks  # noqa: F401 - registers the deployment checks on the council's details

        # Message-IDs on the site's own domain (EMAIL_MESSAGE_ID_DOMAIN), not the machine's name.
        mail_utils.DNS_NAME._fqdn = settings.EMAIL_MESSAGE_ID_DOMAIN
        from casework.runs import jobs  # noqa: F401 - registers the casework jobs
        from casework.privacy import admin, erasure, panels, retention, sources  # noqa: F401 - job, panel, sources, erasure
        from casework.affairs import admin as affairs_admin, panels as affairs_panels  # noqa: F401 - nav, case panel, demo, sources
        post_migrate.connect(_schedules_after_migrate, sender=self)
        from casework.api.registry import register_api_routes
        from casework.deaths import api as deaths_api, demo as deaths_demo

        deaths_demo.register()  # the Deaths nav entry and demo death
        from casework.navigation import register_nav_item
        from casework.views.calendar import CALENDAR_VIEWERS

        register_nav_item(label="Working days", url_name="casework:working_days", roles=CALENDAR_VIEWERS, order=85)
        from casework.privacy import demo as privacy_demo

        privacy_demo.register()  # a former client past retention, marked for review
        register_api_routes(deaths_api.router.registry)


def _schedules_after_migrate(**kwargs) -> None:
    from casework.runs.schedule import ensure_default_schedules

    ensure_default_schedules()


class CareledgerAdminConfig(admin_apps.AdminConfig):
    """Django's admin with Careledger's site: role-checked, signing in through two-factor."""

    default = False
    default_site = "casework.admin_site.CareledgerAdminSite"
