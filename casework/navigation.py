"""Service navigation entries that other apps add from their AppConfig.ready()."""
from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset
    order: int = 50


NAV_ITEMS: list[NavItem] = []


def register_nav_item(*, label: str, url_name: str, roles, order: int = 50) -> None:
    """Show `label` (linking to `url_name`) to users holding any of `roles`. Lower orders come first;
    casework's own entries sit at 10 (My work) to 90 (Administration)."""
    if not any(item.url_name == url_name for item in NAV_ITEMS):
        NAV_ITEMS.append(NavItem(label, url_name, frozenset(roles), order))
