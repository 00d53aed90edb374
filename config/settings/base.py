"""Settings shared by every environment, read from the environment in one place.

Environment variables (all optional for the embedded default):
- DATABASE_URL: e.g. postgres://user@host:5432/careledger. Default: SQLite file var/careledger.sqlite3.
- CELERY_BROKER_URL: e.g. redis://127.0.0.1:6379/0. Unset: tasks run in-process (eagerly).
- CACHE_URL: the cache shared by the web's processes, e.g. redis://127.0.0.1:6379/1. Unset: each
  process's memory.
- SECRET_KEY, ALLOWED_HOSTS (comma separated), DEBUG.
- COUNCIL_LOGO (a static path): the logo on pages and letters. The council's name, address, bank
  details and the rest are data (casework.models.council), kept on the council details page.
- EMAIL_MESSAGE_ID_DOMAIN: the domain of the Message-IDs of mail sent (default: the first of
  ALLOWED_HOSTS that is not a loopback name).
- MEDIA_ROOT: where uploaded documents and generated files are kept (outside the web root).
"""
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'careledger.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Each web thread keeps its connection between requests (checked before reuse, so a restarted
# database costs no failed page): no connection set-up per page.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "casework.apps.CareledgerAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "localflavor",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "simple_history",
    "django_htmx",
    "crispy_forms",
    "crispy_forms_gds",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "casework",
    "debt",
    "deferred_payments",
    "direct_payments",
    "provider_payments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "casework.middleware.NoStoreMiddleware",  # no cache keeps a page or an API answer
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "casework.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "casework.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "casework.context_processors.careledger",
            ],
        },
    }
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "casework:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d %m %Y"]

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = None  # uploaded documents are never served directly, only through access-checked views
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": MEDIA_ROOT}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
FILE_UPLOAD_PERMISSIONS = 0o640
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)

# Sessions end after 30 minutes without a request.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
# The idle timeout is pushed back at most once a minute (casework.middleware.SessionLifetimeMiddleware),
# not on every page: a page view writes no session row. A session ends SESSION_ABSOLUTE_SECONDS after sign-in.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = env.int("SESSION_TOUCH_SECONDS", default=60)
# Views of client records by one member of staff in a clock hour at which a warning is logged on
# careledger.security (0: never). Every client an answer shows counts: a record's page, each row of a
# list page (up to 50 a page), each row of an export and of an API page. A busy officer opens well
# under a hundred records and a dozen or so list pages an hour; one export or API page of 500 people
# is half the limit.
RECORD_VIEWS_ALERT_PER_HOUR = env.int("RECORD_VIEWS_ALERT_PER_HOUR", default=1000)
# Rows one CSV or XLSX export of clients' personal data may hold; a longer export is refused with a
# page asking the user to narrow the list's filters, and the refusal is logged on careledger.security
# (casework.exports.personal_export_response). Every client in an export is logged as viewed.
PERSONAL_DATA_EXPORT_MAX_ROWS = env.int("PERSONAL_DATA_EXPORT_MAX_ROWS", default=5000)
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Lockout after repeated failed sign-ins.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
# Locked by username: council staff share a few office IP addresses, so an IP lockout would lock
# out whole offices after a handful of typing mistakes. Hence axes.W006 is silenced below.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded demo's SQLite builds covering indexes without their INCLUDE columns: the same
    # rows, found the same way, only not from the index alone. PostgreSQL keeps them.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Two-factor sign-in. DEMO_RELAX_TWO_FACTOR lets the seeded demo logins (and only them) skip it.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Careledger")
DEMO_RELAX_TWO_FACTOR = env.bool("DEMO_RELAX_TWO_FACTOR", default=False)
# Whether the demo and benchmark data commands (seed_demo, seed, bench ...) may write to this
# database: True only in the local demo's and the test suite's settings, never from the environment.
DEMO_DATA_ALLOWED = False

# Content security policy: scripts only from this site or with the per-request nonce.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# The council's logo (a static path). Its name, address, bank details and the rest are data a
# system administrator keeps on the council details page (casework.models.council).
COUNCIL_LOGO = env.str("COUNCIL_LOGO", default="images/council-logo.svg")
# Production settings say True: the web and the workers then refuse to start without the council's
# details (casework.checks).
PRODUCTION = False

