"""Filters on who sent the update."""

from aiogram.filters import Filter
from aiogram.types import Message, TelegramObject

from storage.models import Member


class IsMember(Filter):
    """Passes updates from accounts that have joined the club."""

    async def __call__(self, event: TelegramObject, member: Member | None = None) -> bool:
        return member is not None


class IsNewcomer(Filter):
    """Passes updates from accounts that have not joined yet."""

    async def __call__(self, event: TelegramObject, member: Member | None = None) -> bool:
        return member is None


class TextIs(Filter):
    """Passes a message whose text is one of the labels, translated into the current language.

    An async filter on purpose: aiogram runs synchronous (magic) filters in a worker thread.
    """

    def __init__(self, *labels: object) -> None:
        self.labels = labels

    async def __call__(self, message: Message) -> bool:
        return message.text is not None and any(message.text == str(label) for label in self.labels)
