"""Webhook mode: Telegram POSTs each update to `WEBHOOK_URL`, served by the bot's web server (`bot.web`).

- Only Telegram: every request must carry the secret token given to setWebhook (`WEBHOOK_SECRET`) in the
  X-Telegram-Bot-Api-Secret-Token header; a wrong or missing one is answered 401, logged, and never handled.
- No update lost, none handled twice. The update is answered after it is handled, not before: an update Telegram
  got no answer for is delivered again, so a process that dies while handling one loses nothing. Answering first
  and handling after would lose the update if the process died in between, unless it were first written somewhere
  durable, which is a queue of our own to run; Telegram's own queue already is one. The answer is still fast: an
  update takes milliseconds to handle (Telegram waits 60 s; aiogram's `feed_webhook_update` answers after 55 s at
  most and finishes a slower handler in the background). An update delivered again is recognised by its key and
  skipped (`bot.redelivery`); one that died halfway is handled again, and what it had already committed is keyed by
  its update key (purchases, corrections, gifts…), so it is not done twice: at worst a member sees a reply twice.
- One odd update never stops the bot (as `bot.updates` does for polling): an update that does not parse is mended
  as there, or answered 200, logged and skipped — a 500 would make Telegram deliver it again and again. A handler
  that fails is logged with its traceback and answered 200, as polling moves on from it too.
- Order and locking as in polling: the same dispatcher takes each chat's lock (`bot.isolation`) around its update.
- On start the webhook is set with the kinds of update the handlers use and pending updates kept: updates that
  came while the bot was down are delivered when it is back.

aiogram's `SimpleRequestHandler` is used for the checks and the answer, but its route is added by hand and
`setup_application` is not used: both hook the aiohttp app's shutdown to close the bot's session and the
dispatcher's state storage, which runs before aiohttp waits for the requests in hand; `bot.app` closes them after.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.updates import readable
from bot.web import AddRoutes

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookHandler(SimpleRequestHandler):
    """aiogram's request handler, answering after handling, that logs a refused secret and answers 200 to an update
    it cannot read or whose handler failed."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, secret: str) -> None:
        super().__init__(dispatcher, bot, handle_in_background=False, secret_token=secret)

    async def handle(self, request: web.Request) -> web.Response:
        """Refuse a request without the secret token (401, logged); handle anything else (see `_handle_request`)."""
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), self.bot):
            logger.warning("refused a webhook request from %s: wrong or missing secret token", request.remote)
            return web.Response(body="Unauthorized", status=401)
        return await self._handle_request(self.bot, request)

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        """Handle the update, then answer 200 (with a method to call, if the handler returned one)."""
        update = await self._readable(request)
        if update is None:
            return web.json_response({})
        try:
            result = await self.dispatcher.feed_webhook_update(bot, update, **self.data)
        except Exception:  # aiogram logged it with its traceback
            return web.json_response({})
        return web.Response(body=self._build_response_writer(bot=bot, result=result))

    async def _readable(self, request: web.Request) -> Update | None:
        """The update, mended and read (`bot.updates.readable`); None when there is nothing to handle (logged)."""
        try:
            raw = await request.json()
        except ValueError:
            logger.warning("skipping a webhook request whose body is not JSON: %.200r", await request.text())
            return None
        update = readable(raw, self.bot)
        return update if update is not None and update.model_fields_set != {"update_id"} else None


def webhook_path(url: str) -> str:
    """The path the web server serves the webhook on: the public URL's (a reverse proxy passes it on as it is)."""
    return urlsplit(url).path or "/"


def webhook_routes(handler: WebhookHandler, url: str) -> AddRoutes:
    """`add_routes` for `bot.web.create_app`: POST on the webhook's path."""

    def add_routes(app: web.Application) -> None:
        app.router.add_post(webhook_path(url), handler.handle)

    return add_routes


async def set_webhook(bot: Bot, dispatcher: Dispatcher, url: str, secret: str) -> None:
    """Point the messenger at `url` with the secret token, for the kinds of update the handlers use, keeping the
    updates that are pending."""
    await bot.set_webhook(
        url,
        secret_token=secret,
        allowed_updates=dispatcher.resolve_used_update_types(),
        drop_pending_updates=False,
    )
