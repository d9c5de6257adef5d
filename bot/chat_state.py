"""A chat's conversation state cleared from outside an update, for the jobs that erase a member (`Jobs.forget_chat`):
the state and its data in the FSM storage in use (memory or Redis), under the key the dispatcher gives a private
chat, by aiogram's own FSMContext.clear, as /forgetme clears it."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage, StorageKey

from loyalty.privacy import ChatForgetter


def chat_forgetter(storage: BaseStorage, bot_id: int) -> ChatForgetter:
    """Clears the conversation state of a member's private chat (their account's id) in `storage`."""

    async def forget_chat(telegram_id: int) -> None:
        await FSMContext(storage, StorageKey(bot_id=bot_id, chat_id=telegram_id, user_id=telegram_id)).clear()

    return forget_chat
