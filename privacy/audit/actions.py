"""The fixed vocabulary of audit actions.

``audit_record`` refuses any action not listed here (``ValueError``), so a typo cannot create a
new, unsearchable kind of event. Adding an action means adding a constant, a line in ``ACTIONS``,
a row in docs/audit-log.md and a typed function in privacy/audit/events.py that the product
calls where the act happens (a test keeps the four in step: nothing documented but never
written, nothing written but undocumented).

Names are ``<subject>.<past-tense verb>``. ``detail`` carries ids and small non-identifying
values only: never message bodies, passwords, tokens, file contents or email addresses of
third parties.
"""

# Signing in and out (account chain).
AUTH_LOGIN = "auth.login"
AUTH_LOGIN_FAILED = "auth.login_failed"
AUTH_LOGOUT = "auth.logout"
AUTH_LOCKED_OUT = "auth.locked_out"
AUTH_PASSWORD_CHANGED = "auth.password_changed"
AUTH_PASSWORD_RESET_REQUESTED = "auth.password_reset_requested"
AUTH_PASSWORD_RESET_DONE = "auth.password_reset_done"
AUTH_SECOND_FACTOR_PASSED = "auth.second_factor_passed"
AUTH_SECOND_FACTOR_FAILED = "auth.second_factor_failed"
AUTH_SECOND_FACTOR_LOCKED = "auth.second_factor_locked"
AUTH_SESSIONS_SIGNED_OUT = "auth.sessions_signed_out"

# Single sign-on through a workspace's OpenID Connect provider (workspace chain).
SSO_SIGNED_IN = "sso.signed_in"
SSO_REFUSED = "sso.refused"
SSO_ACCOUNT_CREATED = "sso.account_created"
SSO_CONFIG_CHANGED = "sso.config_changed"

# The person's own account (account chain).
ACCOUNT_SIGNUP = "account.signup"
ACCOUNT_SIGNUP_CONFIRMED = "account.signup_confirmed"
ACCOUNT_SIGNUP_REJECTED = "account.signup_rejected"
ACCOUNT_SIGNUP_REPLACED = "account.signup_replaced"
ACCOUNT_SIGNUPS_PURGED = "account.signups_purged"
ACCOUNT_CREATED = "account.created"
ACCOUNT_UPDATED = "account.updated"
ACCOUNT_EMAIL_CHANGED = "account.email_changed"
ACCOUNT_POLICY_ACCEPTED = "account.policy_accepted"
ACCOUNT_DELETION_REQUESTED = "account.deletion_requested"
ACCOUNT_DELETION_CANCELLED = "account.deletion_cancelled"
ACCOUNT_DELETED = "account.deleted"
ACCOUNT_FACTOR_ADDED = "account.factor_added"
ACCOUNT_FACTOR_REMOVED = "account.factor_removed"
ACCOUNT_RECOVERY_CODES_GENERATED = "account.recovery_codes_generated"
ACCOUNT_RECOVERY_CODE_USED = "account.recovery_code_used"

# Workspaces, members, invitations, queues (workspace chain).
WORKSPACE_CREATED = "workspace.created"
SETTINGS_CHANGED = "settings.changed"
MEMBER_ADDED = "member.added"
MEMBER_ROLE_CHANGED = "member.role_changed"
MEMBER_REMOVED = "member.removed"
MEMBER_INVITED = "member.invited"
INVITATION_ACCEPTED = "invitation.accepted"
INVITATION_REVOKED = "invitation.revoked"
INVITATION_REFUSED = "invitation.refused"
INVITATION_EMAIL_FAILED = "invitation.email_failed"
QUEUE_CREATED = "queue.created"
QUEUE_RENAMED = "queue.renamed"
QUEUE_ACCESS_GRANTED = "queue.access_granted"
QUEUE_ACCESS_REVOKED = "queue.access_revoked"

