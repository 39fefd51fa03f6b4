"""A real OpenID Connect provider for the single sign-on tests: django-oidc-provider in its own
Django project, run in a subprocess on a loopback port with its own SQLite database
(``server.py`` starts it; nothing here is imported by the helpdesk itself)."""
