"""Filters on who sent the update and what it carries, all checked in the event loop.

aiogram runs a synchronous filter (a bare magic `F` or a `State`) in a worker thread, a thread hop per
check; every filter here is async so a busy bot does not pay that on each update.
"""

from typing import Annotated

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message, TelegramObject
from magic_filter import MagicFilter
from pydantic import Field

from handlers.club import Club
from handlers.menus import required_role
from loyalty.numerals import MAX_BIGINT, MAX_ID
from loyalty.staff import Role, at_least
from storage.models import Member

# The numbers a button (CallbackData) may carry. A button's data comes back from the messenger as typed by anyone,
# so a number out of range fails the button's filter, and the press is answered as a stale button: it never
# reaches SQL, where it would overflow the column.
ButtonId = Annotated[int, Field(ge=0, le=MAX_ID)]
"""A row id, a page or a ledger entry on a button (0 for none)."""
ButtonUser = Annotated[int, Field(ge=0, le=MAX_BIGINT)]
"""A messenger account's id on a button (0 for none)."""


class IsMember(Filter):
    """Passes updates from accounts that have joined the club."""

    async def __call__(self, event: TelegramObject, member: Member | None = None) -> bool:
        return member is not None


class IsNewcomer(Filter):
    """Passes updates from accounts that have not joined yet."""

    async def __call__(self, event: TelegramObject, member: Member | None = None) -> bool:
        return member is None


class TextIs(Filter):
    """Passes a message whose text is one of the labels, translated into the current language."""

    def __init__(self, *labels: object) -> None:
        self.labels = labels

    async def __call__(self, message: Message) -> bool:
        return message.text is not None and any(message.text == str(label) for label in self.labels)


class PayloadStarts(Filter):
    """Passes /start whose deep-link payload begins with `prefix` (card_…, staff_…)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    async def __call__(self, message: Message) -> bool:
        parts = (message.text or "").split(maxsplit=1)
        return len(parts) == 2 and parts[1].startswith(self.prefix)


class InState(Filter):
    """Passes an update whose conversation is in one of these states, or in a state of one of these groups: aiogram's
    StateFilter as one set lookup (StateFilter makes an instance of each group it names every time it checks, and
    the staff's prompts are checked on every message)."""

    def __init__(self, *states: State | type[StatesGroup]) -> None:
        self.states = states
        self.names = frozenset(
            name
            for each in states
            for name in (each.__all_states_names__ if isinstance(each, type) else (each.state,))
            if name is not None
        )

    async def __call__(self, event: TelegramObject, raw_state: str | None = None) -> bool:
        return raw_state in self.names


class HasRole(Filter):
    """Passes staff whose role includes `minimum`: the `role` read with the member at the start of the update."""

    def __init__(self, minimum: Role) -> None:
        self.minimum = minimum

    async def __call__(self, event: TelegramObject, role: Role | None = None) -> bool:
        return role is not None and at_least(role, self.minimum)


class StaffCommandAbove(Filter):
    """Passes a staff member's staff command that their role does not include, giving the lowest role that may use
    it as `required` (and the command's name as `command_name`)."""

    async def __call__(self, message: Message, role: Role | None = None) -> bool | dict[str, object]:
        text = message.text or ""
        name = (text[1:].split(maxsplit=1) or [""])[0].split("@", 1)[0] if text.startswith("/") else ""
        required = required_role(name)
        if role is None or required is None or at_least(role, required):
            return False
        return {"required": required, "command_name": name}


def staff_only(router: Router, minimum: Role) -> Router:
    """The router, its messages and button presses passing only from staff whose role includes `minimum`: a staff
    feature's role is set once, on its router; a press or command from anyone else goes on to the next router."""
    role = HasRole(minimum)
    router.message.filter(role)
    router.callback_query.filter(role)
    return router


class Magic(Filter):
    """A magic filter (`F.text`, `F.contact.user_id == F.from_user.id`) checked without a thread hop."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> bool:
        return bool(self.magic.resolve(event))


class OwnContact(Filter):
    """The sender's own phone number: a contact that was not forwarded and that the messenger says is the sender's
    account.

    Telegram names the account of every contact shared with the contact button, so there a contact naming no
    account (an address-book card) or another account is refused. Bale's Bot API may leave a contact's account out
    (its own client library types `user_id` as optional), which would make joining impossible there; on such a
    server (`Club.ownerless_contacts`) a contact that names no account is taken as the sender's own. What still
    holds there: a forwarded contact, or one naming another account, is refused; the number must be free in the
    club; and Bale accounts are opened with an SMS-checked number, which its contact button shares. What is lost:
    a person could share an address-book card with someone else's number and join with it before its owner —
    who then cannot join with it until staff free it — so a shop whose Bale server names the account sets
    ACCEPT_CONTACT_WITHOUT_ID=false.
    """

    async def __call__(self, message: Message, club: Club) -> bool:
        contact = message.contact
        if contact is None or message.forward_origin is not None or message.from_user is None:
            return False
        if contact.user_id is None:
            return club.ownerless_contacts
        return contact.user_id == message.from_user.id


HAS_TEXT = Magic(F.text)
IS_COMMAND = Magic(F.text.startswith("/"))
NOT_COMMAND = Magic(~F.text.startswith("/"))
HAS_CONTACT = Magic(F.contact)
