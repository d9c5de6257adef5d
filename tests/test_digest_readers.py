"""Who reads the daily digest: every owner, and each manager who asked for it while they are still a manager; a
manager's choice is theirs, kept in the club's settings and audited, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import digest_readers
from loyalty.stamps import Stamp
from storage.models import AuditEntry, StaffMember
from tests.factories import NOW

OWNER, ADDED_OWNER, MANAGER, OTHER_MANAGER = 1, 2, 3, 4


async def staff_of_four(session: AsyncSession) -> None:
    """An owner from the settings, an owner added in chat and two managers."""
    for telegram_id, role in ((ADDED_OWNER, "owner"), (MANAGER, "manager"), (OTHER_MANAGER, "manager")):
        session.add(StaffMember(telegram_id=telegram_id, role=role, name="Staff", added_by=OWNER, added_at=NOW))
    await session.commit()


async def readers(session: AsyncSession) -> list[int]:
    return [reader.telegram_id for reader in await digest_readers.readers(session, (OWNER,))]


def stamp(telegram_id: int) -> Stamp:
    return Stamp(telegram_id, f"update-{telegram_id}", NOW)


async def test_owners_read_the_digest_and_managers_only_once_they_ask(session: AsyncSession) -> None:
    await staff_of_four(session)
    assert await readers(session) == [OWNER, ADDED_OWNER]
    assert await digest_readers.toggle(session, stamp(MANAGER)) is True
    assert await digest_readers.wants(session, MANAGER) and not await digest_readers.wants(session, OTHER_MANAGER)
    assert await readers(session) == [OWNER, ADDED_OWNER, MANAGER]


async def test_a_manager_who_asks_again_stops_getting_it_each_change_audited(session: AsyncSession) -> None:
    await staff_of_four(session)
    await digest_readers.toggle(session, stamp(MANAGER))
    await digest_readers.toggle(session, stamp(OTHER_MANAGER))
    assert await digest_readers.toggle(session, stamp(MANAGER)) is False
    assert await readers(session) == [OWNER, ADDED_OWNER, OTHER_MANAGER]
    audited = await session.execute(select(AuditEntry.actor_id, AuditEntry.action).order_by(AuditEntry.id))
    assert audited.all() == [
        (MANAGER, "digest.subscribe"),
        (OTHER_MANAGER, "digest.subscribe"),
        (MANAGER, "digest.unsubscribe"),
    ]


async def test_a_manager_made_cashier_or_removed_no_longer_gets_it(session: AsyncSession) -> None:
    await staff_of_four(session)
    await digest_readers.toggle(session, stamp(MANAGER))
    await digest_readers.toggle(session, stamp(OTHER_MANAGER))
    await session.execute(update(StaffMember).where(StaffMember.telegram_id == MANAGER).values(role="cashier"))
    await session.execute(StaffMember.__table__.delete().where(StaffMember.telegram_id == OTHER_MANAGER))
    await session.commit()
    assert await readers(session) == [OWNER, ADDED_OWNER]
