"""Settings for the helpdesk.

Without any environment variable this is the embedded default: SQLite under ``var/``, the
in-memory channel layer, local media under ``var/media/``, background tasks run in-process and
email printed to the console. Production sets the variables listed in README.md.
"""

import os
from pathlib import Path

import dj_database_url

from helpdesk.env import ConfigurationError, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("HELPDESK_VAR_DIR") or BASE_DIR / "var")

DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")

# The embedded default is a developer's machine, so it runs in debug mode unless told
# otherwise; as soon as a real database is configured, debug is off unless asked for.
DEBUG = env_bool("DEBUG", default=not DATABASE_URL)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ConfigurationError(
            "DEBUG is off and SECRET_KEY is not set: set SECRET_KEY to a long random string "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = "insecure-embedded-default-key-only-for-local-development-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "guardian",
    "axes",
    # Two-factor sign-in: TOTP devices (the recovery codes and passkeys are the project's own).
    "django_otp",
    "django_otp.plugins.otp_totp",
    # The project package: its management commands (seed_demo) sit above every app.
    "helpdesk",
    "workspaces",
    "tickets",
    "privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "helpdesk.middleware.SecurityHeadersMiddleware",
    # Among the synchronous middleware: under ASGI, below the last of them it would run its
    # response half in a thread hop of its own on every request.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Times on pages in the signed-in person's saved zone (helpdesk/timezones.py).
    "helpdesk.timezones.TimeZoneMiddleware",
    # Pages in the person's language: saved, else the switcher's cookie, else the browser's.
    "helpdesk.languages.LanguageMiddleware",
    # "Last seen" of the person's sessions on /account/, one write per 5 minutes at most.
    "workspaces.sessions.middleware.SessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A session signed in but still owing its second factor reaches only the verify page.
    "workspaces.two_factor.middleware.SecondFactorMiddleware",
    # An invited person accepts the terms and privacy policy before their first page.
    "privacy.account.policy_moments.PolicyGateMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"
ASGI_APPLICATION = "helpdesk.asgi.application"

# Django's form renderer with its plainest widget templates in Python (helpdesk/form_rendering.py).
FORM_RENDERER = "helpdesk.form_rendering.FastWidgetsRenderer"
CONTEXT_PROCESSORS = [
    "django.template.context_processors.request",
    "django.contrib.auth.context_processors.auth",
    "django.contrib.messages.context_processors.messages",
    "workspaces.context_processors.workspace_nav",
    "privacy.account.context_processors.policy_notice",
    "helpdesk.languages.switcher",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": CONTEXT_PROCESSORS,
            # {% url %} with the URLs it reversed kept per process.
            "builtins": ["helpdesk.templatetags.url_tags"],
        },
    },
    {
        # The hottest pages' templates (templates/jinja2/*.jinja): helpdesk/jinja.py.
        "BACKEND": "helpdesk.jinja.Jinja2",
        "NAME": "jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "helpdesk.jinja.environment",
            "helpers": ["helpdesk.jinja_helpers", "tickets.jinja_helpers"],
            "context_processors": CONTEXT_PROCESSORS,
        },
    },
]

