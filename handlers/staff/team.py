"""/staff for owners (invite by one-time link, list and withdraw pending invites, list the staff, change roles,
remove) and joining the staff by such a link, of which the owners are told.

Every route here requires the owner role, except opening an invite; for anyone else the filters do not
match and the update falls through, so a customer typing /staff gets the unknown-command answer. A
/start whose payload is not a real invite falls through too, and is an ordinary /start.

Joining, a new role and removal also change the person's own command menu (handlers/menus.py); the Bot API
refusing that is logged there and never stops the change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart, Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import menus
from handlers.club import Club
from handlers.filters import ButtonId, ButtonUser, PayloadStarts, staff_only
from handlers.keyboards import ChecklistStep
from handlers.menus import role_help
from handlers.messages import alert, deep_link, notice_to_owners, show, stale, toast
from handlers.replies import name_or_id, shown_name
from loyalty import staff
from loyalty.calendar import format_moment
from loyalty.numerals import local_digits
from loyalty.onboarding import Step
from loyalty.outbox import Outgoing, notice_key
from loyalty.staff import PendingInvite, Role, StaffEntry
from loyalty.stamps import Stamp
from texts.languages import language
from texts.numbers import number

STAFF_PAYLOAD_PREFIX = "staff_"
ROLE_NAMES = {
    Role.OWNER: __("staff.role_owner"),
    Role.MANAGER: __("staff.role_manager"),
    Role.CASHIER: __("staff.role_cashier"),
}
INVITE_BUTTONS = {
    Role.CASHIER: __("button.staff_invite_cashier"),
    Role.MANAGER: __("button.staff_invite_manager"),
    Role.OWNER: __("button.staff_invite_owner"),
}


class StaffAction(CallbackData, prefix="stf"):
    """A button of the /staff menu: `action` on the person `user`, or with the role `role`."""

    action: str
    role: str = ""
    user: ButtonUser = 0


class InviteAction(CallbackData, prefix="sti"):
    """Withdraw the pending invite `invite` (a button of the pending invites)."""

    invite: ButtonId


class KnownInvite(Filter):
    """Passes /start staff_<token> only when some invite has that token (one query, only for such payloads)."""

    async def __call__(self, message: Message, command: CommandObject, session: AsyncSession) -> bool:
        return await staff.invite_known(session, invite_token(command))


def invite_token(command: CommandObject) -> str:
    """The invite token in a /start staff_<token> payload."""
    return (command.args or "").removeprefix(STAFF_PAYLOAD_PREFIX)


def role_name(role: Role) -> str:
    """A role's name in the reply's language."""
    return str(ROLE_NAMES[role])


def refusal(error: staff.StaffError) -> str:
    """The owner-facing explanation of a refused change."""
    texts = {staff.LastOwner: _("staff.last_owner"), staff.ConfiguredOwner: _("staff.configured_owner")}
    return texts.get(type(error), _("fallback.stale_button"))


def menu_keyboard() -> InlineKeyboardMarkup:
    """Invite buttons for each role, and the staff list."""
    builder = InlineKeyboardBuilder()
    for role, label in INVITE_BUTTONS.items():
        builder.button(text=str(label), callback_data=StaffAction(action="invite", role=role))
    builder.button(text=_("button.staff_list"), callback_data=StaffAction(action="list"))
    builder.button(text=_("button.staff_invites"), callback_data=StaffAction(action="invites"))
    builder.adjust(1)
    return builder.as_markup()


def invites_view(pending: list[PendingInvite], zone: ZoneInfo) -> tuple[str, InlineKeyboardMarkup]:
    """The pending invites, numbered, each with who made it and until when, and a button to withdraw it."""
    builder = InlineKeyboardBuilder()
    lines = [_("staff.invites_title").format(count=number(len(pending))) if pending else _("staff.invites_empty")]
    for place, invite in enumerate(pending, 1):
        role = role_name(invite.role)
        lines.append(
            _("staff.invite_line").format(
                number=number(place),
                role=role,
                name=name_or_id(invite.maker_name, invite.created_by),
                until=format_moment(invite.expires_at, language(), zone),
            )
        )
        label = _("button.staff_revoke_invite").format(number=number(place), role=role)
        builder.button(text=label, callback_data=InviteAction(invite=invite.id))
    builder.button(text=_("button.staff_list"), callback_data=StaffAction(action="list"))
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def list_view(entries: list[StaffEntry]) -> tuple[str, InlineKeyboardMarkup]:
    """The staff, one line each, with a button for everyone who can be changed in chat."""
    lines = [_("staff.list_title").format(count=number(len(entries)))]
    builder = InlineKeyboardBuilder()
    for entry in entries:
        line = f"• {shown_name(entry)} — {role_name(entry.role)}"
        lines.append(line + (f" ({_('staff.from_settings')})" if entry.configured else ""))
        if not entry.configured:
            label = f"{shown_name(entry)} · {role_name(entry.role)}"
            builder.button(text=label, callback_data=StaffAction(action="person", user=entry.telegram_id))
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def person_view(entry: StaffEntry) -> tuple[str, InlineKeyboardMarkup]:
    """One person: their role, buttons for the other roles, remove, and back to the list."""
    text = _("staff.person").format(
        name=shown_name(entry), role=role_name(entry.role), id=local_digits(str(entry.telegram_id), language())
    )
    builder = InlineKeyboardBuilder()
    for role in Role:
        if role is not entry.role:
            make = _("button.staff_make").format(role=role_name(role))
            builder.button(text=make, callback_data=StaffAction(action="role", role=role, user=entry.telegram_id))
    builder.button(text=_("button.staff_remove"), callback_data=StaffAction(action="remove", user=entry.telegram_id))
    builder.button(text=_("button.staff_back"), callback_data=StaffAction(action="list"))
    builder.adjust(1)
    return text, builder.as_markup()


def confirm_view(entry: StaffEntry) -> tuple[str, InlineKeyboardMarkup]:
    """Ask before removing someone."""
    text = _("staff.remove_confirm").format(name=shown_name(entry), role=role_name(entry.role))
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("button.staff_remove_yes"), callback_data=StaffAction(action="removed", user=entry.telegram_id)
    )
    builder.button(text=_("button.staff_keep"), callback_data=StaffAction(action="person", user=entry.telegram_id))
    return text, builder.as_markup()


async def staff_menu(message: Message) -> None:
    """/staff: what the owner can do with the staff."""
    await message.answer(_("staff.menu"), reply_markup=menu_keyboard())


async def invite(
    query: CallbackQuery,
    callback_data: StaffAction,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Make a one-time invite for the chosen role and send its link, to forward to the new person."""
    await send_invite(query, Role(callback_data.role), session, club, stamp, bot, callback_answer)


