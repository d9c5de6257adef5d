"""A real crash: `loyalty-bot scheduler` sending a campaign to the Bot API emulator is killed (SIGKILL) mid-way,
then started again; every member gets the message, and only messages that were on their way may come twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import campaigns
from loyalty.campaigns import State
from scheduler import runs
from scheduler.sender import SenderConfig
from storage.models import JobRun, OutboxMessage, OutboxState
from tests.emulator import BotAPIEmulator
from tests.factories import FIRST_CHAT, NOW
from tests.live import SETTING_NAMES, daytime_zone
from tests.sending import campaign_to, on_the_bot, states
from tests.stub_bot import TOKEN

ROOT = Path(__file__).parent.parent
MEMBERS = range(1, 601)
IN_FLIGHT = SenderConfig().in_flight  # sends under way at once: at most these can be repeated after a kill


ROOT = Path(__file__).resolve().parent.parent


@asynccontextmanager
async def scheduler_process(emulator: BotAPIEmulator, database_url: str, log: Path) -> AsyncIterator[int]:
    """`loyalty-bot scheduler` in a process of its own, against the emulator and the test's database; its pid."""
    env = {key: value for key, value in os.environ.items() if key not in (*SETTING_NAMES, "BROADCAST_RATE")}
    env |= {
        "BOT_TOKEN": TOKEN,
        "BOT_API_URL": emulator.url,
        "DATABASE_URL": database_url,
        "TIMEZONE": daytime_zone(),  # noon there: quiet hours do not hold the campaign
        "BROADCAST_RATE": "200",
        "PYTHONPATH": str(ROOT),  # the code under test, not whichever copy is installed (the run's folder is a tmp one)
    }
    with log.open("a") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "scheduler", env=env, stdout=output, stderr=output, cwd=log.parent
        )
    try:
        yield process.pid
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


def campaign_messages(emulator: BotAPIEmulator) -> Counter[int]:
    """How many times each member received the campaign's message (other messages, such as greetings, aside)."""
    return Counter(
        {
            number: sum(call.text.startswith("Hi ") for call in emulator.sent_to(FIRST_CHAT + number))
            for number in MEMBERS
        }
    )


async def wait(emulator: BotAPIEmulator, condition: Callable[[], bool], log: Path, what: str) -> None:
    await emulator.wait_for(condition, 60, lambda: f"{what}; the process said:\n{log.read_text()[-3000:]}")


async def finished(session: AsyncSession, campaign_id: int) -> bool:
    """Whether the campaign is done, as the database says now."""
    session.expire_all()
    return (await campaigns.get(session, campaign_id)).state == State.DONE


async def test_a_killed_sender_is_restarted_and_every_member_gets_the_message_once(
    session: AsyncSession, database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "scheduler.log"
    async with BotAPIEmulator(TOKEN) as emulator:
        on_the_bot(emulator, MEMBERS)
        emulator.flood_control(limit=(300, 1.0), chat_interval=1.0)
        campaign = await campaign_to(session, MEMBERS)
        async with scheduler_process(emulator, database_url, log) as pid:
            await wait(emulator, lambda: sum(campaign_messages(emulator).values()) >= 200, log, "200 sent")
            os.kill(pid, signal.SIGKILL)
        before = campaign_messages(emulator)
        at_the_kill = await states(session)
        assert 200 <= sum(before.values()) < len(MEMBERS) and at_the_kill["sent"] <= sum(before.values())
        # The rows and the sender lease the dead process held last a minute; move them to their end rather than wait.
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.state == OutboxState.SENDING).values(next_attempt_at=NOW)
        )
        await session.execute(update(JobRun).where(JobRun.name == runs.SENDER).values(lease_until=NOW))
        await session.commit()
        async with scheduler_process(emulator, database_url, log):
            await wait(emulator, lambda: all(campaign_messages(emulator).values()), log, "everyone reached")
            for _ in range(100):  # the last rows are written as sent a moment after their messages went
                if await finished(session, campaign.id):
                    break
                await asyncio.sleep(0.1)
    after = campaign_messages(emulator)
    repeated = {number for number, count in after.items() if count > 1}
    assert set(after.values()) <= {1, 2} and len(repeated) <= IN_FLIGHT
    assert all(before[number] == 1 for number in repeated)  # only messages on their way at the kill came again
    assert (await states(session)) == Counter({"sent": len(MEMBERS)})
    assert await finished(session, campaign.id)
    assert emulator.too_many == 0
