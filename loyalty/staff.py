"""Staff roles: owners (from OWNER_IDS or added by an owner), managers and cashiers.

An owner adds staff with a one-time, expiring invite: only a SHA-256 hash of its token is stored, and
opening it is a single conditional UPDATE, so of two accounts opening the same link only one joins.
An invite lives no longer than its maker's right to make it: removing the maker, or giving them a role that
may not invite to the invite's role (`may_invite`), revokes their pending invites in the same transaction
(audited as `staff.invite_revoke`), and opening an invite checks the maker's role at that moment too (an
owner taken out of OWNER_IDS leaves no row to revoke). Owners list the pending invites and revoke any.
Every change (invite, join, role, removal) is one write transaction together with its audit entry; the owners are
told of a join (`Hired`, through the outbox) in that transaction too.
The club always keeps an owner: the last one can neither step down nor leave, and the owners named in
OWNER_IDS are changed in the settings only.

Staff never give value to their own membership (the same messenger account): a purchase, a points
adjustment or a one-member gift on it is refused (`refuse_own_account`); a colleague does it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audit
from loyalty.errors import LoyaltyError, OwnAccount
from loyalty.outbox import Notices, notify
from loyalty.stamps import Stamp
from storage.database import rowcount, write_transaction
from storage.models import Member, StaffInvite, StaffMember

INVITE_LIFETIME = timedelta(hours=24)
TOKEN_BYTES = 32  # 43 URL-safe characters: with "staff_" well inside a 64-character /start payload
NAME_LENGTH = 64


class Role(StrEnum):
    """What a staff member may do; each role may do everything the roles below it may."""

    CASHIER = "cashier"
    MANAGER = "manager"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        """The role's place in the order cashier < manager < owner."""
        return list(Role).index(self)


class StaffError(LoyaltyError):
    """A staff change the club refuses."""


class UnknownInvite(StaffError):
    """No invite has this token."""


class InviteExpired(StaffError):
    """The invite was not used in time."""


class InviteUsed(StaffError):
    """Someone already joined with this invite."""


class InviteRevoked(StaffError):
    """The invite was withdrawn by an owner, or its maker can no longer invite to its role."""


class InviteNotPending(StaffError):
    """The invite to revoke is no longer pending: used, expired or revoked already."""


class AlreadyStaff(StaffError):
    """The account already works for the shop, as `role`; the invite is left for someone else."""

    def __init__(self, role: Role) -> None:
        super().__init__(role)
        self.role = role


class NotOwner(StaffError):
    """The account asking for a staff change is not (or no longer) an owner."""


class NotStaff(StaffError):
    """The account is not in the staff table (removed meanwhile, or never there)."""


class ConfiguredOwner(StaffError):
    """The account is an owner by OWNER_IDS: only the settings can change that."""


class LastOwner(StaffError):
    """The change would leave the club without an owner."""


@dataclass(frozen=True)
class StaffEntry:
    """One person on the staff; `configured` owners come from OWNER_IDS and cannot be changed in chat."""

    telegram_id: int
    role: Role
    name: str
    configured: bool = False


@dataclass(frozen=True)
class PendingInvite:
    """An invite nobody has opened yet, still valid: its role, who made it (`maker_name` "" if unknown), until when."""

    id: int
    role: Role
    created_by: int
    maker_name: str
    expires_at: datetime


@dataclass(frozen=True)
class Owner:
    """An owner to tell of a change to the staff (or another reader, such as a manager reading the digest): their
    chat, and their member row and language if they are a member (`language` None: the shop's)."""

    telegram_id: int
    member_id: int | None = None
    language: str | None = None


@dataclass(frozen=True)
class Hired:
    """Someone joined the staff by the invite `invite_id`: who, and the other owners to tell."""

    entry: StaffEntry
    invite_id: int
    owners: tuple[Owner, ...]


INVITER = Role.OWNER  # the role that makes invites


def at_least(role: Role | None, minimum: Role) -> bool:
    """True if `role` includes what `minimum` may do."""
    return role is not None and role.rank >= minimum.rank


def may_invite(role: Role | None, invited: Role) -> bool:
    """True if an account with `role` may make an invite to `invited`: an inviter, and not above their own role."""
    return at_least(role, INVITER) and at_least(role, invited)


async def role_of(session: AsyncSession, telegram_id: int, owner_ids: Collection[int]) -> Role | None:
    """The account's role: OWNER_IDS are always owners; others as stored; None for customers."""
    query = select(StaffMember.role).where(StaffMember.telegram_id == telegram_id)
    stored = None if telegram_id in owner_ids else await session.scalar(query)  # an owner's row is not asked for
    return role_from(telegram_id, stored, owner_ids)


