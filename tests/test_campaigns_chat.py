"""/campaign through the real dispatcher: managers build a campaign, preview and test it, send it and steer it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiogram.methods import EditMessageText
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcasts import progress_reporter
from bot.i18n import create_i18n
from loyalty import campaigns, voucher_use
from loyalty.audiences import Audience
from loyalty.campaigns import CampaignDraft, Message, MultiplierGift, Progress, Recipient, State, VoucherGift
from loyalty.purchases import active_multiplier
from loyalty.staff import Role
from loyalty.stamps import Stamp
from loyalty.vouchers import Kind
from storage.models import (
    AuditEntry,
    Campaign,
    Gift,
    Member,
    Multiplier,
    OutboxMessage,
    OutboxState,
    Referral,
    Voucher,
)
from tests import updates
from tests.chat import Chat, Reply, texts, to, walk
from tests.factories import NOW, add_members, add_purchases, member_row, purchase, referral
from tests.lookups import count, stored_campaigns
from tests.people import NEEDS_MANAGER, NIMA, REZA, SARA, customer, four_members, hire, manager_chat, owner_chat
from tests.stub_bot import stub_bot
from tests.wizards import CAMPAIGN, NEW_CAMPAIGN, confirm_failing_at, new_campaign
from texts.progress import bar, progress_text, time_left

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
MANAGER, CASHIER = 3, 7
NEW, CONFIRM, CANCEL, TEST = NEW_CAMPAIGN, CAMPAIGN.confirm, CAMPAIGN.cancel, CAMPAIGN.button("test")
choose = CAMPAIGN.choose


async def to_occasions(manager: Chat) -> Reply:
    """A campaign to all members without a gift, up to the question which occasion."""
    await walk(await new_campaign(manager), choose("audience", "all"), "Happy {name}!", choose("gift", "none"))
    [occasions, _] = await manager.press(choose("when", "occasion"))
    return occasions


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


async def started_at(sessions: Sessions, at: datetime, rows: int) -> int:
    """`rows` members inserted, and a campaign to all of them started at `at`."""
    async with sessions() as session:
        await add_members(session, [member_row(number) for number in range(1, rows + 1)])
        draft = CampaignDraft(name="Autumn", audience=Audience(), message=Message("Hello {name}"))
        created = await campaigns.create(session, draft, actor_id=MANAGER, now=at)
        return (await campaigns.start(session, created.id, actor_id=MANAGER, now=at)).id


async def mark(sessions: Sessions, campaign_id: int, state: OutboxState, members: range, at: datetime) -> None:
    """Set the rows of these members to `state` (sent at `at`), as the sender would."""
    async with sessions() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.campaign_id == campaign_id, OutboxMessage.member_id.in_(list(members)))
            .values(state=state, sent_at=at)
        )
        await campaigns.finish_drained(session, [campaign_id], at)
        await session.commit()


async def stored_gift(sessions: Sessions, campaign_id: int) -> campaigns.CampaignGift | None:
    async with sessions() as session:
        return (await campaigns.get(session, campaign_id)).gift


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
    assert summary.buttons() == ["🧪 Send a test to me", "✅ Confirm and send", "↩️ Back", "✖️ Cancel"]
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
    assert len(tiers.buttons()) == 5  # three tiers, Back and Cancel
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


async def test_the_digests_win_back_button_starts_a_campaign_to_the_members_away_for_60_days(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await four_members(chat_with, sessions)
    owner = owner_chat(chat_with)
    [ask_message, _] = await owner.press("digest:win_back")
    assert "no purchase in the last 60 days — 0 members" in ask_message.text
    assert CAMPAIGN.back("message") in ask_message.callback_data()
    [ask_days, _] = await owner.press(CAMPAIGN.back("message"))
    assert "how many days" in ask_days.text


async def test_a_birthday_audience_offers_the_months_of_the_staff_calendar(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    manager = await manager_chat(chat_with, sessions, language="fa")
    [months, _] = await walk(await new_campaign(manager), choose("audience", "birthday"))
    assert months.buttons()[0] == "فروردین" and len(months.buttons()) == 14
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


@pytest.mark.parametrize(
    ("language", "typed"),
    [
        ("fa", "۱۰ آذر ۱۴۰۵ ساعت ۶ عصر"),
        ("fa", "۱۰ آذر ۱۴۰۵، ۱۸:۰۰"),
        ("fa", "۱۴۰۵/۰۹/۱۰ ساعت ۱۸"),
        ("fa", "۱۴۰۵-۰۹-۱۰ ۶ بعدازظهر"),
        ("en", "1 December 2026 6 pm"),
        ("en", "Dec 1, 2026 at 18:00"),
    ],
)
async def test_a_campaign_is_scheduled_at_a_date_and_time_typed_as_people_say_them(
    chat_with: MakeChat, sessions: Sessions, language: str, typed: str
) -> None:
    manager = await manager_chat(chat_with, sessions, language=language)
    await walk(await new_campaign(manager), choose("audience", "all"), "Hello {name}")
    await walk(manager, choose("gift", "none"), choose("when", "later"))
    await manager.say(typed)
    await manager.press(CONFIRM)
    [campaign] = await stored_campaigns(sessions)
    assert campaign.send_at == datetime(2026, 12, 1, 14, 30, tzinfo=UTC)  # 18:00 in Tehran


@pytest.mark.parametrize(
    ("language", "example", "named"),
    [("fa", "۱۴۰۵-۰۹-۱۰ ۱۸:۰۰", "۱۰ آذر ۱۴۰۵ ساعت ۶ عصر"), ("en", "2026-12-01 18:00", "1 December 2026 6 pm")],
)
async def test_a_time_that_cannot_be_read_is_asked_again_with_examples(
    chat_with: MakeChat, sessions: Sessions, language: str, example: str, named: str
) -> None:
    manager = await manager_chat(chat_with, sessions, language=language)
    await walk(await new_campaign(manager), choose("audience", "all"), "Hello {name}")
    await walk(manager, choose("gift", "none"), choose("when", "later"))
    [again] = await manager.say("۱۰ آذر ۱۴۰۵ ساعت بیست")
    assert example in again.text and named in again.text
    assert not await stored_campaigns(sessions)


def fits(replies: list[Reply]) -> bool:
    """Every text the bot sent is within the messenger's limit for a message."""
    return all(len(reply.text) <= 4096 for reply in replies)


