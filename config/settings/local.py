"""The embedded default: SQLite, tasks in-process, demo logins without two-factor.

Used by `manage.py` unless DJANGO_SETTINGS_MODULE says otherwise. Never for production.
"""
from .base import *  # noqa: F401,F403
from .base import VAR_DIR, env

SECRET_KEY = env.str("SECRET_KEY", default="careledger-local-demo-key-not-for-production-0123456789abcdef")
DEMO_RELAX_TWO_FACTOR = env.bool("DEMO_RELAX_TWO_FACTOR", default=True)
DEMO_DATA_ALLOWED = True  # seed_demo, seed and the benchmarks' data (casework.demo.refuse_without_demo_data)
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))  # mail to staff shown in the console
# Static files straight from the source folders: no collectstatic needed for the demo.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
VAR_DIR.mkdir(exist_ok=True)

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 (whitenoise warns when it is missing)

# The embedded demo has no broker: runs work on a background thread so their pages show progress.
RUNS_IN_BACKGROUND_THREAD = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20  # noqa: F405 (wait for the one writer)
