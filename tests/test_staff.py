"""Staff roles: invites, joining, role changes and removal, in the domain and through the real dispatcher."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.methods import DeleteMyCommands, SetMyCommands, TelegramMethod
from aiogram.types import BotCommandScopeChat
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import club_of, create_dispatcher
from bot.i18n import create_i18n
from bot.settings import Settings
from handlers import menus
from handlers.filters import HasRole
from handlers.keyboards import LanguageChoice, ProfileEdit
from handlers.menus import role_help
from loyalty import rewards, rules, staff
from loyalty.rewards import RewardDraft
from loyalty.shop import SHOP_KEY
from loyalty.staff import Role
from loyalty.stamps import Stamp
from loyalty.vouchers import Kind, Worth
from storage.database import write_transaction
from storage.models import ClubSetting, StaffInvite, StaffMember
from tests.chat import Chat, Delivered, texts, to
from tests.factories import NOW
from tests.lookups import audit_log
from tests.people import hire, owner_chat
from tests.stub_bot import RecordingSession

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
OWNER, OTHER_OWNER, MANAGER, CASHIER, NEWCOMER, CUSTOMER = 1, 2, 3, 4, 5, 42
OWNERS = frozenset({OWNER})
LINK = re.compile(r"https://t\.me/loyalty_test_bot\?start=(staff_[A-Za-z0-9_-]+)")


async def stored_role(sessions: Sessions, telegram_id: int) -> str | None:
    async with sessions() as session:
        return await session.scalar(select(StaffMember.role).where(StaffMember.telegram_id == telegram_id))


def by(actor_id: int, update_id: int | None = None, at: datetime = NOW) -> Stamp:
    """The stamp of an update sent by `actor_id` (its key is never used by the staff's changes)."""
    return Stamp(actor_id, "k", at, update_id)


async def invite(
    session: AsyncSession,
    role: Role = Role.CASHIER,
    actor_id: int = OWNER,
    now: datetime = NOW,
    update_id: int | None = None,
) -> str:
    return await staff.create_invite(session, role, by(actor_id, update_id, now), owner_ids=OWNERS)


async def accept(
    session: AsyncSession,
    token: str,
    telegram_id: int,
    name: str = "Ali",
    owner_ids: Collection[int] = OWNERS,
    now: datetime = NOW,
    update_id: int | None = None,
) -> staff.StaffEntry:
    return await staff.accept_invite(session, token, by(telegram_id, update_id, now), name=name, owner_ids=owner_ids)


# The domain, on SQLite and PostgreSQL


def test_roles_are_ordered_cashier_manager_owner() -> None:
    assert staff.at_least(Role.OWNER, Role.MANAGER) and staff.at_least(Role.MANAGER, Role.MANAGER)
    assert not staff.at_least(Role.CASHIER, Role.MANAGER) and not staff.at_least(None, Role.CASHIER)
    assert [role.rank for role in (Role.CASHIER, Role.MANAGER, Role.OWNER)] == [0, 1, 2]


async def test_owner_ids_are_always_owners_and_others_have_their_stored_role(
    session: AsyncSession, sessions: Sessions
) -> None:
    await hire(sessions, OWNER, Role.CASHIER)  # a stale row never demotes an OWNER_IDS owner
    await hire(sessions, MANAGER, Role.MANAGER)
    assert await staff.role_of(session, OWNER, OWNERS) is Role.OWNER
    assert await staff.role_of(session, MANAGER, OWNERS) is Role.MANAGER
    assert await staff.role_of(session, CUSTOMER, OWNERS) is None


async def test_an_invite_is_stored_hashed_and_makes_whoever_opens_it_a_cashier(
    session: AsyncSession, sessions: Sessions
) -> None:
    token = await invite(session, update_id=77)
    assert len("staff_" + token) <= 64 and re.fullmatch(r"[A-Za-z0-9_-]+", token)
    stored = await session.scalar(select(StaffInvite))
    assert stored is not None and stored.token_hash == staff.hash_token(token) != token
    assert stored.expires_at == NOW + timedelta(hours=24)

    joined = await accept(session, token, NEWCOMER, name="  Ali Rezaei  ", update_id=78)

    assert joined == staff.StaffEntry(NEWCOMER, Role.CASHIER, "Ali Rezaei")
    assert await stored_role(sessions, NEWCOMER) == "cashier"
    invite_entry, join_entry = await audit_log(sessions)
    assert invite_entry[:2] == ("staff.invite", OWNER) and invite_entry[2]["role"] == "cashier"
    assert join_entry == ("staff.join", NEWCOMER, {"invite_id": stored.id, "invited_by": OWNER, "role": "cashier"})


async def test_an_invite_works_once(session: AsyncSession, sessions: Sessions) -> None:
    token = await invite(session)
    await accept(session, token, NEWCOMER)
    with pytest.raises(staff.InviteUsed):
        await accept(session, token, CUSTOMER)
    with pytest.raises(staff.AlreadyStaff) as again:
        await accept(session, token, NEWCOMER)
    assert again.value.role is Role.CASHIER
    assert await stored_role(sessions, CUSTOMER) is None
    assert [action for action, _, _ in await audit_log(sessions)] == ["staff.invite", "staff.join"]


async def test_an_invite_expires_after_24_hours(session: AsyncSession, sessions: Sessions) -> None:
    token = await invite(session)
    with pytest.raises(staff.InviteExpired):
        await accept(session, token, NEWCOMER, now=NOW + timedelta(hours=24))
    await accept(session, token, CUSTOMER, now=NOW + timedelta(hours=24) - timedelta(seconds=1))
    assert await stored_role(sessions, NEWCOMER) is None
    assert await stored_role(sessions, CUSTOMER) == "cashier"


async def test_an_unknown_token_is_refused(session: AsyncSession, sessions: Sessions) -> None:
    token = await invite(session)
    assert await staff.invite_known(session, token)
    assert not await staff.invite_known(session, token[:-1])
    with pytest.raises(staff.UnknownInvite):
        await accept(session, "not-a-token", NEWCOMER)
    assert await stored_role(sessions, NEWCOMER) is None


async def test_staff_already_on_the_staff_leave_the_invite_for_someone_else(
    session: AsyncSession, sessions: Sessions
) -> None:
    await hire(sessions, MANAGER, Role.MANAGER)
    token = await invite(session, Role.CASHIER)
    with pytest.raises(staff.AlreadyStaff):
        await accept(session, token, MANAGER)  # a manager is never demoted by opening a cashier link
    with pytest.raises(staff.AlreadyStaff):
        await accept(session, token, OWNER)
    assert await stored_role(sessions, MANAGER) == "manager"
    await accept(session, token, NEWCOMER)
    assert await stored_role(sessions, NEWCOMER) == "cashier"


async def test_only_owners_make_invites(session: AsyncSession, sessions: Sessions) -> None:
    await hire(sessions, MANAGER, Role.MANAGER)
    await hire(sessions, OTHER_OWNER, Role.OWNER)
    with pytest.raises(staff.NotOwner):
        await staff.create_invite(session, Role.CASHIER, by(MANAGER), owner_ids=OWNERS)
    await staff.create_invite(session, Role.OWNER, by(OTHER_OWNER), owner_ids=OWNERS)
    async with sessions() as check:
        assert await check.scalar(select(func.count()).select_from(StaffInvite)) == 1


async def test_two_accounts_opening_one_invite_at_once_only_one_joins(sessions: Sessions) -> None:
    async with sessions() as session:
        token = await invite(session)
    async with sessions() as first, sessions() as second:
        results = await asyncio.gather(
            accept(first, token, NEWCOMER), accept(second, token, CUSTOMER), return_exceptions=True
        )
    joined = [result for result in results if isinstance(result, staff.StaffEntry)]
    refused = [result for result in results if not isinstance(result, staff.StaffEntry)]
    assert len(joined) == 1 and len(refused) == 1 and isinstance(refused[0], staff.InviteUsed)
    async with sessions() as session:
        rows = (await session.scalars(select(StaffMember))).all()
        used_by = await session.scalar(select(StaffInvite.used_by))
    assert [row.telegram_id for row in rows] == [joined[0].telegram_id] == [used_by]
    assert [action for action, _, _ in await audit_log(sessions)].count("staff.join") == 1


async def test_an_owner_changes_roles_and_removes_with_audit(session: AsyncSession, sessions: Sessions) -> None:
    await hire(sessions, CASHIER, Role.CASHIER, name="Reza")
    changed = await staff.change_role(session, CASHIER, Role.MANAGER, by(OWNER, 5), owner_ids=OWNERS)
    assert changed == staff.StaffEntry(CASHIER, Role.MANAGER, "Reza")
    assert await staff.role_of(session, CASHIER, OWNERS) is Role.MANAGER
    removed = await staff.remove(session, CASHIER, by(OWNER, 6), owner_ids=OWNERS)
    assert removed == staff.StaffEntry(CASHIER, Role.MANAGER, "Reza")
    assert await staff.role_of(session, CASHIER, OWNERS) is None
    assert await audit_log(sessions) == [
        ("staff.role", OWNER, {"after": "manager", "before": "cashier", "staff_id": CASHIER}),
        ("staff.remove", OWNER, {"name": "Reza", "role": "manager", "staff_id": CASHIER}),
    ]
    with pytest.raises(staff.NotStaff):
        await staff.remove(session, CASHIER, by(OWNER), owner_ids=OWNERS)


async def test_managers_cannot_change_the_staff(session: AsyncSession, sessions: Sessions) -> None:
    await hire(sessions, MANAGER, Role.MANAGER)
    await hire(sessions, CASHIER, Role.CASHIER)
    with pytest.raises(staff.NotOwner):
        await staff.change_role(session, CASHIER, Role.OWNER, by(MANAGER), owner_ids=OWNERS)
    with pytest.raises(staff.NotOwner):
        await staff.remove(session, CASHIER, by(MANAGER), owner_ids=OWNERS)
    assert await stored_role(sessions, CASHIER) == "cashier"
    assert await audit_log(sessions) == []


async def test_the_last_owner_can_neither_step_down_nor_leave(session: AsyncSession, sessions: Sessions) -> None:
    await hire(sessions, OTHER_OWNER, Role.OWNER)
    no_settings: frozenset[int] = frozenset()
    with pytest.raises(staff.LastOwner):
        await staff.change_role(session, OTHER_OWNER, Role.MANAGER, by(OTHER_OWNER), owner_ids=no_settings)
    with pytest.raises(staff.LastOwner):
        await staff.remove(session, OTHER_OWNER, by(OTHER_OWNER), owner_ids=no_settings)
    assert await stored_role(sessions, OTHER_OWNER) == "owner"
    # with an owner in OWNER_IDS the stored owner is not the last one
    await staff.remove(session, OTHER_OWNER, by(OTHER_OWNER), owner_ids=OWNERS)
    assert await stored_role(sessions, OTHER_OWNER) is None


async def test_two_last_owners_stepping_down_at_once_leave_one_owner(sessions: Sessions) -> None:
    await hire(sessions, OTHER_OWNER, Role.OWNER)
    await hire(sessions, MANAGER, Role.OWNER)

    async def step_down(session: AsyncSession, telegram_id: int) -> staff.StaffEntry:
        return await staff.change_role(session, telegram_id, Role.CASHIER, by(telegram_id), owner_ids=())

    async with sessions() as first, sessions() as second:
        results = await asyncio.gather(
            step_down(first, OTHER_OWNER), step_down(second, MANAGER), return_exceptions=True
        )
    assert sorted(type(result).__name__ for result in results) == ["LastOwner", "StaffEntry"]
    assert sorted([await stored_role(sessions, OTHER_OWNER), await stored_role(sessions, MANAGER)]) == [
        "cashier",
        "owner",
    ]


async def test_owners_from_the_settings_cannot_be_changed_in_chat(session: AsyncSession, sessions: Sessions) -> None:
    await hire(sessions, OTHER_OWNER, Role.OWNER)
    with pytest.raises(staff.ConfiguredOwner):
        await staff.remove(session, OWNER, by(OTHER_OWNER), owner_ids=OWNERS)
    with pytest.raises(staff.ConfiguredOwner):
        await staff.change_role(session, OWNER, Role.CASHIER, by(OWNER), owner_ids=OWNERS)


async def test_the_list_has_settings_owners_first_then_managers_then_cashiers(
    session: AsyncSession, sessions: Sessions
) -> None:
    await hire(sessions, CASHIER, Role.CASHIER, name="Cyrus")
    await hire(sessions, MANAGER, Role.MANAGER, name="Mina")
    await hire(sessions, OTHER_OWNER, Role.OWNER, name="Omid")
    assert await staff.list_staff(session, OWNERS) == [
        staff.StaffEntry(OWNER, Role.OWNER, "", configured=True),
        staff.StaffEntry(OTHER_OWNER, Role.OWNER, "Omid"),
        staff.StaffEntry(MANAGER, Role.MANAGER, "Mina"),
        staff.StaffEntry(CASHIER, Role.CASHIER, "Cyrus"),
    ]


# Invites live no longer than their maker's right to make them


async def pending_count(sessions: Sessions) -> int:
    async with sessions() as session:
        return len(await staff.pending_invites(session, OWNERS, NOW))


async def revocations(sessions: Sessions) -> list[tuple[int | None, str]]:
    """The invite revocations in the audit log: who revoked and why."""
    return [
        (actor, details["reason"])
        for action, actor, details in await audit_log(sessions)
        if action == "staff.invite_revoke"
    ]


async def test_an_invite_dies_when_its_maker_is_removed(session: AsyncSession, sessions: Sessions) -> None:
    await hire(sessions, OTHER_OWNER, Role.OWNER)
    token = await invite(session, Role.MANAGER, actor_id=OTHER_OWNER)
    await staff.remove(session, OTHER_OWNER, by(OWNER, 9), owner_ids=OWNERS)

    with pytest.raises(staff.InviteRevoked):
        await accept(session, token, NEWCOMER)

    assert await stored_role(sessions, NEWCOMER) is None and await pending_count(sessions) == 0
    assert await revocations(sessions) == [(OWNER, "maker_removed")]


async def test_an_invite_dies_when_its_maker_steps_down_and_stays_dead_after_a_promotion(
    session: AsyncSession, sessions: Sessions
) -> None:
    await hire(sessions, OTHER_OWNER, Role.OWNER)
    token = await invite(session, Role.CASHIER, actor_id=OTHER_OWNER)
    for role in (Role.MANAGER, Role.OWNER):
        await staff.change_role(session, OTHER_OWNER, role, by(OWNER), owner_ids=OWNERS)

    with pytest.raises(staff.InviteRevoked):
        await accept(session, token, NEWCOMER)

    assert await stored_role(sessions, NEWCOMER) is None
    assert await revocations(sessions) == [(OWNER, "maker_demoted")]


async def test_an_invite_is_checked_against_its_makers_role_when_opened(
    session: AsyncSession, sessions: Sessions
) -> None:
    await hire(sessions, OTHER_OWNER, Role.OWNER)
    by_stored_owner = await invite(session, Role.MANAGER, actor_id=OTHER_OWNER)
    by_configured_owner = await invite(session, Role.CASHIER)
    async with sessions() as other, write_transaction(other):  # a role changed without the staff menu
        await other.execute(update(StaffMember).where(StaffMember.telegram_id == OTHER_OWNER).values(role="cashier"))

    with pytest.raises(staff.InviteRevoked):  # a cashier cannot have made a manager
        await accept(session, by_stored_owner, NEWCOMER)
    with pytest.raises(staff.InviteRevoked):  # an owner taken out of OWNER_IDS
        await accept(session, by_configured_owner, NEWCOMER, owner_ids=frozenset())

    assert await stored_role(sessions, NEWCOMER) is None
    await accept(session, by_configured_owner, NEWCOMER)  # OWNER is an owner by the settings again
    assert await stored_role(sessions, NEWCOMER) == "cashier"


async def test_an_owner_lists_the_pending_invites_and_revokes_one_with_audit(
    session: AsyncSession, sessions: Sessions
) -> None:
    await hire(sessions, OTHER_OWNER, Role.OWNER, name="Omid")
    await hire(sessions, MANAGER, Role.MANAGER)
    cashier_link = await invite(session, Role.CASHIER)
    manager_link = await invite(session, Role.MANAGER, actor_id=OTHER_OWNER, now=NOW + timedelta(hours=1))
    await accept(session, await invite(session), CUSTOMER)  # used
    await invite(session, now=NOW - timedelta(hours=25))  # expired

    pending = await staff.pending_invites(session, OWNERS, NOW + timedelta(hours=2))

    assert [(item.role, item.created_by, item.maker_name) for item in pending] == [
        (Role.CASHIER, OWNER, ""),
        (Role.MANAGER, OTHER_OWNER, "Omid"),
    ]
    assert pending[0].expires_at == NOW + timedelta(hours=24)
    with pytest.raises(staff.NotOwner):
        await staff.revoke_invite(session, pending[0].id, by(MANAGER), owner_ids=OWNERS)
    revoked = await staff.revoke_invite(session, pending[0].id, by(OTHER_OWNER, 12), owner_ids=OWNERS)
    assert revoked.role is Role.CASHIER
    with pytest.raises(staff.InviteNotPending):
        await staff.revoke_invite(session, pending[0].id, by(OWNER), owner_ids=OWNERS)
    with pytest.raises(staff.InviteRevoked):
        await accept(session, cashier_link, NEWCOMER)
    await accept(session, manager_link, NEWCOMER)
    assert await stored_role(sessions, NEWCOMER) == "manager"
    assert await revocations(sessions) == [(OTHER_OWNER, "revoked")]
    [entry] = [details for action, _, details in await audit_log(sessions) if action == "staff.invite_revoke"]
    assert entry == {"invite_id": pending[0].id, "role": "cashier", "invited_by": OWNER, "reason": "revoked"}


# Through the dispatcher


async def invite_link(owner: Chat, role: Role = Role.CASHIER) -> str:
    [menu] = await owner.say("/staff")
    assert f"stf:invite:{role}:0" in menu.callback_data()
    link_message, _ = await owner.press(f"stf:invite:{role}:0")
    found = LINK.search(link_message.text)
    assert found, link_message.text
    return found.group(1)


async def test_an_owner_invites_a_cashier_who_joins_by_the_link(chat_with: MakeChat, sessions: Sessions) -> None:
    owner = owner_chat(chat_with)
    [menu] = await owner.say("/staff")
    assert menu.buttons() == [
        "➕ Invite a cashier",
        "➕ Invite a manager",
        "➕ Invite an owner",
        "📋 Staff list",
        "📨 Pending invites",
    ]
    payload = await invite_link(owner)

    newcomer = chat_with(NEWCOMER, first_name="Ali", language_code="en")
    [welcome] = await newcomer.say(f"/start {payload}")
    assert "Welcome to the team, Ali! Your role: cashier." in welcome.text
    assert "/earn" in welcome.text and "/adjust" not in welcome.text and "/staff" not in welcome.text
    assert await stored_role(sessions, NEWCOMER) == "cashier"
    [usage] = await newcomer.say("/earn")  # a staff member need not be a club member
    assert "Record a purchase like this" in usage.text

    [refused] = await chat_with(CUSTOMER, language_code="en").say(f"/start {payload}")
    assert "already been used" in refused.text
    assert await stored_role(sessions, CUSTOMER) is None
    actions = [action for action, _, _ in await audit_log(sessions)]
    assert actions == ["staff.invite", "staff.join"]


async def test_a_member_joins_the_staff_in_persian_and_stays_a_member(chat_with: MakeChat, sessions: Sessions) -> None:
    payload = await invite_link(owner_chat(chat_with), Role.MANAGER)
    member = chat_with(CUSTOMER, first_name="Sara", language_code="fa")
    await member.join()
    [welcome] = await member.say(f"/start {payload}")
    assert "نقش شما: مدیر" in welcome.text and "/adjust" in welcome.text
    assert await stored_role(sessions, CUSTOMER) == "manager"
    [balance] = await member.say("/balance")
    assert "امتیاز: ۱۰۰" in balance.text


async def test_an_expired_link_is_refused(chat_with: MakeChat, sessions: Sessions) -> None:
    async with sessions() as session:
        token = await invite(session, now=NOW - timedelta(hours=25))
    [refused] = await chat_with(NEWCOMER, language_code="en").say(f"/start staff_{token}")
    assert "has expired" in refused.text
    assert await stored_role(sessions, NEWCOMER) is None


async def test_a_made_up_staff_payload_is_an_ordinary_start(chat_with: MakeChat, sessions: Sessions) -> None:
    async with sessions() as session:
        token = await invite(session)
    plain = texts(await chat_with(CUSTOMER, language_code="en").say("/start"))
    forged = texts(await chat_with(NEWCOMER, language_code="en").say(f"/start staff_{token[:-2]}"))
    assert forged == plain and "Welcome to the customer club of our shop" in forged[0]
    member = chat_with(MANAGER, language_code="en")
    await member.join(phone="09351112233")
    assert texts(await member.say("/start staff_nothing")) == texts(await member.say("/start"))
    assert await stored_role(sessions, NEWCOMER) is None and await stored_role(sessions, MANAGER) is None


async def test_customers_and_lower_staff_get_the_unknown_command_answer(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    customer = chat_with(CUSTOMER, language_code="en")
    await customer.join()
    unknown = texts(await customer.say("/foo"))
    assert texts(await customer.say("/staff")) == unknown
    assert texts(await customer.press("stf:list::0")) == texts(await customer.press("nothing"))

    await hire(sessions, MANAGER, Role.MANAGER)
    manager = chat_with(MANAGER, language_code="en")
    await manager.join(phone="09351112233")
    assert texts(await manager.say("/staff")) == ["Only an owner can use /staff."]
    await hire(sessions, CASHIER, Role.CASHIER)
    cashier = chat_with(CASHIER, language_code="en")  # not a member
    assert texts(await cashier.say("/staff")) == ["Only an owner can use /staff."]
    assert texts(await cashier.press(f"stf:removed::{MANAGER}")) == texts(await cashier.press("nothing"))
    assert await stored_role(sessions, MANAGER) == "manager"
    assert await audit_log(sessions) == []


async def test_an_owner_lists_changes_a_role_and_removes_after_confirming(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await hire(sessions, CASHIER, Role.CASHIER, name="Reza")
    owner = owner_chat(chat_with)
    listed, _ = await owner.press("stf:list::0")
    assert listed.name == "EditMessageText"
    assert "• 1 — owner (set in the settings)" in listed.text and "• Reza — cashier" in listed.text
    assert listed.callback_data() == [f"stf:person::{CASHIER}"]

    person, _ = await owner.press(f"stf:person::{CASHIER}")
    assert "Role: cashier" in person.text
    assert person.buttons() == ["Make manager", "Make owner", "🗑 Remove from the staff", "↩️ Back to the list"]
    changed, toast = await owner.press(f"stf:role:manager:{CASHIER}")
    assert "Role: manager" in changed.text and toast.text == "Reza is now manager."
    assert await stored_role(sessions, CASHIER) == "manager"

    confirm, _ = await owner.press(f"stf:remove::{CASHIER}")
    assert "Remove Reza (manager) from the staff?" in confirm.text
    assert await stored_role(sessions, CASHIER) == "manager"  # asking removes nobody
    after, toast = await owner.press(confirm.callback_data()[0])
    assert "Reza" not in after.text and toast.text == "Reza is no longer on the staff."
    assert await stored_role(sessions, CASHIER) is None
    assert [action for action, _, _ in await audit_log(sessions)] == ["staff.role", "staff.remove"]


async def test_the_last_owner_is_told_to_add_another_first(
    settings: Settings, sessions: Sessions, stubbed: tuple[Bot, RecordingSession]
) -> None:
    dispatcher = create_dispatcher(settings.model_copy(update={"owner_ids": ()}), sessions, clock=lambda: NOW)
    await hire(sessions, OTHER_OWNER, Role.OWNER, name="Omid")
    owner = Chat(dispatcher, *stubbed, OTHER_OWNER, language_code="en")
    [alert] = await owner.press(f"stf:role:cashier:{OTHER_OWNER}")
    assert "only owner" in alert.text
    [alert] = await owner.press(f"stf:removed::{OTHER_OWNER}")
    assert "only owner" in alert.text
    assert await stored_role(sessions, OTHER_OWNER) == "owner"
    assert await audit_log(sessions) == []


async def test_an_owner_sees_the_pending_invites_and_withdraws_one_by_its_button(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    owner = owner_chat(chat_with)
    payload = await invite_link(owner, Role.MANAGER)
    [menu] = await owner.say("/staff")
    assert "📨 Pending invites" in menu.buttons()

    listed, _ = await owner.press("stf:invites::0")

    assert (
        "Pending invites (1)" in listed.text and "1. manager — made by 1, valid until 23 Nov 2026, 12:30" in listed.text
    )
    assert listed.buttons() == ["🗑 Withdraw invite 1 (manager)", "📋 Staff list"]
    after, toast = await owner.press(listed.callback_data()[0])
    assert "No pending invites" in after.text and "withdrawn" in toast.text
    [refused] = await chat_with(NEWCOMER, language_code="en").say(f"/start {payload}")
    assert "has been withdrawn" in refused.text and await stored_role(sessions, NEWCOMER) is None
    [again] = await owner.press(listed.callback_data()[0])
    assert again.name == "AnswerCallbackQuery" and "no longer pending" in again.text
    assert [action for action, _, _ in await audit_log(sessions)] == ["staff.invite", "staff.invite_revoke"]


async def test_a_link_made_by_an_owner_who_was_removed_is_refused_in_persian(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await hire(sessions, OTHER_OWNER, Role.OWNER, name="Omid")
    payload = await invite_link(chat_with(OTHER_OWNER, language_code="en"))
    await owner_chat(chat_with).press(f"stf:removed::{OTHER_OWNER}")

    [refused] = await chat_with(NEWCOMER, language_code="fa").say(f"/start {payload}")

    assert "پس گرفته شده" in refused.text and await stored_role(sessions, NEWCOMER) is None


async def test_only_owners_reach_the_pending_invites(chat_with: MakeChat, sessions: Sessions) -> None:
    await hire(sessions, MANAGER, Role.MANAGER)
    manager = chat_with(MANAGER, language_code="en")
    assert texts(await manager.press("stf:invites::0")) == texts(await manager.press("nothing"))
    assert texts(await manager.press("sti:1")) == texts(await manager.press("nothing"))


# The command menu in a staff member's own chat

CASHIER_MENU = ["earn", "member", "redeem", *menus.CUSTOMER_COMMANDS]
MANAGER_MENU = ["earn", "member", "redeem", "adjust", "undo", "catalog", "gift", "campaign", "stats", "report"]
MANAGER_MENU += ["digest", "export", "block", "unblock", "phone", *menus.CUSTOMER_COMMANDS]
OWNER_MENU = [*MANAGER_MENU[:15], "staff", "settings", "import", *menus.CUSTOMER_COMMANDS]


def chat_menus(requests: list[TelegramMethod[Any]], chat_id: int) -> dict[str | None, dict[str, str]]:
    """The menus set for one chat's own scope, by language code, as the Bot API would hold them now."""
    menus: dict[str | None, dict[str, str]] = {}
    for method in requests:
        if not isinstance(method, SetMyCommands | DeleteMyCommands):
            continue
        if not isinstance(method.scope, BotCommandScopeChat) or method.scope.chat_id != chat_id:
            continue
        if isinstance(method, SetMyCommands):
            menus[method.language_code] = {command.command: command.description for command in method.commands}
        else:
            menus.pop(method.language_code, None)
    return menus


def names(menus: dict[str | None, dict[str, str]]) -> dict[str | None, list[str]]:
    return {language: list(menu) for language, menu in menus.items()}


def refuse_menus(monkeypatch: pytest.MonkeyPatch, session: RecordingSession, chat_ids: Collection[int]) -> None:
    """Make the stub Bot API refuse setMyCommands and deleteMyCommands for these chats, as for a chat not found."""
    answer = session.make_request

    async def make_request(bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        scope = getattr(method, "scope", None)
        if isinstance(method, SetMyCommands | DeleteMyCommands) and getattr(scope, "chat_id", None) in chat_ids:
            raise TelegramBadRequest(method=method, message="Bad Request: chat not found")
        return await answer(bot, method, timeout)

    monkeypatch.setattr(session, "make_request", make_request)


async def test_an_invited_cashier_gets_the_cashier_menu_in_both_languages_and_customers_none(
    chat_with: MakeChat, stubbed: tuple[Bot, RecordingSession]
) -> None:
    _, recorded = stubbed
    payload = await invite_link(owner_chat(chat_with))
    customer = chat_with(CUSTOMER, language_code="en")
    await customer.join()
    newcomer = chat_with(NEWCOMER, first_name="Ali", language_code="en")
    await newcomer.say(f"/start {payload}")
    await customer.say(f"/start {payload}")  # refused: the link is used

    menus = chat_menus(recorded.requests, NEWCOMER)
    assert names(menus) == {"fa": CASHIER_MENU, "en": CASHIER_MENU, None: CASHIER_MENU}
    assert menus["en"]["earn"] == "Record a purchase" and menus["en"]["balance"] == "My points and tier"
    assert menus["fa"]["earn"] == "ثبت خرید" and menus["fa"]["balance"] == "امتیاز و سطح من"
    assert menus[None] == menus["fa"]  # any other language: the shop's, Persian
    assert chat_menus(recorded.requests, CUSTOMER) == {}


async def test_a_promotion_updates_the_menu_and_a_removal_deletes_it(
    chat_with: MakeChat, sessions: Sessions, stubbed: tuple[Bot, RecordingSession]
) -> None:
    _, recorded = stubbed
    await hire(sessions, CASHIER, Role.CASHIER, name="Reza")
    owner = owner_chat(chat_with)
    await owner.press(f"stf:role:manager:{CASHIER}")
    assert names(chat_menus(recorded.requests, CASHIER)) == {"fa": MANAGER_MENU, "en": MANAGER_MENU, None: MANAGER_MENU}
    await owner.press(f"stf:role:owner:{CASHIER}")
    assert names(chat_menus(recorded.requests, CASHIER))["en"] == OWNER_MENU

    await owner.press(f"stf:removed::{CASHIER}")
    assert chat_menus(recorded.requests, CASHIER) == {}
    deleted = [method for method in recorded.requests if isinstance(method, DeleteMyCommands)]
    assert sorted((method.language_code or "", method.scope) for method in deleted) == [
        ("", BotCommandScopeChat(chat_id=CASHIER)),
        ("en", BotCommandScopeChat(chat_id=CASHIER)),
        ("fa", BotCommandScopeChat(chat_id=CASHIER)),
    ]
    assert chat_menus(recorded.requests, OWNER) == {}  # the owner's own menu is left alone


async def test_a_refused_menu_never_stops_joining_or_removal(
    chat_with: MakeChat,
    sessions: Sessions,
    stubbed: tuple[Bot, RecordingSession],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner = owner_chat(chat_with)
    payload = await invite_link(owner)
    refuse_menus(monkeypatch, stubbed[1], {NEWCOMER})
    with caplog.at_level(logging.WARNING, logger="handlers.menus"):
        [welcome] = await chat_with(NEWCOMER, first_name="Ali", language_code="en").say(f"/start {payload}")
        assert "Welcome to the team, Ali!" in welcome.text
        assert await stored_role(sessions, NEWCOMER) == "cashier"
        _, toast = await owner.press(f"stf:removed::{NEWCOMER}")
        assert toast.text == "Ali is no longer on the staff."
    assert await stored_role(sessions, NEWCOMER) is None
    assert "Could not set the cashier command menu of 5" in caplog.text
    assert "Could not delete the staff command menu of 5" in caplog.text


async def test_at_start_up_every_staff_member_gets_their_menu(
    sessions: Sessions, stubbed: tuple[Bot, RecordingSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    bot, recorded = stubbed
    await hire(sessions, CASHIER, Role.CASHIER)
    await hire(sessions, MANAGER, Role.MANAGER)
    await hire(sessions, OTHER_OWNER, Role.OWNER)
    refuse_menus(monkeypatch, recorded, {OTHER_OWNER})  # one refusal skips only that person

    await menus.register_staff_commands(bot, create_i18n("fa"), sessions, OWNERS)

    expected = {OWNER: OWNER_MENU, OTHER_OWNER: None, MANAGER: MANAGER_MENU, CASHIER: CASHIER_MENU, CUSTOMER: None}
    for telegram_id, menu in expected.items():
        wanted = {"fa": menu, "en": menu, None: menu} if menu else {}
        assert names(chat_menus(recorded.requests, telegram_id)) == wanted, telegram_id


def roles_in(filters: list[Any] | None) -> list[Role]:
    return [item.callback.minimum for item in filters or [] if isinstance(item.callback, HasRole)]


def routers(router: Router, above: list[Role]) -> list[tuple[Router, list[Role]]]:
    """Every router under `router` with the roles its own and its parents' filters ask for."""
    roles = above + roles_in(router.message._handler.filters)
    return [(router, roles), *(inner for sub in router.sub_routers for inner in routers(sub, roles))]


def guarded_commands(dispatcher: Dispatcher) -> dict[str, Role]:
    """Every command a HasRole filter guards in the real routers (on its router or its handler), with the lowest role
    that passes it."""
    found: dict[str, Role] = {}
    for router, guards in routers(dispatcher, []):
        for handler in router.message.handlers:
            roles = guards + roles_in(handler.filters)
            named = [
                name
                for item in handler.filters or []
                if isinstance(item.callback, Command)
                for name in item.callback.commands
            ]
            for name in named:
                if roles and isinstance(name, str) and name not in menus.CUSTOMER_COMMANDS:
                    found[name] = min(
                        [max(roles, key=lambda role: role.rank), found.get(name, Role.OWNER)],
                        key=lambda role: role.rank,
                    )
    return found


def test_the_menu_has_the_commands_the_routers_let_each_role_use(dispatcher: Dispatcher) -> None:
    by_role = {name: role for role, table in menus.STAFF_COMMANDS.items() for name in table}
    assert guarded_commands(dispatcher) == by_role


@pytest.mark.parametrize("language", ["fa", "en"])
@pytest.mark.parametrize("role", list(Role))
def test_help_names_the_commands_of_the_menu(role: Role, language: str) -> None:
    with create_i18n(language).context() as i18n, i18n.use_locale(language):
        named = re.findall(r"/([a-z]+)", "\n".join(role_help(role)))
    assert sorted(set(named)) == sorted(menus.staff_command_names(role))


async def test_a_staff_command_above_ones_role_names_the_lowest_role_that_may_use_it(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await hire(sessions, CASHIER, Role.CASHIER)
    cashier = chat_with(CASHIER, language_code="en")  # not a member: never asked to join for a staff command
    assert texts(await cashier.say("/settings")) == ["Only an owner can use /settings."]
    assert texts(await cashier.say("/campaign@loyalty_test_bot")) == ["Only a manager or an owner can use /campaign."]
    persian = chat_with(CASHIER, language_code="fa")
    assert texts(await persian.say("/campaign")) == ["فقط مدیر یا مالک می‌تواند از /campaign استفاده کند."]
    customer = chat_with(CUSTOMER, language_code="en")
    await customer.join()
    assert texts(await customer.say("/settings")) == texts(await customer.say("/foo"))


async def test_cancel_ends_any_prompt_and_says_when_there_is_none(chat_with: MakeChat, sessions: Sessions) -> None:
    await hire(sessions, CASHIER, Role.CASHIER)
    cashier = chat_with(CASHIER, language_code="en")  # not a member
    assert texts(await cashier.say("/cancel")) == ["There is nothing to cancel."]
    await cashier.say("/redeem")
    assert texts(await cashier.say("/cancel")) == ["Cancelled."]
    assert texts(await cashier.say("/cancel")) == ["There is nothing to cancel."]
    member = chat_with(CUSTOMER, language_code="en")
    await member.join()
    await member.press(ProfileEdit(field="name").pack())
    assert texts(await member.say("/cancel")) == ["Cancelled."]
    assert texts(await member.say("/cancel")) == ["There is nothing to cancel."]


async def test_a_staff_member_who_is_not_a_member_chooses_a_language(chat_with: MakeChat, sessions: Sessions) -> None:
    await hire(sessions, CASHIER, Role.CASHIER)
    cashier = chat_with(CASHIER, language_code="fa")  # not a member
    [offer] = await cashier.say("/language")
    assert LanguageChoice(code="en").pack() in offer.callback_data()
    assert "Language changed to English." in texts(await cashier.press(LanguageChoice(code="en").pack()))
    assert texts(await cashier.say("/settings")) == ["Only an owner can use /settings."]


# The staff's own /start: the owner's checklist, and a welcome for staff who are not members


def checklist_marks(text: str) -> list[str]:
    """The ✅ or ⬜ of each step of the checklist, in order."""
    return [line[0] for line in text.split("\n\n") if line[:1] in ("✅", "⬜")]


async def test_an_owners_first_start_shows_the_checklist_not_the_customer_welcome(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    [checklist] = await owner_chat(chat_with).say("/start")
    assert "Five steps get it ready" in checklist.text and "Welcome to the customer club" not in checklist.text
    assert not checklist.requests_contact()
    assert checklist_marks(checklist.text) == ["⬜"] * 5
    assert checklist.buttons() == [
        "🏪 Shop profile",
        "⚙️ Earning rules",
        "🎁 Add a first reward",
        "➕ Invite a cashier",
        "🙋 Join the club as a customer",
    ]
    assert checklist.callback_data() == ["onb:profile", "onb:rules", "onb:reward", "onb:cashier", "onb:join"]
    [persian] = await owner_chat(chat_with, "fa").say("/start")
    assert (
        "با این پنج قدم باشگاه آماده می‌شود" in persian.text and "🙋 عضویت در باشگاه به‌عنوان مشتری" in persian.buttons()
    )


async def test_the_checklist_ticks_each_step_done_and_goes_once_all_are(
    chat_with: MakeChat, sessions: Sessions, settings: Settings
) -> None:
    owner = owner_chat(chat_with)
    async with sessions() as session, write_transaction(session):
        await rules.change(
            session, club_of(settings).rules, "amount_per_point", 5000, actor_id=OWNER, now=NOW, update_id=1
        )
    async with sessions() as session:
        await rewards.add_reward(session, RewardDraft("Coffee", 60, 30, Worth(Kind.ITEM)), by(OWNER))
    [checklist] = await owner.say("/start")
    assert checklist_marks(checklist.text) == ["⬜", "✅", "✅", "⬜", "⬜"]
    await hire(sessions, CASHIER, Role.CASHIER)
    await owner.join(phone="09121112233")
    checklist, welcome = await owner.say("/start")  # a member: the checklist, then the member's welcome back
    assert checklist_marks(checklist.text) == ["⬜", "✅", "✅", "✅", "✅"]
    assert "🙋 Join the club as a customer" not in checklist.buttons()
    assert "Welcome back, Owner" in welcome.text
    async with sessions() as session:
        session.add(ClubSetting(key=SHOP_KEY, value="{}", updated_by=OWNER, updated_at=NOW))
        await session.commit()
    assert texts(await owner.say("/start")) == [welcome.text]  # all done: a member's /start only


async def test_the_checklist_buttons_open_settings_a_new_reward_an_invite_and_joining(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    owner = owner_chat(chat_with)
    await owner.say("/start")
    [settings_menu] = await owner.say("/settings")
    rules, _ = await owner.press("onb:rules")
    assert rules.text == settings_menu.text and rules.callback_data() == settings_menu.callback_data()
    shop_section, _ = await owner.press(settings_menu.callback_data()[-1])
    profile, _ = await owner.press("onb:profile")
    assert profile.text == shop_section.text and profile.callback_data() == shop_section.callback_data()
    [question, _] = await owner.press("onb:reward")
    [catalog] = await owner.say("/catalog")
    new_reward, _ = await owner.press(catalog.callback_data()[-1])
    assert question.text == new_reward.text
    link_message, _ = await owner.press("onb:cashier")
    found = LINK.search(link_message.text)
    assert found and "Send this link to the new cashier" in link_message.text
    [ask_phone, _] = await owner.press("onb:join")
    assert ask_phone.requests_contact()
    await owner.share_contact("09121112233")
    await owner.say("Owner")
    for _ in range(3):
        joined = await owner.say("Skip")
    assert "Welcome to the club, Owner" in joined[0].text


@pytest.mark.parametrize("role", [Role.CASHIER, Role.MANAGER])
async def test_staff_who_are_not_members_are_welcomed_with_their_commands(
    chat_with: MakeChat, sessions: Sessions, role: Role
) -> None:
    await hire(sessions, CASHIER, role)
    cashier = chat_with(CASHIER, language_code="en")
    [welcome] = await cashier.say("/start")
    assert "You're on the shop's team" in welcome.text and "/earn" in welcome.text
    assert ("/adjust" in welcome.text) is (role is Role.MANAGER) and "/staff" not in welcome.text
    assert not welcome.requests_contact() and welcome.callback_data() == ["onb:join"]
    [ask_phone, _] = await cashier.press("onb:join")
    assert ask_phone.requests_contact()


async def test_staff_who_are_members_get_the_members_start(chat_with: MakeChat, sessions: Sessions) -> None:
    await hire(sessions, CASHIER, Role.CASHIER)
    cashier = chat_with(CASHIER, first_name="Ali", language_code="en")
    await cashier.join(phone="09121112233")
    [welcome] = await cashier.say("/start")
    assert "Welcome back, Ali" in welcome.text
    assert texts(await cashier.press("onb:join")) == ["This button is no longer active. Please use the menu."]


async def test_the_owners_are_told_when_a_staff_invite_is_used(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    await hire(sessions, OTHER_OWNER, Role.OWNER, name="Reza")
    other = chat_with(OTHER_OWNER, first_name="Reza", language_code="en")
    await other.join(phone="09121112233")  # a member who reads English
    payload = await invite_link(owner_chat(chat_with))
    await chat_with(NEWCOMER, first_name="Sara", language_code="en").say(f"/start {payload}")
    notices = await delivered()
    assert texts(to(notices, OTHER_OWNER)) == ["👥 Sara joined your team as cashier."]
    assert texts(to(notices, OWNER)) == [
        "👥 Sara با نقش صندوق‌دار به تیم شما پیوست."
    ]  # not a member: the shop's language
    assert to(notices, NEWCOMER) == []
    await chat_with(NEWCOMER, first_name="Sara", language_code="en").say(f"/start {payload}")
    assert await delivered() == []
