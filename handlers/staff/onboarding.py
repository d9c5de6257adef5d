"""A staff member's own /start: the owner's checklist of first steps, and a welcome to the team for other staff who
are not members of the club (never the customers' join prompt).

The owner's checklist (`loyalty.onboarding`) shows each step with ✅ when done and a button (`ChecklistStep`) that
the step's own feature answers: /settings for the shop's profile and the earning rules, the catalog's new reward,
the staff's cashier invite, and joining the club. Once every step is done the owner's /start is a member's again.
A staff member who is a member gets the member's /start (the owner's unfinished checklist comes first); a /start
with a payload (an invite, a card, a voucher) or in the middle of a conversation is left to the others.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import CommandStart, Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club
from handlers.filters import staff_only
from handlers.keyboards import ChecklistStep
from handlers.menus import role_help
from handlers.wizard import View
from loyalty import onboarding
from loyalty.onboarding import Checklist, Step
from loyalty.staff import Role
from storage.models import Member

STEPS = {
    Step.PROFILE: (__("onboarding.step_profile"), __("button.onboarding_profile")),
    Step.RULES: (__("onboarding.step_rules"), __("button.onboarding_rules")),
    Step.REWARD: (__("onboarding.step_reward"), __("button.onboarding_reward")),
    Step.CASHIER: (__("onboarding.step_cashier"), __("button.onboarding_cashier")),
    Step.JOIN: (__("onboarding.step_join"), __("button.onboarding_join")),
}
"""Each step's line in the checklist and its button's label."""
DONE, TO_DO = "✅", "⬜"


class PlainStart(Filter):
    """Passes /start without a payload, when no conversation waits for an answer (a prompt a command ended counts as
    none: the state is read now, not as the update began)."""

    async def __call__(self, message: Message, state: FSMContext) -> bool:
        parts = (message.text or "").split(maxsplit=1)
        return len(parts) == 1 and await state.get_state() is None


def join_button() -> InlineKeyboardMarkup:
    """The one button that starts joining the club as a customer."""
    builder = InlineKeyboardBuilder()
    builder.button(text=str(STEPS[Step.JOIN][1]), callback_data=ChecklistStep(step=Step.JOIN))
    return builder.as_markup()


def checklist_view(checklist: Checklist) -> View:
    """The checklist: a line per step, ✅ when done, and a button per step (but joining, once joined)."""
    lines = [_("onboarding.title")]
    builder = InlineKeyboardBuilder()
    for step, (line, label) in STEPS.items():
        done = step in checklist.done
        lines.append(f"{DONE if done else TO_DO} {line}")
        if not (done and step is Step.JOIN):
            builder.button(text=str(label), callback_data=ChecklistStep(step=step))
    lines.append(_("onboarding.footer"))
    builder.adjust(1)
    return "\n\n".join(lines), builder.as_markup()


def staff_welcome(role: Role) -> str:
    """The welcome of a staff member who is not a member: the commands of their role, and joining as an option."""
    return "\n\n".join([_("onboarding.staff_welcome"), *role_help(role), _("onboarding.staff_join")])


async def staff_start(message: Message, session: AsyncSession, club: Club, member: Member | None, role: Role) -> None:
    """/start from staff: the owner's unfinished checklist; for other staff who are not members, their welcome; then
    a member's /start as usual (SkipHandler)."""
    if role is Role.OWNER:
        checklist = await onboarding.checklist(session, message.from_user.id, club.rules)
        if not checklist.finished:
            text, markup = checklist_view(checklist)
            await message.answer(text, reply_markup=markup)
            if member is None:
                return
    elif member is None:
        await message.answer(staff_welcome(role), reply_markup=join_button())
        return
    raise SkipHandler


def create_router() -> Router:
    """The staff's own /start."""
    router = staff_only(Router(name="onboarding"), Role.CASHIER)
    router.message.register(staff_start, CommandStart(), PlainStart())
    return router
