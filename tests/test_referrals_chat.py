"""Referrals in chat, through the real dispatcher: /invite, a friend opening the link and joining, both told."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import SendPhoto
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_dispatcher
from bot.settings import Settings
from handlers.messages import qr_png
from loyalty import rules
from loyalty.referrals import payload_for
from loyalty.staff import Role
from storage.database import write_transaction
from storage.models import Member, Referral
from tests.chat import Chat, Delivered, Reply, drain, to
from tests.factories import NOW, RULES, new_reward, phone_of
from tests.lookups import audit_log, member_of
from tests.people import CASHIER, hire
from tests.stub_bot import RecordingSession

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
ALI, BAHAR, CYRUS = 42, 43, 44  # the referrer, the friend, a member already
MANAGER = 9


async def member_chat(
    chat_with: MakeChat, sessions: Sessions, user_id: int, name: str, language: str = "en"
) -> tuple[Chat, Member]:
    """A user who has joined the club, and their member row."""
    chat = chat_with(user_id, first_name=name, language_code=language)
    await chat.join(phone=phone_of(user_id))
    return chat, await member_of(sessions, user_id)


async def invite_payload(chat: Chat) -> str:
    """The /start payload of the member's invite link, as /invite shows it."""
    [invite] = await chat.say("/invite")
    link = next(word for word in invite.text.split() if word.startswith("https://"))
    return parse_qs(urlsplit(link).query)["start"][0]


async def friend_joins(chat_with: MakeChat, sessions: Sessions, payload: str) -> tuple[list[Reply], Member]:
    """Bahar opens the link and joins; what the bot sent when she finished (her welcome, then what the outbox told),
    and her member row."""
    bahar = chat_with(BAHAR, first_name="Bahar", language_code="en")
    await bahar.say(f"/start {payload}")
    replies = await bahar.join(phone=phone_of(BAHAR))
    _, told = await drain(sessions, (bahar.bot, bahar.session))
    return replies + told, await member_of(sessions, BAHAR)


async def friend_buys(chat_with: MakeChat, sessions: Sessions, friend: Member) -> list[Reply]:
    """A cashier records a purchase of 100,000 (10 points) for the friend: the cashier's answer, then what the
    outbox told."""
    await hire(sessions, CASHIER, Role.CASHIER)
    cashier = chat_with(CASHIER, first_name="Reza", language_code="en")
    replies = await cashier.say(f"/earn {friend.code} 100000")
    _, told = await drain(sessions, (cashier.bot, cashier.session))
    return replies + told


async def referrals_in(sessions: Sessions) -> list[Referral]:
    async with sessions() as session:
        return list(await session.scalars(select(Referral)))


async def balance_of(sessions: Sessions, telegram_id: int) -> int:
    return (await member_of(sessions, telegram_id)).balance


async def refusal_reasons(sessions: Sessions) -> list[object]:
    return [details["reason"] for action, _, details in await audit_log(sessions) if action == "referral.refused"]


# --- /invite ---------------------------------------------------------------------------------------------------


