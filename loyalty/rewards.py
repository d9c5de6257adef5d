"""The rewards catalog: staff keep it, members see what they can afford and redeem points for vouchers.

Redeeming is one write transaction: the member is locked (so their per-member limit is counted once),
the points are spent from the ledger, one unit of stock is taken by a conditional UPDATE (so concurrent
redeems of the last item leave stock at zero, never below), and the voucher is issued with its audit
entry. Any refusal (inactive, out of stock, limit reached, too few points) rolls all of it back.
A redeem's idempotency key is the messenger update that asked: a re-delivered update answers the same voucher.

A quoted price holds: the member's Yes carries the fingerprint of the terms they were shown (`Terms`: name,
cost, worth, validity), and the redeem compares it with the reward's terms inside its transaction; if staff
changed them meanwhile, nothing is spent and RewardTermsChanged carries the new terms to ask again. Stock,
description, photo and limit are not terms: a change of them does not ask again.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audit, ledger
from loyalty.errors import InvalidReward, RewardTermsChanged, RewardUnavailable
from loyalty.stamps import Stamp
from loyalty.vouchers import Kind, VoucherInfo, Worth, info, issue
from storage import repositories
from storage.database import rowcount, write_transaction
from storage.models import Reward, Voucher

REWARD = "reward"
NAME_LENGTH = 64
DESCRIPTION_LENGTH = 1000
FILE_ID_LENGTH = 255
MAX_COST = 1_000_000
MAX_VALIDITY_DAYS = 3650


@dataclass(frozen=True)
class RewardDraft:
    """Everything staff set on a reward; `stock` None is unlimited, `per_member_limit` None is no limit."""

    name: str
    cost: int
    validity_days: int
    worth: Worth
    description: str = ""
    photo_file_id: str | None = None
    stock: int | None = None
    per_member_limit: int | None = None
    active: bool = True

    def checked(self) -> RewardDraft:
        """The draft with its texts trimmed, or InvalidReward naming the first field that is wrong."""
        name, description = " ".join(self.name.split()), self.description.strip()
        if not 0 < len(name) <= NAME_LENGTH:
            raise InvalidReward("name", "length")
        if len(description) > DESCRIPTION_LENGTH:
            raise InvalidReward("description", "length")
        if self.photo_file_id is not None and not 0 < len(self.photo_file_id) <= FILE_ID_LENGTH:
            raise InvalidReward("photo_file_id", "length")
        if not 0 < self.cost <= MAX_COST:
            raise InvalidReward("cost", "out_of_range")
        if not 0 < self.validity_days <= MAX_VALIDITY_DAYS:
            raise InvalidReward("validity_days", "out_of_range")
        if self.stock is not None and self.stock < 0:
            raise InvalidReward("stock", "out_of_range")
        if self.per_member_limit is not None and self.per_member_limit < 1:
            raise InvalidReward("per_member_limit", "out_of_range")
        self.worth.check()
        return dataclasses.replace(self, name=name, description=description)


def draft_of(reward: Reward) -> RewardDraft:
    """A stored reward as a draft, to change a field with `dataclasses.replace` and save with `update_reward`."""
    return RewardDraft(
        name=reward.name,
        cost=reward.cost,
        validity_days=reward.validity_days,
        worth=worth_of(reward),
        description=reward.description,
        photo_file_id=reward.photo_file_id,
        stock=reward.stock,
        per_member_limit=reward.per_member_limit,
        active=reward.active,
    )


def worth_of(reward: Reward) -> Worth:
    """What a voucher of this reward is worth."""
    return Worth(Kind(reward.kind), reward.value, reward.cap)


@dataclass(frozen=True)
class Terms:
    """What a member agrees to when they say Yes to a redeem: what they get, for how long, at what cost."""

    name: str
    cost: int
    worth: Worth
    validity_days: int

    @property
    def fingerprint(self) -> str:
        """A short digest of the terms (12 hex characters) for a confirmation button to carry."""
        worth = self.worth
        text = f"{self.name}\n{self.cost}\n{worth.kind}\n{worth.value}\n{worth.cap}\n{self.validity_days}"
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def terms_of(reward: Reward) -> Terms:
    """The terms a member is quoted for a reward now."""
    return Terms(reward.name, reward.cost, worth_of(reward), reward.validity_days)


def _apply(reward: Reward, draft: RewardDraft, now: datetime) -> None:
    """Copy a checked draft onto the stored reward."""
    reward.name, reward.description, reward.photo_file_id = draft.name, draft.description, draft.photo_file_id
    reward.kind, reward.value, reward.cap = draft.worth.kind, draft.worth.value, draft.worth.cap
    reward.cost, reward.validity_days, reward.active = draft.cost, draft.validity_days, draft.active
    reward.stock, reward.per_member_limit = draft.stock, draft.per_member_limit
    reward.updated_at = now


async def add_reward(session: AsyncSession, draft: RewardDraft, stamp: Stamp) -> Reward:
    """Staff `stamp.actor_id` put a new reward in the catalog, with an audit entry."""
    checked = draft.checked()
    async with write_transaction(session):
        reward = Reward(created_by=stamp.actor_id, created_at=stamp.at)
        _apply(reward, checked, stamp.at)
        session.add(reward)
        await session.flush()
        await _audit(session, "reward.add", reward, stamp)
    return reward


async def update_reward(session: AsyncSession, reward_id: int, draft: RewardDraft, stamp: Stamp) -> Reward:
    """Replace what staff (`stamp.actor_id`) set on a reward (stock is set, not added); vouchers already out keep
    their worth."""
    checked = draft.checked()
    async with write_transaction(session):
        reward = await session.get(Reward, reward_id, with_for_update=True, populate_existing=True)
        if reward is None:
            raise RewardUnavailable("unknown")
        _apply(reward, checked, stamp.at)
        await _audit(session, "reward.update", reward, stamp)
    return reward


async def _audit(session: AsyncSession, action: str, reward: Reward, stamp: Stamp) -> None:
    await audit.record(
        session,
        actor_id=stamp.actor_id,
        action=action,
        now=stamp.at,
        update_id=stamp.update_id,
        reward_id=reward.id,
        name=reward.name,
        cost=reward.cost,
        stock=reward.stock,
        active=reward.active,
    )


async def catalog(session: AsyncSession) -> list[Reward]:
    """Every reward, as staff manage them: active ones first, then by cost."""
    statement = select(Reward).order_by(Reward.active.desc(), Reward.cost, Reward.id)
    return list((await session.scalars(statement.execution_options(populate_existing=True))).all())


@dataclass(frozen=True)
class Offer:
    """A reward a member may redeem, and the points still missing for it (0: affordable now)."""

    reward: Reward
    missing: int


@dataclass(frozen=True)
class Offers:
    """What a member sees: their spendable points, what they can afford, then what they are close to."""

    points: int
    affordable: list[Offer]
    close: list[Offer]


async def offers(session: AsyncSession, member_id: int, now: datetime) -> Offers:
    """Active rewards in stock and within the member's limit: affordable by cost, then the rest by points missing."""
    points = sum(lot.remaining for lot in await repositories.open_lots(session, member_id, now))
    taken = await repositories.rewards_taken(session, member_id)
    open_to_member = [reward for reward in await catalog(session) if _refusal(reward, taken.get(reward.id, 0)) is None]
    everything = [Offer(reward, max(reward.cost - points, 0)) for reward in open_to_member]
    affordable = [offer for offer in everything if offer.missing == 0]
    close = sorted((offer for offer in everything if offer.missing > 0), key=lambda offer: offer.missing)
    return Offers(points, affordable, close)