# Tickets and their messages (workspace chain).
TICKET_CREATED = "ticket.created"
TICKET_STATUS_CHANGED = "ticket.status_changed"
TICKET_PRIORITY_CHANGED = "ticket.priority_changed"
TICKET_QUEUE_CHANGED = "ticket.queue_changed"
TICKET_ASSIGNED = "ticket.assigned"
TICKET_VIEWED = "ticket.viewed"
PARTICIPANT_ADDED = "participant.added"
PARTICIPANT_REMOVED = "participant.removed"
REPLY_CREATED = "reply.created"
NOTE_CREATED = "note.created"
MESSAGE_EDITED = "message.edited"
ATTACHMENT_UPLOADED = "attachment.uploaded"
ATTACHMENT_REJECTED = "attachment.rejected"
ATTACHMENT_DOWNLOADED = "attachment.downloaded"
ATTACHMENT_ERASURE_FLAGGED = "attachment.erasure_flagged"

# The email channel, inbound (workspace chain).
MAIL_RECEIVED = "mail.received"
MAILBOX_CHANGED = "mailbox.changed"
# Emails about tickets (workspace chain).
EMAIL_SENT = "email.sent"
EMAIL_FAILED = "email.failed"

# Access control.
ACCESS_REFUSED = "access.refused"
RATE_LIMIT_REFUSED = "rate_limit.refused"

# Personal data: export, retention, legal holds.
EXPORT_REQUESTED = "export.requested"
EXPORT_DOWNLOADED = "export.downloaded"
RETENTION_RUN = "retention.run"
LEGAL_HOLD_PLACED = "legal_hold.placed"
LEGAL_HOLD_RELEASED = "legal_hold.released"

# The audit log about itself.
AUDIT_EXPORTED = "audit.exported"
AUDIT_PURGED = "audit.purged"
AUDIT_ANONYMIZED = "audit.anonymized"

# Privacy, second wave: redaction, restriction of processing, data-subject requests.
MESSAGE_REDACTED = "message.redacted"
ATTACHMENT_REDACTED = "attachment.redacted"
MEMBER_RESTRICTED = "member.restricted"
MEMBER_RESTRICTION_RELEASED = "member.restriction_released"
SUBJECT_REQUEST_FILED = "subject_request.filed"
SUBJECT_REQUEST_STATUS_CHANGED = "subject_request.status_changed"
SUBJECT_REQUEST_EXPORTED = "subject_request.exported"
SUBJECT_REQUEST_ERASED = "subject_request.erased"
WORKSPACE_DPA_ACCEPTED = "workspace.dpa_accepted"
POLICY_CHANGE_ANNOUNCED = "policy.change_announced"
# Service levels (issue 13, workspace chain).
SLA_POLICY_CHANGED = "sla.policy_changed"
SLA_BREACHED = "sla.breached"

# Tags and custom fields (issue 13, workspace chain).
TICKET_TAGS_CHANGED = "ticket.tags_changed"
TICKET_FIELDS_CHANGED = "ticket.fields_changed"
CUSTOM_FIELD_CREATED = "custom_field.created"
CUSTOM_FIELD_CHANGED = "custom_field.changed"
CUSTOM_FIELD_ARCHIVED = "custom_field.archived"

# The agent workbench: merging tickets (workspace chain).
TICKET_MERGED = "ticket.merged"

# Macros, canned replies (workspace chain).
MACRO_CREATED = "macro.created"
MACRO_CHANGED = "macro.changed"
MACRO_DELETED = "macro.deleted"
MACRO_APPLIED = "macro.applied"

# Reports (tickets/reports.py): aggregate figures, but a download is a data export.
REPORT_EXPORTED = "report.exported"

# The agent workbench: views of the ticket list shared with the workspace (workspace chain).
SAVED_VIEW_SHARED = "saved_view.shared"
SAVED_VIEW_CHANGED = "saved_view.changed"
SAVED_VIEW_DELETED = "saved_view.deleted"

