"""The bare aiogram bot `bench.e2e` measures the product against: one handler answering /balance with a fixed text.

    python -m bench.bare_bot API_URL TOKEN

It polls the Bot API at API_URL as the product does (long polling, aiogram's defaults) and logs as `loyalty-bot`
does (INFO, to standard error); SIGTERM stops it. It imports nothing of the product, so its memory is aiogram's.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command
from aiogram.types import Message

POLLING_TIMEOUT = 10  # seconds a getUpdates waits, as the product's
TEXT = "Your balance: 20 points."


async def answer_balance(message: Message) -> None:
    """The bot's only handler."""
    await message.answer(TEXT)


async def run(api_url: str, token: str) -> None:
    """Poll `api_url` and answer /balance until stopped."""
    dispatcher = Dispatcher()
    dispatcher.message.register(answer_balance, Command("balance"))
    bot = Bot(token=token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_url)))
    await dispatcher.start_polling(bot, polling_timeout=POLLING_TIMEOUT)


def main() -> None:
    api_url, token = sys.argv[1:3]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run(api_url, token))


if __name__ == "__main__":
    main()
