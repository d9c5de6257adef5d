"""Payment methods at the counter through the real dispatcher: a word after the amount (`/earn … card`, «کارت»), or a
button pressed at the amount prompt before the amount; on credit only once the owner turned it on in /settings."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import rules
from loyalty.staff import Role
from loyalty.stamps import Stamp
from storage.models import Member, Purchase
from tests import updates
from tests.chat import Chat
from tests.factories import NOW, add_members, add_purchases, member_row, purchase
from tests.lookups import audit_log, count
from tests.paid import paid_club
from tests.people import CASHIER, OWNER, customer, hire

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
PROMPT_BUTTONS = ["💵 Cash", "💳 Card", "🌐 Online", "✖️ Cancel"]


async def a_cashier(chat_with: MakeChat, sessions: Sessions, language: str = "en") -> Chat:
    """Ali, hired as a cashier, in his chat."""
    await hire(sessions, CASHIER, Role.CASHIER)
    return chat_with(CASHIER, first_name="Ali", language_code=language)


async def methods(sessions: Sessions) -> list[str | None]:
    """The payment method of every purchase, oldest first."""
    async with sessions() as session:
        return list(await session.scalars(select(Purchase.payment).order_by(Purchase.id)))


async def credit_on(sessions: Sessions) -> None:
    """The owner turns on-credit sales on."""
    async with sessions() as session:
        await rules.set_rule(session, rules.Rules(welcome_bonus=100), "credit", True, Stamp(OWNER, "credit", NOW))


async def prompt_for(cashier: Chat, member: Member) -> list[str]:
    """The cashier scans the member's card and presses Record purchase; the prompt's buttons' data."""
    [card] = await cashier.say(f"/start card_{member.code}")
    [prompt, _] = await cashier.press(card.callback_data()[0])
    assert "Amount of Sara's purchase" in prompt.text or "مبلغ خرید" in prompt.text
    return prompt.callback_data()


async def test_earn_tags_the_purchase_paid_by_card(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions)
    [recorded] = await cashier.say(f"/earn {member.code} 250000 card R-1")
    assert "Recorded 250,000 toman for Sara" in recorded.text and "Paid: 💳 Card" in recorded.text
    assert await methods(sessions) == ["card"]


async def test_a_persian_cashier_types_the_method_in_persian_after_the_amount_in_words(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions, "fa")
    [recorded] = await cashier.say(f"/earn {member.code} ۲۵۰ هزار تومان R-7 نقدی #کیک")
    assert "ثبت شد" in recorded.text and "پرداخت: 💵 نقد" in recorded.text and "کیک" in recorded.text
    async with sessions() as session:
        purchase = await session.scalar(select(Purchase))
    assert purchase is not None and (purchase.amount, purchase.receipt, purchase.payment) == (250_000, "r-7", "cash")


async def test_a_purchase_without_a_method_says_none(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions)
    [recorded] = await cashier.say(f"/earn {member.code} 250000")
    assert "Recorded" in recorded.text and "Paid" not in recorded.text
    assert await methods(sessions) == [None]


async def test_two_methods_typed_are_explained_and_nothing_is_written(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions)
    [usage] = await cashier.say(f"/earn {member.code} 250000 card cash")
    assert "/earn <member code or phone> <amount>" in usage.text and "[cash|card|online]" in usage.text
    assert await count(sessions, Purchase) == 0


async def test_on_credit_is_refused_until_the_owner_turns_it_on(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions, "fa")
    [refused] = await cashier.say(f"/earn {member.code} 250000 نسیه")
    assert "فروش نسیه خاموش است" in refused.text and "/settings" in refused.text
    assert await count(sessions, Purchase) == 0
    await credit_on(sessions)
    [recorded] = await cashier.say(f"/earn {member.code} 250000 نسیه")
    assert "پرداخت: 🧾 نسیه" in recorded.text
    assert await methods(sessions) == ["credit"]


async def test_the_cashier_presses_a_method_then_types_the_amount(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions)
    [cash, card, _, _] = await prompt_for(cashier, member)
    await cashier.press(cash)
    [marked, toast] = await cashier.press(card)  # changing one's mind: the last press counts
    assert marked.buttons() == ["💵 Cash", "✅ 💳 Card", "🌐 Online", "✖️ Cancel"]
    assert toast.text == "💳 Card: now type the amount."
    [recorded] = await cashier.say("300000 R-44")
    assert "+30 points" in recorded.text and "Paid: 💳 Card" in recorded.text
    assert await methods(sessions) == ["card"]


async def test_at_the_prompt_a_method_typed_wins_over_the_one_pressed(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions)
    [cash, *_] = await prompt_for(cashier, member)
    await cashier.press(cash)
    await cashier.say("300000 online")
    assert await methods(sessions) == ["online"]


async def test_the_prompt_offers_on_credit_only_when_it_is_on(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions)
    [card] = await cashier.say(f"/start card_{member.code}")
    [prompt, _] = await cashier.press(card.callback_data()[0])
    assert prompt.buttons() == PROMPT_BUTTONS
    await credit_on(sessions)
    [prompt, _] = await cashier.press(card.callback_data()[0])
    assert prompt.buttons() == ["💵 Cash", "💳 Card", "🌐 Online", "🧾 On credit", "✖️ Cancel"]
    [credit] = [data for data, label in zip(prompt.callback_data(), prompt.buttons(), strict=True) if "credit" in label]
    await cashier.press(credit)
    await cashier.say("300000")
    assert await methods(sessions) == ["credit"]


async def test_a_method_button_after_the_prompt_is_over_is_stale(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions)
    [cash, *_] = await prompt_for(cashier, member)
    await cashier.say("300000")
    [stale] = await cashier.press(cash)
    assert stale.name == "AnswerCallbackQuery" and stale.method.show_alert
    assert await methods(sessions) == [None]


