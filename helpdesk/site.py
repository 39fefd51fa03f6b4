"""The site as seen from outside a request: links in emails and other messages."""

from django.conf import settings


def absolute_url(path: str) -> str:
    """``path`` (from ``reverse``) as a full link on ``settings.SITE_URL``, for emails sent
    outside any request."""
    return f"{settings.SITE_URL}{path}"