def _refusal(reward: Reward | None, taken: int) -> str | None:
    """Why the reward cannot be redeemed by a member who holds `taken` of it, or None if it can."""
    if reward is None:
        return "unknown"
    if not reward.active:
        return "inactive"
    if reward.stock == 0:
        return "out_of_stock"
    if reward.per_member_limit is not None and taken >= reward.per_member_limit:
        return "limit_reached"
    return None


@dataclass(frozen=True)
class Redeemed:
    """The voucher a redeem produced, the member's balance after it, and whether the update was seen before."""

    voucher: VoucherInfo
    balance: int
    duplicate: bool


async def newest_entry(session: AsyncSession, member_id: int) -> int:
    """The id of the member's newest ledger entry (0 before the first): where their points stand now."""
    entries, _total = await repositories.history_page(session, member_id, 0, 1)
    return entries[0].id if entries else 0


def confirmation_key(member_id: int, reward_id: int, seen: int) -> str:
    """The redeem's idempotency key for a Yes asked when the member's newest ledger entry was `seen`.

    Every Yes to that one question gets the same key (a double tap in the chat: two updates; the same redeem asked
    from the chat and from the Mini App at the same ledger entry), so the domain answers the first voucher again;
    once the redeem has written its entry, a new question carries a new `seen`.
    """
    return f"redeem-confirm:{member_id}:{reward_id}:{seen}"