# Mail to staff (a notice when their password changes). EMAIL_URL as django-environ reads it, e.g.
# smtp+tls://user:password@mail.example.gov.uk:587; the demo writes mail to its console.
vars().update(env.email_url("EMAIL_URL", default="smtp://localhost:25"))
# The Date header in the server's zone (Europe/London: +0000 or +0100), not UTC written as -0000.
EMAIL_USE_LOCALTIME = True
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]", "testserver"}
_SITE_HOST = next((h.lstrip(".") for h in ALLOWED_HOSTS if h.lstrip(".") not in _LOOPBACK and h != "*"), "")
#: Message-IDs end @ this domain (the site's own), never @localhost or the machine's name.
EMAIL_MESSAGE_ID_DOMAIN = env.str("EMAIL_MESSAGE_ID_DOMAIN", default=_SITE_HOST or "careledger.invalid")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"careledger@{EMAIL_MESSAGE_ID_DOMAIN}")
SERVICE_NAME = "Careledger"

# The cache the web's processes share (CACHE_URL, e.g. redis://127.0.0.1:6379/1); unset, each
# process keeps its own in memory (one process: the demo).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# How long the decisions queue's rows are kept between team leaders' views (debt/queue.py); 0: built
# on every view. A decision made on a row forgets them at once.
DECISIONS_CACHE_SECONDS = env.int("DECISIONS_CACHE_SECONDS", default=30)

# Celery: with no broker configured, tasks run in-process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A message a worker took but never acknowledged (the worker was killed) goes back to the queue
# after this many seconds. Longer than the longest chunk can take (the hard time limit below).
# Workers sweep for such messages every interval x throttle seconds (kombu's defaults: 10 x 10).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=1800),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
    # The lock a worker holds while it puts unacknowledged messages back: a worker killed while
    # holding it stops all redelivery until it expires (kombu's default 300 s).
    "unacked_mutex_expire": env.int("CELERY_UNACKED_MUTEX_EXPIRE", default=300),
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 600
CELERY_TASK_TIME_LIMIT = 900
# Run items committed together: fewer round trips per item; a killed worker redoes at most this many.
RUN_ITEMS_PER_TRANSACTION = env.int("RUN_ITEMS_PER_TRANSACTION", default=10)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The runs watchdog: every RUN_WATCHDOG_SECONDS beat has a worker look for running runs with
# pending items that have not moved for RUN_STALL_SECONDS (their queued chunks lost with Redis, or
# a start made while Redis was down) and queue their pending chunks again. A group of items commits
# every few seconds, so five minutes without one means nothing is working the run; queuing a chunk
# a live worker holds again does no harm (its items are locked or done).
RUN_WATCHDOG_SECONDS = env.int("RUN_WATCHDOG_SECONDS", default=60)
RUN_STALL_SECONDS = env.int("RUN_STALL_SECONDS", default=300)
CELERY_BEAT_SCHEDULE = {
    "runs-watchdog": {
        "task": "casework.runs.watchdog",
        "schedule": RUN_WATCHDOG_SECONDS,
        # A check that waited in the queue (no worker up) is pointless by the time the next is due.
        "options": {"expires": RUN_WATCHDOG_SECONDS},
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["casework.api.permissions.RolePermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "casework.api.pagination.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Request bodies are JSON only (no endpoint takes a file), so the schema offers each body in one
    # media type and generated clients send JSON; a form or multipart body is answered 415.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
    "EXCEPTION_HANDLER": "casework.api.exceptions.api_exception_handler",
    # Requests a minute per user (a system account's token, or a signed-in officer), counted in the
    # default cache (Redis in production, so shared by every web machine); over it, 429 with
    # Retry-After, logged on careledger.security. A request without valid credentials is answered
    # 401 before any throttle is asked (DRF checks permissions first), so it needs no limit here.
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env.str("API_THROTTLE_USER", default="1200/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Careledger integration API",
    "DESCRIPTION": "Clients, representatives, cases and ledger entries for the council's other systems.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status": each enum is named after its own choices.
    "ENUM_NAME_OVERRIDES": {
        "ClaimStatusEnum": "provider_payments.constants.ClaimStatus",
        "PaymentRunStatusEnum": "provider_payments.constants.PaymentRunStatus",
        "ControlRequestStatusEnum": "casework.models.controls.ControlRequestStatus",
    },
    # Every operation's documented responses include its 400/401/403/404 errors.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "casework.api.schema.document_error_responses"],
}

CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}, "pikepdf": {"level": "WARNING"}},
}


def require_secret_key(key: str) -> str:
    if not key or len(key) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters.")
    return key
