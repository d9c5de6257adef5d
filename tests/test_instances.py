"""Several instances behind a load balancer: three real bots (`run_webhook`) share one PostgreSQL database and Redis,
and the emulator delivers each update to one of them at random, as a load balancer would. Consecutive updates of one
chat land on different instances and are still handled in order (the FSM state and the chat's lock live in Redis)
and once (an update delivered again, to another instance, is skipped); a registration, a staff wizard and a burst of
purchases give what the same script gives on one instance alone."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.factory import club_of
from bot.settings import Settings
from loyalty import rules
from loyalty.stamps import Stamp
from storage.database import session_factory
from storage.models import LedgerEntry, Member, OutboxMessage, Purchase, StaffMember
from tests import updates
from tests.balancer import Balancer
from tests.databases import REDIS_URL, empty_tables
from tests.emulator import BotAPIEmulator, Call
from tests.factories import NOW
from tests.live import running_webhook_bot

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

INSTANCES = 3
CUSTOMERS = 3
PURCHASES = 30  # in the burst, PURCHASES // CUSTOMERS for each customer
AGAIN = 10  # updates of the burst delivered twice at once, as when an answer is late and Telegram tries again
DRAINED_TIMEOUT = 20.0  # seconds for the sender to send the members' notices


@dataclass
class Person:
    """Someone chatting with the bot through the balancer; each action returns the texts the bot sent them meanwhile
    (the webhook is answered after the update is handled, so they are all in by then)."""

    balancer: Balancer
    user: dict[str, Any]

    async def send(self, update: dict[str, Any]) -> list[Call]:
        emulator = self.balancer.emulator
        before = len(emulator.replies_to(self.user["id"]))
        await self.balancer.deliver(update)
        return emulator.replies_to(self.user["id"])[before:]

    async def say(self, text: str) -> list[Call]:
        return await self.send(updates.message_update(self.user, text=text))

    def pressing(self, data: str, message: Call) -> dict[str, Any]:
        """A press of the button carrying `data` on `message`."""
        assert isinstance(message.result, dict), f"{message!r} sent no message"
        press = updates.callback_update(self.user, data, message.result)
        # query ids are unique for good on Telegram; the test's start again each run, and marks stay in Redis
        press["callback_query"]["id"] = f"{self.user['id']}-{press['callback_query']['id']}"
        return press

    async def press(self, data: str, message: Call) -> list[Call]:
        return await self.send(self.pressing(data, message))

    async def press_twice_at_once(self, data: str, message: Call) -> list[Call]:
        """A double tap: two presses, reaching two instances at once."""
        emulator = self.balancer.emulator
        before = len(emulator.replies_to(self.user["id"]))
        await self.balancer.deliver_apart(self.pressing(data, message), self.pressing(data, message))
        return emulator.replies_to(self.user["id"])[before:]


MEMBER_CODE = re.compile(r"\b\d{4} \d{4}\b")  # as the bot shows it: random, so each run's differ


def texts(calls: list[Call]) -> list[str]:
    """What the calls said, member codes left out."""
    return [MEMBER_CODE.sub("<code>", call.text) for call in calls]


async def join(person: Person, phone: str) -> list[str]:
    """Registration: /start, the contact, the name, the birthday, no gender, news yes."""
    said = texts(await person.say("/start"))
    said += texts(await person.send(updates.contact_update(person.user, phone, person.user["id"])))
    said += texts(await person.say(person.user["first_name"]))
    said += texts(await person.say("1990-09-21"))
    said += texts(await person.say("Skip"))
    return said + texts(await person.say("Skip"))


async def confirm_above(owner: Person) -> list[str]:
    """The owner's settings wizard: purchases above 1,000,000 toman are confirmed first."""
    [menu] = await owner.say("/settings")
    asked = await owner.press("set:ask:purchase_confirm_above:", menu)
    return [menu.text, *texts(asked), *texts(await owner.say("1,000,000"))]


def phone(number: int) -> str:
    return f"0912000{number:04d}"


async def script(balancer: Balancer, base: int) -> dict[str, Any]:
    """Customers join at once, the owner changes a rule, then the cashier's burst of purchases comes all at once,
    some of it twice; what each person was told (the burst's answers as a multiset: their order is the race's)."""
    owner = Person(balancer, updates.user_json(base + 1, "Owner", "en"))
    cashier = Person(balancer, updates.user_json(base + 2, "Ali", "en"))
    customers = [Person(balancer, updates.user_json(base + 10 + n, f"Customer{n}", "en")) for n in range(CUSTOMERS)]
    joined = await asyncio.gather(*(join(customer, phone(n)) for n, customer in enumerate(customers)))
    wizard = await confirm_above(owner)
    burst = [
        updates.message_update(cashier.user, text=f"/earn {phone(n % CUSTOMERS)} {(n % CUSTOMERS + 1) * 100_000}")
        for n in range(PURCHASES)
    ]
    before = len(balancer.emulator.replies_to(cashier.user["id"]))
    twice = [balancer.deliver_apart(update, update) for update in burst[:AGAIN]]
    await asyncio.gather(*twice, *(balancer.deliver(update) for update in burst[AGAIN:]))
    answers = texts(balancer.emulator.replies_to(cashier.user["id"])[before:])
    return {"joined": joined, "wizard": wizard, "burst": sorted(answers), "confirmed": await confirm_big(cashier)}


