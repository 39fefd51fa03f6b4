"""Settings of the benchmark server: production settings plus two bench-only additions.

Imported only by ``python -m bench`` (through DJANGO_SETTINGS_MODULE), never by the product:

- ``BENCH_QUERY_COUNT`` turns on ``bench.middleware.QueryCountMiddleware``, which adds the
  ``X-Bench-Queries`` and ``X-Bench-Server-Ms`` response headers;
- ``ROOT_URLCONF = "bench.urls"`` adds the reference view ``/bench/floor`` in front of the
  product's URLs.

Everything else is what production runs: DEBUG off, hashed and compressed static files,
Argon2, sessions in the database, the channel layer from REDIS_URL. The server speaks plain HTTP
on loopback, so the HTTPS redirect and secure-cookie flags (a TLS proxy's business) are off.
"""

from helpdesk.settings import *  # noqa: F403
from helpdesk.settings import DATABASES, MIDDLEWARE, STORAGES, VAR_DIR

DEBUG = False
BENCH_QUERY_COUNT = True
ROOT_URLCONF = "bench.urls"
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0

BENCH_DIR = VAR_DIR / "bench"
STATIC_ROOT = BENCH_DIR / "static"
MEDIA_ROOT = BENCH_DIR / "media"
if STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):
    STORAGES = {
        **STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": MEDIA_ROOT, "base_url": "/media-not-served/"},
        },
    }
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})

# Notification emails are not what is measured (and would flood the server's log).
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