async def test_the_same_typed_message_records_once_with_its_method(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions)
    earn = updates.message_update(cashier.user, text=f"/earn {member.code} 250000 card")
    await cashier.feed(earn)
    [again] = await cashier.feed(earn)
    assert "Already recorded" in again.text and "Paid: 💳 Card" in again.text
    assert await methods(sessions) == ["card"]


async def test_undo_reverses_a_purchase_paid_by_card(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions)
    [recorded] = await cashier.say(f"/earn {member.code} 250000 card")
    [undone, _] = await cashier.press(recorded.callback_data()[0])
    assert "reversed" in undone.text
    async with sessions() as session:
        purchase = await session.scalar(select(Purchase))
    assert purchase is not None and purchase.reversed_at is not None and purchase.payment == "card"


async def test_the_owner_turns_on_credit_sales_on_in_settings_and_it_is_audited(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    owner = chat_with(OWNER, first_name="Owner", language_code="en")
    [menu] = await owner.say("/settings")
    assert "🧾 On-credit sales" in menu.buttons()
    [question, _] = await owner.press("set:choose:credit:")
    assert "May cashiers record purchases on credit" in question.text and "Now: Off" in question.text
    assert question.buttons()[:2] == ["On", "✅ Off"]
    [saved, _] = await owner.press("setc:credit:on")
    assert "On-credit sales changed from Off to On" in saved.text
    assert [details for action, _, details in await audit_log(sessions) if action == "settings.change"] == [
        {"field": "credit", "before": False, "after": True}
    ]


async def sales_caption(chat: Chat) -> str:
    """The Sales report of the last 7 days, as the chat shows it under its chart (the last photo, after the
    heatmap)."""
    photos = [reply for reply in await chat.press("rpt:sales:last7") if reply.name == "SendPhoto"]
    return photos[-1].text


async def test_the_sales_report_splits_the_purchases_by_method(chat_with: MakeChat, sessions: Sessions) -> None:
    async with sessions() as session:
        await paid_club(session)
    owner = chat_with(OWNER, language_code="en")
    caption = await sales_caption(owner)
    assert (
        "\n\nBy payment: 💵 Cash: 1 (100,000 toman) · 💳 Card: 2 (500,000 toman) · 🧾 On credit: 3 (800,000 toman) · "
        "Not said: 1 (50,000 toman)" in caption
    )
    assert "On credit: 800,000 toman" not in caption  # the owner has on-credit sales off
    await credit_on(sessions)
    assert (await sales_caption(owner)).endswith("\n🧾 On credit: 800,000 toman, 2 members")
    persian = await sales_caption(chat_with(OWNER, language_code="fa"))
    assert "💳 کارت: ۲ خرید (۵۰۰٬۰۰۰ تومان)" in persian and persian.endswith("🧾 نسیه: ۸۰۰٬۰۰۰ تومان، ۲ عضو")
    assert len(persian) <= 1024  # a photo's caption


async def test_the_top_customers_list_who_bought_most_on_credit_when_it_is_on(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    async with sessions() as session:
        await paid_club(session)
    owner = chat_with(OWNER, language_code="en")
    [report] = [reply for reply in await owner.press("rpt:top:last7") if reply.text]
    assert "on credit" not in report.text
    await credit_on(sessions)
    [report] = [reply for reply in await owner.press("rpt:top:last7") if reply.text]
    assert "\n\n🧾 Most on credit in the period:\n1. Member 2 · " in report.text
    assert report.text.endswith(" — 400,000 toman")
    async with sessions() as session:  # five bigger, more frequent cash buyers: 2 and 3 are listed only on credit
        await add_members(session, [member_row(number) for number in range(4, 9)])
        big = [purchase(10 + 4 * number + visit, number, 1_000_000, 1) for number in range(4, 9) for visit in range(4)]
        await add_purchases(session, big)
        await session.commit()
    [report] = [reply for reply in await owner.press("rpt:top:last7") if reply.text]
    opened = [button.url or "" for row in report.markup.inline_keyboard for button in row]
    for code in ("00000002", "00000003"):  # each member listed opens at the counter
        assert any(link.endswith("?start=card_" + code) for link in opened)


async def test_a_walk_in_paid_online_is_read_back_then_recorded_so(chat_with: MakeChat, sessions: Sessions) -> None:
    cashier = await a_cashier(chat_with, sessions)
    [ask] = await cashier.say("/earn 09121234567 250000 online")
    assert "0912 123 4567" in ask.text
    recorded = await cashier.press(ask.callback_data()[0])
    assert any("Paid: 🌐 Online" in reply.text for reply in recorded)
    assert await methods(sessions) == ["online"]


async def test_a_walk_in_on_credit_while_it_is_off_is_refused_before_the_phone_is_read_back(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    cashier = await a_cashier(chat_with, sessions)
    [refused] = await cashier.say("/earn 09121234567 250000 credit")
    assert "On-credit sales are off" in refused.text
    assert await count(sessions, Member) == 0


async def test_a_forged_on_credit_button_while_it_is_off_records_nothing(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions)
    [cash, *_] = await prompt_for(cashier, member)
    [refused] = await cashier.press(cash.replace("cash", "credit"))
    assert refused.method.show_alert and "On-credit sales are off" in refused.text
    await cashier.say("300000")
    assert await methods(sessions) == [None]


async def test_a_persian_cashier_types_the_method_at_the_prompt(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions, "fa")
    await prompt_for(cashier, member)
    [recorded] = await cashier.say("۳۰۰ هزار كارت")  # with the Arabic kaf of some keyboards
    assert "پرداخت: 💳 کارت" in recorded.text
    assert await methods(sessions) == ["card"]
