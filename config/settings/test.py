"""Settings for the test suite: PostgreSQL and Redis on loopback, as in production."""
from .base import *  # noqa: F401,F403
from .base import VAR_DIR, env

SECRET_KEY = "careledger-test-key-0123456789abcdefghijklmnopqrstuvwxyz-0123456789"
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/careledger")}
# The suite opens a connection per request and thread (its threads end without closing theirs); the
# load test runs gunicorn on these settings and sets CONN_MAX_AGE as production keeps it (base.py).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The test process runs tasks in-process; a worker started by a test gets CELERY_BROKER_URL.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/15")
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
