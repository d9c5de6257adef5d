"""The audit log: who did what to whom, when, and from which update."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage import repositories
from storage.models import AuditEntry


def entry(
    *,
    actor_id: int | None,
    action: str,
    now: datetime,
    member_id: int | None = None,
    update_id: int | None = None,
    **details: object,
) -> AuditEntry:
    """A new audit entry (`actor_id` None: the system itself), not yet in any session."""
    return AuditEntry(
        actor_id=actor_id,
        action=action,
        member_id=member_id,
        details=json.dumps(details, ensure_ascii=False, sort_keys=True, default=str),
        update_id=update_id,
        created_at=now,
    )


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
    """Add an audit entry to the caller's transaction, written with its next flush (`actor_id` None: the system).

    Entries added together are written together (one multi-row INSERT): the way for many at once.
    """
    added = entry(actor_id=actor_id, action=action, now=now, member_id=member_id, update_id=update_id, **details)
    session.add(added)
    return added


async def write(session: AsyncSession, new: AuditEntry) -> AuditEntry:
    """Write an entry made by `entry` in the caller's transaction now: one INSERT, no unit of work (hot paths)."""
    return await repositories.insert_now(session, new)
