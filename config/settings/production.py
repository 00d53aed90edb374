"""Production: PostgreSQL, Redis broker, HTTPS only. Refuses to start without its secrets."""
from .base import *  # noqa: F401,F403
from .base import env, require_secret_key

DEBUG = False
SECRET_KEY = require_secret_key(env.str("SECRET_KEY", default=""))
DEMO_RELAX_TWO_FACTOR = False
DEMO_DATA_ALLOWED = False  # no demo logins or synthetic clients in a live database
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_REDIRECT_EXEMPT = [r"^health/$"]

# The web and the workers refuse to start without the council details (casework.checks).
PRODUCTION = True
