"""The audit log: who did what to whom, when, and from which update."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import insert
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
    return AuditEntry(**_columns(actor_id, action, now, member_id, update_id, details))


def _columns(
    actor_id: int | None,
    action: str,
    now: datetime,
    member_id: int | None,
    update_id: int | None,
    details: Mapping[str, object],
) -> dict[str, object]:
    """An entry's columns (all but the id), its details as JSON."""
    return {
        "actor_id": actor_id,
        "action": action,
        "member_id": member_id,
        "details": json.dumps(details, ensure_ascii=False, sort_keys=True, default=str),
        "update_id": update_id,
        "created_at": now,
    }


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


async def write_many(
    session: AsyncSession,
    *,
    actor_id: int | None,
    action: str,
    now: datetime,
    update_id: int | None,
    about: Sequence[tuple[int, Mapping[str, object]]],
) -> None:
    """Write one action's entries about many members in the caller's transaction now, each (member id, details) of
    `about`: one INSERT for them all (in pages of multi-row VALUES), no unit of work (bulk paths)."""
    if about:
        await session.execute(
            _NEW_ENTRIES,
            [_columns(actor_id, action, now, member_id, update_id, details) for member_id, details in about],
        )


# RETURNING, though the ids are not read: SQLAlchemy then sends the rows as pages of multi-row VALUES on both
# databases (insertmanyvalues), where a plain executemany is an execution per row on asyncpg.
_NEW_ENTRIES = insert(AuditEntry.__table__).returning(AuditEntry.__table__.c.id)
