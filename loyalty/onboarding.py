"""The owner's first steps in a new club, and which of them are done, read in one query.

The steps, in the order the checklist shows them: the shop's profile (done once the shop profile is stored under
`SHOP_KEY` in `ClubSetting`), the earning rules (done once one of `EARNING` differs from the defaults of the
settings), a first reward in the catalog, a cashier or manager on the staff, and the owner's own membership of the club.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.rules import STORED, Rules, in_force
from loyalty.shop import SHOP_KEY
from loyalty.staff import Role
from storage.models import ClubSetting, Member, Reward, StaffMember

EARNING = ("amount_per_point", "min_purchase", "expiry_days", "welcome_bonus", "tier_window_days", "tiers", "currency")
"""The rules of the checklist's step "earning rules": how points are earned, kept and counted (not the digest)."""


def earning(club_rules: Rules) -> dict[str, object]:
    """The earning rules of `club_rules`."""
    return club_rules.model_dump(include=set(EARNING))


class Step(StrEnum):
    """One step of the owner's checklist."""

    PROFILE = "profile"
    RULES = "rules"
    REWARD = "reward"
    CASHIER = "cashier"
    JOIN = "join"


@dataclass(frozen=True)
class Checklist:
    """Which steps are done; `done` lists them, in the checklist's order."""

    done: frozenset[Step]

    @property
    def finished(self) -> bool:
        """True once every step is done."""
        return self.done == frozenset(Step)


async def checklist(session: AsyncSession, telegram_id: int, defaults: Rules) -> Checklist:
    """The steps the owner `telegram_id` has done, as the club stands now (one query)."""
    statement = select(
        exists().where(ClubSetting.key == SHOP_KEY),
        STORED,
        select(Reward.id).exists(),
        exists().where(StaffMember.role.in_([Role.CASHIER.value, Role.MANAGER.value])),
        exists().where(Member.telegram_id == telegram_id),
    )
    profile, stored, reward, cashier, joined = (await session.execute(statement)).one()
    rules_changed = stored is not None and earning(in_force(defaults, stored)) != earning(defaults)
    flags = {
        Step.PROFILE: profile,
        Step.RULES: rules_changed,
        Step.REWARD: reward,
        Step.CASHIER: cashier,
        Step.JOIN: joined,
    }
    return Checklist(frozenset(step for step, done in flags.items() if done))
