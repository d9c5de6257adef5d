"""Who asks: every Mini App request carries Telegram's initData (`Authorization: tma <initData>`), signed by the
messenger with the bot's token (HMAC, checked by aiogram's `safe_parse_webapp_init_data`) and fresh (signed at most
`MAX_AGE` ago); anything else is refused with 401. No other login."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram.utils.web_app import WebAppUser, safe_parse_webapp_init_data
from aiohttp import web

SCHEME = "tma"  # the Authorization scheme Mini Apps send initData under
MAX_AGE = timedelta(hours=1)  # how long a page may go on asking with the initData it was opened with
CLOCK_SKEW = timedelta(minutes=5)  # a signing moment this far ahead of our clock is still believed


class Unauthorized(Exception):
    """The request proves no one: `reason` is missing, forged or stale."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Visitor:
    """The messenger account the initData names: its id and the language its app is set to."""

    telegram_id: int
    language_code: str | None


def init_data_of(request: web.Request) -> str:
    """The initData the request carries in its Authorization header; Unauthorized("missing") without one."""
    scheme, _, init_data = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != SCHEME or not init_data.strip():
        raise Unauthorized("missing")
    return init_data.strip()


def visitor_of(token: str, init_data: str, now: datetime, max_age: timedelta = MAX_AGE) -> Visitor:
    """The account behind initData signed with `token` no longer than `max_age` before `now`; Unauthorized
    ("forged": a wrong signature or no user, "stale": signed too long ago) otherwise."""
    try:
        data = safe_parse_webapp_init_data(token, init_data)
    except ValueError:  # a wrong hash, or fields that are not what Telegram sends
        raise Unauthorized("forged") from None
    user: WebAppUser | None = data.user
    if user is None:
        raise Unauthorized("forged")
    if not now - max_age <= data.auth_date <= now + CLOCK_SKEW:
        raise Unauthorized("stale")
    return Visitor(user.id, user.language_code)
