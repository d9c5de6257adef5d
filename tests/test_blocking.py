"""/block and /unblock through the real dispatcher: managers and owners block a member from referral rewards."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import club_of
from bot.settings import Settings
from loyalty.codes import grouped
from loyalty.numerals import local_digits
from loyalty.staff import Role
from storage.models import AuditEntry, Member
from tests.chat import Chat, texts
from tests.lookups import referral_points, refusals
from tests.people import NEEDS_MANAGER, customer, hire, manager_chat
from tests.steps import join, member, open_link

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
OWNER, MANAGER, CASHIER, CUSTOMER = 1, 3, 7, 42
STALE = "This button is no longer active. Please use the menu."


async def is_blocked(sessions: Sessions, member_id: int) -> bool:
    async with sessions() as session:
        return bool(await session.scalar(select(Member.blocked).where(Member.id == member_id)))


async def blocks(sessions: Sessions) -> list[tuple[str, int | None, int | None, object]]:
    """The block and unblock entries of the audit log, oldest first: action, actor, member and reason."""
    async with sessions() as session:
        entries = await session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(["member.block", "member.unblock"])).order_by(AuditEntry.id)
        )
        return [
            (entry.action, entry.actor_id, entry.member_id, json.loads(entry.details)["reason"]) for entry in entries
        ]


async def say(chat: Chat, text: str) -> str:
    [reply] = await chat.say(text)
    return reply.text


async def block(chat: Chat, arguments: str) -> str:
    """/block, confirmed with its Block button: the final answer."""
    [confirmation] = await chat.say(f"/block {arguments}")
    [yes] = [data for data in confirmation.callback_data() if data.startswith("blk:yes:")]
    final, _ = await chat.press(yes)
    return final.text


async def test_a_manager_blocks_a_member_by_code_with_a_reason(chat_with: MakeChat, sessions: Sessions) -> None:
    _, sara = await customer(chat_with, sessions)
    reply = await block(await manager_chat(chat_with, sessions), f"{sara.code} fake accounts")
    assert reply.startswith(f"⛔ Sara · {grouped(sara.code)} is blocked. From now on they earn nothing from referrals")
    assert await is_blocked(sessions, sara.id)
    assert await blocks(sessions) == [("member.block", MANAGER, sara.id, "fake accounts")]


async def test_a_code_typed_as_the_card_shows_it_is_one_member_and_the_rest_the_reason(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    _, sara = await customer(chat_with, sessions)
    reply = await block(await manager_chat(chat_with, sessions), f"{grouped(sara.code)} fake accounts")
    assert reply.startswith(f"⛔ Sara · {grouped(sara.code)} is blocked")
    assert await blocks(sessions) == [("member.block", MANAGER, sara.id, "fake accounts")]


async def test_an_owner_blocks_by_phone_in_persian_digits_and_hears_in_persian(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    _, sara = await customer(chat_with, sessions)
    reply = await block(chat_with(OWNER, language_code="fa"), "۰۹۱۲۱۲۳۴۵۶۷")
    assert reply.startswith(f"⛔ Sara · \u200e{local_digits(grouped(sara.code), 'fa')} مسدود شد")
    assert await is_blocked(sessions, sara.id)
    assert await blocks(sessions) == [("member.block", OWNER, sara.id, None)]  # no reason given


async def test_unblock_lifts_the_block_and_is_audited(chat_with: MakeChat, sessions: Sessions) -> None:
    _, sara = await customer(chat_with, sessions)
    staff = await manager_chat(chat_with, sessions)
    await block(staff, f"{sara.code} spam")
    reply = await say(staff, f"/unblock {sara.code}")
    assert reply.startswith(f"✅ Sara · {grouped(sara.code)} is no longer blocked")
    assert not await is_blocked(sessions, sara.id)
    assert [(action, reason) for action, _, _, reason in await blocks(sessions)] == [
        ("member.block", "spam"),
        ("member.unblock", None),
    ]


async def test_blocking_twice_or_unblocking_a_free_member_changes_and_logs_nothing(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    _, sara = await customer(chat_with, sessions)
    staff = await manager_chat(chat_with, sessions)
    assert "is not blocked. Nothing was changed." in await say(staff, f"/unblock {sara.code}")
    await block(staff, sara.code)
    assert "is blocked already. Nothing was changed." in await say(staff, f"/block {sara.code} again")
    assert await is_blocked(sessions, sara.id) and len(await blocks(sessions)) == 1


@pytest.mark.parametrize("command", ["/block", "/unblock", "/block   "])
async def test_without_a_member_the_usage_is_explained(chat_with: MakeChat, sessions: Sessions, command: str) -> None:
    reply = await say(await manager_chat(chat_with, sessions), command)
    assert f"{command.strip()} <member code or phone>" in reply


@pytest.mark.parametrize("reference", ["09120000000", "12345678", "hello", "۴۸۲۱۳۳۷۶"])
@pytest.mark.parametrize("command", ["/block", "/unblock"])
async def test_a_member_not_found_gets_the_same_answer_as_at_the_counter(
    chat_with: MakeChat, sessions: Sessions, command: str, reference: str
) -> None:
    staff = await manager_chat(chat_with, sessions)  # (/member offers a walk-in purchase on a new phone instead)
    assert await say(staff, f"{command} {reference} reason") == await say(staff, f"/adjust {reference} +1 reason")
    assert await blocks(sessions) == []


async def test_customers_and_cashiers_get_the_unknown_command_answer(chat_with: MakeChat, sessions: Sessions) -> None:
    chat, sara = await customer(chat_with, sessions)
    await hire(sessions, CASHIER, Role.CASHIER)
    cashier, _ = await customer(chat_with, sessions, CASHIER, "09121112233")  # a cashier who is also a member
    for user in (chat, cashier):
        unknown = [reply.text for reply in await user.say("/foo")]
        for command in (f"/block {sara.code}", f"/unblock {sara.code}"):
            name = command.split()[0]
            expected = [NEEDS_MANAGER.format(command=name)] if user is cashier else unknown
            assert [reply.text for reply in await user.say(command)] == expected
    assert not await is_blocked(sessions, sara.id) and await blocks(sessions) == []


async def test_a_referrer_blocked_with_block_earns_nothing_until_unblocked(
    chat_with: MakeChat, sessions: Sessions, settings: Settings
) -> None:
    club_rules = club_of(settings).rules  # paid on the friend's first purchase: 100 to the referrer, 50 to the friend
    referrer = await member(sessions, 1001, "Reza")
    owner = chat_with(OWNER, language_code="en")

    async def friend_buys(telegram_id: int) -> Member:
        await open_link(sessions, referrer, telegram_id, club_rules=club_rules)
        friend = (await join(sessions, telegram_id, club_rules=club_rules)).member
        await owner.say(f"/earn {friend.code} 1000000 R{telegram_id}")
        return friend

    await block(owner, f"{referrer.code} fake friends")
    first = await friend_buys(2001)
    assert await referral_points(sessions, referrer.id) == 0  # blocked: nothing for the referrer
    assert await referral_points(sessions, first.id) == 50  # the friend still gets theirs
    assert await refusals(sessions) == ["referrer_blocked"]

    await owner.say(f"/unblock {referrer.code}")
    await friend_buys(2002)
    assert await referral_points(sessions, referrer.id) == 100


async def test_block_first_says_everything_it_does_and_blocks_only_once_confirmed(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    _, sara = await customer(chat_with, sessions)
    staff = await manager_chat(chat_with, sessions)
    code = grouped(sara.code)
    [confirmation] = await staff.say(f"/block {sara.code} spam")
    assert confirmation.text.startswith(f"Block Sara · {code}?")
    for effect in (
        "earns nothing from referrals",
        "no campaigns",
        "no birthday greeting or birthday gift",
        "no reminder before their points expire",
        "keeps their points, purchases and vouchers",
        "is not told",
        f"/unblock {code}",
    ):
        assert effect in confirmation.text
    assert confirmation.buttons() == ["⛔ Block", "✖️ Cancel"]
    assert not await is_blocked(sessions, sara.id) and await blocks(sessions) == []

    cancelled, _ = await staff.press(f"blk:no:{sara.id}")
    assert cancelled.text == f"Nothing was changed: Sara · {code} is not blocked."
    assert texts(await staff.press(f"blk:yes:{sara.id}")) == [STALE]  # the confirmation is gone with Cancel
    assert not await is_blocked(sessions, sara.id)

    final = await block(staff, f"{sara.code} spam")
    assert final.startswith(f"⛔ Sara · {code} is blocked. From now on they earn nothing from referrals")
    assert "points, purchases and vouchers are kept" in final and final.endswith(f"/unblock {code}")
    assert texts(await staff.press(f"blk:yes:{sara.id}")) == [STALE]  # a second press blocks nothing twice
    assert await blocks(sessions) == [("member.block", MANAGER, sara.id, "spam")]


async def test_the_block_confirmation_in_persian(chat_with: MakeChat, sessions: Sessions) -> None:
    _, sara = await customer(chat_with, sessions)
    code = "\u200e" + local_digits(grouped(sara.code), "fa")  # kept left to right in the Persian line
    [confirmation] = await chat_with(OWNER, language_code="fa").say(f"/block {sara.code}")
    assert confirmation.text.startswith(f"مسدود کردن Sara · {code}؟")
    assert "از معرفی دوستان" in confirmation.text and f"/unblock {code}" in confirmation.text
    assert confirmation.buttons() == ["⛔ مسدود شود", "✖️ انصراف"]
