"""The Campaigns report through the real dispatcher: each campaign started in the period with what it brought, and
a polite line with the same buttons when none was. The bot's clock says 22 Nov 2026, 12:30 in Tehran."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Campaign, Gift, OutboxMessage, Voucher
from tests.chat import Chat
from tests.factories import NOW, add_members, add_purchases, campaign_row, member_row, outbox_row, purchase
from tests.people import OWNER

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
STARTED = NOW - timedelta(days=2)


async def a_campaign_with_a_voucher_gift(sessions: Sessions) -> None:
    """Two days ago "Autumn sale" reached members 1 and 2 and was blocked by 3; member 1 used its voucher and
    bought 250,000 the next day, member 3 bought too but was never reached."""
    async with sessions() as session:
        await add_members(session, [member_row(number) for number in (1, 2, 3)])
        gift = {"id": 1, "idempotency_key": "g1", "title": "10% off", "kind": "percent", "value": 10}
        gift |= {"expires_at": NOW + timedelta(days=30), "audience": "campaign", "created_at": STARTED}
        await session.execute(insert(Gift), [gift])
        await session.execute(insert(Campaign), [campaign_row(1, "Autumn sale", STARTED, gift_id=1, recipients=3)])
        rows = [outbox_row(1, 1, "sent"), outbox_row(1, 2, "sent"), outbox_row(1, 3, "blocked")]
        await session.execute(insert(OutboxMessage), rows)
        voucher = {"code": "V1", "member_id": 1, "gift_id": 1, "title": "10% off", "kind": "percent", "value": 10}
        voucher |= {"status": "used", "issued_at": STARTED, "expires_at": NOW + timedelta(days=30)}
        await session.execute(insert(Voucher), [voucher])
        await add_purchases(session, [purchase(1, 1, 250_000, 1), purchase(2, 3, 900_000, 1)])
        await session.commit()


async def test_an_owner_sees_each_campaign_of_the_period_with_what_it_brought(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await a_campaign_with_a_voucher_gift(sessions)
    [report] = [
        reply for reply in await chat_with(OWNER, language_code="en").press("rpt:campaigns:last7") if reply.text
    ]
    assert report.text.startswith(
        "📣 Campaigns — Last 7 days (16 Nov 2026 – 22 Nov 2026)\n"
        "• Autumn sale — 20 Nov 2026\n"
        "Reached 2 · blocked the bot 1 · failed 0\n"
        "Gift vouchers used: 1\n"
        "Purchases after it: 1 purchase · 250,000 toman\n"
        "Purchases: those of the members the message reached, in the 7 days after the start"
    )
    assert report.buttons()[0] == "💰 Sales report" and "📣 Campaigns report" not in report.buttons()
    [persian] = [
        reply for reply in await chat_with(OWNER, language_code="fa").press("rpt:campaigns:last7") if reply.text
    ]
    assert "خریدهای پس از آن: ۱ خرید · ۲۵۰٬۰۰۰ تومان" in persian.text


async def test_a_period_without_campaigns_says_so_politely_with_the_same_buttons(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await a_campaign_with_a_voucher_gift(sessions)
    [report] = [
        reply for reply in await chat_with(OWNER, language_code="en").press("rpt:campaigns:today") if reply.text
    ]
    assert report.text == "📣 Campaigns — Today (22 Nov 2026)\nNo campaign was started in this period."
    assert report.buttons()[-1] == "📅 Another period" and len(report.buttons()) == 6
