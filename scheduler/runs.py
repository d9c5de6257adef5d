"""Daily job runs in the database: one instance runs each job once per shop day, whoever is up at the time.

A run is claimed by one conditional UPDATE of the job's row (`JobRun`): the row's day is older than today, or
today's run was left unfinished by an instance whose lease ran out (it died mid-run). Several bot instances
on one PostgreSQL may all try; exactly one claim succeeds. As the schedule lives here rather than in memory,
a restarted bot runs what it missed today, and a run that died is taken over after its lease.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repositories
from storage.database import write_transaction
from storage.models import JobRun

LEASE = timedelta(minutes=15)  # longer than any daily job takes; a run left unfinished longer is taken over


async def claim(session: AsyncSession, name: str, day: date, holder: str, now: datetime) -> bool:
    """Take the job's run for `day` (the shop's today); False if it ran or is running elsewhere."""
    async with write_transaction(session):
        await session.execute(repositories.insert_or_ignore(session, JobRun).values(name=name))
        claimed = await session.execute(
            update(JobRun)
            .where(
                JobRun.name == name,
                or_(
                    JobRun.day.is_(None),
                    JobRun.day < day,
                    (JobRun.day == day) & JobRun.finished_at.is_(None) & (JobRun.lease_until < now),
                ),
            )
            .values(day=day, holder=holder, lease_until=now + LEASE, finished_at=None)
        )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


async def finish(session: AsyncSession, name: str, day: date, holder: str, now: datetime) -> None:
    """The run is done: nobody takes it over."""
    async with write_transaction(session):
        await session.execute(
            update(JobRun)
            .where(JobRun.name == name, JobRun.day == day, JobRun.holder == holder)
            .values(finished_at=now)
        )