def role_from(telegram_id: int, stored: str | None, owner_ids: Collection[int]) -> Role | None:
    """The account's role from its stored one: OWNER_IDS are always owners; others as stored; None for customers."""
    if telegram_id in owner_ids:
        return Role.OWNER
    return Role(stored) if stored else None


def refuse_own_account(member: Member, actor_id: int, action: str) -> None:
    """Raise OwnAccount if the staff account `actor_id` is the member's own: `action` (purchase, adjust, gift) would
    give value to oneself."""
    if member.telegram_id is not None and member.telegram_id == actor_id:
        raise OwnAccount(action)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which an invite token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create_invite(
    session: AsyncSession,
    role: Role,
    stamp: Stamp,
    *,
    owner_ids: Collection[int],
    lifetime: timedelta = INVITE_LIFETIME,
) -> str:
    """A new one-time invite, made by the owner `stamp.actor_id` at `stamp.at`, to join as `role`, valid for
    `lifetime`; returns the raw token (stored hashed only)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    actor_id, now = stamp.actor_id, stamp.at
    async with write_transaction(session):
        await _require_owner(session, actor_id, owner_ids)
        invite = StaffInvite(
            token_hash=hash_token(token), role=role, created_by=actor_id, created_at=now, expires_at=now + lifetime
        )
        session.add(invite)
        await session.flush()
        await audit.record(
            session,
            actor_id=actor_id,
            action="staff.invite",
            now=now,
            update_id=stamp.update_id,
            invite_id=invite.id,
            role=role,
            expires_at=invite.expires_at.isoformat(),
        )
    return token


async def invite_known(session: AsyncSession, token: str) -> bool:
    """True if some invite (used, expired or not) has this token."""
    found = await session.scalar(select(StaffInvite.id).where(StaffInvite.token_hash == hash_token(token)))
    return found is not None


async def accept_invite(
    session: AsyncSession,
    token: str,
    stamp: Stamp,
    *,
    name: str,
    owner_ids: Collection[int],
    notices: Notices[Hired] | None = None,
) -> StaffEntry:
    """The account `stamp.actor_id` joins the staff with an invite: once per invite, before it expires; staff
    already on it are refused. The owners (but the one who joined) are told through `notices`."""
    token_hash, telegram_id = hash_token(token), stamp.actor_id
    try:
        async with write_transaction(session):
            invite = await session.scalar(select(StaffInvite).where(StaffInvite.token_hash == token_hash))
            if invite is None:
                raise UnknownInvite
            current = await role_of(session, telegram_id, owner_ids)
            if current is not None:
                raise AlreadyStaff(current)
            if invite.used_by is None and not await _maker_may_still(session, invite, owner_ids):
                raise InviteRevoked
            await _claim(session, invite, telegram_id, stamp.at)
            entry = await _hire(session, invite, name, stamp)
            if notices is not None:
                hired = Hired(entry, invite.id, await owners(session, owner_ids, but=telegram_id))
                await notify(session, notices, hired, now=stamp.at)
            return entry
    except IntegrityError:  # the same account joined by another invite at the same moment
        current = await role_of(session, telegram_id, owner_ids)
        if current is None:
            raise
        raise AlreadyStaff(current) from None


async def owners(session: AsyncSession, owner_ids: Collection[int], *, but: int) -> tuple[Owner, ...]:
    """Every owner (OWNER_IDS and those added in chat) but `but`, with their member row where they are members."""
    stored = await session.scalars(select(StaffMember.telegram_id).where(StaffMember.role == Role.OWNER))
    return await with_members(session, (set(owner_ids) | set(stored)) - {but})


async def with_members(session: AsyncSession, telegram_ids: Collection[int]) -> tuple[Owner, ...]:
    """The accounts in id order, each with its member row and language where it is a member (one query)."""
    ids = sorted(telegram_ids)
    rows = await session.execute(
        select(Member.telegram_id, Member.id, Member.language).where(Member.telegram_id.in_(ids))
    )
    members = {telegram_id: (member_id, language) for telegram_id, member_id, language in rows}
    return tuple(Owner(telegram_id, *members.get(telegram_id, (None, None))) for telegram_id in ids)


async def _maker_may_still(session: AsyncSession, invite: StaffInvite, owner_ids: Collection[int]) -> bool:
    """True if the invite's maker, in their role now, may still make it (an owner who became a cashier may not)."""
    return may_invite(await role_of(session, invite.created_by, owner_ids), Role(invite.role))


