"""The database's figures for the metrics (`bot.metrics`): outbox depth, members, purchases today, and each daily
job's last run and how long it took — read when scraped, at most once every `TTL` seconds, so a storm of scrapes
(or several scrapers) cannot load the database.

Every figure is one cheap statement: the waiting outbox rows along their partial index, the members' count, today's
kept purchases along the index of kept purchases by time. A job's last run is its row in `job_runs`, which every
instance writes (`scheduler.runs`): it ended at `finished_at` and began when it was claimed, `runs.LEASE` before the
lease it took ran out; runs still going, and the sender's standing lease, have no `finished_at` and are left out.
Prometheus's collectors are read synchronously, so the reading is done before (`refresh`), and `collect` gives the
last one; a database that cannot be read leaves the figures out (one warning a failure, no traceback).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as day_start
from zoneinfo import ZoneInfo

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler import runs
from scheduler.sender import utc_now
from storage.models import KEPT_PURCHASE, WAITING, JobRun, Member, OutboxMessage, Purchase

logger = logging.getLogger(__name__)

TTL = 5.0  # seconds a reading is served before the database is read again


@dataclass(frozen=True)
class JobFigures:
    """A daily job's last finished run: when it ended (Unix time) and how long it took (seconds)."""

    finished: float
    seconds: float


@dataclass(frozen=True)
class Reading:
    """The database's figures at one moment."""

    outbox_waiting: int
    members: int
    purchases_today: int
    jobs: dict[str, JobFigures] = field(default_factory=dict)


async def read(session: AsyncSession, since: datetime) -> Reading:
    """The figures now; purchases are counted from `since` (the start of the shop's day)."""
    waiting = await session.scalar(select(func.count()).select_from(OutboxMessage).where(WAITING))
    members = await session.scalar(select(func.count()).select_from(Member))
    kept_today = (Purchase.created_at >= since) & KEPT_PURCHASE
    purchases = await session.scalar(select(func.count()).select_from(Purchase).where(kept_today))
    finished = await session.execute(
        select(JobRun.name, JobRun.lease_until, JobRun.finished_at).where(JobRun.finished_at.is_not(None))
    )
    jobs = {
        name: JobFigures(ended.timestamp(), max(0.0, (ended - (lease_until - runs.LEASE)).total_seconds()))
        for name, lease_until, ended in finished
        if lease_until is not None
    }
    return Reading(waiting or 0, members or 0, purchases or 0, jobs)


class DatabaseFigures(Collector):
    """The database's figures as Prometheus gauges, read again by `refresh` when the last reading is `ttl` old."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        zone: ZoneInfo,
        *,
        clock: Callable[[], datetime] = utc_now,
        timer: Callable[[], float] = time.monotonic,
        ttl: float = TTL,
    ) -> None:
        self.sessions = sessions
        self.zone = zone
        self.clock = clock
        self.timer = timer
        self.ttl = ttl
        self.reading: Reading | None = None
        self._read_at = -float("inf")
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        return self.timer() - self._read_at < self.ttl

    async def refresh(self) -> None:
        """Read the figures unless the last reading is fresh; scrapes meanwhile wait for this one's."""
        if self._fresh():
            return
        async with self._lock:
            if self._fresh():
                return
            self._read_at = self.timer()
            local = self.clock().astimezone(self.zone)
            since = datetime.combine(local.date(), day_start(0), self.zone).astimezone(UTC)
            try:
                async with self.sessions() as session:
                    self.reading = await read(session, since)
            except (OSError, SQLAlchemyError) as error:
                self.reading = None
                logger.warning("metrics: the database could not be read: %s", str(error).splitlines()[0])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The last reading as gauges (none before the first reading, or after a failed one)."""
        if self.reading is None:
            return
        reading = self.reading
        yield GaugeMetricFamily("loyalty_outbox_waiting", "Outbox messages waiting to be sent", reading.outbox_waiting)
        yield GaugeMetricFamily("loyalty_members", "Members of the club", reading.members)
        yield GaugeMetricFamily(
            "loyalty_purchases_today",
            "Purchases recorded today (shop time), undone ones left out",
            reading.purchases_today,
        )
        finished = GaugeMetricFamily(
            "loyalty_job_last_run_timestamp_seconds", "When each daily job's last run ended", labels=["job"]
        )
        seconds = GaugeMetricFamily(
            "loyalty_job_last_run_duration_seconds", "How long each daily job's last run took", labels=["job"]
        )
        for name, job in sorted(reading.jobs.items()):
            finished.add_metric([name], job.finished)
            seconds.add_metric([name], job.seconds)
        yield finished
        yield seconds
