"""The audit log: who did what to whom, when, and from which update."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


async def record(
    session: AsyncSession,
    *,
    actor_id: int | None,
    action: str,
    now: datetime,
    member_id: int | None = None,
    update_id: int | None = None,
    **details: object,
) -> AuditEntry:
    """Add an audit entry to the caller's transaction (`actor_id` None: the system itself)."""
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        member_id=member_id,
        details=json.dumps(details, ensure_ascii=False, sort_keys=True, default=str),
        update_id=update_id,
        created_at=now,
    )
    session.add(entry)
    return entry
