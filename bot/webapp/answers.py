"""The Mini App's answers: JSON, and every refusal or failure as JSON too, `{"error": key, "message": text}` in the
asker's language (`Refusal`); nothing else reaches the page (an unexpected error is logged and answered with the
chat's apology, 500)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiohttp import web

from bot.webapp.auth import Unauthorized
from bot.webapp.context import WEBAPP

logger = logging.getLogger(__name__)

LANGUAGE = web.RequestKey("language", str)  # the language a request is answered in, once the asker is known
UNAUTHORIZED = {"missing": "webapp.unauthorized", "forged": "webapp.unauthorized", "stale": "webapp.expired"}
HTTP_ERRORS = {400: "webapp.bad_request", 404: "webapp.not_found", 405: "webapp.not_found"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refusal(Exception):
    """An answer other than the one asked for: HTTP `status`, the error's `key` (a key of the catalogs, whose text
    is the message, unless a `message` is given), and `more` fields for the page."""

    def __init__(self, status: int, key: str, *, message: str | None = None, **more: Any) -> None:
        super().__init__(key)
        self.status, self.key, self.message, self.more = status, key, message, more


def refusal_body(refusal: Refusal) -> dict[str, Any]:
    """The JSON of a refusal, its message in the current language."""
    return {"error": refusal.key, "message": refusal.message or _(refusal.key), **refusal.more}


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every route's refusal, unknown path, bad method or failure as a JSON error in the asker's language."""
    webapp = request.app[WEBAPP]
    try:
        return await handler(request)
    except Unauthorized as error:
        refusal = Refusal(401, UNAUTHORIZED[error.reason])
    except Refusal as error:
        refusal = error
    except web.HTTPException as error:
        if error.status < 400:
            raise  # a redirect
        refusal = Refusal(error.status, HTTP_ERRORS.get(error.status, "webapp.bad_request"))
    except Exception:
        logger.exception("the Mini App failed on %s %s", request.method, request.path)
        refusal = Refusal(500, "errors.unexpected")
    with webapp.i18n.context(), webapp.i18n.use_locale(request.get(LANGUAGE, webapp.i18n.default_locale)):
        return web.json_response(refusal_body(refusal), status=refusal.status)
