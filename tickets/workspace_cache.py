"""What every staff ticket page shows of its workspace and that changes rarely (its queues, its
macros): kept in the cache, read in one round trip, and forgotten whenever one of them is saved
or deleted.

A change forgets at once (the next page reads afresh) and again when its transaction commits (a
page that read the old rows meanwhile and stored them is not kept). ``TTL`` bounds what a write
around the ORM (``.update()``, raw SQL), which sends no signal, can leave behind.
"""

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from tickets.macros.models import Macro
from workspaces.models import Queue

TTL = 10 * 60
QUEUES = "queues"
MACROS = "macros"


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
    key = _key(workspace_id, name)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def _forgetting(name: str):
    def receiver(sender, instance, **kwargs):
        forget(instance.workspace_id, name)

    return receiver


_forget_queues = _forgetting(QUEUES)
_forget_macros = _forgetting(MACROS)


def connect() -> None:
    """From ``TicketsConfig.ready``: any saved or deleted queue or macro forgets its workspace's."""
    for model, receiver in ((Queue, _forget_queues), (Macro, _forget_macros)):
        for when, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(receiver, sender=model, dispatch_uid=f"workspace_cache.{model.__name__}.{when}")
