"""Demo data that other apps add to `manage.py seed_demo` from their AppConfig.ready().

A seeder is called as `seeder(users, stdout)` with the demo users by username ("income",
"deferred", "directpay", "provider", "resource", "teamleader", ...) after casework's clients and the
income team's billing exist. It must be idempotent: running seed_demo twice adds nothing the
second time.
"""
from typing import Callable

from django.conf import settings
from django.core.management.base import CommandError

DEMO_SEEDERS: list[tuple[int, Callable]] = []


def register_demo_seeder(seeder: Callable, order: int = 50) -> None:
    if all(existing is not seeder for _, existing in DEMO_SEEDERS):
        DEMO_SEEDERS.append((order, seeder))


def demo_seeders() -> list[Callable]:
    return [seeder for _, seeder in sorted(DEMO_SEEDERS, key=lambda pair: pair[0])]


def refuse_without_demo_data(command: str) -> None:
    """Stop a command that writes demo or synthetic data (demo logins with a known password, made-up
    clients) unless the settings allow it: only the local demo's and the test settings do."""
    if not getattr(settings, "DEMO_DATA_ALLOWED", False):
        raise CommandError(
            f"{command} writes demo data and is refused with these settings ({settings.SETTINGS_MODULE}): "
            "run it only with the local demo settings (config.settings.local) or the test settings, whose "
            "DEMO_DATA_ALLOWED is True")
