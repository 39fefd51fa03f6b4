"""What an exporter receives, and the helpers every exporter formats rows with. Exporters live
in the apps that own the data and are registered with ``registry.register_exporter``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

# Rows are read with .iterator() in chunks of this size: memory stays flat whatever the account.
CHUNK_ROWS = 2000


def iso(value):
    return value.isoformat() if value else None


class ExportFile(NamedTuple):
    """A file the archive carries: its path in the ZIP, how to open its bytes, and a reference
    naming no one (for the log when the stored bytes are missing)."""

    path: str
    open: Callable
    reference: str


@dataclass
class ExportContext:
    """One export run: the person, the time, and what exporters share.

    ``workspace_names`` maps the slugs the sections mention to names (summary.html shows names);
    exporters fill it. ``shared`` computes a value once per run for the exporters that need it.
    """

    user: object
    now: object
    # Set for a workspace's own export of a person (the admins' data-subject-request console):
    # only the exporters registered ``workspace_scoped`` run, each limited to this workspace.
    workspace_id: int | None = None
    workspace_names: dict[str, str] = field(default_factory=dict)
    _memo: dict = field(default_factory=dict, repr=False)

    def shared(self, key: str, compute: Callable):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]