async def invite_cashier(
    query: CallbackQuery, session: AsyncSession, club: Club, stamp: Stamp, bot: Bot, callback_answer: CallbackAnswer
) -> None:
    """The owner's checklist (invite a cashier): a cashier's invite link, as /staff makes it."""
    await send_invite(query, Role.CASHIER, session, club, stamp, bot, callback_answer)


async def send_invite(
    query: CallbackQuery,
    role: Role,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Make a one-time invite to `role` and send its link to the owner who pressed, or alert why not."""
    try:
        token = await staff.create_invite(session, role, stamp, owner_ids=club.owner_ids)
    except staff.StaffError as error:
        alert(callback_answer, refusal(error))
        return
    link = await deep_link(bot, club, STAFF_PAYLOAD_PREFIX + token)
    hours = number(int(staff.INVITE_LIFETIME.total_seconds()) // 3600)
    text = _("staff.invite_link").format(role=role_name(role), hours=hours, link=link)
    await bot.send_message(query.from_user.id, text, disable_web_page_preview=True)


async def show_list(query: CallbackQuery, session: AsyncSession, club: Club, bot: Bot) -> None:
    """The staff list with a button per person."""
    await show(query, bot, *list_view(await staff.list_staff(session, club.owner_ids)))


async def show_invites(query: CallbackQuery, session: AsyncSession, club: Club, now: datetime, bot: Bot) -> None:
    """The pending invites, each with a button to withdraw it."""
    await show(query, bot, *invites_view(await staff.pending_invites(session, club.owner_ids, now), club.zone))


async def revoke_invite(
    query: CallbackQuery,
    callback_data: InviteAction,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Withdraw a pending invite (its link stops working) and show the pending invites left."""
    try:
        await staff.revoke_invite(session, callback_data.invite, stamp, owner_ids=club.owner_ids)
    except staff.InviteNotPending:
        alert(callback_answer, _("staff.invite_not_pending"))
        return
    except staff.StaffError as error:
        alert(callback_answer, refusal(error))
        return
    await show(query, bot, *invites_view(await staff.pending_invites(session, club.owner_ids, stamp.at), club.zone))
    toast(callback_answer, _("staff.invite_withdrawn"))


async def open_person(
    query: CallbackQuery,
    callback_data: StaffAction,
    session: AsyncSession,
    club: Club,
    bot: Bot,
    view: Callable[[StaffEntry], tuple[str, InlineKeyboardMarkup]],
    callback_answer: CallbackAnswer,
) -> None:
    """Show `view` of the person a button names, unless they left the staff (or are an OWNER_IDS owner)."""
    entry = await staff.find_staff(session, callback_data.user, club.owner_ids)
    if entry is None or entry.configured:
        stale(callback_answer)
        return
    await show(query, bot, *view(entry))


async def show_person(
    query: CallbackQuery,
    callback_data: StaffAction,
    session: AsyncSession,
    club: Club,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """One person, with role and remove buttons."""
    await open_person(query, callback_data, session, club, bot, person_view, callback_answer)


async def ask_remove(
    query: CallbackQuery,
    callback_data: StaffAction,
    session: AsyncSession,
    club: Club,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Ask the owner to confirm a removal."""
    await open_person(query, callback_data, session, club, bot, confirm_view, callback_answer)


async def change_role(
    query: CallbackQuery,
    callback_data: StaffAction,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    bot: Bot,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    """Give the person the chosen role, show them again, and give them that role's command menu."""
    try:
        entry = await staff.change_role(
            session, callback_data.user, Role(callback_data.role), stamp, owner_ids=club.owner_ids
        )
    except staff.StaffError as error:
        alert(callback_answer, refusal(error))
        return
    await show(query, bot, *person_view(entry))
    toast(callback_answer, _("staff.role_changed").format(name=shown_name(entry), role=role_name(entry.role)))
    await menus.show_staff_menu(bot, i18n, entry.telegram_id, entry.role)


async def remove(
    query: CallbackQuery,
    callback_data: StaffAction,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    bot: Bot,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    """Remove the confirmed person from the staff, show the list, and give them back the customer menu."""
    try:
        entry = await staff.remove(session, callback_data.user, stamp, owner_ids=club.owner_ids)
    except staff.StaffError as error:
        alert(callback_answer, refusal(error))
        return
    await show(query, bot, *list_view(await staff.list_staff(session, club.owner_ids)))
    toast(callback_answer, _("staff.removed").format(name=shown_name(entry)))
    await menus.hide_staff_menu(bot, i18n, entry.telegram_id)


async def join_staff(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    bot: Bot,
    i18n: I18n,
) -> None:
    """Someone opened a staff invite: they join with its role and get its command menu, or hear why not."""
    try:
        entry = await staff.accept_invite(
            session,
            invite_token(command),
            stamp,
            name=message.from_user.full_name,
            owner_ids=club.owner_ids,
            notices=partial(joined_notices, i18n),
        )
    except staff.AlreadyStaff as error:
        await message.answer(_("staff.already").format(role=role_name(error.role)))
        return
    except staff.InviteExpired:
        await message.answer(_("staff.invite_expired"))
        return
    except staff.InviteRevoked:
        await message.answer(_("staff.invite_revoked"))
        return
    except staff.StaffError:  # used, or (never in practice) unknown: the link cannot be used
        await message.answer(_("staff.invite_used"))
        return
    await message.answer(joined_text(entry))
    await menus.show_staff_menu(bot, i18n, entry.telegram_id, entry.role)


def joined_notices(i18n: I18n, hired: staff.Hired) -> list[Outgoing]:
    """Each owner's notice, in their language (the shop's if they are not a member), of who joined as what."""
    entry = hired.entry

    def text() -> str:
        return _("staff.joined_notice").format(name=shown_name(entry), role=role_name(entry.role))

    return notice_to_owners(i18n, hired.owners, partial(notice_key, "staff_join", hired.invite_id), text)


def joined_text(entry: StaffEntry) -> str:
    """The welcome of a new staff member, with the commands their role opens."""
    joined = _("staff.joined").format(name=shown_name(entry), role=role_name(entry.role))
    return "\n\n".join([joined, *role_help(entry.role)])


def create_router() -> Router:
    """Routes for owners' /staff, and for opening a staff invite (anyone, member or not)."""
    router = Router(name="staff")
    router.message.register(
        join_staff, CommandStart(deep_link=True), PayloadStarts(STAFF_PAYLOAD_PREFIX), KnownInvite()
    )
    owners = staff_only(Router(name="staff-owners"), Role.OWNER)
    router.include_router(owners)
    owners.message.register(staff_menu, Command("staff"))
    owners.callback_query.register(invite, StaffAction.filter((F.action == "invite") & F.role.in_(list(Role))))
    owners.callback_query.register(invite_cashier, ChecklistStep.filter(F.step == Step.CASHIER))
    owners.callback_query.register(show_list, StaffAction.filter(F.action == "list"))
    owners.callback_query.register(show_invites, StaffAction.filter(F.action == "invites"))
    owners.callback_query.register(revoke_invite, InviteAction.filter())
    owners.callback_query.register(show_person, StaffAction.filter(F.action == "person"))
    owners.callback_query.register(ask_remove, StaffAction.filter(F.action == "remove"))
    owners.callback_query.register(change_role, StaffAction.filter((F.action == "role") & F.role.in_(list(Role))))
    owners.callback_query.register(remove, StaffAction.filter(F.action == "removed"))
    return router
