"""Signals the workspaces app sends so that the apps above it can act without being imported.

``member_leaving`` is sent inside ``member_remove``'s transaction, before the membership row is
deleted. A receiver removes what its app holds of that person in that workspace (tickets drops
their participations) and returns ``{name: count}``; the counts go into the ``member.removed``
audit event's detail.

``pending_signup_claimed`` is sent inside a password reset's transaction, after the new password
is saved, when the account was an unconfirmed sign-up: whoever opened the reset link owns the
mailbox and chose the password, so the sign-up's owner (privacy's sign-up) confirms the address.
"""

from django.dispatch import Signal

member_leaving = Signal()  # kwargs: workspace_id, user_id
# ``member_leaving`` for many people of one workspace at once (``member_remove_many``): a
# receiver returns ``{user_id: {name: count}}``. An app connecting ``member_leaving`` connects
# this one too: once it has receivers, the batch path sends only this one.
members_leaving = Signal()  # kwargs: workspace_id, user_ids
pending_signup_claimed = Signal()  # kwargs: user, request

# Sent inside the transaction that confirms a self-service sign-up's address (by its link or by a
# password reset), so the apps above can act for the now-proven person: tickets opens the help
# requests they held (tickets/intake.py).
signup_confirmed = Signal()  # kwargs: user, request
