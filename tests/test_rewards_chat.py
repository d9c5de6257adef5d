"""Members' rewards and vouchers in chat, through the real dispatcher (feed_update), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import timedelta
from itertools import count

from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendPhoto
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.customer.rewards.views import RedeemYes
from loyalty import gifts, rewards, voucher_use, vouchers
from loyalty.rewards import draft_of, update_reward
from loyalty.stamps import Stamp
from loyalty.voucher_codes import display
from loyalty.vouchers import Kind, Status, Worth
from storage.models import LedgerEntry, Member, Reward, Voucher
from tests.chat import Chat, Reply
from tests.factories import NOW
from tests.lookups import books, member_of
from tests.people import joined
from tests.steps import add, give, rich_member

DAY = timedelta(days=1)
MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
_keys = count(1)


async def member_id(sessions: Sessions) -> int:
    return (await member_of(sessions)).id


async def give_points(sessions: Sessions, points: int, at=NOW) -> None:
    await give(sessions, await member_id(sessions), points, f"extra-{next(_keys)}", at, days=365)


async def redeemed_directly(sessions: Sessions, reward_id: int, at=NOW) -> vouchers.VoucherInfo:
    """A redeem outside this chat (another device, a test's shortcut)."""
    async with sessions() as session:
        redeemed = await rewards.redeem(
            session, reward_id, Stamp(42, "k", at), member_id=await member_id(sessions), key=f"redeem:{next(_keys)}"
        )
    return redeemed.voucher


async def all_vouchers(sessions: Sessions) -> list[Voucher]:
    async with sessions() as session:
        return list((await session.scalars(select(Voucher).order_by(Voucher.id))).all())


async def entry_count(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(LedgerEntry)) or 0)


def button(reply: Reply, label: str) -> str:
    """The callback data of the inline button whose label contains `label`."""
    rows = reply.markup.inline_keyboard if reply.markup else []
    [data] = [key.callback_data for row in rows for key in row if label in key.text]
    return data


async def confirmation(chat: Chat, reward_id: int) -> Reply:
    """The "Redeem?" question for a reward."""
    question, answered = await chat.press(f"rwd:ask:{reward_id}:0")
    assert answered.name == "AnswerCallbackQuery"
    return question


async def asked_with_600_points(chat_with: MakeChat, sessions: Sessions) -> tuple[Chat, str]:
    """A member holding 600 points, asked whether to redeem a 100-point reward; the chat and its Yes."""
    chat = await joined(chat_with)
    await give_points(sessions, 500)
    reward = await add(sessions)
    return chat, (await confirmation(chat, reward.id)).callback_data()[0]


async def redeem_in_chat(chat: Chat, reward_id: int) -> list[Reply]:
    """Ask to redeem the reward, then press Yes."""
    question = await confirmation(chat, reward_id)
    return await chat.press(question.callback_data()[0])


# --- browsing ----------------------------------------------------------------------------------------------------


