"""The models of the ``privacy`` app, defined in its layers and gathered here for Django.

One Django app keeps one migration history and the tables' names; the code lives where its layer
says (docs/architecture.md): the audit log and pseudonyms are cross-cutting services every app may
use, the account and retention models belong to the privacy capabilities on top.
"""

from privacy.account.models import (  # noqa: F401
    Consent,
    ConsentSource,
    DataExport,
    EmailChange,
    ErasureRequest,
    ErasureState,
    ExportStatus,
    NotificationPreferences,
    PolicyAcceptance,
    PolicyKind,
    PolicyVersion,
    QueuedNotification,
    export_key,
)
from privacy.audit.models import AUDIT_APPEND_ONLY, AuditChainHead, AuditEvent, AuditEventQuerySet  # noqa: F401
from privacy.personal_data.models import Pseudonym  # noqa: F401
from privacy.retention.models import (  # noqa: F401
    AttachmentBasis,
    HoldScope,
    LegalHold,
    PendingFileDeletion,
    RetentionPolicy,
    RetentionRun,
    RetentionRunWorkspace,
    RunState,
    TicketAction,
)
