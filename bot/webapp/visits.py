"""One Mini App request by a known person (`Visit`): the initData checked, a database session, the account it names
(member, staff role, soonest expiry) and the texts in their language; the routes of members and of staff are views
of a visit, wrapped by `for_members` and `for_staff`, which refuse anyone else."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import supported_language
from bot.webapp.answers import LANGUAGE, Handler, Refusal
from bot.webapp.auth import Visitor, init_data_of, visitor_of
from bot.webapp.context import WEBAPP, WebApp
from loyalty.staff import Role, at_least, role_from
from loyalty.stamps import Stamp
from storage import repositories
from storage.models import Member

UPDATE_KEY_PREFIX = "webapp"  # a Mini App request's stamp: webapp:<random>, never an update's key


@dataclass(frozen=True)
class Visit:
    """A request by a known person: who (`visitor`), their account, the moment, the session and the app."""

    request: web.Request
    webapp: WebApp
    visitor: Visitor
    session: AsyncSession
    account: repositories.Account
    role: Role | None
    now: datetime

    @property
    def member(self) -> Member:
        """The visitor's member row; a visitor who is not a member is refused (403)."""
        if self.account.member is None:
            raise Refusal(403, "webapp.not_member")
        return self.account.member

    def stamp(self, key: str | None = None) -> Stamp:
        """What a change made for this request is recorded with: the visitor, at the request's moment, under the
        page's `key` for the change (the same key twice is the same change, as one update is in the chat), else a
        key of its own."""
        return Stamp(self.visitor.telegram_id, f"{UPDATE_KEY_PREFIX}:{key or uuid.uuid4().hex}", self.now)


View = Callable[[Visit], Awaitable[dict[str, Any]]]


@contextlib.asynccontextmanager
async def visiting(request: web.Request) -> AsyncIterator[Visit]:
    """The visit of an authenticated request, its texts in the member's language (else the messenger app's)."""
    webapp = request.app[WEBAPP]
    now = webapp.clock()
    visitor = visitor_of(webapp.bot.token, init_data_of(request), now, webapp.max_age)
    request[LANGUAGE] = supported_language(visitor.language_code, webapp.i18n.default_locale)
    async with webapp.sessions() as session:
        account = await repositories.account_by_telegram_id(session, visitor.telegram_id, now)
        if account.member is not None:
            request[LANGUAGE] = account.member.language
        role = role_from(visitor.telegram_id, account.role, webapp.club.owner_ids)
        with webapp.i18n.context(), webapp.i18n.use_locale(request[LANGUAGE]):
            yield Visit(request, webapp, visitor, session, account, role, now)


def for_members(view: View) -> Handler:
    """A route answering a member with `view`'s JSON; anyone not a member is refused (403)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        async with visiting(request) as visit:
            visit.member  # noqa: B018 -- refuses a non-member before the view
            return web.json_response(await view(visit))

    return handle


@contextlib.asynccontextmanager
async def staff_visiting(request: web.Request, least: Role = Role.CASHIER) -> AsyncIterator[Visit]:
    """The visit of staff of role `least` or above; anyone else is refused (403)."""
    async with visiting(request) as visit:
        if not at_least(visit.role, least):
            raise Refusal(403, "webapp.staff_only")
        yield visit


def for_staff(view: View, least: Role = Role.CASHIER) -> Handler:
    """A route answering staff of role `least` or above with `view`'s JSON; anyone else is refused (403)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        async with staff_visiting(request, least) as visit:
            return web.json_response(await view(visit))

    return handle
