"""Writing the audit log. ``audit_record`` is the one function every event goes through.

Each event is hashed over its own content and the hash of the previous event in its chain, so
an edited or removed row breaks the chain and ``manage.py verify_audit_log`` names it.
"""

import hashlib
import json
from datetime import UTC
from typing import Any

from django.db import transaction
from django.utils import timezone

from privacy.models import AuditChainHead, AuditEvent

ACCOUNT_CHAIN = "account"
USER_AGENT_MAX = 300


def chain_for(workspace) -> str:
    return f"ws:{workspace.pk}" if workspace is not None else ACCOUNT_CHAIN


def event_digest(event: AuditEvent) -> str:
    """The hash of an event's content chained to the previous hash. Stable across databases."""
    payload = {
        "chain": event.chain,
        "seq": event.seq,
        "prev": event.prev_hash,
        "at": event.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "workspace": event.workspace_id,
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "ip": event.ip_address,
        "ua": event.user_agent,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "detail": event.detail,
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def client_ip(request) -> str | None:
    if request is None:
        return None
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or None


def _actor_label(actor) -> str:
    if actor is None:
        return ""
    return actor.email


def audit_record(
    *,
    action: str,
    request=None,
    actor=None,
    workspace=None,
    target=None,
    target_type: str = "",
    target_id: str | int = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the workspace's chain (or the account chain).

    Runs inside the caller's transaction (or opens one), so the event commits or rolls back with
    the change it records. Locks only the chain head row of that chain.
    Never pass message bodies, passwords, tokens or file contents in ``detail``.
    """
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        if request.user.is_authenticated:
            actor = request.user
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
    user_agent = ""
    if request is not None:
        user_agent = request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX]
    chain = chain_for(workspace)
    with transaction.atomic():
        head, _ = AuditChainHead.objects.get_or_create(chain=chain)
        head = AuditChainHead.objects.select_for_update().get(pk=head.pk)
        event = AuditEvent(
            chain=chain,
            seq=head.last_seq + 1,
            prev_hash=head.last_hash,
            created_at=timezone.now(),
            workspace=workspace,
            actor=actor,
            actor_label=_actor_label(actor),
            ip_address=client_ip(request),
            user_agent=user_agent,
            action=action,
            target_type=target_type,
            target_id=str(target_id) if target_id != "" else "",
            detail=detail or {},
        )
        event.hash = event_digest(event)
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=head.pk).update(last_seq=event.seq, last_hash=event.hash)
    return event
