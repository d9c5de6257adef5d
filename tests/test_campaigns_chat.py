"""/campaign through the real dispatcher: managers build a campaign, preview and test it, send it and steer it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import campaigns
from loyalty.audiences import Audience
from loyalty.campaigns import CampaignDraft, Message
from loyalty.staff import Role
from storage.models import Campaign, Member, OutboxMessage
from tests import updates
from tests.chat import Chat, Reply
from tests.factories import NOW
from tests.test_catalog_chat import manager_chat, texts, walk
from tests.test_counter import count, customer, hire, to
from tests.test_gifts_chat import members_of

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
MANAGER, CASHIER = 3, 7
SARA, REZA, NIMA, STOPPED = 42, 43, 44, 45
NEW = "cmp:new:0"
CONFIRM = "wiz:campaign:confirm::"
TEST = "wiz:campaign:test::"
CANCEL = "wiz:campaign:cancel::"


def choose(step: str, value: str) -> str:
    return f"wiz:campaign:choose:{step}:{value}"


async def new_campaign(manager: Chat) -> Chat:
    """/campaign, then New campaign: the wizard waits for the audience."""
    await manager.say("/campaign")
    await manager.press(NEW)
    return manager


async def to_occasions(manager: Chat) -> Reply:
    """A campaign to all members without a gift, up to the question which occasion."""
    await walk(await new_campaign(manager), choose("audience", "all"), "Happy {name}!", choose("gift", "none"))
    [occasions, _] = await manager.press(choose("when", "occasion"))
    return occasions


async def four_members(chat_with: MakeChat, sessions: Sessions) -> dict[int, Member]:
    """Sara (bronze), Reza and Nima (silver) take news; a fourth member sent /stop."""
    people = await members_of(
        chat_with,
        sessions,
        (SARA, "09121234567", "bronze", True),
        (REZA, "09121234568", "silver", True),
        (NIMA, "09121234569", "silver", True),
        (STOPPED, "09121234570", "bronze", True),
    )
    async with sessions() as session:
        await session.execute(update(Member).where(Member.telegram_id == STOPPED).values(stopped=True))
        await session.commit()
    return people


async def stored_campaigns(sessions: Sessions) -> list[Campaign]:
    async with sessions() as session:
        return list((await session.scalars(select(Campaign).order_by(Campaign.id))).all())


async def outbox_members(sessions: Sessions, campaign_id: int) -> list[int]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage.member_id).where(OutboxMessage.campaign_id == campaign_id).order_by("member_id")
        )
        return list(rows.all())


async def a_campaign(sessions: Sessions, start: bool = True) -> int:
    """A campaign to all members, started (or left a draft)."""
    async with sessions() as session:
        draft = CampaignDraft(name="Autumn", audience=Audience(), message=Message("Hello {name}"))
        created = await campaigns.create(session, draft, actor_id=MANAGER, now=NOW)
        if start:
            await campaigns.start(session, created.id, actor_id=MANAGER, now=NOW)
        return created.id


async def campaign_state(sessions: Sessions, campaign_id: int) -> str:
    async with sessions() as session:
        return (await campaigns.get(session, campaign_id)).state


async def test_a_manager_sends_a_campaign_to_all_members_after_a_preview_and_a_test(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    people = await four_members(chat_with, sessions)
    manager = await manager_chat(chat_with, sessions)
    [menu] = await manager.say("/campaign")
    assert "No campaign yet" in menu.text and menu.buttons() == ["➕ New campaign"]
    [audience, _] = await manager.press(NEW)
    assert "Who is this campaign for?" in audience.text
    assert audience.buttons()[:2] == ["👥 All members", "🏅 Members of a tier"]
    [ask_message, _] = await manager.press(choose("audience", "all"))
    assert "Audience: all members — 3 members" in ask_message.text and "{name}" in ask_message.text
    [gift] = await manager.say("Hello {name}, you have {points} points at {tier} level")
    assert "A gift with the message?" in gift.text
    [summary, _] = await walk(manager, choose("gift", "points"), "50", "30", choose("when", "now"))
    assert "Audience: all members — 3 members" in summary.text and "50 points lasting 30 days" in summary.text
    assert "Hello Mina, you have 0 points at Bronze level" in summary.text
    assert summary.buttons() == ["🧪 Send a test to me", "✅ Confirm and send", "✖️ Cancel"]
    test = await manager.press(TEST)
    [sent] = [reply for reply in to(test, MANAGER) if reply.name == "SendMessage"]
    assert sent.text == "Hello Mina, you have 0 points at Bronze level"
    assert not await stored_campaigns(sessions)
    replies = await manager.press(CONFIRM)
    [campaign] = await stored_campaigns(sessions)
    assert (campaign.state, campaign.recipients, campaign.created_by) == ("running", 3, MANAGER)
    assert await outbox_members(sessions, campaign.id) == sorted(people[who].id for who in (SARA, REZA, NIMA))
    [started] = [reply for reply in replies if reply.name == "EditMessageText"]
    assert "started: 3 recipients" in started.text
    [report] = [reply for reply in replies if reply.name == "SendMessage"]
    assert "Sent: 0 of 3" in report.text and report.buttons()[0] == "⏸ Pause"
    assert campaign.report_chat_id == MANAGER and campaign.report_message_id is not None
    [again] = await manager.press(CONFIRM)
    assert "no longer active" in again.text and await count(sessions, Campaign) == 1


async def test_a_tier_audience_shows_its_size_in_persian_digits(chat_with: MakeChat, sessions: Sessions) -> None:
    await four_members(chat_with, sessions)
    manager = await manager_chat(chat_with, sessions, language="fa")
    await new_campaign(manager)
    [tiers, _] = await manager.press(choose("audience", "tier"))
    assert len(tiers.buttons()) == 4  # three tiers and Cancel
    [ask_message, _] = await manager.press(choose("tier", "silver"))
    assert "۲ عضو" in ask_message.text


async def test_a_win_back_audience_takes_a_typed_number_of_days(chat_with: MakeChat, sessions: Sessions) -> None:
    await four_members(chat_with, sessions)
    manager = await manager_chat(chat_with, sessions)
    [ask_days, _] = await walk(await new_campaign(manager), choose("audience", "inactive"))
    assert "how many days" in ask_days.text
    [refused] = await manager.say("soon")
    assert "how many days" in refused.text
    [ask_message] = await manager.say("۳۰")
    assert "no purchase in the last 30 days — 0 members" in ask_message.text


async def test_a_birthday_audience_offers_the_months_of_the_staff_calendar(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    manager = await manager_chat(chat_with, sessions, language="fa")
    [months, _] = await walk(await new_campaign(manager), choose("audience", "birthday"))
    assert months.buttons()[0] == "فروردین" and len(months.buttons()) == 13
    [ask_message, _] = await manager.press(choose("month", "9"))
    assert "متولدین آذر" in ask_message.text


async def test_a_photo_campaign_sent_later_is_scheduled_at_the_jalali_time_typed(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await four_members(chat_with, sessions)
    manager = await manager_chat(chat_with, sessions)
    await walk(await new_campaign(manager), choose("audience", "all"))
    photo = [{"file_id": "autumn-photo", "file_unique_id": "a", "width": 800, "height": 600}]
    await manager.feed(updates.message_update(manager.user, photo=photo, caption="Autumn sale, {name}!"))
    await walk(manager, choose("gift", "none"), choose("when", "later"))
    [past] = await manager.say("1400-01-01 10:00")
    assert "That time has passed" in past.text
    [summary] = await manager.say("۱۴۰۵-۰۹-۱۰ ۱۸:۰۰")
    assert "With a photo\nAutumn sale, Mina!" in summary.text
    test = await manager.press(TEST)
    [sent] = [reply for reply in test if reply.name == "SendPhoto"]
    assert sent.method.photo == "autumn-photo" and sent.text == "Autumn sale, Mina!"
    await manager.press(CONFIRM)
    [campaign] = await stored_campaigns(sessions)
    assert campaign.state == "scheduled" and campaign.photo_file_id == "autumn-photo"
    assert campaign.send_at is not None and campaign.send_at.date().isoformat() == "2026-12-01"
    assert await outbox_members(sessions, campaign.id) == []


async def test_cancel_stores_nothing(chat_with: MakeChat, sessions: Sessions) -> None:
    await four_members(chat_with, sessions)
    manager = await manager_chat(chat_with, sessions)
    await walk(await new_campaign(manager), choose("audience", "all"), "Hello", choose("gift", "none"))
    await walk(manager, choose("when", "now"))
    [cancelled, _] = await manager.press(CANCEL)
    assert "nothing was saved" in cancelled.text
    assert await count(sessions, Campaign) == 0 and await count(sessions, OutboxMessage) == 0


async def test_pause_resume_and_cancel_buttons_change_the_campaigns_state(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await four_members(chat_with, sessions)
    campaign_id = await a_campaign(sessions)
    manager = await manager_chat(chat_with, sessions)
    [menu] = await manager.say("/campaign")
    assert "Autumn · sending · 0 of 3" in menu.text
    [view, _] = await manager.press(f"cmp:open:{campaign_id}")
    assert view.buttons() == ["⏸ Pause", "⛔️ Cancel the campaign", "🔄 Refresh", "⬅️ All campaigns"]
    [paused, toast] = await manager.press(f"cmp:pause:{campaign_id}")
    assert await campaign_state(sessions, campaign_id) == "paused" and toast.text == "Sending paused."
    assert paused.buttons()[0] == "▶️ Resume"
    [_, stale] = await manager.press(f"cmp:pause:{campaign_id}")
    assert "no longer active" in stale.text and await campaign_state(sessions, campaign_id) == "paused"
    await manager.press(f"cmp:resume:{campaign_id}")
    assert await campaign_state(sessions, campaign_id) == "running"
    [cancelled, _] = await manager.press(f"cmp:cancel:{campaign_id}")
    assert await campaign_state(sessions, campaign_id) == "cancelled"
    assert cancelled.buttons() == ["🔄 Refresh", "⬅️ All campaigns"]


async def test_customers_and_cashiers_get_the_unknown_command_answer(chat_with: MakeChat, sessions: Sessions) -> None:
    campaign_id = await a_campaign(sessions, start=False)
    await hire(sessions, CASHIER, Role.CASHIER)
    for user_id, phone in ((SARA, "09121234567"), (CASHIER, "09121112233")):
        chat, _ = await customer(chat_with, sessions, user_id, phone)
        assert texts(await chat.say("/campaign")) == texts(await chat.say("/foo"))
        for button in (NEW, f"cmp:cancel:{campaign_id}", CONFIRM, choose("audience", "all")):
            assert texts(await chat.press(button)) == texts(await chat.press("nothing"))
    assert await campaign_state(sessions, campaign_id) == "draft" and await count(sessions, Campaign) == 1


async def test_a_nowruz_campaign_is_scheduled_for_1_farvardin_at_the_send_hour_shop_time(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    manager = await manager_chat(chat_with, sessions, language="fa")
    occasions = await to_occasions(manager)
    assert "کدام مناسبت" in occasions.text
    assert occasions.buttons() == ["نوروز", "شب یلدا", "روز زن", "روز مادر", "روز پدر", "سالگرد فروشگاه", "✖️ انصراف"]
    [summary, _] = await manager.press(choose("occasion", "nowruz"))
    assert "زمان ارسال: به مناسبت نوروز، ۱ فروردین ۱۴۰۶، ۱۰:۰۰" in summary.text
    replies = await manager.press(CONFIRM)
    [campaign] = await stored_campaigns(sessions)
    assert campaign.state == "scheduled" and campaign.send_at == datetime(2027, 3, 21, 6, 30, tzinfo=UTC)
    [scheduled] = [reply for reply in replies if reply.name == "EditMessageText"]
    assert "۱ فروردین ۱۴۰۶، ۱۰:۰۰" in scheduled.text


async def test_a_yalda_campaign_is_scheduled_for_30_azar_this_year(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions)
    await walk(await new_campaign(manager), choose("audience", "all"), "Happy {name}!")
    [when, _] = await manager.press(choose("gift", "none"))
    assert when.buttons() == ["🚀 Now", "🕒 Later", "🎉 On an occasion", "✖️ Cancel"]
    await manager.press(choose("when", "occasion"))
    [summary, _] = await manager.press(choose("occasion", "yalda"))
    assert "Sending: Yalda night — 21 Dec 2026, 10:00" in summary.text
    await manager.press(CONFIRM)
    [campaign] = await stored_campaigns(sessions)
    assert campaign.state == "scheduled" and campaign.send_at == datetime(2026, 12, 21, 6, 30, tzinfo=UTC)


async def test_mothers_day_is_dated_by_the_owner_and_a_past_impossible_or_garbled_date_is_asked_again(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    manager = await manager_chat(chat_with, sessions, language="fa")
    await to_occasions(manager)
    [ask_day, _] = await manager.press(choose("occasion", "mothers_day"))
    assert "تاریخ روز مادر بر اساس تقویم قمری است" in ask_day.text and "۱۴۰۵-۰۹-۱۰" in ask_day.text
    [past] = await manager.say("1405-08-01")
    assert past.text.startswith("این روز گذشته است") and "تاریخ روز مادر" in past.text
    [impossible] = await manager.say("۱۴۰۵/۱۲/۳۰")  # 1405 is a common year: no 30 Esfand
    assert impossible.text.startswith("چنین روزی در تقویم وجود ندارد") and "تاریخ روز مادر" in impossible.text
    [garbled] = await manager.say("next week")
    assert garbled.text.startswith("این تاریخ را نفهمیدم") and "تاریخ روز مادر" in garbled.text
    assert not await stored_campaigns(sessions)
    [summary] = await manager.say("۱۴۰۵/۰۹/۰۹")
    assert "زمان ارسال: به مناسبت روز مادر، ۹ آذر ۱۴۰۵، ۱۰:۰۰" in summary.text
    test = await manager.press(TEST)
    assert [reply.text for reply in to(test, MANAGER) if reply.name == "SendMessage"] == ["Happy Mina!"]
    await manager.press(CONFIRM)
    [campaign] = await stored_campaigns(sessions)
    assert campaign.state == "scheduled" and campaign.send_at == datetime(2026, 11, 30, 6, 30, tzinfo=UTC)


async def test_a_lunar_occasion_may_be_typed_in_gregorian_with_a_time(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions)
    await to_occasions(manager)
    [ask_day, _] = await manager.press(choose("occasion", "fathers_day"))
    assert "Father's Day follows the lunar calendar" in ask_day.text
    [summary] = await manager.say("2026-12-23 18:30")
    assert "Sending: Father's Day — 23 Dec 2026, 18:30" in summary.text
    await manager.press(CONFIRM)
    [campaign] = await stored_campaigns(sessions)
    assert campaign.send_at == datetime(2026, 12, 23, 15, 0, tzinfo=UTC)


async def test_the_anniversary_is_scheduled_from_the_founding_date_in_its_calendar(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    manager = await manager_chat(chat_with, sessions)
    await to_occasions(manager)
    [ask_founded, _] = await manager.press(choose("occasion", "anniversary"))
    assert "When was the shop founded?" in ask_founded.text
    [future] = await manager.say("2030-01-01")
    assert future.text.startswith("The founding date cannot be in the future") and "founded?" in future.text
    [impossible] = await manager.say("2023-02-29")
    assert impossible.text.startswith("That day does not exist") and "founded?" in impossible.text
    [summary] = await manager.say("1375/06/31")  # 21 September 1996: its anniversary is 31 Shahrivar
    assert "Sending: The shop's anniversary — 22 Sep 2027, 10:00" in summary.text
    await manager.press(CONFIRM)
    [campaign] = await stored_campaigns(sessions)
    assert campaign.state == "scheduled" and campaign.send_at == datetime(2027, 9, 22, 6, 30, tzinfo=UTC)