ACTIONS: dict[str, str] = {
    MAIL_RECEIVED: (
        "An email reached a support mailbox (detail: mailbox id, outcome, reason code, ticket "
        "number; never the sender, subject or body)."
    ),
    MAILBOX_CHANGED: (
        "An admin added or changed a support mailbox (detail: mailbox id, fields changed; "
        "never the IMAP password)."
    ),
    AUTH_LOGIN: "A person signed in.",
    AUTH_LOGIN_FAILED: "A sign-in attempt failed (target: the account, when the email matched one).",
    AUTH_LOGOUT: "A person signed out.",
    AUTH_LOCKED_OUT: "Sign-in was locked after repeated failures (detail: account or address).",
    AUTH_PASSWORD_CHANGED: "A person changed their password while signed in.",
    AUTH_PASSWORD_RESET_REQUESTED: "A password-reset link was requested for an account.",
    AUTH_PASSWORD_RESET_DONE: "A password was set through a reset link.",
    AUTH_SECOND_FACTOR_PASSED: (
        "The second step of a sign-in passed (detail: method totp, recovery_code or passkey)."
    ),
    AUTH_SECOND_FACTOR_FAILED: "A second-step code or passkey was refused (detail: method, failures so far).",
    AUTH_SECOND_FACTOR_LOCKED: (
        "The second step was locked after repeated failures; the person must start over later."
    ),
    AUTH_SESSIONS_SIGNED_OUT: (
        "Sessions of a person were signed out (detail: scope one, others, all, password_changed or "
        "password_reset; count; for one, the session id and whether it was this device)."
    ),
    SSO_SIGNED_IN: "A person signed in through the workspace's single sign-on provider.",
    SSO_REFUSED: (
        "A single sign-on was refused (detail: reason such as state_mismatch, code_rejected, "
        "invalid_token, email_unverified, not_member, other_workspaces); at most once per reason and "
        "address in 10 minutes."
    ),
    SSO_ACCOUNT_CREATED: "Single sign-on created an account (just in time) as a requester of the workspace.",
    SSO_CONFIG_CHANGED: (
        "An admin changed the workspace's single sign-on settings (detail: the fields changed; "
        "never the client secret)."
    ),
    ACCOUNT_SIGNUP: "A person signed up (self-service); the account waits for email confirmation.",
    ACCOUNT_SIGNUP_CONFIRMED: "A person confirmed their email address; the account is active.",
    ACCOUNT_SIGNUP_REJECTED: "The owner of an address said they did not sign up; the account was removed.",
    ACCOUNT_SIGNUP_REPLACED: (
        "Someone signed up again with the address of an unconfirmed sign-up: the new password, name "
        "and accepted policies replaced the earlier ones, and every earlier link stopped working."
    ),
    ACCOUNT_SIGNUPS_PURGED: "Expired unconfirmed sign-ups were deleted (detail: count only).",
    ACCOUNT_CREATED: "An account was created by accepting an invitation.",
    ACCOUNT_UPDATED: "A person changed their profile (name, language, time zone).",
    ACCOUNT_EMAIL_CHANGED: "A person changed their email address.",
    ACCOUNT_POLICY_ACCEPTED: "A person accepted a version of the terms or privacy policy.",
    ACCOUNT_DELETION_REQUESTED: "A person asked for their account to be deleted.",
    ACCOUNT_DELETION_CANCELLED: "A pending account deletion was cancelled.",
    ACCOUNT_DELETED: "An account was deleted and its personal data anonymized.",
    ACCOUNT_FACTOR_ADDED: "A person added a second factor (detail: kind totp or passkey).",
    ACCOUNT_FACTOR_REMOVED: (
        "A person removed a second factor (detail: kind, and whether password or code confirmed it)."
    ),
    ACCOUNT_RECOVERY_CODES_GENERATED: (
        "New one-time recovery codes replaced the old ones (detail: count, never the codes)."
    ),
    ACCOUNT_RECOVERY_CODE_USED: "A recovery code was used to sign in (detail: how many are left).",
    WORKSPACE_CREATED: "A workspace was created.",
    SETTINGS_CHANGED: "A workspace setting changed (detail: which setting, old and new value).",
    MEMBER_ADDED: "A person joined the workspace with a role.",
    MEMBER_ROLE_CHANGED: "A member's role changed (detail: old and new role).",
    MEMBER_REMOVED: "An admin removed a member.",
    MEMBER_INVITED: "An admin invited someone by email with a role (target: the invitation).",
    INVITATION_ACCEPTED: "An invitation was accepted.",
    INVITATION_REVOKED: "An admin revoked a pending invitation.",
    INVITATION_REFUSED: (
        "An invitation link was used but refused (detail: expired, revoked, used, wrong_account...); "
        "at most once per invitation, reason and person in 10 minutes."
    ),
    INVITATION_EMAIL_FAILED: (
        "The email carrying an invitation could not be sent (detail: the kind of error, never "
        "the address); the inviter was told."
    ),
    QUEUE_CREATED: "A queue was created.",
    QUEUE_RENAMED: "A queue was renamed.",
    QUEUE_ACCESS_GRANTED: "An agent was given access to a queue.",
    QUEUE_ACCESS_REVOKED: "An agent's access to a queue was removed.",
    TICKET_CREATED: "A ticket was opened.",
    TICKET_STATUS_CHANGED: "A ticket's status changed (detail: from, to).",
    TICKET_PRIORITY_CHANGED: "A ticket's priority changed (detail: from, to).",
    TICKET_QUEUE_CHANGED: "A ticket moved to another queue (detail: from, to).",
    TICKET_ASSIGNED: "A ticket was assigned or unassigned (detail: assignee id or none).",
    TICKET_VIEWED: "An agent or admin opened a ticket (at most once per person, ticket and hour).",
    PARTICIPANT_ADDED: "A person was added to a ticket.",
    PARTICIPANT_REMOVED: "A person was removed from a ticket.",
    REPLY_CREATED: "A public reply was posted.",
    NOTE_CREATED: "An internal note was posted.",
    MESSAGE_EDITED: (
        "An author corrected their reply or note (detail: ticket number and kind, never the text)."
    ),
    ATTACHMENT_UPLOADED: "A file was attached (detail: size and type, never the content).",
    ATTACHMENT_REJECTED: (
        "Files sent with a ticket or reply were refused (detail: the reasons, such as too_large or "
        "blocked_content; never names or contents)."
    ),
    ATTACHMENT_DOWNLOADED: "An attachment was downloaded.",
    ATTACHMENT_ERASURE_FLAGGED: (
        "Account erasure could not rewrite a file that may name the erased person (detail: ticket, "
        "attachment, reason, outcome: review by staff or deleted per the workspace's setting)."
    ),
    EMAIL_SENT: (
        "An email about a ticket was handed to the mail server (detail: ticket number, kind, "
        "recipient id, a hash of its Message-ID, attempts; never the address, subject or text)."
    ),
    EMAIL_FAILED: (
        "An email about a ticket could not be delivered and will not be retried (detail: as for "
        "email.sent, and the error code such as smtp_550 or address_failing)."
    ),
    ACCESS_REFUSED: (
        "A signed-in person was refused a page or object (404 answered); at most once per person "
        "or address and kind of page in 10 minutes."
    ),
    RATE_LIMIT_REFUSED: (
        "An email or export was refused because a rate limit was reached (detail: action and scope: "
        "address, ip or account); at most once per action, scope and person or address in 10 minutes."
    ),
    EXPORT_REQUESTED: "A personal-data export was requested.",
    EXPORT_DOWNLOADED: "A personal-data export was downloaded.",
    RETENTION_RUN: "The retention sweep ran (detail: counts per kind of data).",
    LEGAL_HOLD_PLACED: "A legal hold was placed; retention and deletion skip what it covers.",
    LEGAL_HOLD_RELEASED: "A legal hold was released.",
    AUDIT_EXPORTED: "An admin downloaded the audit log as CSV (detail: the filters).",
    AUDIT_PURGED: (
        "The retention sweep deleted old audit events of this chain "
        "(detail: count and the new anchor: first remaining seq and its prev_hash)."
    ),
    AUDIT_ANONYMIZED: "Personal columns (IP, user agent, label) of a person's events were blanked.",
    MESSAGE_REDACTED: (
        "Staff redacted part of a message (detail: ticket number, kind, how many places and the "
        "reason; never the redacted text)."
    ),
    ATTACHMENT_REDACTED: (
        "Staff redacted a whole attachment; its bytes were deleted from storage, every version "
        "(detail: ticket number and the reason; never the name or the content)."
    ),
    MEMBER_RESTRICTED: (
        "An admin restricted the processing of a member's data here (kept but frozen: no emails, no "
        "edits, no new work, hidden from agents' lists; detail: the reason)."
    ),
    MEMBER_RESTRICTION_RELEASED: "An admin released a restriction of processing.",
    SUBJECT_REQUEST_FILED: (
        "A data-subject request was filed, by the person or recorded by an admin "
        "(detail: kind, via, due date)."
    ),
    SUBJECT_REQUEST_STATUS_CHANGED: "An admin changed a data-subject request's status (detail: from, to).",
    SUBJECT_REQUEST_EXPORTED: (
        "An admin downloaded the export of what this workspace holds about a person (detail: size)."
    ),
    SUBJECT_REQUEST_ERASED: (
        "An admin erased a person's data in this workspace only (detail: counts per kind of data)."
    ),
    WORKSPACE_DPA_ACCEPTED: (
        "Whoever created the workspace accepted the data-processing agreement for it (detail: version)."
    ),
    POLICY_CHANGE_ANNOUNCED: (
        "A material policy change was emailed to the people it affects (detail: kind, version, emails sent)."
    ),
    TICKET_TAGS_CHANGED: (
        "Staff added or removed tags on a ticket (detail: ticket number, tags added and removed)."
    ),
    TICKET_FIELDS_CHANGED: (
        "Custom field values of a ticket were set or cleared (detail: ticket number, field ids and labels; "
        "never the values)."
    ),
    CUSTOM_FIELD_CREATED: (
        "An admin added a custom ticket field (detail: label, kind, required, visible, personal)."
    ),
    CUSTOM_FIELD_CHANGED: (
        "An admin changed a custom ticket field (detail: field label, which settings changed)."
    ),
    CUSTOM_FIELD_ARCHIVED: (
        "An admin archived a custom ticket field; its values are kept (detail: field label)."
    ),
    SLA_POLICY_CHANGED: (
        "An admin changed the workspace's service levels (detail: the settings changed, "
        "whether the policy is on)."
    ),
    SLA_BREACHED: (
        "A ticket missed a service-level target, found by the breach scan (detail: ticket "
        "number, first_response or resolution, due time)."
    ),
    TICKET_MERGED: (
        "A ticket was merged into another; written on both (detail: number, role source or "
        "target, the other ticket's number)."
    ),
    MACRO_CREATED: "An admin created a shared macro (detail: macro id and shortcut; never the name or text).",
    MACRO_CHANGED: "An admin changed a shared macro (detail: macro id, the fields changed; never the text).",
    MACRO_DELETED: "An admin deleted a shared macro (detail: macro id and shortcut).",
    MACRO_APPLIED: (
        "A message was sent with a macro (detail: ticket number, macro id, shared or personal, the "
        "properties it changed; never the text)."
    ),
    REPORT_EXPORTED: (
        "A staff member downloaded a table of the reports dashboard as CSV (detail: table, period in "
        "days, its last day, queue id or all)."
    ),
    SAVED_VIEW_SHARED: (
        "An admin shared a saved view of the ticket list with the workspace (detail: the filter names)."
    ),
    SAVED_VIEW_CHANGED: (
        "An admin renamed a shared view or took it back as their own (detail: renamed or unshared)."
    ),
    SAVED_VIEW_DELETED: "An admin deleted a shared view of the ticket list.",
}

ACTION_CHOICES: list[tuple[str, str]] = sorted((name, name) for name in ACTIONS)

UNKNOWN_ACTION = "Unknown audit action {action!r}: add it to privacy/audit/actions.py first."


def validate_action(action: str) -> None:
    if action not in ACTIONS:
        raise ValueError(UNKNOWN_ACTION.format(action=action))