async def _claim(session: AsyncSession, invite: StaffInvite, telegram_id: int, now: datetime) -> None:
    """Mark the invite used by `telegram_id`, atomically: if it is used, revoked or expired, say which."""
    claimed = await session.execute(
        update(StaffInvite)
        .where(StaffInvite.id == invite.id, *_pending(now))
        .values(used_by=telegram_id, used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(claimed) == 1:
        return
    await session.refresh(invite)
    if invite.used_by is not None:
        raise InviteUsed
    raise InviteRevoked if invite.revoked_at is not None else InviteExpired


def _pending(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The conditions on an invite that can still be opened at `now`: not used, not revoked, not expired."""
    return StaffInvite.used_by.is_(None), StaffInvite.revoked_at.is_(None), StaffInvite.expires_at > now


async def pending_invites(session: AsyncSession, owner_ids: Collection[int], now: datetime) -> list[PendingInvite]:
    """The invites that can still be opened, oldest first (those whose maker may no longer make them left out)."""
    statement = select(StaffInvite).where(*_pending(now)).order_by(StaffInvite.created_at, StaffInvite.id)
    invites = list(await session.scalars(statement.execution_options(populate_existing=True)))
    staff_rows = {row.telegram_id: row for row in await session.scalars(select(StaffMember))}
    found = []
    for invite in invites:
        row = staff_rows.get(invite.created_by)
        maker = _entry(row, owner_ids) if row else find_configured(invite.created_by, owner_ids)
        if maker is not None and may_invite(maker.role, Role(invite.role)):
            found.append(_pending_invite(invite, maker.name))
    return found


def _pending_invite(invite: StaffInvite, maker_name: str) -> PendingInvite:
    """A stored invite as the owner sees it in the pending list."""
    return PendingInvite(invite.id, Role(invite.role), invite.created_by, maker_name, invite.expires_at)


async def revoke_invite(
    session: AsyncSession, invite_id: int, stamp: Stamp, *, owner_ids: Collection[int]
) -> PendingInvite:
    """The owner `stamp.actor_id` withdraws a pending invite: its link stops working at once. InviteNotPending if it
    is not pending."""
    async with write_transaction(session):
        await _require_owner(session, stamp.actor_id, owner_ids)
        statement = select(StaffInvite).where(StaffInvite.id == invite_id, *_pending(stamp.at)).with_for_update()
        invite = await session.scalar(statement.execution_options(populate_existing=True))
        if invite is None:
            raise InviteNotPending(invite_id)
        await _revoke(session, invite, "revoked", stamp)
    return _pending_invite(invite, "")


async def _revoke_lost(session: AsyncSession, maker_id: int, role: Role | None, stamp: Stamp) -> None:
    """Revoke the maker's pending invites that `role` (None: off the staff) may no longer make, with audit entries."""
    statement = select(StaffInvite).where(StaffInvite.created_by == maker_id, *_pending(stamp.at)).with_for_update()
    for invite in await session.scalars(statement.execution_options(populate_existing=True)):
        if not may_invite(role, Role(invite.role)):
            reason = "maker_removed" if role is None else "maker_demoted"
            await _revoke(session, invite, reason, stamp)


async def _revoke(session: AsyncSession, invite: StaffInvite, reason: str, stamp: Stamp) -> None:
    """Mark one invite revoked by `stamp.actor_id`, and audit it with why (revoked, maker_removed, maker_demoted)."""
    invite.revoked_at, invite.revoked_by = stamp.at, stamp.actor_id
    await session.flush()
    await audit.record(
        session,
        actor_id=stamp.actor_id,
        action="staff.invite_revoke",
        now=stamp.at,
        update_id=stamp.update_id,
        invite_id=invite.id,
        role=invite.role,
        invited_by=invite.created_by,
        reason=reason,
    )


async def _hire(session: AsyncSession, invite: StaffInvite, name: str, stamp: Stamp) -> StaffEntry:
    """Add the account `stamp.actor_id` to the staff with the invite's role, and audit it."""
    telegram_id, now = stamp.actor_id, stamp.at
    shown = name.strip()[:NAME_LENGTH] or str(telegram_id)
    role = Role(invite.role)
    session.add(StaffMember(telegram_id=telegram_id, role=role, name=shown, added_by=invite.created_by, added_at=now))
    await session.flush()
    await audit.record(
        session,
        actor_id=telegram_id,
        action="staff.join",
        now=now,
        update_id=stamp.update_id,
        invite_id=invite.id,
        role=role,
        invited_by=invite.created_by,
    )
    return StaffEntry(telegram_id, role, shown)


async def list_staff(session: AsyncSession, owner_ids: Collection[int]) -> list[StaffEntry]:
    """Everyone on the staff, OWNER_IDS owners included: owners first, then managers, then cashiers."""
    rows = {row.telegram_id: row for row in await session.scalars(select(StaffMember))}
    entries = [_entry(row, owner_ids) for row in rows.values()]
    entries += [StaffEntry(owner, Role.OWNER, "", configured=True) for owner in owner_ids if owner not in rows]
    return sorted(entries, key=lambda entry: (-entry.role.rank, entry.name.casefold(), entry.telegram_id))


async def find_staff(session: AsyncSession, telegram_id: int, owner_ids: Collection[int]) -> StaffEntry | None:
    """One person on the staff, or None for anyone else."""
    row = await session.get(StaffMember, telegram_id)
    if row is not None:
        return _entry(row, owner_ids)
    return find_configured(telegram_id, owner_ids)


def find_configured(telegram_id: int, owner_ids: Collection[int]) -> StaffEntry | None:
    """An OWNER_IDS owner without a staff row (the bot never learnt their name), or None for anyone else."""
    return StaffEntry(telegram_id, Role.OWNER, "", configured=True) if telegram_id in owner_ids else None


def _entry(row: StaffMember, owner_ids: Collection[int]) -> StaffEntry:
    """A stored staff row as an entry (an OWNER_IDS account is an owner whatever its row says)."""
    if row.telegram_id in owner_ids:
        return StaffEntry(row.telegram_id, Role.OWNER, row.name, configured=True)
    return StaffEntry(row.telegram_id, Role(row.role), row.name)


async def change_role(
    session: AsyncSession, telegram_id: int, role: Role, stamp: Stamp, *, owner_ids: Collection[int]
) -> StaffEntry:
    """The owner `stamp.actor_id` gives a staff member another role; the last owner cannot step down."""
    async with write_transaction(session):
        row = await _changeable(session, stamp.actor_id, telegram_id, owner_ids)
        before = Role(row.role)
        if before is role:
            return StaffEntry(telegram_id, role, row.name)
        if before is Role.OWNER and role is not Role.OWNER:
            await _keep_an_owner(session, owner_ids)
        row.role = role
        await audit.record(
            session,
            actor_id=stamp.actor_id,
            action="staff.role",
            now=stamp.at,
            update_id=stamp.update_id,
            staff_id=telegram_id,
            before=before,
            after=role,
        )
        await _revoke_lost(session, telegram_id, role, stamp)
    return StaffEntry(telegram_id, role, row.name)


async def remove(session: AsyncSession, telegram_id: int, stamp: Stamp, *, owner_ids: Collection[int]) -> StaffEntry:
    """The owner `stamp.actor_id` removes someone from the staff (themselves too, unless they are the last owner)."""
    async with write_transaction(session):
        row = await _changeable(session, stamp.actor_id, telegram_id, owner_ids)
        removed = StaffEntry(telegram_id, Role(row.role), row.name)
        if removed.role is Role.OWNER:
            await _keep_an_owner(session, owner_ids)
        await session.delete(row)
        await audit.record(
            session,
            actor_id=stamp.actor_id,
            action="staff.remove",
            now=stamp.at,
            update_id=stamp.update_id,
            staff_id=telegram_id,
            role=removed.role,
            name=removed.name,
        )
        await _revoke_lost(session, telegram_id, None, stamp)
    return removed


async def _stored_owners(session: AsyncSession, owner_ids: Collection[int]) -> set[int]:
    """Owners in the staff table besides OWNER_IDS, locked for the transaction (FOR UPDATE on PostgreSQL).

    Locking them in one order makes two owners stepping down at once take turns, so one of them sees
    that the other has left and stays.
    """
    statement = (
        select(StaffMember.telegram_id)
        .where(StaffMember.role == Role.OWNER)
        .order_by(StaffMember.telegram_id)
        .with_for_update()
    )
    return {telegram_id for telegram_id in await session.scalars(statement) if telegram_id not in owner_ids}


async def _require_owner(session: AsyncSession, actor_id: int, owner_ids: Collection[int]) -> None:
    """Refuse unless the actor is an owner now (a role can change between the filter and the action)."""
    if actor_id not in owner_ids and actor_id not in await _stored_owners(session, owner_ids):
        raise NotOwner(actor_id)


async def _changeable(
    session: AsyncSession, actor_id: int, telegram_id: int, owner_ids: Collection[int]
) -> StaffMember:
    """The staff row an owner may change: neither an OWNER_IDS owner nor someone already gone."""
    await _require_owner(session, actor_id, owner_ids)
    if telegram_id in owner_ids:
        raise ConfiguredOwner(telegram_id)
    statement = select(StaffMember).where(StaffMember.telegram_id == telegram_id).with_for_update()
    row = await session.scalar(statement.execution_options(populate_existing=True))
    if row is None:
        raise NotStaff(telegram_id)
    return row


async def _keep_an_owner(session: AsyncSession, owner_ids: Collection[int]) -> None:
    """Refuse a change that takes away the only owner (an owner row about to change counts as one)."""
    if not owner_ids and len(await _stored_owners(session, owner_ids)) <= 1:
        raise LastOwner
