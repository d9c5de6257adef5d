"""Daily job runs in the database: one instance runs each job once per shop day, whoever is up at the time.

A run is claimed by one conditional UPDATE of the job's row (`JobRun`): the row's day is older than today, or
today's run was left unfinished by an instance whose lease ran out (it died mid-run). Several bot instances
on one PostgreSQL may all try; exactly one claim succeeds. As the schedule lives here rather than in memory,
a restarted bot runs what it missed today, and a run that died is taken over after its lease.

The same rows hold standing leases (`hold`): the broadcast sender of one instance at a time holds the lease
`SENDER`, since the messenger's rate limit is the bot's, not an instance's; another instance takes over when
the holder stops renewing it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repositories
from storage.database import write_transaction
from storage.models import JobRun

LEASE = timedelta(minutes=15)  # longer than any daily job takes; a run left unfinished longer is taken over
SENDER = "broadcast_sender"


async def claim(session: AsyncSession, name: str, day: date, holder: str, now: datetime) -> bool:
    """Take the job's run for `day` (the shop's today); False if it ran or is running elsewhere."""
    unfinished = (JobRun.day == day) & JobRun.finished_at.is_(None) & (JobRun.lease_until < now)
    claimable = or_(JobRun.day.is_(None), JobRun.day < day, unfinished)
    return await _take(session, name, claimable, day=day, holder=holder, lease_until=now + LEASE, finished_at=None)


async def _take(session: AsyncSession, name: str, allowed: ColumnElement[bool], **values: object) -> bool:
    """Add the row `name` if missing, then change it if `allowed` holds, in one write transaction; True if it did."""
    async with write_transaction(session):
        await session.execute(repositories.insert_or_ignore(session, JobRun).values(name=name))
        taken = await session.execute(update(JobRun).where(JobRun.name == name, allowed).values(**values))
    return bool(taken.rowcount)  # type: ignore[attr-defined]


async def finish(session: AsyncSession, name: str, day: date, holder: str, now: datetime) -> None:
    """The run is done: nobody takes it over."""
    async with write_transaction(session):
        await session.execute(
            update(JobRun)
            .where(JobRun.name == name, JobRun.day == day, JobRun.holder == holder)
            .values(finished_at=now)
        )


async def let_go(session: AsyncSession, holder: str, now: datetime) -> None:
    """Give up the runs `holder` claimed and did not finish (a clean stop cut them short), so another instance takes
    them over at once instead of after their lease."""
    async with write_transaction(session):
        await session.execute(
            update(JobRun)
            .where(JobRun.holder == holder, JobRun.day.is_not(None), JobRun.finished_at.is_(None))
            .values(lease_until=now)
        )


async def hold(session: AsyncSession, name: str, holder: str, now: datetime, until: datetime) -> bool:
    """Take or keep the standing lease `name` until `until`; False while another holder's lease runs.

    Looking costs a read: an instance waiting for another's lease takes no write lock (SQLite has one)."""
    row = (await session.execute(select(JobRun.holder, JobRun.lease_until).where(JobRun.name == name))).first()
    if row is not None and row.holder not in (None, holder) and row.lease_until is not None and row.lease_until >= now:
        return False
    free = or_(JobRun.holder.is_(None), JobRun.holder == holder, JobRun.lease_until < now)
    return await _take(session, name, free, holder=holder, lease_until=until)


async def release(session: AsyncSession, name: str, holder: str) -> None:
    """Give up the standing lease `name` (a clean stop), so another instance takes it at once."""
    async with write_transaction(session):
        await session.execute(
            update(JobRun).where(JobRun.name == name, JobRun.holder == holder).values(holder=None, lease_until=None)
        )
