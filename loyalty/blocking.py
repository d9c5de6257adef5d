"""Blocking a membership for abuse: what a block does is read where it matters, from `Member.blocked`.

A blocked member earns nothing from referrals, neither as the one who invited nor as the friend invited (see
`loyalty.referrals`); campaigns and gift announcements do not reach them (`loyalty.audiences.REACHABLE`), nor
birthday greetings and gifts or reminders of expiring points (`loyalty.birthdays.GREETED`). A block is not
`Member.stopped` (the member's own choice to stop news), is not told to the member, and takes nothing away:
points, purchases and vouchers go on as before, at the counter too. Blocking or unblocking is audited with who,
why and from which update; asking for the state a member is already in changes nothing and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audit
from loyalty.stamps import Stamp
from storage import repositories
from storage.database import write_transaction
from storage.models import Member

REASON_LENGTH = 200


@dataclass(frozen=True)
class Blocking:
    """The member after the request; `changed` False when they already were in the state asked for."""

    member: Member
    changed: bool


async def block(
    session: AsyncSession,
    member_id: int,
    stamp: Stamp,
    *,
    blocked: bool,
    reason: str | None,
) -> Blocking:
    """The staff member `stamp.actor_id` blocks (`blocked` True) or unblocks a member in one write transaction, with
    an audit entry when it changes."""
    async with write_transaction(session):
        member = await repositories.lock_member(session, member_id)
        if member.blocked == blocked:
            return Blocking(member, changed=False)
        member.blocked = blocked
        await audit.record(
            session,
            actor_id=stamp.actor_id,
            action="member.block" if blocked else "member.unblock",
            now=stamp.at,
            member_id=member.id,
            update_id=stamp.update_id,
            reason=(reason or "").strip()[:REASON_LENGTH] or None,
        )
    return Blocking(member, changed=True)
