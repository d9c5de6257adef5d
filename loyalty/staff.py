"""Staff roles: owners (from OWNER_IDS or added by an owner), managers and cashiers."""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import StaffMember


class Role(StrEnum):
    """What a staff member may do; each role may do everything the roles below it may."""

    CASHIER = "cashier"
    MANAGER = "manager"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


def at_least(role: Role | None, minimum: Role) -> bool:
    """True if `role` includes what `minimum` may do."""
    return role is not None and role.rank >= minimum.rank


async def role_of(session: AsyncSession, telegram_id: int, owner_ids: Collection[int]) -> Role | None:
    """The account's role: OWNER_IDS are always owners; others as stored; None for customers."""
    if telegram_id in owner_ids:
        return Role.OWNER
    stored = await session.scalar(select(StaffMember.role).where(StaffMember.telegram_id == telegram_id))
    return Role(stored) if stored else None