async def test_rewards_lists_affordable_ones_first_then_the_close_ones_with_points_missing(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    chat = await joined(chat_with)
    cake = await add(sessions, name="Cake", cost=220)
    dinner = await add(sessions, name="Dinner", cost=1000)
    coffee = await add(sessions, name="Coffee", cost=100)
    tea = await add(sessions, name="Tea", cost=50)
    await add(sessions, name="Old", cost=10, active=False)
    await add(sessions, name="Gone", cost=10, stock=0)

    [reply] = await chat.say("/rewards")

    assert "You have 100 points." in reply.text
    assert "• Tea — 50 points" in reply.text and "• Cake — 120 more points to go" in reply.text
    assert reply.text.index("Tea") < reply.text.index("Coffee") < reply.text.index("Cake") < reply.text.index("Dinner")
    assert reply.buttons() == [
        "🎁 Tea · 50 points",
        "🎁 Coffee · 100 points",
        "🔒 Cake · 120 more points",
        "🔒 Dinner · 900 more points",
        "🎟 My vouchers",
    ]
    ids = [tea.id, coffee.id, cake.id, dinner.id]
    assert reply.callback_data() == [f"rwd:show:{reward_id}:0" for reward_id in ids] + ["vch:list:0"]
    assert "Old" not in reply.text and "Gone" not in reply.text


async def test_the_menu_button_opens_rewards_in_persian_digits(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with, "fa")
    await add(sessions, name="قهوه", cost=1250)
    [reply] = await chat.say("🏆 جوایز")
    assert "شما ۱۰۰ امتیاز دارید" in reply.text
    assert "🔒 قهوه · ۱٬۱۵۰ امتیاز دیگر" in reply.buttons()


async def test_an_empty_catalog_gets_a_friendly_message(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    await add(sessions, name="Old", cost=10, active=False)
    [reply] = await chat.say("/rewards")
    assert "no rewards on offer right now" in reply.text and "Your points are safe" in reply.text
    assert reply.buttons() == ["🎟 My vouchers"]


async def test_a_reward_shows_its_worth_cost_validity_and_a_redeem_button(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    chat = await joined(chat_with)
    reward = await add(
        sessions, name="Big deal", description="On any cake.", worth=Worth(Kind.PERCENT, 10, cap=20_000), stock=3
    )
    detail, answered = await chat.press(f"rwd:show:{reward.id}:0")
    assert isinstance(detail.method, EditMessageText) and answered.name == "AnswerCallbackQuery"
    assert "🎁 Big deal\n\nOn any cake.\n\nVoucher worth: 10% off, up to 20,000 toman" in detail.text
    assert "Price: 100 points" in detail.text and "Valid for 30 days" in detail.text and "Only 3 left" in detail.text
    assert detail.buttons() == ["✅ Redeem for 100 points", "⬅️ Back to rewards"]
    assert detail.callback_data() == [f"rwd:ask:{reward.id}:0", "rwd:list:0:0"]


async def test_a_reward_out_of_reach_says_how_many_points_are_missing_and_has_no_redeem(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    chat = await joined(chat_with)
    reward = await add(sessions, name="Dinner", cost=220, worth=Worth(Kind.FIXED, 500_000))
    detail, _ = await chat.press(f"rwd:show:{reward.id}:0")
    assert "Voucher worth: 500,000 toman off" in detail.text
    assert "You need 120 more points for this reward" in detail.text
    assert detail.buttons() == ["⬅️ Back to rewards"]


async def test_a_reward_with_a_photo_is_shown_with_it(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    reward = await add(sessions, name="Cake", photo_file_id="cake-photo")
    photo, detail, _ = await chat.press(f"rwd:show:{reward.id}:0")
    assert isinstance(photo.method, SendPhoto) and photo.method.photo == "cake-photo"
    assert "🎁 Cake" in detail.text and "✅ Redeem for 100 points" in detail.buttons()


# --- redeeming ---------------------------------------------------------------------------------------------------


async def test_redeem_asks_first_then_sends_the_voucher_qr_with_code_and_jalali_expiry(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    chat = await joined(chat_with, "fa")
    reward = await add(sessions, name="قهوه", worth=Worth(Kind.FIXED, 50_000))

    question = await confirmation(chat, reward.id)
    assert "«قهوه» را با ۱۰۰ امتیاز دریافت می‌کنید؟" in question.text and "پس از آن: ۰ امتیاز" in question.text
    assert question.buttons() == ["✅ بله، دریافت می‌کنم", "❌ نه"]
    assert await entry_count(sessions) == 1 and await all_vouchers(sessions) == []

    done, photo, answered = await chat.press(question.callback_data()[0])

    [voucher] = await all_vouchers(sessions)
    assert isinstance(done.method, EditMessageText) and "انجام شد" in done.text and done.buttons() == []
    assert isinstance(photo.method, SendPhoto) and answered.name == "AnswerCallbackQuery"
    assert photo.method.photo.data.startswith(b"\x89PNG")
    assert display(voucher.code) in photo.text
    assert "ارزش: ۵۰٬۰۰۰ تومان تخفیف" in photo.text and "معتبر تا ۱ دی ۱۴۰۵" in photo.text
    assert "موجودی شما: ۰ امتیاز" in photo.text and "به صندوق‌دار نشان دهید" in photo.text
    assert photo.buttons() == ["↩️ پس دادن"]
    async with sessions() as session:
        spent = await session.scalar(select(LedgerEntry).where(LedgerEntry.points < 0))
    assert (spent.points, spent.reason, spent.id) == (-100, "reward", voucher.entry_id)
    assert await books(sessions, voucher.member_id) == (0, 0, 0)


async def test_the_history_names_a_redeem(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    reward = await add(sessions)
    await redeem_in_chat(chat, reward.id)
    [history] = await chat.say("/history")
    assert "−100 · reward redeemed" in history.text


async def test_pressing_yes_twice_gives_one_voucher(chat_with: MakeChat, sessions: Sessions) -> None:
    chat, yes = await asked_with_600_points(chat_with, sessions)

    first = await chat.press(yes)
    second = await chat.press(yes)

    assert [reply.name for reply in first] == ["EditMessageText", "SendPhoto", "AnswerCallbackQuery"]
    [alert] = second
    assert isinstance(alert.method, AnswerCallbackQuery) and alert.method.show_alert
    assert "Already done" in alert.text and "/vouchers" in alert.text
    assert len(await all_vouchers(sessions)) == 1
    assert (await member_of(sessions)).balance == 500


async def test_two_simultaneous_presses_of_yes_give_one_voucher(chat_with: MakeChat, sessions: Sessions) -> None:
    chat, yes = await asked_with_600_points(chat_with, sessions)

    await asyncio.gather(chat.press(yes), chat.press(yes))

    assert len(await all_vouchers(sessions)) == 1
    assert (await member_of(sessions)).balance == 500


async def test_a_new_question_after_a_redeem_redeems_again(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    await give_points(sessions, 500)
    reward = await add(sessions)
    first = (await confirmation(chat, reward.id)).callback_data()[0]
    await chat.press(first)
    second = (await confirmation(chat, reward.id)).callback_data()[0]
    assert second != first
    await chat.press(second)
    assert len(await all_vouchers(sessions)) == 2
    assert (await member_of(sessions)).balance == 400


async def test_too_few_points_at_yes_says_how_many_more_and_writes_nothing(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    chat = await joined(chat_with)
    reward = await add(sessions, cost=150, stock=5)
    entries = await entry_count(sessions)

    yes = RedeemYes(reward=reward.id, seen=0, terms=rewards.terms_of(reward).fingerprint).pack()
    reply, _ = await chat.press(yes)  # a stale question, asked when the points were there

    assert "You need 50 more points for this reward; you have 100." in reply.text
    assert "Nothing was taken from your points." in reply.text and reply.buttons() == ["⬅️ Back to rewards"]
    assert await all_vouchers(sessions) == [] and await entry_count(sessions) == entries
    assert (await member_of(sessions)).balance == 100
    async with sessions() as session:
        assert (await session.get(Reward, reward.id)).stock == 5


async def test_a_reward_that_ran_out_after_the_question_is_refused(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    reward = await add(sessions, stock=1)
    question = await confirmation(chat, reward.id)
    async with sessions() as session:
        stored = await session.get(Reward, reward.id)
        await update_reward(session, reward.id, dataclasses.replace(draft_of(stored), stock=0), Stamp(1, "k", NOW))

    reply, _ = await chat.press(question.callback_data()[0])

    assert "this reward has just run out" in reply.text and "Nothing was taken" in reply.text
    assert await all_vouchers(sessions) == [] and (await member_of(sessions)).balance == 100


async def test_the_per_member_limit_is_explained(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    await give_points(sessions, 500)
    reward = await add(sessions, per_member_limit=1)
    question = await confirmation(chat, reward.id)
    await redeemed_directly(sessions, reward.id)

    reply, _ = await chat.press(question.callback_data()[0])

    assert "as many times as each member may" in reply.text
    assert len(await all_vouchers(sessions)) == 1 and (await member_of(sessions)).balance == 500


async def test_a_reward_taken_off_the_catalog_is_no_longer_offered(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    reward = await add(sessions)
    question = await confirmation(chat, reward.id)
    async with sessions() as session:
        stored = await session.get(Reward, reward.id)
        await update_reward(session, reward.id, dataclasses.replace(draft_of(stored), active=False), Stamp(1, "k", NOW))

    [reply, _] = await chat.press(question.callback_data()[0])
    assert "this reward is no longer on offer" in reply.text
    refreshed, alert = await chat.press(f"rwd:show:{reward.id}:0")
    assert "no longer on offer" in alert.text and "no rewards on offer" in refreshed.text
    assert await all_vouchers(sessions) == []


async def change_reward(sessions: Sessions, reward_id: int, **fields: object) -> None:
    """The owner changes a reward in /catalog."""
    async with sessions() as session:
        stored = await session.get(Reward, reward_id)
        draft = dataclasses.replace(draft_of(stored), **fields)
        await update_reward(session, reward_id, draft, Stamp(1, "k", NOW))


async def test_a_cost_raised_after_the_question_spends_nothing_and_asks_again_at_the_new_cost(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    chat, yes = await asked_with_600_points(chat_with, sessions)
    async with sessions() as session:
        reward_id = await session.scalar(select(Reward.id))
    await change_reward(sessions, reward_id, cost=300)

    again, _ = await chat.press(yes)

    assert "changed after you were asked" in again.text and "Nothing was taken from your points." in again.text
    assert "Price: 300 points" in again.text and "Redeem Coffee for 300 points?" in again.text
    assert "Your balance afterwards: 300 points." in again.text
    assert again.buttons() == ["✅ Yes, redeem", "❌ No"] and again.callback_data()[0] != yes
    assert await all_vouchers(sessions) == [] and (await member_of(sessions)).balance == 600

    await chat.press(again.callback_data()[0])

    [voucher] = await all_vouchers(sessions)
    assert voucher.points == 300 and (await member_of(sessions)).balance == 300


async def test_a_worth_cut_after_the_question_is_shown_before_any_point_is_spent(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    chat = await joined(chat_with, "fa")
    reward = await add(sessions, name="قهوه", worth=Worth(Kind.FIXED, 50_000))
    question = await confirmation(chat, reward.id)
    await change_reward(sessions, reward.id, worth=Worth(Kind.FIXED, 5_000), validity_days=2)

    again, _ = await chat.press(question.callback_data()[0])

    assert "تغییر کرده" in again.text and "ارزش بن: ۵٬۰۰۰ تومان تخفیف" in again.text and "اعتبار: ۲ روز" in again.text
    assert "«قهوه» را با ۱۰۰ امتیاز دریافت می‌کنید؟" in again.text
    assert await all_vouchers(sessions) == [] and (await member_of(sessions)).balance == 100


async def test_a_changed_reward_now_out_of_reach_says_how_many_points_are_missing(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    chat = await joined(chat_with)
    reward = await add(sessions)
    question = await confirmation(chat, reward.id)
    await change_reward(sessions, reward.id, cost=250)

    again, _ = await chat.press(question.callback_data()[0])

    assert "changed after you were asked" in again.text and "You need 150 more points" in again.text
    assert again.buttons() == ["⬅️ Back to rewards"]
    assert await all_vouchers(sessions) == [] and (await member_of(sessions)).balance == 100


async def test_a_reward_unchanged_but_for_its_stock_redeems_at_the_quoted_cost(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    chat = await joined(chat_with)
    reward = await add(sessions, stock=5)
    question = await confirmation(chat, reward.id)
    await change_reward(sessions, reward.id, stock=9)

    done, _photo, _ = await chat.press(question.callback_data()[0])

    assert "Done" in done.text
    [voucher] = await all_vouchers(sessions)
    assert voucher.points == 100 and (await member_of(sessions)).balance == 0


async def test_a_yes_that_carries_no_quote_redeems_nothing(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    reward = await add(sessions)
    stale = await chat.press(f"rwd:yes:{reward.id}:0")  # a button from before quotes were carried
    assert await all_vouchers(sessions) == [] and (await member_of(sessions)).balance == 100
    assert stale and "Done" not in stale[0].text


# --- vouchers ----------------------------------------------------------------------------------------------------


async def test_vouchers_are_listed_by_status_with_the_active_ones_codes(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    chat = await joined(chat_with)
    await give_points(sessions, 1000, at=NOW - 60 * DAY)
    active = await redeemed_directly(sessions, (await add(sessions, name="Coffee")).id)
    used = await redeemed_directly(sessions, (await add(sessions, name="Tea")).id)
    expired = await redeemed_directly(sessions, (await add(sessions, name="Cake")).id, at=NOW - 40 * DAY)
    given_back = await redeemed_directly(sessions, (await add(sessions, name="Juice")).id)
    async with sessions() as session:
        await voucher_use.use(session, used.id, Stamp(500, "k", NOW))
        await vouchers.cancel(session, given_back.id, Stamp(42, "k", NOW), member_id=given_back.member_id)

    [reply] = await chat.say("/vouchers")

    text = reply.text
    assert text.index("Ready to use") < text.index("Used:") < text.index("Expired:") < text.index("Given back:")
    assert f"• Coffee · a free item\n   {active.shown_code} · Valid until 22 Dec 2026" in text
    assert "• Tea · Used on 22 Nov 2026" in text and "• Cake · Expired on 12 Nov 2026" in text
    assert "• Juice · Given back on 22 Nov 2026" in text
    assert used.shown_code not in text and expired.shown_code not in text
    assert reply.buttons() == ["🎟 Show Coffee", "↩️ Give back", "⬅️ Back to rewards"]
    assert reply.callback_data() == [f"vch:show:{active.id}", f"vch:ask:{active.id}", "rwd:list:0:0"]


async def test_no_vouchers_yet_points_to_rewards(chat_with: MakeChat) -> None:
    chat = await joined(chat_with)
    [reply] = await chat.say("/vouchers")
    assert "no vouchers yet" in reply.text and "/rewards" in reply.text


async def test_the_rewards_list_opens_the_vouchers_in_place(chat_with: MakeChat) -> None:
    chat = await joined(chat_with)
    listed, _ = await chat.press("vch:list:0")
    assert isinstance(listed.method, EditMessageText) and "Your vouchers" in listed.text


async def test_an_active_voucher_is_shown_again_as_a_qr(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    voucher = await redeemed_directly(sessions, (await add(sessions)).id)
    photo, _ = await chat.press(f"vch:show:{voucher.id}")
    assert isinstance(photo.method, SendPhoto)
    assert voucher.shown_code in photo.text and "Valid until 22 Dec 2026" in photo.text
    assert "Show this code or QR at the counter" in photo.text and "balance" not in photo.text


async def test_giving_a_voucher_back_asks_then_refunds_the_points(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    voucher = await redeemed_directly(sessions, (await add(sessions, name="Coffee")).id)

    question, _ = await chat.press(f"vch:ask:{voucher.id}")
    assert f"Give back the voucher Coffee ({voucher.shown_code})?" in question.text
    assert "100 points will come back to you." in question.text
    assert question.callback_data() == [f"vch:cancel:{voucher.id}", "vch:list:0"]
    done, _ = await chat.press(f"vch:cancel:{voucher.id}")

    assert "100 points came back to you; your balance is 100 points." in done.text
    [stored] = await all_vouchers(sessions)
    assert stored.status == Status.CANCELLED
    [listed] = await chat.say("/vouchers")
    assert "Given back:\n• Coffee · Given back on 22 Nov 2026" in listed.text
    [history] = await chat.say("/history")
    assert "+100 · voucher given back" in history.text
    [again] = await chat.press(f"vch:cancel:{voucher.id}")
    assert "already been given back" in again.text and (await member_of(sessions)).balance == 100


async def test_giving_a_voucher_back_while_owing_points_promises_only_what_comes_back(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    chat = await joined(chat_with)
    voucher = await redeemed_directly(sessions, (await add(sessions, name="Coffee")).id)
    async with sessions() as session:  # an undone purchase left 30 points the member could not give back
        await session.execute(update(Member).where(Member.telegram_id == 42).values(points_owed=30))
        await session.commit()

    question, _ = await chat.press(f"vch:ask:{voucher.id}")
    assert "70 points will come back to you." in question.text
    done, _ = await chat.press(f"vch:cancel:{voucher.id}")
    assert "70 points came back to you" in done.text


async def test_a_used_voucher_cannot_be_given_back(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    voucher = await redeemed_directly(sessions, (await add(sessions)).id)
    async with sessions() as session:
        await voucher_use.use(session, voucher.id, Stamp(500, "k", NOW))

    [asked] = await chat.press(f"vch:ask:{voucher.id}")
    [cancelled] = await chat.press(f"vch:cancel:{voucher.id}")

    for alert in (asked, cancelled):
        assert isinstance(alert.method, AnswerCallbackQuery) and alert.method.show_alert
        assert "was used on 22 Nov 2026, so it can't be given back" in alert.text
    [stored] = await all_vouchers(sessions)
    assert stored.status == Status.USED and (await member_of(sessions)).balance == 0


async def test_an_expired_voucher_cannot_be_given_back_or_shown(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    await give_points(sessions, 100, at=NOW - 60 * DAY)
    voucher = await redeemed_directly(sessions, (await add(sessions)).id, at=NOW - 40 * DAY)

    [cancelled] = await chat.press(f"vch:cancel:{voucher.id}")
    [shown] = await chat.press(f"vch:show:{voucher.id}")

    assert "expired on 12 Nov 2026, so it can't be given back" in cancelled.text
    assert "Expired on 12 Nov 2026" in shown.text
    [stored] = await all_vouchers(sessions)
    assert stored.status == Status.ACTIVE and stored.refund_entry_id is None


async def test_a_gift_voucher_has_no_give_back(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    draft = gifts.GiftDraft("Birthday", Worth(Kind.PERCENT, 15), 7)
    async with sessions() as session:
        given = await gifts.give(
            session, draft, gifts.Audience(member_id=await member_id(sessions)), Stamp(1, "3", NOW)
        )
    assert given.voucher is not None

    [listed] = await chat.say("/vouchers")
    [refused] = await chat.press(f"vch:ask:{given.voucher.id}")

    assert "• Birthday · 15% off" in listed.text and listed.buttons() == ["🎟 Show Birthday", "⬅️ Back to rewards"]
    assert "was a gift" in refused.text
    [stored] = await all_vouchers(sessions)
    assert stored.status == Status.ACTIVE


async def test_another_members_voucher_is_out_of_reach(chat_with: MakeChat, sessions: Sessions) -> None:
    await joined(chat_with)
    voucher = await redeemed_directly(sessions, (await add(sessions)).id)
    other = chat_with(77, language_code="en")
    await other.join(phone="09121234568")

    [shown] = await other.press(f"vch:show:{voucher.id}")
    [cancelled] = await other.press(f"vch:cancel:{voucher.id}")

    assert "no longer active" in shown.text and "no longer active" in cancelled.text
    [stored] = await all_vouchers(sessions)
    assert stored.status == Status.ACTIVE


# --- who may --------------------------------------------------------------------------------------------------


async def test_a_newcomer_asking_for_rewards_is_offered_to_join(chat_with: MakeChat) -> None:
    newcomer = chat_with(language_code="en")
    [not_member, ask_phone] = await newcomer.say("/rewards")
    assert "not a member of the club yet" in not_member.text and ask_phone.requests_contact()
    [stale] = await newcomer.press("rwd:list:0:0")
    assert "no longer active" in stale.text


# --- the domain's confirmation key ---------------------------------------------------------------------------------


async def test_redeem_with_one_key_from_two_updates_issues_one_voucher(sessions: Sessions) -> None:
    member = await rich_member(sessions, points=500)
    reward = await add(sessions)
    answers = []
    for update_id in (1, 2):
        async with sessions() as session:
            answers.append(
                await rewards.redeem(
                    session, reward.id, Stamp(1, "k", NOW, update_id), member_id=member, key="confirm:1"
                )
            )
    assert [answer.duplicate for answer in answers] == [False, True]
    assert answers[0].voucher.id == answers[1].voucher.id and answers[1].balance == 400
    assert len(await all_vouchers(sessions)) == 1
