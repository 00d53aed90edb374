"""Demo data that other apps add to `manage.py seed_demo` from their AppConfig.ready().

A seeder is called as `seeder(users, stdout)` with the demo users by username ("income",
"deferred", "directpay", "provider", "resource", "teamleader", ...) after casework's clients and the
income team's billing exist. It must be idempotent: running seed_demo twice adds nothing the
second time.
"""
from typing import Callable

DEMO_SEEDERS: list[tuple[int, Callable]] = []


def register_demo_seeder(seeder: Callable, order: int = 50) -> None:
    if all(existing is not seeder for _, existing in DEMO_SEEDERS):
        DEMO_SEEDERS.append((order, seeder))


def demo_seeders() -> list[Callable]:
    return [seeder for _, seeder in sorted(DEMO_SEEDERS, key=lambda pair: pair[0])]
