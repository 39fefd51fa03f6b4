"""The email channel: mailboxes, the addresses replies come back to, inbound and outbound mail."""