async def test_the_longest_text_the_wizard_accepts_can_be_previewed_and_confirmed(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await four_members(chat_with, sessions)
    manager = await manager_chat(chat_with, sessions, language="fa")
    longest = "Big autumn sale\n" + "x" * (4096 - len("Big autumn sale\n"))
    await walk(await new_campaign(manager), choose("audience", "tier"), choose("tier", "silver"))
    gift = await manager.say(longest)
    assert fits(gift) and "gift" not in gift[0].text.lower()
    await walk(manager, choose("gift", "voucher"), "Free coffee", choose("kind", "item"), "30")
    [summary] = await walk(manager, choose("when", "later"), "۱۴۰۵-۰۹-۱۰ ۱۸:۰۰")
    assert len(summary.text) <= 4096 and "x" * 3000 in summary.text and "کوتاه شده" in summary.text
    assert summary.buttons()[-3:] == ["✅ تأیید و ارسال", "➡️ بازگشت", "✖️ انصراف"]
    again = await manager.say("yes please")  # typed at the summary: the refusal above the summary, still fitting
    assert fits(again) and len(again) == 1
    test = await manager.press(TEST)
    [sent] = [reply for reply in test if reply.name == "SendMessage"]
    assert sent.text == longest  # the test message is the whole text
    replies = await manager.press(CONFIRM)
    assert fits(replies)
    [campaign] = await stored_campaigns(sessions)
    assert campaign.state == "scheduled" and campaign.text == longest


async def test_the_longest_photo_caption_can_be_previewed_and_confirmed(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await four_members(chat_with, sessions)
    manager = await manager_chat(chat_with, sessions)
    await walk(await new_campaign(manager), choose("audience", "all"))
    caption = "{name}, " + "y" * (1024 - len("{name}, "))
    photo = [{"file_id": "autumn-photo", "file_unique_id": "a", "width": 800, "height": 600}]
    await manager.feed(updates.message_update(manager.user, photo=photo, caption=caption))
    [summary, _] = await walk(manager, choose("gift", "points"), "50", "30", choose("when", "now"))
    assert len(summary.text) <= 4096 and "Mina, " + "y" * 1000 in summary.text
    replies = await manager.press(CONFIRM)
    assert fits(replies)
    [campaign] = await stored_campaigns(sessions)
    assert campaign.state == "running" and campaign.text == caption


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
    assert "Delivered: 0 of 3" in cancelled.text and "Not sent (cancelled): 3" in cancelled.text


async def test_customers_and_cashiers_get_the_unknown_command_answer(chat_with: MakeChat, sessions: Sessions) -> None:
    campaign_id = await a_campaign(sessions, start=False)
    await hire(sessions, CASHIER, Role.CASHIER)
    for user_id, phone in ((SARA, "09121234567"), (CASHIER, "09121112233")):
        chat, _ = await customer(chat_with, sessions, user_id, phone)
        unknown = texts(await chat.say("/foo"))
        expected = [NEEDS_MANAGER.format(command="/campaign")] if user_id == CASHIER else unknown
        assert texts(await chat.say("/campaign")) == expected
        for button in (NEW, f"cmp:cancel:{campaign_id}", CONFIRM, choose("audience", "all")):
            assert texts(await chat.press(button)) == texts(await chat.press("nothing"))
    assert await campaign_state(sessions, campaign_id) == "draft" and await count(sessions, Campaign) == 1


async def test_a_nowruz_campaign_is_scheduled_for_1_farvardin_at_the_send_hour_shop_time(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    manager = await manager_chat(chat_with, sessions, language="fa")
    occasions = await to_occasions(manager)
    assert "کدام مناسبت" in occasions.text
    assert occasions.buttons()[:6] == ["نوروز", "شب یلدا", "روز زن", "روز مادر", "روز پدر", "سالگرد فروشگاه"]
    assert occasions.buttons()[6:] == ["➡️ بازگشت", "✖️ انصراف"]
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
    assert when.buttons() == ["🚀 Now", "🕒 Later", "🎉 On an occasion", "↩️ Back", "✖️ Cancel"]
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
    assert "۱۴۰۵-۰۹-۱۰ یا ۱۰ آذر ۱۴۰۵" in garbled.text
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


# --- audiences ----------------------------------------------------------------------------------------------------


async def audience_people(chat_with: MakeChat, sessions: Sessions) -> dict[int, Member]:
    """Sara, a woman of 36 with 800 points, bought coffee and brought two friends; Reza, a man of 26 with 100 points,
    spent 6,000,000 on cake; Nima, 20 points, gave neither gender nor birthday and bought nothing."""
    people = await four_members(chat_with, sessions)
    sara, reza = people[SARA].id, people[REZA].id
    async with sessions() as session:
        for member_id, gender, born, balance in ((sara, "female", 1990, 800), (reza, "male", 2000, 100)):
            await session.execute(
                update(Member)
                .where(Member.id == member_id)
                .values(gender=gender, birthday=date(born, 1, 10), balance=balance)
            )
        await session.execute(update(Member).where(Member.id == people[NIMA].id).values(balance=20))
        await add_purchases(
            session, [purchase(1, sara, 3_000_000, 10, "coffee"), purchase(2, reza, 6_000_000, 100, "cake")]
        )
        await session.execute(insert(Referral), [referral(1, sara, "joined"), referral(2, sara, "rewarded")])
        await session.commit()
    return people


@pytest.mark.parametrize(
    ("button", "refused", "answer", "described", "filters", "who"),
    [
        ("gender", ["men"], choose("gender", "male"), "men", {"gender": "male"}, [REZA]),
        ("age", ["40-30", "old", "20-200"], "۳۰-۴۰", "members aged 30 to 40", {"age_min": 30, "age_max": 40}, [SARA]),
        (
            "spent",
            ["a lot", "-5", "0"],
            "5,000,000",
            "members who spent at least 5,000,000 toman in all",
            {"spent_at_least": 5_000_000},
            [REZA],
        ),
        ("bought", ["x" * 33], "  coffee ", "members who bought from “coffee”", {"bought_category": "coffee"}, [SARA]),
        (
            "never_bought",
            [],
            "coffee",
            "members who never bought from “coffee”",
            {"never_bought_category": "coffee"},
            [REZA, NIMA],
        ),
        ("referred", ["0", "many"], "۲", "members who referred at least 2 friends", {"referred_at_least": 2}, [SARA]),
        ("balance", ["lots", "0"], "100", "members with at least 100 points", {"points_min": 100}, [SARA, REZA]),
    ],
)
async def test_each_audience_button_stores_its_filter_and_reaches_the_members_it_counted(
    chat_with: MakeChat,
    sessions: Sessions,
    button: str,
    refused: list[str],
    answer: str,
    described: str,
    filters: dict[str, Any],
    who: list[int],
) -> None:
    people = await audience_people(chat_with, sessions)
    manager = await manager_chat(chat_with, sessions)
    [question, _] = await walk(await new_campaign(manager), choose("audience", button))
    for wrong in refused:  # a clear reply, then the same question again
        [again] = await manager.say(wrong)
        assert again.text.endswith(question.text) and len(again.text) > len(question.text) + 10
    ask_message = (await walk(manager, answer))[0]
    reached = f"{len(who)} member" if len(who) == 1 else f"{len(who)} members"  # the noun agrees: 1 member
    assert f"Audience: {described} — {reached}" in ask_message.text
    [summary, _] = await walk(manager, "Hello {name}", choose("gift", "none"), choose("when", "now"))
    assert f"Audience: {described} — {reached}" in summary.text
    await manager.press(CONFIRM)
    [campaign] = await stored_campaigns(sessions)
    assert Audience.from_json(campaign.audience) == Audience(**filters)
    assert campaign.recipients == len(who)
    assert await outbox_members(sessions, campaign.id) == sorted(people[person].id for person in who)


async def test_the_audience_buttons_are_all_offered(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions, language="fa")
    await manager.say("/campaign")
    [audience, _] = await manager.press(NEW)
    assert audience.buttons()[:2] == ["👥 همهٔ اعضا", "🏅 اعضای یک سطح"] and len(audience.buttons()) == 12
    [ages, _] = await manager.press(choose("audience", "age"))
    assert "۲۰-۳۵" in ages.text
    [refused] = await manager.say("۴۰ تا ۳۰")
    assert refused.text.startswith("این بازه را نفهمیدم") and refused.text.endswith(ages.text)
    [ask_message] = await manager.say("۲۰ تا ۳۰")
    assert "اعضای ۲۰ تا ۳۰ ساله — ۰ عضو" in ask_message.text


# --- gifts --------------------------------------------------------------------------------------------------------


async def test_a_voucher_gift_takes_a_title_the_catalogs_worth_steps_and_valid_days(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await four_members(chat_with, sessions)
    manager = await manager_chat(chat_with, sessions)
    await walk(await new_campaign(manager), choose("audience", "all"), "Your gift, {name}: {voucher}")
    [title, _] = await manager.press(choose("gift", "voucher"))
    assert "What is the voucher called?" in title.text
    [too_long] = await manager.say("x" * 65)
    assert too_long.text.startswith("The name must be 1 to 64") and too_long.text.endswith(title.text)
    [kind] = await manager.say("  Autumn   coffee ")
    assert "What does the voucher give?" in kind.text
    [percent, _] = await manager.press(choose("kind", "percent"))
    [over] = await manager.say("120")
    assert over.text.startswith("Please send a number from 1 to 100") and over.text.endswith(percent.text)
    [validity] = await walk(manager, "۲۰٪", "۵۰٬۰۰۰")
    assert "For how many days from sending is the voucher valid?" in validity.text
    [none] = await manager.say("0")
    assert none.text.startswith("Please send a number from 1 to") and none.text.endswith(validity.text)
    [summary, _] = await walk(manager, "۱۴", choose("when", "now"))
    assert "Gift: a voucher “Autumn coffee”: 20% off, up to 50,000 toman, valid 14 days" in summary.text
    assert "{voucher}" not in summary.text.split("\n\n")[0]  # the message shows the code: no hint
    await manager.press(CONFIRM)
    [campaign] = await stored_campaigns(sessions)
    expected = VoucherGift(title="Autumn coffee", worth=Kind.PERCENT, value=20, cap=50_000, validity_days=14)
    assert await stored_gift(sessions, campaign.id) == expected
    async with sessions() as session:
        gift = await session.get(Gift, campaign.gift_id)
        assert gift is not None and (gift.title, gift.value, gift.cap) == ("Autumn coffee", 20, 50_000)
        assert gift.expires_at == NOW + timedelta(days=14)


async def test_a_multiplier_gift_runs_for_the_days_typed_from_the_moment_it_is_sent(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await four_members(chat_with, sessions)
    manager = await manager_chat(chat_with, sessions)
    await walk(await new_campaign(manager), choose("audience", "all"), "Double points all week!")
    [percent, _] = await manager.press(choose("gift", "multiplier"))
    assert "200 is double" in percent.text
    for wrong in ("100", "1001", "double"):
        [again] = await manager.say(wrong)
        assert again.text.startswith("Please send a") and again.text.endswith(percent.text)
    [days] = await manager.say("۲۰۰٪")
    assert "For how many days from sending?" in days.text
    [expiry] = await manager.say("7")
    assert "extra points last" in expiry.text
    [summary, _] = await walk(manager, "30", choose("when", "now"))
    assert "Gift: 200% points on purchases for 7 days from sending; the extra points last 30 days" in summary.text
    await manager.press(CONFIRM)
    [campaign] = await stored_campaigns(sessions)
    expected = MultiplierGift(percent=200, starts_at=NOW, ends_at=NOW + timedelta(days=7), bonus_expiry_days=30)
    assert await stored_gift(sessions, campaign.id) == expected
    async with sessions() as session:
        running = await active_multiplier(session, NOW + timedelta(days=6))
        assert running is not None and running.id == campaign.multiplier_id
        assert (running.percent, running.bonus_expiry_days) == (200, 30)
        assert await active_multiplier(session, NOW + timedelta(days=7)) is None


async def test_a_scheduled_multiplier_starts_when_the_campaign_is_sent(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions)
    await walk(await new_campaign(manager), choose("audience", "all"), "Double points!", choose("gift", "multiplier"))
    await walk(manager, "150", "3", "30", choose("when", "later"))
    [summary] = await manager.say("۱۴۰۵-۰۹-۱۰ ۱۸:۰۰")
    assert "150% points on purchases for 3 days from sending" in summary.text
    await manager.press(CONFIRM)
    [campaign] = await stored_campaigns(sessions)
    gift = await stored_gift(sessions, campaign.id)
    assert campaign.send_at is not None and isinstance(gift, MultiplierGift)
    assert (gift.starts_at, gift.ends_at) == (campaign.send_at, campaign.send_at + timedelta(days=3))
    assert campaign.state == "scheduled" and await count(sessions, Multiplier) == 0


async def test_a_manager_sees_the_running_extra_points_and_ends_them_from_the_campaign(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await four_members(chat_with, sessions)
    manager = await manager_chat(chat_with, sessions)
    await walk(await new_campaign(manager), choose("audience", "all"), "Double points all week!")
    await walk(manager, choose("gift", "multiplier"), "200", "7", "30", choose("when", "now"))
    await manager.press(CONFIRM)
    [campaign] = await stored_campaigns(sessions)
    [menu] = await manager.say("/campaign")
    assert "Extra points running:" in menu.text and "200% until" in menu.text
    [view, _] = await manager.press(f"cmp:open:{campaign.id}")
    assert "⚡️ Extra points: 200% on purchases until" in view.text
    assert "⚡️ End extra points" in view.buttons()
    [ended, toast] = await manager.press(f"cmp:end_extra:{campaign.id}")
    assert toast.text.startswith("Extra points ended") and "End extra points" not in ended.buttons()
    assert "Extra points (200%) ended" in ended.text and "⏸ Pause" in ended.buttons()  # the messages go on
    async with sessions() as session:
        assert await active_multiplier(session, NOW) is None
        actions = (await session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == MANAGER))).all()
    assert "campaign.end_extra_points" in actions
    [_, stale] = await manager.press(f"cmp:end_extra:{campaign.id}")
    assert "no longer active" in stale.text
    [menu] = await manager.say("/campaign")
    assert "Extra points running:" not in menu.text


async def test_a_campaign_whose_start_failed_is_finished_from_its_view_once(
    chat_with: MakeChat, sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, [alert] = await confirm_failing_at(chat_with, sessions, monkeypatch, "_fill_outbox")
    assert alert.text.startswith("The campaign was not finished") and alert.method.show_alert
    [campaign] = await stored_campaigns(sessions)
    assert campaign.state == "draft" and await outbox_members(sessions, campaign.id) == []
    [menu] = await manager.say("/campaign")
    assert "Hello {name} · not finished" in menu.text
    [view, _] = await manager.press(f"cmp:open:{campaign.id}")
    assert view.buttons()[:2] == ["▶️ Finish: start sending", "⛔️ Cancel the campaign"]
    [started, toast] = await manager.press(f"cmp:finish:{campaign.id}")
    assert toast.text == "Campaign started." and "Sent: 0 of 3" in started.text
    [campaign] = await stored_campaigns(sessions)
    assert campaign.state == "running" and len(await outbox_members(sessions, campaign.id)) == 3
    assert (campaign.report_chat_id, campaign.report_message_id) == (MANAGER, 1)  # the view shows its progress
    [stale] = await manager.press(CONFIRM)  # the wizard was left for /campaign: the old button says where to look
    assert "marked “not finished”" in stale.text
    assert await count(sessions, Campaign) == 1 and len(await outbox_members(sessions, campaign.id)) == 3


async def test_confirm_pressed_again_after_a_failure_finishes_the_same_campaign(
    chat_with: MakeChat, sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # started, but its progress message not registered
    manager, _ = await confirm_failing_at(chat_with, sessions, monkeypatch, "set_report")
    [campaign] = await stored_campaigns(sessions)
    assert campaign.state == "running" and campaign.report_message_id is None
    replies = await manager.press(CONFIRM)  # the summary's button works again
    assert "started: 3 recipients" in replies[0].text
    [campaign] = await stored_campaigns(sessions)
    assert campaign.report_message_id is not None and len(await outbox_members(sessions, campaign.id)) == 3
    assert sum(reply.name == "SendMessage" for reply in replies) == 1  # one progress message


async def test_a_campaign_whose_start_failed_is_cancelled_leaving_nothing_to_send(
    chat_with: MakeChat, sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, _ = await confirm_failing_at(chat_with, sessions, monkeypatch, "_fill_outbox")
    [campaign] = await stored_campaigns(sessions)
    [cancelled, _] = await manager.press(f"cmp:cancel:{campaign.id}")
    assert cancelled.buttons() == ["🔄 Refresh", "⬅️ All campaigns"]
    assert await campaign_state(sessions, campaign.id) == "cancelled"
    assert await outbox_members(sessions, campaign.id) == []
    [shown, _] = await manager.press(CONFIRM)  # the restored summary: confirming a cancelled campaign starts nothing
    assert "State: cancelled" in shown.text
    assert await campaign_state(sessions, campaign.id) == "cancelled" and await count(sessions, Campaign) == 1


# --- progress and the final report --------------------------------------------------------------------------------


async def test_a_running_campaign_shows_a_bar_sent_of_all_the_rate_and_time_left_in_persian(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    campaign_id = await started_at(sessions, NOW - timedelta(minutes=5), 100)
    await mark(sessions, campaign_id, OutboxState.SENT, range(1, 31), NOW - timedelta(seconds=30))  # 0.5 a second
    await mark(sessions, campaign_id, OutboxState.BLOCKED, range(31, 41), NOW - timedelta(seconds=30))
    await mark(sessions, campaign_id, OutboxState.FAILED, range(41, 46), NOW - timedelta(seconds=30))
    manager = await manager_chat(chat_with, sessions, language="fa")
    [view, _] = await manager.press(f"cmp:open:{campaign_id}")
    assert "وضعیت: در حال ارسال" in view.text
    assert "▰▰▰▰▱▱▱▱▱▱ ۴۵٪" in view.text  # 45 of 100 handled
    assert "ارسال‌شده: ۳۰ از ۱۰۰" in view.text and "سرعت: ۰٫۵ پیام در ثانیه" in view.text
    assert "زمان باقی‌مانده: ۱ دقیقه و ۵۰ ثانیه" in view.text  # 55 left at 0.5 a second
    assert "بن" not in view.text  # no voucher gift, no redemptions


async def test_a_done_campaign_reports_delivered_blocked_and_failed(chat_with: MakeChat, sessions: Sessions) -> None:
    campaign_id = await started_at(sessions, NOW - timedelta(minutes=5), 10)
    await mark(sessions, campaign_id, OutboxState.SENT, range(1, 8), NOW - timedelta(minutes=2))
    await mark(sessions, campaign_id, OutboxState.BLOCKED, range(8, 10), NOW - timedelta(minutes=2))
    await mark(sessions, campaign_id, OutboxState.FAILED, range(10, 11), NOW - timedelta(minutes=1))
    assert await campaign_state(sessions, campaign_id) == "done"
    manager = await manager_chat(chat_with, sessions)
    [view, _] = await manager.press(f"cmp:open:{campaign_id}")
    assert "State: done\n✅ Delivered: 7 of 10\n🚫 Blocked the bot or account gone: 2\n⚠️ Failed: 1" in view.text
    assert "▰" not in view.text and "Time left" not in view.text and "Not sent" not in view.text


async def test_gift_redemptions_are_counted_in_the_campaigns_view(chat_with: MakeChat, sessions: Sessions) -> None:
    await four_members(chat_with, sessions)
    manager = await manager_chat(chat_with, sessions)
    await walk(await new_campaign(manager), choose("audience", "all"), "Hello {name}", choose("gift", "voucher"))
    await walk(manager, "Free tea", choose("kind", "item"))
    [summary, _] = await walk(manager, "10", choose("when", "now"))
    assert "Gift: a voucher “Free tea”: a free item, valid 10 days" in summary.text
    assert "put {voucher} in the message" in summary.text  # the message does not show the code
    await manager.press(CONFIRM)
    [campaign] = await stored_campaigns(sessions)
    async with sessions() as session:  # the sender gives each member their voucher as it sends the message
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.campaign_id == campaign.id))).all()
        await campaigns.messages_for(session, [Recipient(row.id, campaign.id, row.member_id or 0) for row in rows], NOW)
    [before, _] = await manager.press(f"cmp:open:{campaign.id}")
    assert "Gift vouchers used so far: 0 of 3" in before.text
    async with sessions() as session:
        voucher = await session.scalar(select(Voucher).where(Voucher.gift_id == campaign.gift_id).limit(1))
        assert voucher is not None
        await voucher_use.use(session, voucher.id, Stamp(MANAGER, "k", NOW))
    [after, _] = await manager.press(f"cmp:open:{campaign.id}")
    assert "Gift vouchers used so far: 1 of 3" in after.text


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(None, "unknown"), (0, "0 s"), (59.2, "1 min 0 s"), (110, "1 min 50 s"), (3725, "about 1 h 2 min")],
)
def test_time_left_is_told_in_hours_minutes_or_seconds(seconds: float | None, words: str) -> None:
    i18n = create_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        assert time_left(seconds) == words


def test_the_bar_fills_in_tenths_and_a_paused_campaign_has_no_time_left() -> None:
    assert (bar(0, 0), bar(9, 100), bar(10, 100), bar(100, 100)) == ("▱" * 10, "▱" * 10, "▰" + "▱" * 9, "▰" * 10)
    paused = Progress(1, State.PAUSED, 4, {"sent": 1, "pending": 3}, rate=0.5, seconds_left=6.0)
    i18n = create_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        text = progress_text("Autumn", paused)
    assert (
        text
        == "📣 Autumn\nState: paused\n▰▰▱▱▱▱▱▱▱▱ 25%\nSent: 1 of 4\nRate: 0.5 messages a second\nTime left: unknown"
    )


async def test_the_progress_message_is_edited_in_place_keeping_its_buttons(sessions: Sessions) -> None:
    async with sessions() as session:
        await add_members(session, [member_row(1), member_row(2)])
    campaign_id = await a_campaign(sessions)
    bot, recording = stub_bot()
    async with sessions() as session:
        await campaigns.set_report(session, campaign_id, 900, 55)
        progress = await campaigns.progress(session, campaign_id, NOW)
    await progress_reporter(bot, create_i18n("en"), sessions)(progress)
    [edit] = [request for request in recording.requests if isinstance(request, EditMessageText)]
    assert (edit.chat_id, edit.message_id) == (900, 55) and "Autumn" in edit.text
    assert edit.reply_markup is not None
    labels = [button.text for row in edit.reply_markup.inline_keyboard for button in row]
    assert labels == ["⏸ Pause", "⛔️ Cancel the campaign", "🔄 Refresh", "⬅️ All campaigns"]