if DATABASE_URL:
    # No persistent per-thread connections: under ASGI every request may run on a new thread, and
    # CONN_MAX_AGE>0 left one open connection per request behind until the server ran out. On
    # PostgreSQL a per-process psycopg pool (Django's "pool" option) hands connections out and
    # takes them back at the end of each request instead; DB_POOL=0 turns it off (e.g. behind
    # PgBouncer in transaction mode), DB_POOL_MIN_SIZE/DB_POOL_MAX_SIZE size it per process.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend with faster timestamp reads (helpdesk/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "helpdesk.postgresql"
    if DATABASES["default"]["ENGINE"] == "helpdesk.postgresql" and env_bool("DB_POOL", True):
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DB_POOL_MIN_SIZE", 2),
            "max_size": env_int("DB_POOL_MAX_SIZE", 10),
            # A request that waits this long for a free connection fails instead of hanging.
            "timeout": env_int("DB_POOL_TIMEOUT", 10),
        }
        if env_bool("DB_PREPARE", True):
            # Pooled connections live on, so PostgreSQL can keep the plans of the statements a
            # page runs every time (psycopg prepares a statement on its 5th run on a connection):
            # 1.1-1.9 ms less of the server's CPU per list or ticket page (of 7.5-10). Needs
            # server-side parameter binding (psycopg's client-side binding cannot prepare).
            DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "helpdesk.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
            # A file, not memory, so browser tests' server threads share the test database;
            # one per process, so parallel runs on one machine do not share it.
            "TEST": {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")},
        }
    }
    # The ticket list's covering indexes carry extra columns (INCLUDE) for PostgreSQL's
    # index-only counts; SQLite builds them on their key columns alone, which is all it needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "workspaces.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Signing in during the grace period of an account deletion cancels it (issue 6).
    "privacy.account.backends.PendingErasureBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3

# django-guardian: no anonymous user row; object permissions are only ever granted to members.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

# django-axes: lock one account from one network address after AXES_FAILURE_LIMIT failures, and
# a network address for every account only after LOGIN_IP_FAILURE_LIMIT (ours, read by
# workspaces.auth_audit.axes_lockout_parameters): five typos on a shared address (an office, a
# demo on localhost) must not lock everyone out, and nobody can lock a victim out from elsewhere.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", 50)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = "workspaces.auth_audit.axes_lockout_parameters"
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# How many reverse proxies stand in front (each appends to X-Forwarded-For); every part of the
# product resolves the client's address the same way (helpdesk/client_ip.py), axes included.
PROXY_COUNT = env_int("PROXY_COUNT", 0)
AXES_IPWARE_PROXY_COUNT = PROXY_COUNT
AXES_CLIENT_IP_CALLABLE = "helpdesk.client_ip.client_ip_address"
# One failure count per address whatever its letter case; the lockout page says which limit hit.
AXES_USERNAME_CALLABLE = "workspaces.auth_audit.axes_username"
AXES_LOCKOUT_CALLABLE = "workspaces.auth_audit.lockout_response"

# Two-factor sign-in (README "Two-factor sign-in"). The WebAuthn relying party is the site's
# host name and the origin its scheme://host[:port]; empty means "as the request came in".
WEBAUTHN_RP_ID = env_str("WEBAUTHN_RP_ID")
WEBAUTHN_ORIGIN = env_str("WEBAUTHN_ORIGIN")
WEBAUTHN_RP_NAME = env_str("WEBAUTHN_RP_NAME", "Helpdesk")
OTP_TOTP_ISSUER = WEBAUTHN_RP_NAME
# django-otp's own per-device back-off would turn a correct code typed a second after a typo into
# "wrong code"; the second step has one rule instead: 5 failures lock it for AXES_COOLOFF_TIME.
OTP_TOTP_THROTTLE_FACTOR = 0
TWO_FACTOR_FAILURE_LIMIT = 5

LANGUAGE_CODE = "en"
# Each language named in itself; only those with a compiled catalog under locale/ are offered
# (helpdesk/languages.py). Adding one: README "Languages".
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("es", "Español"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media-not-served/"  # files are only reachable through views that check access

AWS_STORAGE_BUCKET_NAME = env_str("S3_BUCKET")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env_str("S3_ENDPOINT_URL") or None
    AWS_S3_REGION_NAME = env_str("S3_REGION", "us-east-1")
    AWS_ACCESS_KEY_ID = env_str("S3_ACCESS_KEY_ID") or None
    AWS_SECRET_ACCESS_KEY = env_str("S3_SECRET_ACCESS_KEY") or None
    AWS_DEFAULT_ACL = "private"
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = env_int("S3_PRESIGNED_SECONDS", 120)
    AWS_S3_FILE_OVERWRITE = False
    AWS_S3_SIGNATURE_VERSION = "s3v4"
    DEFAULT_FILE_BACKEND = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {}}
