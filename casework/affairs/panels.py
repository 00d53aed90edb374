"""Hooks into casework: the "Financial affairs" navigation entry, the panel on the case page, the
demo seeder, and the subject access source and erasure step for these records.

`register()` is idempotent. It runs when casework's URLs load (casework/affairs/urls.py imports
this module), and belongs in CaseworkConfig.ready() beside the data protection hooks so that
`seed_demo`, Celery workers and the admin see them without loading the URLs.
"""
from casework.demo import register_demo_seeder
from casework.navigation import register_nav_item
from casework.panels import CASE_PANELS, register_case_panel
from casework.privacy.registry import register_erasure_step, register_subject_access_source

from .roles import AFFAIRS_WORKERS


def register() -> None:
    from .demo import seed_financial_affairs
    from .privacy import affairs_free_text, affairs_records
    from .views import case_affairs_panel

    register_nav_item(label="Financial affairs", url_name="casework:affairs_list", roles=AFFAIRS_WORKERS, order=55)
    if case_affairs_panel not in CASE_PANELS:
        register_case_panel(case_affairs_panel)
    register_demo_seeder(seed_financial_affairs, order=70)
    register_subject_access_source(affairs_records)
    register_erasure_step(affairs_free_text)


register()
