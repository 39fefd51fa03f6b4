"""What every staff page shows of its workspace and that changes rarely (its queues, its macros,
its staff as the filters' and bulk bar's choices, each queue's staff as the ticket page's assignee
choices, whether it has custom fields at all): kept in the cache, read in one round trip, and
forgotten whenever one of them is saved or deleted (staff: a membership saved or ending, a staff
member's name, address or active flag changed; a queue's staff: that, a queue saved or deleted,
or a queue granted or revoked).

Only what pages offer is kept here, never what decides access: which queues an agent may work
is read from the grants on every request (``tickets.selectors.list_choices``), and an assignee
picked from the kept choices is checked against the database when the form is posted.

A change forgets at once (the next page reads afresh) and again when its transaction commits (a
page that read the old rows meanwhile and stored them is not kept). ``TTL`` bounds what a write
around the ORM (``.update()``, raw SQL), which sends no signal, can leave behind.
"""

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from tickets.macros.models import Macro
from tickets.models import CustomField
from workspaces.models import Membership, Queue, QueueUserObjectPermission, Role, User
from workspaces.signals import member_leaving, members_leaving

TTL = 10 * 60
QUEUES = "queues"
MACROS = "macros"
# Renamed when what is kept changes shape: a cache still holding the old shape is not read.
STAFF = "staff_rows"
QUEUE_STAFF = "queue_staff_rows"
CUSTOM_FIELDS = "has_custom_fields"
# What is made from another entry is forgotten with it.
MADE_FROM = {QUEUES: (QUEUE_STAFF,), STAFF: (QUEUE_STAFF,)}
# The user fields a staff choice shows (tickets.selectors.staff_members): saving others (a sign-in's
# last_login, a password) leaves the cached choices as they are.
STAFF_FIELDS = frozenset({"display_name", "email", "is_active"})


def _key(workspace_id: int, name: str) -> str:
    # The database's name too: two databases behind one cache (the benchmark's sizes, a staging
    # copy) number their workspaces alike.
    return f"workspace:{connection.settings_dict['NAME']}:{workspace_id}:{name}"


def read(workspace_id: int, readers: dict) -> dict:
    """``{name: value}``, each from the cache or, when missing, from ``readers[name]()`` (then
    stored): one cache round trip for all of them."""
    keys = {name: _key(workspace_id, name) for name in readers}
    found = cache.get_many(list(keys.values()))
    values, missing = {}, {}
    for name, key in keys.items():
        if key in found:
            values[name] = found[key]
        else:
            values[name] = missing[key] = readers[name]()
    if missing:
        cache.set_many(missing, TTL)
    return values


def forget(workspace_id: int, name: str) -> None:
    keys = [_key(workspace_id, each) for each in (name, *MADE_FROM.get(name, ()))]
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def _forgetting(name: str):
    def receiver(sender, instance, **kwargs):
        forget(instance.workspace_id, name)

    return receiver


_forget_queues = _forgetting(QUEUES)
_forget_macros = _forgetting(MACROS)
_forget_custom_fields = _forgetting(CUSTOM_FIELDS)
STAFF_ROLES = (Role.ADMIN, Role.AGENT)


def _forget_staff_of_membership(sender, instance, created=False, **kwargs):
    # A requester joining changes no staff; any other save may (a role changed either way).
    if created and instance.role not in STAFF_ROLES:
        return
    forget(instance.workspace_id, STAFF)


def _forget_staff_leaving(sender, workspace_id, **kwargs):
    """``member_leaving`` / ``members_leaving``: whoever leaves, the workspace's staff is read
    afresh (the memberships go in one statement that sends no ``post_delete``)."""
    forget(workspace_id, STAFF)


def _forget_staff_of_user(sender, instance, created=False, update_fields=None, **kwargs):
    if created or (update_fields is not None and not STAFF_FIELDS.intersection(update_fields)):
        return
    staff_of = Membership.objects.filter(user_id=instance.pk, role__in=STAFF_ROLES)
    for workspace_id in staff_of.values_list("workspace_id", flat=True):
        forget(workspace_id, STAFF)


def _forget_queue_staff_of_grant(sender, instance, **kwargs):
    """A queue granted or revoked (guardian saves or deletes the row; a bulk delete of grants
    sends ``post_delete`` per row while anyone listens): its workspace's queue staff."""
    workspaces = Queue.objects.filter(pk=instance.content_object_id).values_list("workspace_id", flat=True)
    for workspace_id in workspaces:
        forget(workspace_id, QUEUE_STAFF)


def connect() -> None:
    """From ``TicketsConfig.ready``: any saved or deleted queue, macro or custom field forgets
    its workspace's; a membership saved or ending, or a person's name, address or active flag
    saved, its staff; a queue granted or revoked, its queues' staff."""
    for model, receiver in (
        (Queue, _forget_queues),
        (Macro, _forget_macros),
        (CustomField, _forget_custom_fields),
    ):
        for when, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(receiver, sender=model, dispatch_uid=f"workspace_cache.{model.__name__}.{when}")
    post_save.connect(
        _forget_staff_of_membership, sender=Membership, dispatch_uid="workspace_cache.Membership.saved"
    )
    post_save.connect(_forget_staff_of_user, sender=User, dispatch_uid="workspace_cache.User.saved")
    for when, signal in (("saved", post_save), ("deleted", post_delete)):
        signal.connect(
            _forget_queue_staff_of_grant,
            sender=QueueUserObjectPermission,
            dispatch_uid=f"workspace_cache.QueueUserObjectPermission.{when}",
        )
    for name, signal in (("member_leaving", member_leaving), ("members_leaving", members_leaving)):
        signal.connect(_forget_staff_leaving, sender=Membership, dispatch_uid=f"workspace_cache.{name}")