async def redeem(
    session: AsyncSession,
    reward_id: int,
    stamp: Stamp,
    *,
    member_id: int,
    key: str,
    quoted: str | None = None,
) -> Redeemed:
    """Spend the reward's cost for a voucher, by `stamp.actor_id` (in the chat, the member), in one transaction;
    the same key twice answers the first voucher.

    The idempotency key `key` is the caller's (e.g. one per confirmation button, so that two presses of it, two
    updates, redeem once), not the stamp's; its update id is only audited. `quoted` is the fingerprint of the terms
    the member said Yes to (`Terms.fingerprint`); a member's redeem always gives it. Raises RewardUnavailable
    (unknown, inactive, out_of_stock, limit_reached), RewardTermsChanged (the terms are no longer those quoted) or
    InsufficientPoints, having written nothing.
    """
    actor_id, now = stamp.actor_id, stamp.at
    async with write_transaction(session):
        member = await repositories.lock_member(session, member_id)
        seen = await repositories.entry_by_key(session, key)
        if seen is not None:
            voucher = await repositories.voucher_by_entry(session, seen.id)
            if voucher is not None and voucher.member_id == member_id:
                return Redeemed(info(voucher, now), member.balance, duplicate=True)
        reward = await session.get(Reward, reward_id, populate_existing=True)
        taken = (await repositories.rewards_taken(session, member_id)).get(reward_id, 0)
        refusal = _refusal(reward, taken)
        if refusal is not None or reward is None:
            raise RewardUnavailable(refusal or "unknown")
        if quoted is not None and terms_of(reward).fingerprint != quoted:
            raise RewardTermsChanged(terms_of(reward))
        await ledger.expire_member(session, member.id, now)
        entry = await ledger.post_debit(
            session,
            member,
            points=reward.cost,
            kind=ledger.Kind.SPEND,
            reason=REWARD,
            key=key,
            now=now,
            actor_id=actor_id,
        )
        await take_one(session, reward)
        voucher = await issue(
            session,
            member_id=member.id,
            title=reward.name,
            worth=worth_of(reward),
            expires_at=now + timedelta(days=reward.validity_days),
            now=now,
            points=reward.cost,
            entry_id=entry.id,
            reward_id=reward.id,
        )
        await audit.record(
            session,
            actor_id=actor_id,
            action="reward.redeem",
            now=now,
            member_id=member.id,
            update_id=stamp.update_id,
            reward_id=reward.id,
            voucher_id=voucher.id,
            points=reward.cost,
        )
    return Redeemed(info(voucher, now), member.balance, duplicate=False)


async def take_one(session: AsyncSession, reward: Reward) -> None:
    """Take one unit of a limited stock atomically; RewardUnavailable if another redeem took the last one."""
    if reward.stock is None:
        return
    taken = await session.execute(
        update(Reward)
        .where(Reward.id == reward.id, Reward.stock > 0)
        .values(stock=Reward.stock - 1)
        .execution_options(synchronize_session=False)
    )
    if rowcount(taken) != 1:
        raise RewardUnavailable("out_of_stock")
    await session.refresh(reward, ["stock"])


async def free_voucher(session: AsyncSession, member_id: int, reward_id: int, now: datetime) -> Voucher | None:
    """A voucher for a catalog reward without spending points (taking one unit of a limited stock), if available.

    A gift from the club (a referral, a birthday): the reward's per-member limit does not stop it (the voucher
    counts towards it later). None when the reward is paused, gone or out of stock; the caller's transaction
    goes on.
    """
    reward = await session.get(Reward, reward_id, populate_existing=True)
    if reward is None or not reward.active:
        return None
    try:
        await take_one(session, reward)
    except RewardUnavailable:  # the last one is gone: the UPDATE changed nothing
        return None
    return await issue(
        session,
        member_id=member_id,
        title=reward.name,
        worth=worth_of(reward),
        expires_at=now + timedelta(days=reward.validity_days),
        now=now,
        reward_id=reward.id,
    )
