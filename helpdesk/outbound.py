"""The one way an email leaves the helpdesk: ``send(recipient, template, context, kind=...)``.

Every email has a text part and an HTML part, rendered from ``templates/email/<template>.txt``
and ``templates/email/<template>.html``; the subject comes from ``context["subject"]`` or from
``templates/email/<template>_subject.txt``. The text part and the subject are rendered without
HTML escaping (they are plain text); the HTML part is escaped as usual, so nothing a person typed
becomes markup. Text written in Markdown is passed in ``markdown=``: the text part shows it as
written, the HTML part gets ``helpdesk.markdown.render_markdown`` (sanitised), never the raw text;
a ``helpdesk.markdown.Rendered`` value brings the HTML stored with the text (a message's body).

Before sending, ``wants(recipient, kind)`` asks whether the person wants this kind of email.
Account and security emails (sign-up, address change, password reset, invitation) always go out;
the others are asked of the checks registered with ``register_preference_check``. This module
is the lowest layer and knows nobody's preferences: the app that stores them registers its check
from its ``AppConfig.ready``.

A person may ask for ticket activity (``DIGESTIBLE``) in an hourly digest instead of one email
per event: before sending such an email, ``send`` offers it to the deferrals registered with
``register_deferral`` (privacy queues it for the digest); one that takes it means no email now.

One email per recipient, never a To: list. Logs never hold an address, a subject, a body or a
link (links carry tokens): only the template, the kind and, for an account, its id.
"""

import logging
from collections.abc import Callable, Mapping

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context, engines
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from helpdesk.markdown import Rendered, render_markdown
from helpdesk.single_line import single_line
from helpdesk.text import strip_bidi
from helpdesk.timezones import override_for

logger = logging.getLogger(__name__)

# Kinds a person may turn off (see privacy's notification preferences).
REPLY = "reply"
ASSIGNMENT = "assignment"
WEEKLY_SUMMARY = "weekly_summary"
MENTION = "mention"
# The hourly digest of queued ticket activity: the person asked for it by choosing it.
DIGEST = "digest"
# Ticket activity that no preference governs yet (a new ticket in a worked queue, a status change).
TICKET = "ticket"
# Always sent: the person asked for them, or must know about them.
ACCOUNT = "account"
SECURITY = "security"

ALWAYS_SENT = frozenset({ACCOUNT, SECURITY})
KINDS = frozenset({REPLY, ASSIGNMENT, WEEKLY_SUMMARY, TICKET, MENTION, DIGEST}) | ALWAYS_SENT
# Ticket activity a person may take as an hourly digest; account and security emails never wait.
DIGESTIBLE = frozenset({REPLY, ASSIGNMENT, MENTION, TICKET})

PreferenceCheck = Callable[[object, str], bool]
_preference_checks: list[PreferenceCheck] = []


def register_preference_check(check: PreferenceCheck) -> None:
    """Add ``check(user, kind) -> bool``, asked for every optional email to an account."""
    if check not in _preference_checks:
        _preference_checks.append(check)


# ``deferral(user, kind=..., subject=..., url=...) -> bool``: True when it took the email (queued
# it for a digest), so nothing is sent now.
Deferral = Callable[..., bool]
_deferrals: list[Deferral] = []


def register_deferral(deferral: Deferral) -> None:
    if deferral not in _deferrals:
        _deferrals.append(deferral)


def _deferred(user, kind: str, subject: str, context: Mapping) -> bool:
    if user is None or kind not in DIGESTIBLE:
        return False
    url = str(context.get("url") or "")
    return any(deferral(user, kind=kind, subject=subject, url=url) for deferral in _deferrals)


def _address_of(recipient) -> str:
    return recipient if isinstance(recipient, str) else (getattr(recipient, "email", "") or "")


def wants(recipient, kind: str) -> bool:
    """Whether ``recipient`` (an account or a bare address) should get an email of ``kind``."""
    if kind not in KINDS:
        raise ValueError(f"Unknown email kind {kind!r}.")
    if kind in ALWAYS_SENT or isinstance(recipient, str):
        # A bare address (an invitee, a new sign-in address) has no account to ask about.
        return True
    return all(check(recipient, kind) for check in _preference_checks)


def _render_plain(name: str, context: dict) -> str:
    # Plain text must not be HTML-escaped ("R&D" stays "R&D"), whatever the template says.
    template = engines["django"].engine.get_template(name)
    return template.render(Context(context, autoescape=False))


def _source(value: str | Rendered) -> str:
    return value.source if isinstance(value, Rendered) else value


def _html(value: str | Rendered) -> SafeString:
    return value.html if isinstance(value, Rendered) else render_markdown(value)


def render(
    template: str, context: Mapping, *, markdown: Mapping[str, str | Rendered] | None = None
) -> tuple[str, str, str]:
    """The subject, text and HTML of one email (also used by tests and previews)."""
    markdown = dict(markdown or {})
    text_context = {**context, **{key: _source(value) for key, value in markdown.items()}}
    subject = context.get("subject") or _render_plain(f"email/{template}_subject.txt", text_context)
    # A header: a line break would make Django refuse the whole email (BadHeaderError). Bidi
    # controls (an RLO in a ticket subject or a name) would reorder the subject line and the text
    # in the reader's mail client: emails never carry them.
    subject = strip_bidi(single_line(subject))
    text = strip_bidi(_render_plain(f"email/{template}.txt", {**text_context, "subject": subject}))
    html_context = {
        **context,
        **{key: _html(value) for key, value in markdown.items()},
        "subject": subject,
    }
    html = strip_bidi(render_to_string(f"email/{template}.html", html_context))
    return subject, text, html


def send(
    recipient,
    template: str,
    context: Mapping | None = None,
    *,
    kind: str,
    markdown: Mapping[str, str | Rendered] | None = None,
    raise_errors: bool = False,
    from_email: str | None = None,
    reply_to: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> bool:
    """Render ``template`` and email it to ``recipient`` (an account or an address) if they want
    ``kind``. Returns whether an email was handed to the mail backend (or queued for the
    person's digest); a failure is logged and
    returns False, so one bad address never stops the caller. With ``raise_errors`` the failure
    is logged and raised, for a caller that must tell someone (an inviter) and audit it.

    ``from_email`` (default ``DEFAULT_FROM_EMAIL``), ``reply_to`` and ``headers`` (Message-ID,
    In-Reply-To, Auto-Submitted...) are for ticket emails, which come from the workspace."""
    address = _address_of(recipient)
    if not address or not wants(recipient, kind):
        return False
    user = None if isinstance(recipient, str) else recipient
    context = {"recipient": user, "site_url": settings.SITE_URL, **(context or {})}
    # Times in the email are the recipient's (their saved zone), not the sender's request zone.
    with override_for(user):
        subject, text, html = render(template, context, markdown=markdown)
    if _deferred(user, kind, subject, context):
        return True
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email,
        to=[address],
        reply_to=[reply_to] if reply_to else None,
        headers=dict(headers or {}),
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception as error:  # noqa: BLE001 - the caller decides whether to retry; one failure is not fatal
        # Only the kind of error: mail errors can quote the address.
        # An account or security email the person waits for is an error; a notice, a warning.
        logger.log(
            logging.ERROR if kind in ALWAYS_SENT else logging.WARNING,
            "Email %s (%s) to user %s could not be sent: %s",
            template,
            kind,
            getattr(user, "pk", "-"),
            type(error).__name__,
        )
        if raise_errors:
            raise
        return False
    return True
