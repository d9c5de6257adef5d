"""Who reads the daily digest: every owner (OWNER_IDS and those added in chat), and each manager who asked for it
(`toggle`, their /digest) while they are still a manager — one demoted or removed stops getting it, and gets it
again only by asking again once a manager.

The managers who asked are one row of the club's settings (`club_settings`, key `READERS_KEY`: a JSON list of
their messenger ids), so no table is needed; each change is locked, written and audited in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audit, staff
from loyalty.stamps import Stamp
from storage.database import write_transaction
from storage.models import ClubSetting, StaffMember

READERS_KEY = "digest_managers"


def _ids(row: ClubSetting | None) -> set[int]:
    """The managers' ids a settings row holds (none without a row)."""
    return set(json.loads(row.value)) if row is not None else set()


async def wants(session: AsyncSession, telegram_id: int) -> bool:
    """True if the account asked for the digest (and has not stopped it since)."""
    return telegram_id in _ids(await session.get(ClubSetting, READERS_KEY))


async def toggle(session: AsyncSession, stamp: Stamp) -> bool:
    """The staff member `stamp.actor_id` starts getting the digest, or stops if they were; True if they now get it.
    One write transaction, audited (digest.subscribe or digest.unsubscribe)."""
    async with write_transaction(session):
        row = await session.get(ClubSetting, READERS_KEY, with_for_update=True, populate_existing=True)
        ids = _ids(row)
        subscribed = stamp.actor_id not in ids
        ids ^= {stamp.actor_id}
        row = row or ClubSetting(key=READERS_KEY)
        row.value = json.dumps(sorted(ids))
        row.updated_by, row.updated_at = stamp.actor_id, stamp.at
        session.add(row)
        action = "digest.subscribe" if subscribed else "digest.unsubscribe"
        await audit.record(session, actor_id=stamp.actor_id, action=action, now=stamp.at, update_id=stamp.update_id)
    return subscribed


async def readers(session: AsyncSession, owner_ids: Collection[int]) -> tuple[staff.Owner, ...]:
    """Everyone who gets the digest, in id order: the owners and the managers who asked and are managers still."""
    asked = _ids(await session.get(ClubSetting, READERS_KEY))
    managers = await session.scalars(
        select(StaffMember.telegram_id).where(
            StaffMember.role == staff.Role.MANAGER, StaffMember.telegram_id.in_(sorted(asked))
        )
    )
    owners = {owner.telegram_id for owner in await staff.owners(session, owner_ids, but=0)}
    return await staff.with_members(session, owners | set(managers))
