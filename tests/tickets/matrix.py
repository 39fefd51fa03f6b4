"""Permission matrix of the tickets app's URLs under ``/w/<slug>/``.

The entry format, roles, ``LOGIN``, the shortcuts (``every_member``, ``admin_only``, ``only``)
and the ``World`` with its tickets and queues are in tests/matrix_support.py; the answers to
methods a view does not serve are derived there. tests/test_permission_matrix.py fails when a
tickets URL has no entry.
"""

from tests.matrix_support import (
    ADMIN,
    AGENT_WITH_QUEUE,
    AGENT_WITHOUT_QUEUE,
    ANONYMOUS,
    LOGIN,
    OUTSIDER,
    REQUESTER_OTHER,
    REQUESTER_OWNER,
    every_member,
    only,
)


def _reply_attachment(world):
    """A PDF on the public first message of ``world.ticket`` (attachments area)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tickets.attachments import attachment_add

    ticket = world.ticket
    attachment = attachment_add(
        ticket=ticket,
        message=ticket.messages.filter(kind="reply").first(),
        uploaded_by=ticket.requester,
        upload=SimpleUploadedFile("report.pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    return {"number": ticket.number, "attachment_id": attachment.pk}


# Ticket pages (tickets area) -------------------------------------------------------------------


def _ticket_kwargs(world):
    return {"number": world.ticket.number}


def _seen_by(status, *roles):
    """``status`` for the members who can see ``world.ticket`` among ``roles``; 404 for others."""
    return {
        **{
            role: 404
            for role in (ADMIN, AGENT_WITH_QUEUE, AGENT_WITHOUT_QUEUE, REQUESTER_OWNER, REQUESTER_OTHER)
        },
        OUTSIDER: 404,
        ANONYMOUS: LOGIN,
        **dict.fromkeys(roles, status),
    }


# Admins, agents of the ticket's queue and its requester see the ticket; nobody else does.
TICKET_VIEWERS = (ADMIN, AGENT_WITH_QUEUE, REQUESTER_OWNER)
TICKET_STAFF = (ADMIN, AGENT_WITH_QUEUE)


def _ticket_status(world):
    from tickets.models import Ticket

    return Ticket.objects.values_list("status", flat=True).get(pk=world.ticket.pk)


def _properties_post(world, kwargs):
    """The properties form as the ticket page shows it (version and seen values), changed."""
    from tests.tickets.ticket_helpers import properties_data

    return properties_data(world.ticket, status="pending", priority="high", queue=world.queue.pk, assignee="")


def _participant_kwargs(world):
    from tests.factories import MembershipFactory, UserFactory
    from tickets.models import TicketParticipant
    from workspaces.models import Role

    user = MembershipFactory(workspace=world.workspace, role=Role.REQUESTER, user=UserFactory()).user
    TicketParticipant.objects.create(workspace=world.workspace, ticket=world.ticket, user=user)
    return {"number": world.ticket.number, "user_id": user.pk}


def _participant_exists(world, user_id):
    from tickets.models import TicketParticipant

    return TicketParticipant.objects.filter(ticket=world.ticket, user_id=user_id).exists()


def _owner_reply_kwargs(world):
    from tickets.models import MessageKind
    from tickets.services import message_post

    message = message_post(
        ticket=world.ticket, author=world.user(REQUESTER_OWNER), kind=MessageKind.REPLY, body="Tpyo here"
    )
    return {"number": world.ticket.number, "message_id": message.pk}


def _message_body(kwargs):
    from tickets.models import Message

    return Message.objects.values_list("body", flat=True).get(pk=kwargs["message_id"])


def _message_edit_post(world, kwargs):
    """The edit form as shown (with the version of the text it showed), a crafted kind added."""
    from tickets.services import body_version

    return {"body": "Typo fixed", "kind": "note", "seen": body_version(_message_body(kwargs))}


def _message_exists(body):
    from tickets.models import Message

    return Message.objects.filter(body=body).exists()


def _ticket_exists(subject):
    from tickets.models import Ticket

    return Ticket.objects.filter(subject=subject).exists()


TICKETS_MATRIX = {
    "ticket_new": {
        "kwargs_factory": lambda world: {},
        "methods": {
            "GET": {},
            "POST": {
                "data": lambda world, kwargs: {
                    "subject": "Matrix ticket",
                    "queue": world.queue.pk,
                    "priority": "normal",
                    "description": "Opened by the matrix.",
                },
                "applied": lambda world, kwargs: _ticket_exists("Matrix ticket"),
            },
        },
        "expected": {"GET": every_member(200), "POST": every_member(302)},
    },
    "ticket_detail": {
        "kwargs_factory": _ticket_kwargs,
        "methods": {
            "GET": {},
            "POST": {
                "data": lambda world, kwargs: {"body": "Matrix reply", "kind": "reply"},
                "applied": lambda world, kwargs: _message_exists("Matrix reply"),
            },
        },
        "expected": {"GET": _seen_by(200, *TICKET_VIEWERS), "POST": _seen_by(302, *TICKET_VIEWERS)},
    },
    "ticket_properties": {
        "kwargs_factory": _ticket_kwargs,
        "methods": {
            "POST": {
                "data": _properties_post,
                "applied": lambda world, kwargs: _ticket_status(world) == "pending",
            },
        },
        # POST only: GET and the rest get 405 from members, 404 from strangers (derived).
        "expected": {"POST": _seen_by(302, *TICKET_STAFF)},
    },
    "ticket_close": {
        "kwargs_factory": _ticket_kwargs,
        "methods": {
            "POST": {"applied": lambda world, kwargs: _ticket_status(world) == "closed"},
        },
        "expected": {"POST": _seen_by(302, *TICKET_VIEWERS)},
    },
    # The note box's @mention autocomplete: staff who see the ticket; requesters 404.
    "ticket_mention_candidates": {
        "kwargs_factory": _ticket_kwargs,
        "methods": {"GET": {}},
        "expected": {"GET": _seen_by(200, *TICKET_STAFF)},
    },
    "ticket_participant_add": {
        "kwargs_factory": _ticket_kwargs,
        "methods": {
            "POST": {
                "data": lambda world, kwargs: {"user": world.user(REQUESTER_OTHER).email},
                "applied": lambda world, kwargs: _participant_exists(world, world.user(REQUESTER_OTHER).pk),
            },
        },
        "expected": {"POST": _seen_by(302, *TICKET_STAFF)},
    },
    "ticket_participant_remove": {
        "kwargs_factory": _participant_kwargs,
        "methods": {
            "POST": {"applied": lambda world, kwargs: not _participant_exists(world, kwargs["user_id"])},
        },
        "expected": {"POST": _seen_by(302, *TICKET_STAFF)},
    },
    "message_edit": {
        # Only the author, within 15 minutes: the requester who wrote the reply.
        "kwargs_factory": _owner_reply_kwargs,
        "methods": {
            "GET": {},
            "POST": {
                "data": _message_edit_post,
                "applied": lambda world, kwargs: _message_body(kwargs) == "Typo fixed",
            },
        },
        "expected": {"GET": only(REQUESTER_OWNER, 200), "POST": only(REQUESTER_OWNER, 302)},
    },
}


# Attachments: whoever sees the ticket and the message; every member gets 405 for other methods.
ATTACHMENT_DOWNLOAD_GET = {
    **every_member(200),
    "agent_without_queue": 404,
    "requester_other": 404,
}


def _mailbox_data(address):
    def data(world, kwargs):
        return {
            "address": address,
            "queue": world.queue.pk,
            "unknown_reply": "new_ticket",
            "is_active": "on",
            "imap_port": "993",
            "imap_security": "ssl",
            "imap_folder": "INBOX",
        }

    return data


def _mailbox_kwargs(world):
    from tickets.mail.models import Mailbox

    mailbox = Mailbox.objects.create(workspace=world.workspace, queue=world.queue, address="help@acme.test")
    return {"mailbox_id": mailbox.pk}


def _mailbox_exists(address):
    def applied(world, kwargs):
        from tickets.mail.models import Mailbox

        return Mailbox.objects.filter(address=address).exists()

    return applied


MAILBOX_MATRIX = {
    "admin_mailboxes": {
        "kwargs_factory": lambda world: {},
        "methods": {
            "GET": {},
            "POST": {
                "data": _mailbox_data("matrix@acme.test"),
                "applied": _mailbox_exists("matrix@acme.test"),
            },
        },
        "expected": {"GET": only(ADMIN, 200), "POST": only(ADMIN, 302)},
    },
    "admin_mailbox": {
        "kwargs_factory": _mailbox_kwargs,
        "methods": {
            "GET": {},
            "POST": {
                "data": _mailbox_data("renamed@acme.test"),
                "applied": _mailbox_exists("renamed@acme.test"),
            },
        },
        "expected": {"GET": only(ADMIN, 200), "POST": only(ADMIN, 302)},
    },
}

# Service levels (issue 13): admins only; a 1-hour first response for normal tickets.


def _sla_data(world, kwargs):
    data = {"is_active": "on", "time_zone": "UTC", "normal_first_response": "1h", "holidays": ""}
    for day in ("mon", "tue", "wed", "thu", "fri"):
        data.update({f"{day}_open": "09:00", f"{day}_close": "17:00"})
    return data


def _sla_saved(world, kwargs):
    from tickets.models import SlaPolicy

    return SlaPolicy.objects.filter(workspace=world.workspace, normal_first_response=60).exists()


SLA_MATRIX = {
    "admin_sla": {
        "kwargs_factory": lambda world: {},
        "methods": {"GET": {}, "POST": {"data": _sla_data, "applied": _sla_saved}},
        "expected": {"GET": only(ADMIN, 200), "POST": only(ADMIN, 302)},
    },
}

# Macros (tickets/macros): staff pages; a shared macro is changed by admins only. ---------------


def _staff(status):
    """``status`` for the admin and both agents; 404 for requesters and strangers."""
    return {
        **only(ADMIN, status),
        AGENT_WITH_QUEUE: status,
        AGENT_WITHOUT_QUEUE: status,
    }


def _shared_macro_kwargs(world):
    from tickets.macros.models import Macro

    macro = Macro.objects.create(workspace=world.workspace, name="Matrix macro", shortcut="matrix", body="Hi")
    return {"macro_id": macro.pk}


def _macro_form(name):
    def data(world, kwargs):
        from tickets.macros.models import Macro

        version = Macro.objects.filter(pk=kwargs.get("macro_id")).values_list("version", flat=True).first()
        return {
            "name": name,
            "shortcut": "matrix-made",
            "kind": "reply",
            "body": "Hello",
            "version": version or "",
        }

    return data


def _macro_named(name):
    def applied(world, kwargs):
        from tickets.macros.models import Macro

        return Macro.objects.filter(name=name).exists()

    return applied


def _macro_gone(world, kwargs):
    from tickets.macros.models import Macro

    return not Macro.objects.filter(pk=kwargs["macro_id"]).exists()


def _ticket_and_macro_kwargs(world):
    return {"number": world.ticket.number, **_shared_macro_kwargs(world)}


def _insert_data(world, kwargs):
    from tickets.macros.models import Macro

    macro = Macro.objects.filter(workspace=world.workspace).first() or Macro.objects.create(
        workspace=world.workspace, name="Insert me", shortcut="insert-me", body="Inserted"
    )
    return {"body": "Typed", "macro_pick": macro.pk}


MACROS_MATRIX = {
    "macro_list": {
        "kwargs_factory": lambda world: {},
        "methods": {"GET": {}},
        "expected": {"GET": _staff(200)},
    },
    "macro_new": {
        "kwargs_factory": lambda world: {},
        "methods": {
            "GET": {},
            "POST": {"data": _macro_form("Made by matrix"), "applied": _macro_named("Made by matrix")},
        },
        "expected": {"GET": _staff(200), "POST": _staff(302)},
    },
    "macro_edit": {
        "kwargs_factory": _shared_macro_kwargs,
        "methods": {
            "GET": {},
            "POST": {"data": _macro_form("Renamed by matrix"), "applied": _macro_named("Renamed by matrix")},
        },
        "expected": {"GET": only(ADMIN, 200), "POST": only(ADMIN, 302)},
    },
    "macro_delete": {
        "kwargs_factory": _shared_macro_kwargs,
        "methods": {"GET": {}, "POST": {"applied": _macro_gone}},
        "expected": {"GET": only(ADMIN, 200), "POST": only(ADMIN, 302)},
    },
    # The reply box: staff who see the ticket (and the macro); everyone else the 404 of a missing one.
    "ticket_macro_render": {
        "kwargs_factory": _ticket_and_macro_kwargs,
        "methods": {"GET": {}},
        "expected": {"GET": _seen_by(200, *TICKET_STAFF)},
    },
    "ticket_macro_insert": {
        "kwargs_factory": _ticket_kwargs,
        "methods": {"POST": {"data": _insert_data}},
        "expected": {"POST": _seen_by(200, *TICKET_STAFF)},
    },
}


MATRIX = {
    **TICKETS_MATRIX,
    **MAILBOX_MATRIX,
    **MACROS_MATRIX,
    **SLA_MATRIX,
    "ticket_list": {
        "kwargs_factory": lambda world: {},
        "methods": {"GET": {}},
        "expected": every_member(200),
    },
    "ticket_view_counts": {
        "kwargs_factory": lambda world: {},
        "methods": {"GET": {}},
        "expected": every_member(200),
    },
    # A search's count, fetched by its page once loaded (no words: an empty answer).
    "ticket_search_count": {
        "kwargs_factory": lambda world: {},
        "methods": {"GET": {}},
        "expected": every_member(200),
    },
    "attachment_download": {
        "kwargs_factory": _reply_attachment,
        "methods": {"GET": {}},
        "expected": {"GET": ATTACHMENT_DOWNLOAD_GET},
    },
    # Redaction: admins only while the workspace does not let agents redact (the default).
    "message_redact": {
        "kwargs_factory": _owner_reply_kwargs,
        "methods": {
            "GET": {},
            "POST": {
                "data": lambda world, kwargs: {"text": "Tpyo", "reason": "Matrix"},
                "applied": lambda world, kwargs: _message_body(kwargs) == "[redacted] here",
            },
        },
        "expected": {"GET": only(ADMIN, 200), "POST": only(ADMIN, 302)},
    },
    "attachment_redact": {
        "kwargs_factory": _reply_attachment,
        "methods": {
            "GET": {},
            "POST": {
                "data": lambda world, kwargs: {"reason": "Matrix"},
                "applied": lambda world, kwargs: _attachment_redacted(kwargs),
            },
        },
        "expected": {"GET": only(ADMIN, 200), "POST": only(ADMIN, 302)},
    },
    # Reports: staff only (an agent without queues sees empty figures); requesters 404.
    "reports": {
        "kwargs_factory": lambda world: {},
        "methods": {"GET": {}},
        "expected": {**every_member(404), ADMIN: 200, AGENT_WITH_QUEUE: 200, AGENT_WITHOUT_QUEUE: 200},
    },
    "reports_csv": {
        "kwargs_factory": lambda world: {"table": "daily"},
        "methods": {"GET": {}},
        "expected": {**every_member(404), ADMIN: 200, AGENT_WITH_QUEUE: 200, AGENT_WITHOUT_QUEUE: 200},
    },
}


# Tags and custom fields (issue 13) ---------------------------------------------------------------


def _ticket_tags(world):
    from tickets.tags import ticket_tag_names

    return ticket_tag_names(world.ticket)


def _field_kwargs(world):
    from tickets.custom_fields import custom_field_create

    field = custom_field_create(
        workspace=world.workspace, label="Order number", kind="text", actor=world.user(ADMIN)
    )
    return {"field_id": field.pk}


def _field_value(world):
    from tickets.models import CustomFieldValue

    return CustomFieldValue.objects.filter(ticket=world.ticket).values_list("value", flat=True).first()


def _field_label(field_id):
    from tickets.models import CustomField

    return CustomField.objects.values_list("label", flat=True).get(pk=field_id)


def _field_archived(field_id):
    from tickets.models import CustomField

    return CustomField.objects.filter(pk=field_id, archived_at__isnull=False).exists()


def _fields_exist(label):
    from tickets.models import CustomField

    return CustomField.objects.filter(label=label).exists()


TAG_FIELD_MATRIX = {
    # The tags autocomplete: staff of the workspace (any queue); requesters 404.
    "tag_suggestions": {
        "kwargs_factory": lambda world: {},
        "methods": {"GET": {}},
        "expected": {"GET": {**every_member(200), REQUESTER_OWNER: 404, REQUESTER_OTHER: 404}},
    },
    "ticket_tags": {
        "kwargs_factory": _ticket_kwargs,
        "methods": {
            "POST": {
                "data": lambda world, kwargs: {"tags": "matrix, vip", "seen": ""},
                "applied": lambda world, kwargs: _ticket_tags(world) == ["matrix", "vip"],
            },
        },
        "expected": {"POST": _seen_by(302, *TICKET_STAFF)},
    },
    "ticket_fields": {
        "kwargs_factory": _ticket_kwargs,
        "methods": {
            "POST": {
                # The field is made with the post (kwargs name only URL arguments).
                "data": lambda world, kwargs: {f"cf_{_field_kwargs(world)['field_id']}": "A-42"},
                "applied": lambda world, kwargs: _field_value(world) == "A-42",
            },
        },
        "expected": {"POST": _seen_by(302, *TICKET_STAFF)},
    },
    "admin_fields": {
        "kwargs_factory": lambda world: {},
        "methods": {
            "GET": {},
            "POST": {
                "data": lambda world, kwargs: {"label": "Matrix field", "kind": "text", "position": "1"},
                "applied": lambda world, kwargs: _fields_exist("Matrix field"),
            },
        },
        "expected": {"GET": only(ADMIN, 200), "POST": only(ADMIN, 302)},
    },
    "admin_field": {
        "kwargs_factory": _field_kwargs,
        "methods": {
            "GET": {},
            "POST": {
                "data": lambda world, kwargs: {"label": "Renamed field", "position": "2"},
                "applied": lambda world, kwargs: _field_label(kwargs["field_id"]) == "Renamed field",
            },
        },
        "expected": {"GET": only(ADMIN, 200), "POST": only(ADMIN, 302)},
    },
    "admin_field_archive": {
        "kwargs_factory": _field_kwargs,
        "methods": {"POST": {"applied": lambda world, kwargs: _field_archived(kwargs["field_id"])}},
        "expected": {"POST": only(ADMIN, 302)},
    },
}

MATRIX.update(TAG_FIELD_MATRIX)
# --- bulk actions and merging (issue 13) ---


def _bulk_post(world, kwargs):
    """Both tickets of the workspace: each staff role sees one or both, requesters none."""
    return {"tickets": [world.ticket.number, world.other_ticket.number], "change": "status:pending"}


def _bulk_applied(world, kwargs) -> bool:
    from tickets.models import Ticket

    statuses = Ticket.objects.filter(pk__in=[world.ticket.pk, world.other_ticket.pk]).values_list(
        "status", flat=True
    )
    return "pending" in statuses


def _merge_data(world, kwargs):
    """A second ticket of the same requester in the same queue, merged into ``world.ticket``."""
    from tickets.services import ticket_create

    duplicate = ticket_create(
        workspace=world.workspace,
        queue=world.queue,
        requester=world.user(REQUESTER_OWNER),
        subject="Printer on fire again",
        description="Still smoking.",
    )
    return {"tickets": [world.ticket.number, duplicate.number], "source": duplicate.number}


def _merged(world, kwargs) -> bool:
    from tickets.models import TicketMerge

    return TicketMerge.objects.filter(workspace=world.workspace).exists()


MATRIX.update(
    {
        # Staff only; what each may change is re-checked per ticket (the agent without the
        # ticket's queue changes only the other queue's ticket: still a 302 with a report).
        "ticket_bulk": {
            "kwargs_factory": lambda world: {},
            "methods": {"POST": {"data": _bulk_post, "applied": _bulk_applied}},
            "expected": {"POST": _seen_by(302, ADMIN, AGENT_WITH_QUEUE, AGENT_WITHOUT_QUEUE)},
        },
        # Both tickets must be visible: the agent without the queue gets the 404 of a ticket.
        "ticket_merge": {
            "kwargs_factory": lambda world: {},
            "methods": {"GET": {"data": _merge_data}, "POST": {"data": _merge_data, "applied": _merged}},
            "expected": {"GET": _seen_by(200, *TICKET_STAFF), "POST": _seen_by(302, *TICKET_STAFF)},
        },
    }
)


# Saved views of the ticket list: staff only; a shared view is changed by admins only. ------------


def _shared_view(world):
    from tickets.models import SavedView

    view = SavedView.objects.create(
        workspace=world.workspace,
        owner=world.user(ADMIN),
        name="Urgent",
        shared=True,
        params={"priority": ["urgent"]},
    )
    return {"saved_view_id": view.pk}


def _saved_view_named(name) -> bool:
    from tickets.models import SavedView

    return SavedView.objects.filter(name=name).exists()


_STAFF = (ADMIN, AGENT_WITH_QUEUE, AGENT_WITHOUT_QUEUE)

MATRIX.update(
    {
        "saved_views": {
            "kwargs_factory": lambda world: {},
            "methods": {
                "GET": {},
                "POST": {
                    "data": lambda world, kwargs: {"name": "Matrix view", "filters": "status=pending"},
                    "applied": lambda world, kwargs: _saved_view_named("Matrix view"),
                },
            },
            "expected": {
                "GET": {**every_member(404), **dict.fromkeys(_STAFF, 200)},
                "POST": {**every_member(404), **dict.fromkeys(_STAFF, 302)},
            },
        },
        "saved_view_update": {
            "kwargs_factory": _shared_view,
            "methods": {
                "POST": {
                    "data": lambda world, kwargs: {"name": "Renamed by matrix"},
                    "applied": lambda world, kwargs: _saved_view_named("Renamed by matrix"),
                },
            },
            "expected": {"POST": only(ADMIN, 302)},
        },
        "saved_view_delete": {
            "kwargs_factory": _shared_view,
            "methods": {
                "POST": {
                    "data": lambda world, kwargs: {},
                    "applied": lambda world, kwargs: not _saved_view_named("Urgent"),
                },
            },
            "expected": {"POST": only(ADMIN, 302)},
        },
    }
)


def _attachment_redacted(kwargs) -> bool:
    from tickets.models import Attachment

    return Attachment.objects.filter(pk=kwargs["attachment_id"], redacted_at__isnull=False).exists()