async def test_invite_shows_the_personal_link_its_qr_a_share_button_and_no_results_yet(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    ali, member = await member_chat(chat_with, sessions, ALI, "Ali")
    [invite] = await ali.say("/invite")

    link = f"https://t.me/loyalty_test_bot?start=ref_{member.code}"
    assert isinstance(invite.method, SendPhoto) and invite.method.photo.data == qr_png(link)
    assert link in invite.text
    assert "Friends who joined: 0" in invite.text and "Friends who bought: 0" in invite.text
    assert "Points you earned: 0" in invite.text
    [[share_button]] = invite.markup.inline_keyboard
    share = urlsplit(share_button.url)
    assert (share.scheme, share.netloc, share.path) == ("https", "t.me", "/share/url")
    shared = parse_qs(share.query)
    assert shared["url"] == [link] and "customer club" in shared["text"][0]
    [from_menu] = await ali.say("🎁 Invite friends")
    assert link in from_menu.text


async def test_on_another_messenger_the_invite_links_there_and_has_no_share_button(
    settings: Settings, sessions: Sessions, stubbed: tuple[Bot, RecordingSession]
) -> None:
    on_bale = settings.model_copy(update={"deep_link_url": "https://ble.ir"})
    bale = create_dispatcher(on_bale, sessions, clock=lambda: NOW)
    ali = Chat(bale, *stubbed, ALI, first_name="Ali", language_code="fa")
    await ali.join(phone=phone_of(ALI))
    [invite] = await ali.say("/invite")
    member = await member_of(sessions, ALI)
    assert f"https://ble.ir/loyalty_test_bot?start=ref_{member.code}" in invite.text
    assert "دوستانی که عضو شدند: ۰" in invite.text
    assert invite.markup is None


# --- a friend opens the link and joins ---------------------------------------------------------------------------


async def test_a_friend_who_wanders_and_comes_back_hours_later_is_attributed_and_the_referrer_hears_no_phone(
    chat_with: MakeChat,
    sessions: Sessions,
    settings: Settings,
    stubbed: tuple[Bot, RecordingSession],
    delivered: Delivered,
) -> None:
    ali, referrer = await member_chat(chat_with, sessions, ALI, "Ali")
    payload = await invite_payload(ali)
    bahar = chat_with(BAHAR, first_name="Bahar", language_code="en")
    [welcome] = await bahar.say(f"/start {payload}")
    assert "Welcome to the customer club of our shop" in welcome.text and welcome.requests_contact()
    [help_text] = await bahar.say("/help")
    assert "Send /start to join" in help_text.text

    # five hours later the bot has restarted: the chat's state is gone, the opened link is not
    later: Dispatcher = create_dispatcher(settings, sessions, clock=lambda: NOW + timedelta(hours=5))
    replies = await Chat(later, *stubbed, BAHAR, first_name="Bahar", language_code="en").join(phone=phone_of(BAHAR))

    [notice] = to(await delivered(NOW + timedelta(hours=5)), ALI)
    assert "Your friend Bahar joined the club with your invite link" in notice.text
    assert phone_of(BAHAR)[-7:] not in notice.text and "+98" not in notice.text
    [done] = to(replies, BAHAR)
    assert "Welcome to the club, Bahar" in done.text and "invitation" not in done.text  # paid on the first purchase
    [referral] = await referrals_in(sessions)
    friend = await member_of(sessions, BAHAR)
    assert (referral.status, referral.referrer_id, referral.friend_member_id) == ("joined", referrer.id, friend.id)


async def test_the_friends_first_purchase_rewards_both_and_each_is_told_in_their_own_language(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    ali, _ = await member_chat(chat_with, sessions, ALI, "علی", language="fa")
    _, friend = await friend_joins(chat_with, sessions, await invite_payload(ali))

    replies = await friend_buys(chat_with, sessions, friend)

    [to_bahar] = to(replies, BAHAR)
    assert "You earned 10 points" in to_bahar.text
    assert "+50 points for coming with a friend's invitation" in to_bahar.text
    [to_ali] = to(replies, ALI)
    assert "دوستتان Bahar اولین خریدش را انجام داد" in to_ali.text and "+۱۰۰ امتیاز" in to_ali.text
    assert (await balance_of(sessions, ALI), await balance_of(sessions, BAHAR)) == (200, 160)
    again = await chat_with(CASHIER, language_code="en").say(f"/earn {friend.code} 100000") + await delivered()
    assert to(again, ALI) == [] and "invitation" not in to(again, BAHAR)[0].text


async def test_invite_results_count_friends_who_joined_and_bought_and_the_points_earned(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    ali, _ = await member_chat(chat_with, sessions, ALI, "Ali")
    _, friend = await friend_joins(chat_with, sessions, await invite_payload(ali))
    [joined] = await ali.say("/invite")
    assert "Friends who joined: 1" in joined.text and "Friends who bought: 0" in joined.text

    await friend_buys(chat_with, sessions, friend)

    [bought] = await ali.say("/invite")
    assert "Friends who joined: 1" in bought.text and "Friends who bought: 1" in bought.text
    assert "Points you earned: 100" in bought.text


async def test_history_names_the_referral_rewards_in_both_languages(chat_with: MakeChat, sessions: Sessions) -> None:
    ali, _ = await member_chat(chat_with, sessions, ALI, "علی", language="fa")
    _, friend = await friend_joins(chat_with, sessions, await invite_payload(ali))
    await friend_buys(chat_with, sessions, friend)

    [persian] = await ali.say("/history")
    assert "+۱۰۰ · دعوت از دوست" in persian.text
    [english] = await chat_with(BAHAR, language_code="en").say("/history")
    assert "+50 · joined by invitation" in english.text


async def test_paid_on_joining_the_friend_hears_it_in_the_welcome_and_the_referrer_of_a_voucher(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    async with sessions() as session:
        reward = await new_reward(session)
        async with write_transaction(session):
            for field, value in (("referral_trigger", "registration"), ("referral_referrer_reward_id", reward.id)):
                await rules.change(session, RULES, field, value, actor_id=1, now=NOW, update_id=None)
    ali, _ = await member_chat(chat_with, sessions, ALI, "Ali")

    replies, _ = await friend_joins(chat_with, sessions, await invite_payload(ali))

    [done] = to(replies, BAHAR)
    assert "Welcome to the club, Bahar" in done.text and "+50 points for coming with a friend's invitation" in done.text
    [notice] = to(replies, ALI)
    assert "Your friend Bahar joined" in notice.text and "+100 points" in notice.text
    assert "A voucher is waiting for you in /vouchers" in notice.text


# --- links that make no referral -------------------------------------------------------------------------------


async def test_a_member_opening_their_own_link_is_welcomed_back_and_earns_nothing(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    ali, _ = await member_chat(chat_with, sessions, ALI, "Ali")
    [welcome] = await ali.say(f"/start {await invite_payload(ali)}")
    assert "Welcome back, Ali" in welcome.text
    assert await referrals_in(sessions) == [] and await balance_of(sessions, ALI) == 100
    assert await refusal_reasons(sessions) == ["self"]


async def test_a_member_opening_someone_elses_link_is_welcomed_back_and_earns_nobody_anything(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    ali, _ = await member_chat(chat_with, sessions, ALI, "Ali")
    cyrus, member = await member_chat(chat_with, sessions, CYRUS, "Cyrus")
    [welcome] = await cyrus.say(f"/start {await invite_payload(ali)}")
    assert "Welcome back, Cyrus" in welcome.text

    replies = await friend_buys(chat_with, sessions, member)

    assert to(replies, ALI) == [] and "invitation" not in to(replies, CYRUS)[0].text
    assert await referrals_in(sessions) == [] and await balance_of(sessions, ALI) == 100
    assert await refusal_reasons(sessions) == ["already_member"]


@pytest.mark.parametrize(
    "payload",
    ["ref_garbage", "ref_" + "1" * 66, "ref_۱۲۳۴۵۶۷۸", payload_for("12345678")],
    ids=["garbage", "70 characters", "persian digits", "nobody's code"],
)
async def test_a_link_that_is_no_invite_gets_the_normal_welcome(
    chat_with: MakeChat, sessions: Sessions, payload: str
) -> None:
    newcomer = chat_with(BAHAR, first_name="Bahar", language_code="en")
    [welcome] = await newcomer.say(f"/start {payload}")
    assert "Welcome to the customer club of our shop" in welcome.text and welcome.requests_contact()
    await newcomer.join(phone=phone_of(BAHAR))
    [welcome_back] = await newcomer.say(f"/start {payload}")
    assert "Welcome back, Bahar" in welcome_back.text
    assert await referrals_in(sessions) == []
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 1


async def test_a_manager_undoing_the_friends_first_purchase_hears_the_referral_rewards_were_taken_back(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    ali, _ = await member_chat(chat_with, sessions, ALI, "Ali")
    _, friend = await friend_joins(chat_with, sessions, await invite_payload(ali))
    await hire(sessions, CASHIER, Role.CASHIER)
    await chat_with(CASHIER, first_name="Reza", language_code="en").say(f"/earn {friend.code} 100000 R-9")
    await hire(sessions, MANAGER, Role.MANAGER)
    [undone] = to(await chat_with(MANAGER, first_name="Mina", language_code="en").say("/undo R-9"), MANAGER)
    assert "Purchase R-9 reversed" in undone.text and "150 referral points were taken back" in undone.text
    assert (await balance_of(sessions, ALI), await balance_of(sessions, BAHAR)) == (100, 100)  # welcome bonuses
    [referral] = await referrals_in(sessions)
    assert (referral.status, referral.reason) == ("refused", "purchase_undone")
