"""What handlers need to know about the shop, built once by the bot from its settings, and its currency unit."""

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import rules
from loyalty.rules import Rules


@dataclass(frozen=True)
class Club:
    """The shop's time zone, deep-link base (t.me or another messenger's), owners and default rules, whether a
    shared contact that names no account may prove a phone number (`handlers.filters.OwnContact`), and the Mini
    App's address (None: no Mini App)."""

    zone: ZoneInfo
    deep_link_url: str
    rules: Rules
    owner_ids: frozenset[int] = field(default_factory=frozenset)
    ownerless_contacts: bool = False
    webapp_url: str | None = None


async def currency(session: AsyncSession, club: Club) -> str:
    """The unit the shop's amounts are shown in, by the rules in force (`texts.money`)."""
    return (await rules.current(session, club.rules)).currency
