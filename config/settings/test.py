"""Settings for the test suite: PostgreSQL and Redis on loopback, as in production."""
from .base import *  # noqa: F401,F403
from .base import VAR_DIR, env

SECRET_KEY = "careledger-test-key-0123456789abcdefghijklmnopqrstuvwxyz-0123456789"
# The services the tests use are named by CARELEDGER_TEST_* variables only. DATABASE_URL,
# CELERY_BROKER_URL, REDIS_URL and CACHE_URL, which a shell may hold for a development or production
# server, are ignored here, so the suite runs the same in any shell (pyproject.toml also passes
# --ds=config.settings.test, so a DJANGO_SETTINGS_MODULE left in the shell does not change them).
DATABASES = {"default": env.db_url_config(
    env.str("CARELEDGER_TEST_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/careledger"))}
# The suite opens a connection per request and thread (its threads end without closing theirs); the
# load test runs gunicorn on these settings and sets CONN_MAX_AGE as production keeps it (base.py).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The test process runs tasks in-process (eagerly); a worker, or a web server, that a test or a test
# script starts on these settings is given a broker in CARELEDGER_TEST_CELERY_BROKER_URL.
CELERY_BROKER_URL = env.str("CARELEDGER_TEST_CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
REDIS_URL = env.str("CARELEDGER_TEST_REDIS_URL", default="redis://127.0.0.1:6379/15")
# Each process's own memory, unless a test script starting several web processes shares one.
CACHES = {"default": env.cache_url_config(env.str("CARELEDGER_TEST_CACHE_URL", default="locmemcache://"))}
WHITENOISE_USE_FINDERS = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "test-media"}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_ENABLED = True
# The suite and Schemathesis call the API far faster than anyone would; tests of the limit set their own.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "100000/minute"}}  # noqa: F405
DEMO_RELAX_TWO_FACTOR = False
# With no council details saved, tests read the example file's (unsaved): letters and pages print
# real-looking details without every test saving them. Production has no fallback (casework.checks).
COUNCIL_DETAILS_FALLBACK_FILE = BASE_DIR / "config" / "council_details.example.json"  # noqa: F405
DEMO_DATA_ALLOWED = True  # the suite, the fault test and the load test seed their own databases

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 (whitenoise warns when it is missing)
