from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = "Casework"


class CareledgerAdminConfig(admin_apps.AdminConfig):
    """Django's admin with Careledger's site: role-checked, signing in through two-factor."""

    default = False
    default_site = "casework.admin_site.CareledgerAdminSite"