else:
    DEFAULT_FILE_BACKEND = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": MEDIA_URL},
    }
STORAGES = {
    "default": DEFAULT_FILE_BACKEND,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "helpdesk.static_storage.StaticFiles"
        )
    },
}

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 reads with a 5 s socket timeout by default, the same 5 s channels_redis
            # blocks in BZPOPMIN: an idle consumer then dies with TimeoutError and its websocket
            # drops after 5 s of quiet (found by `make bench`). The read timeout must exceed it.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "socket_connect_timeout": 5}],
                "prefix": env_str("CHANNELS_PREFIX", "helpdesk"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The cache holds rate-limit counters (helpdesk/ratelimit.py) and small markers; shared by every
# process through Redis in production, in memory (per process) in the embedded default.
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache, with its connections kept per process (helpdesk/cache.py).
            "BACKEND": "helpdesk.cache.SharedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_PREFIX", "helpdesk-cache"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "helpdesk"}}

# How often an address, a network address or an account may ask for an email or an export:
# {action: {what is counted: (attempts, seconds)}} (helpdesk/ratelimit.py).
RATE_LIMITS = {
    "password_reset": {"address": (3, 60 * 60), "ip": (20, 60 * 60)},
    "signup": {"address": (3, 60 * 60), "ip": (20, 60 * 60)},
    # Wrong passwords typed on a sign-up's confirmation page.
    "signup_confirm": {"account": (5, 15 * 60), "ip": (30, 15 * 60)},
    "email_change": {"address": (3, 60 * 60), "account": (5, 60 * 60), "ip": (20, 60 * 60)},
    "export": {"account": (5, 24 * 60 * 60), "ip": (20, 60 * 60)},
    # Emails one sender may turn into tickets or replies (tickets/mail/ingest.py).
    "inbound_email": {"address": (30, 60 * 60)},
}

# Background work: Celery with Redis in production; in-process in the embedded default.
# Tasks run eagerly until a broker is named, so tests and `make run` need no worker.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "memory://"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not env_str("CELERY_BROKER_URL"))
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_IGNORE_RESULT = True
# Audit events (docs/audit-log.md): with a broker, writers insert them unsealed and the beat
# task "audit-seal" links them into their chain every AUDIT_SEAL_INTERVAL_SECONDS, so writers of
# one workspace never queue behind its chain head. Without one (no beat runs; SQLite has one
# writer at a time anyway) each writer links its own event in its transaction.
AUDIT_SEAL_INLINE = env_bool("AUDIT_SEAL_INLINE", default=not env_str("CELERY_BROKER_URL"))
AUDIT_SEAL_INTERVAL_SECONDS = env_int("AUDIT_SEAL_INTERVAL_SECONDS", 2)
# Task modules not named tasks.py (autodiscovery finds only <app>.tasks).
CELERY_IMPORTS = (
    "privacy.account.erasure",
    "privacy.account.export",
    "privacy.account.signup",
    "privacy.account.weekly_summary",
    "privacy.retention.tasks",
    "tickets.mail.tasks",
    "privacy.account.notification_digest",
    "privacy.audit.tasks",
)
CELERY_BEAT_SCHEDULE = {
    "privacy-erasures-due": {"task": "privacy.tasks.erasures_run_due", "schedule": 60 * 15},
    "privacy-exports-sweep": {"task": "privacy.tasks.exports_sweep", "schedule": 60 * 60},
    # Retention (issue 7): daily; a run left unfinished is continued by the next call.
    "privacy-enforce-retention": {
        "task": "privacy.tasks_retention.enforce_retention",
        "schedule": 60 * 60 * 24,
    },
    # Hourly, but each person gets one summary per ISO week (the first run of the week sends).
    "weekly-summaries": {"task": "privacy.tasks.send_weekly_summaries", "schedule": 60 * 60},
    "purge-unconfirmed-signups": {
        "task": "workspaces.tasks.purge_unconfirmed_signups",
        "schedule": 60 * 60,
    },
    # The email channel: new mail of every IMAP mailbox, each minute.
    "fetch-mail": {"task": "tickets.mail.fetch_mail", "schedule": 60},
    # Hourly: one email per person who chose the digest, listing their queued ticket emails.
    "notification-digests": {"task": "privacy.tasks.send_notification_digests", "schedule": 60 * 60},
    # Service levels (issue 13): record and email the targets that passed, each minute.
    "sla-breaches": {"task": "tickets.sla_detect_breaches", "schedule": 60},
    # Audit events are linked into their chain within this interval of their commit (issue 15).
    # A run left behind by a busy worker expires rather than queueing up behind the next ones.
    "audit-seal": {
        "task": "privacy.tasks.audit_seal_pending",
        "schedule": AUDIT_SEAL_INTERVAL_SECONDS,
        "options": {"expires": AUDIT_SEAL_INTERVAL_SECONDS * 5},
    },
}

EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    # Implicit TLS (port 465) instead of STARTTLS; the two exclude each other.
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)
    # A mail server that stops answering must not hold a worker for ever: the send fails and the
    # delivery task retries it later (tickets/notifications.py).
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "helpdesk@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# "Last seen" on the account's list of sessions: one write per session per interval at most.
SESSION_LAST_SEEN_MINUTES = env_int("SESSION_LAST_SEEN_MINUTES", 5)
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Product limits and periods.
SIGNUP_CONFIRMATION_HOURS = 96
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 7)
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024)
# Account self-service (issue 6): days before a requested deletion runs (0 = at once), and days
# an export stays downloadable.
ACCOUNT_ERASURE_GRACE_DAYS = env_int("ACCOUNT_ERASURE_GRACE_DAYS", 14)
ACCOUNT_EXPORT_DAYS = env_int("ACCOUNT_EXPORT_DAYS", 7)
# Where people reach the operator about privacy (shown under the privacy policy); empty: not shown.
PRIVACY_CONTACT_EMAIL = env_str("PRIVACY_CONTACT_EMAIL", "")
# Retention of what belongs to no workspace (privacy/retention/account_kinds.py), in days; the
# daily retention run applies them (expired sessions: days after expiry, so clearsessions runs
# there). A negative number keeps that kind forever.
ACCOUNT_RETENTION_DAYS = {
    name: (days if days >= 0 else None)
    for name, days in {
        "account_audit_events": env_int("RETENTION_ACCOUNT_AUDIT_DAYS", 730),
        "lockout_log": env_int("RETENTION_LOCKOUT_LOG_DAYS", 90),
        "expired_sessions": env_int("RETENTION_EXPIRED_SESSIONS_DAYS", 0),
        "identifier_history": env_int("RETENTION_IDENTIFIER_HISTORY_DAYS", 365),
    }.items()
}
# Single sign-on (OpenID Connect, per workspace): the key the client secrets are encrypted
# under (derived by HKDF), whether providers may be reached over plain http (tests, local
# development only), and how long a call to a provider may take.
SSO_SECRET_KEY = env_str("SSO_SECRET_KEY") or SECRET_KEY
SSO_ALLOW_HTTP = env_bool("SSO_ALLOW_HTTP", False)
SSO_HTTP_TIMEOUT = env_int("SSO_HTTP_TIMEOUT", 10)

# Email channel: the key mailbox IMAP passwords are sealed under (tickets/mail/secrets.py).
MAIL_SECRET_KEY = env_str("MAIL_SECRET_KEY") or SECRET_KEY

# What the request log writes of a client's address: truncate (/24, /48), hash, full or none.
LOG_CLIENT_IP = env_str("LOG_CLIENT_IP", "truncate")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"client_address": {"()": "helpdesk.client_ip.ClientAddressFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["client_address"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "authlib": {"level": "WARNING"}},
}
