"""Settings of the test identity provider (a separate Django project, never the helpdesk's).

Everything that varies per run comes from the environment ``server.py`` sets: the port (through
``OIDC_PROVIDER_SITE_URL``), the database file and the token that guards the seeding endpoints.
"""

import os

BASE_DIR = os.path.dirname(os.path.abspath(__file__))

SECRET_KEY = os.environ["OIDC_PROVIDER_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SITE_URL = os.environ["OIDC_PROVIDER_SITE_URL"]
SEED_TOKEN = os.environ["OIDC_PROVIDER_SEED_TOKEN"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "oidc_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.oidc_provider.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [os.path.join(BASE_DIR, "templates")],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]
# Threaded server, one SQLite file: writers take the lock up front and wait for it, so two
# sign-ins at once queue instead of failing with "database is locked".
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["OIDC_PROVIDER_DB"],
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
# Fast hashing: these are throwaway accounts of a test provider.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/login/"
# Separate cookie names, so a browser holding the helpdesk's cookies for 127.0.0.1 (cookies
# ignore the port) keeps both sessions apart.
SESSION_COOKIE_NAME = "idp_sessionid"
CSRF_COOKIE_NAME = "idp_csrftoken"

OIDC_USERINFO = "tests.oidc_provider.claims.userinfo"
# The email claims ride in the ID token, as most providers send them.
OIDC_IDTOKEN_INCLUDE_CLAIMS = True
OIDC_IDTOKEN_PROCESSING_HOOK = "tests.oidc_provider.misbehave.idtoken_hook"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
