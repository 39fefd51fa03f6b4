"""Signed reply addresses and Message-IDs tie an email to its ticket and resist forgery."""

import pytest
from django.test import override_settings

from tickets.mail.addresses import (
    new_message_id,
    parse_reply_address,
    reply_address,
    ticket_ids_in_references,
)


def test_a_reply_address_names_its_ticket_and_recipient():
    address = reply_address("Support@Acme.test", 1234, 56)
    assert address.startswith("support+r-") and address.endswith("@acme.test")
    parsed = parse_reply_address(address)
    assert (parsed.mailbox_address, parsed.ticket_id, parsed.user_id) == ("support@acme.test", 1234, 56)


def test_a_reply_address_survives_a_mail_system_that_changes_case():
    address = reply_address("support@acme.test", 10**9, 3)
    assert parse_reply_address(address.upper()).ticket_id == 10**9


@pytest.mark.parametrize(
    "change",
    [
        lambda a: a.replace("r-", "r-1", 1),  # another ticket
        lambda a: a.replace("@acme.test", "@evil.test"),  # another mailbox
        lambda a: a[: a.rindex("-") + 1] + "0" * 16 + a[a.index("@") :],  # guessed signature
    ],
)
def test_a_changed_reply_address_is_refused(change):
    assert parse_reply_address(change(reply_address("support@acme.test", 7, 8))) is None


@pytest.mark.parametrize("address", ["support@acme.test", "support+sales@acme.test", "", "x+r-1-2-zz@a"])
def test_ordinary_addresses_are_not_reply_addresses(address):
    assert parse_reply_address(address) is None


def test_a_reply_address_made_under_another_secret_is_refused():
    with override_settings(SECRET_KEY="another-secret-" * 4):
        address = reply_address("support@acme.test", 7, 8)
    assert parse_reply_address(address) is None


def test_references_find_the_newest_of_our_tickets_and_ignore_forgeries():
    first = new_message_id("support@acme.test", 11, 100)
    second = new_message_id("support@acme.test", 22, 200)
    forged = first.replace("hd.b.", "hd.c.")
    foreign = "<CAF=abc@mail.gmail.com>"
    references = f"{foreign} {first} {forged}\r\n {second}"
    assert ticket_ids_in_references(references, None) == [22, 11]


def test_every_message_id_is_unique():
    ids = {new_message_id("support@acme.test", 1, 1) for _ in range(200)}
    assert len(ids) == 200