async def confirm_big(cashier: Person) -> list[str]:
    """A purchase above the owner's limit, its Yes tapped twice at once: the answers, in no particular order."""
    [question] = await cashier.say(f"/earn {phone(0)} 2,000,000")
    return sorted(texts(await cashier.press_twice_at_once(question.callback_data()[0], question)))


async def prepare(engine: AsyncEngine, settings: Settings, base: int) -> None:
    """An empty club with its cashier, the owners' daily digest off (it would land in the owner's chat mid-test)."""
    await empty_tables(engine)
    async with session_factory(engine)() as session:
        await rules.set_rule(session, club_of(settings).rules, "digest", False, Stamp(0, "tests:instances", NOW))
    async with engine.begin() as connection:
        await connection.execute(
            insert(StaffMember).values(
                telegram_id=base + 2, role="cashier", name="Ali", added_by=base + 1, added_at=NOW
            )
        )


@contextlib.asynccontextmanager
async def instances(
    emulator: BotAPIEmulator, settings: Settings, count: int, **changes: Any
) -> AsyncIterator[Balancer]:
    """`count` instances of the bot in webhook mode, each on a port of its own, behind a balancer."""
    urls: list[str] = []
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(count):
            emulator.webhook = {}  # each instance sets its own URL; the balancer knows them all
            await stack.enter_async_context(running_webhook_bot(emulator, settings, **changes))
            urls.append(emulator.webhook["url"])
        yield Balancer(emulator, urls)


async def drained(engine: AsyncEngine) -> None:
    """Wait until the sender (on whichever instance holds its lease) has sent the outbox."""
    deadline = asyncio.get_running_loop().time() + DRAINED_TIMEOUT
    while True:
        async with engine.connect() as connection:
            waiting = await connection.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state.in_(("pending", "sending")))
            )
        if not waiting:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{waiting} messages still in the outbox"
        await asyncio.sleep(0.1)


async def club(engine: AsyncEngine, emulator: BotAPIEmulator, base: int) -> dict[str, Any]:
    """The club as the database and the members' chats have it, people known by their place in the script."""
    async with engine.connect() as connection:
        members = (
            await connection.execute(
                select(
                    Member.telegram_id - base,
                    Member.phone,
                    Member.first_name,
                    Member.birthday,
                    Member.news_consent,
                    Member.balance,
                    Member.tier,
                ).order_by(Member.telegram_id)
            )
        ).all()
        ledger = (
            await connection.execute(
                select(Member.telegram_id - base, LedgerEntry.kind, func.count(), func.sum(LedgerEntry.points))
                .join(Member, Member.id == LedgerEntry.member_id)
                .group_by(Member.telegram_id, LedgerEntry.kind)
                .order_by(Member.telegram_id, LedgerEntry.kind)
            )
        ).all()
        purchases = (
            await connection.execute(
                select(Member.telegram_id - base, Purchase.amount, Purchase.points, Purchase.staff_id - base)
                .join(Member, Member.id == Purchase.member_id)
                .order_by(Member.telegram_id, Purchase.id)
            )
        ).all()
    notices = {n: sorted(texts(emulator.sent_to(base + 10 + n))) for n in range(CUSTOMERS)}
    return {"members": members, "ledger": ledger, "purchases": purchases, "notices": notices}


async def run(
    emulator: BotAPIEmulator, settings: Settings, engine: AsyncEngine, count: int, **changes: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The script on `count` instances, on an empty club, people numbered from a base of their own (the marks of
    handled updates stay in Redis, and the test's message ids start again each run)."""
    base = random.randrange(10**9, 2 * 10**9)
    owned = settings.model_copy(update={"owner_ids": (base + 1,)})
    await prepare(engine, owned, base)
    async with instances(emulator, owned, count, **changes) as balancer:
        said = await script(balancer, base)
        await drained(engine)
        assert len(balancer.got) == count  # every instance had its share
        return said, await club(engine, emulator, base)


async def test_three_instances_sharing_the_database_and_redis_do_what_one_instance_does(
    emulator: BotAPIEmulator, settings: Settings, database_url: str, engine: AsyncEngine
) -> None:
    alone = await run(emulator, settings, engine, 1, database_url=database_url)
    together = await run(emulator, settings, engine, INSTANCES, database_url=database_url, redis_url=REDIS_URL)
    (said, state), (said_together, state_together) = alone, together
    for part, value in said.items():
        assert said_together[part] == value, part
    for part, value in state.items():
        assert state_together[part] == value, part
    assert len(said["burst"]) == PURCHASES and len(state["purchases"]) == PURCHASES + 1
    assert sum("Recorded 2,000,000" in answer for answer in said["confirmed"]) == 1
    assert all("Welcome to the club" in joined[-1] for joined in said["joined"])
    assert "1,000,000" in said["wizard"][-1]
    assert [member.balance for member in state["members"]] == [400, 300, 400]  # 100 welcome + 10 purchases (+200 big)
    told = [sum("You earned" in notice for notice in notices) for notices in state["notices"].values()]
    assert told == [11, 10, 10]  # each purchase told to its member once, by whichever instance's sender
