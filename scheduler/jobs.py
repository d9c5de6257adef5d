"""The daily jobs, each at its hour of the shop's day: back up the database (02:00, when the owner keeps nightly
backups), expire points (03:00), review tiers (04:00), prune the
outbox (05:00), birthday greetings (the owner's hour, 10:00 by default) and reminders of points about to expire
(12:00), the daily digest to owners and the managers who asked for it (the owner's hour, 21:00 by default), and
erasing the personal data of members idle past the owner's retention (20:00, `loyalty.privacy`).

APScheduler ticks once a minute (`create_scheduler`); each tick runs the jobs whose hour has come today and
that no instance has run today (`scheduler.runs`: the schedule and the lock live in the database). So a bot
that was down at 03:00 expires points when it is back, the same day; several instances run each job once.
A job that fails is tried again after its lease (`runs.LEASE`); every job may run twice without harm. A clean
stop (`stop`) gives a running tick a bounded time, then cancels it and lets its unfinished run go at once.

Greetings, reminders and tier changes are enqueued in the broadcast outbox (`loyalty.outbox`) under once-only
keys, written in each member's language, and sent by the broadcast sender, paced. None waits for quiet hours:
greetings and reminders are enqueued in the daytime, the digest at the hour its owner chose, and tier changes are
told at the review, as they always were.
A tier change and its message are one transaction: members are told of exactly the changes that were made.
The digest goes to each owner (OWNER_IDS and owners added in chat) and each manager who asked for it
(`digest_readers`) once a day (`digest.key`), in their language.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import (
    birthdays,
    campaigns,
    digest,
    digest_readers,
    ledger,
    outbox,
    privacy,
    reminders,
    rules,
    tiers,
    vouchers,
)
from loyalty.birthdays import BirthdayGift
from loyalty.calendar import format_date
from loyalty.outbox import Message, Outgoing
from loyalty.rules import Rules
from scheduler import runs
from scheduler.outbox import prune
from storage import backup
from storage.database import write_transaction
from storage.models import Member
from texts.changes import compared
from texts.languages import speaking
from texts.money import amount_text
from texts.numbers import number
from texts.plurals import counted, points_text
from texts.tiers import tier_name

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]
BIRTHDAY = "birthday"  # outbox kinds
REMINDER = "reminder"
TIER = "tier"
DIGEST = "digest"
NIGHTLY = "nightly"  # the nightly backups' names begin so; `loyalty-bot backup`'s do not, and are never pruned
REMINDER_TIME = time(12)
FORGET_TIME = time(20)  # erasing idle members' personal data: in the evening, before the digest (21:00 by default)
BATCH = 100  # members per transaction: a few tenths of a second of SQLite's write lock, so a purchase never waits long
KEEP_CAMPAIGN_ROWS = timedelta(days=90)  # a campaign's outbox rows, after it is over (its counts stay)
KEEP_KEYED_ROWS = timedelta(days=400)  # other rows: their keys (a birthday's year, a day of expiry) are past


@dataclass(frozen=True)
class Jobs:
    """What the jobs work with; `holder` names this instance in the job runs it claims."""

    i18n: I18n
    sessions: async_sessionmaker[AsyncSession]
    defaults: Rules
    clock: Clock
    zone: ZoneInfo
    owner_ids: tuple[int, ...] = ()  # the owners from the settings (OWNER_IDS); those added in chat are in the database
    backups: backup.NightlyBackups | None = None  # None or keep 0: no nightly backup
    forget_chat: privacy.ChatForgetter | None = None  # clears an erased member's conversation state (given by bot/)
    holder: str = field(default_factory=lambda: secrets.token_hex(8))
    ticking: set[asyncio.Task[None]] = field(default_factory=set, compare=False)  # the ticks running (`tick`)

    def today(self, now: datetime) -> date:
        """The shop's date at `now`."""
        return now.astimezone(self.zone).date()

    def text(self, language: str, key: str, **values: object) -> str:
        """A catalog text in a member's language, filled in."""
        with speaking(self.i18n, language):
            return self.i18n.gettext(key).format(**values)


async def expire_points(jobs: Jobs, now: datetime) -> int:
    """Expire every lot that is due; returns the points expired."""
    async with jobs.sessions() as session:
        expired = await ledger.expire_due(session, now)
    logger.info("expired %s points", expired)
    return expired


async def review_tiers(jobs: Jobs, now: datetime) -> list[tiers.TierChange]:
    """Move members between tiers by their spend in the window; each is told in their language, through the outbox
    (in the review's transaction)."""
    async with jobs.sessions() as session:
        club = await rules.current(session, jobs.defaults)
        return await tiers.review(session, club, now, notices=partial(tier_notice, jobs, jobs.today(now)))


def tier_notice(jobs: Jobs, today: date, change: tiers.TierChange) -> list[Outgoing]:
    """The message telling a member on the bot of their new tier, once per member, day and tier."""
    if change.telegram_id is None:
        return []
    with speaking(jobs.i18n, change.language):
        tier = tier_name(change.new)
    text = jobs.text(change.language, "member.tier_up" if change.upgrade else "member.tier_down", tier=tier)
    key = f"{TIER}:{change.member_id}:{today.isoformat()}:{change.new}"
    return [Outgoing(key, TIER, change.telegram_id, Message(text), change.member_id)]


async def greet_birthdays(jobs: Jobs, now: datetime) -> int:
    """Give today's birthday members the owner's gift and enqueue their greeting, once per member in 365 days."""
    async with jobs.sessions() as session:
        club = await rules.current(session, jobs.defaults)
    if not club.birthday_greetings:
        return 0
    today, greeted, after = jobs.today(now), 0, 0
    while True:
        async with jobs.sessions() as session, write_transaction(session):
            batch = await birthdays.celebrants(session, today, after=after, limit=BATCH)
            keys = {member.id: birthdays.greeting_key(member.id, today, member.birthday_calendar) for member in batch}
            done = await outbox.known_keys(session, keys.values())
            greetings = []
            for member in batch:
                if keys[member.id] not in done and await birthdays.claim_gift(session, member.id, today):
                    gift = await birthdays.give_gift(session, member, club, keys[member.id], now)
                    text = greeting_text(jobs, member, gift, now)
                    greetings.append(Outgoing(keys[member.id], BIRTHDAY, member.telegram_id, Message(text), member.id))
            greeted += await outbox.enqueue(session, greetings, now)
        if len(batch) < BATCH:
            logger.info("greeted %s members on their birthday", greeted)
            return greeted
        after = batch[-1].id


def greeting_text(jobs: Jobs, member: Member, gift: BirthdayGift, now: datetime) -> str:
    """The birthday greeting in the member's language, with the gift's points and voucher."""
    language = member.language
    lines = [jobs.text(language, "birthday.greeting", name=member.first_name)]
    if gift.points and gift.points_expire_at is not None:
        until = format_date(gift.points_expire_at.astimezone(jobs.zone).date(), language)
        with speaking(jobs.i18n, language):
            lines.append(counted("birthday.points", gift.points).format(points=number(gift.points), date=until))
    if gift.voucher is not None:
        voucher = vouchers.info(gift.voucher, now)
        until = format_date(voucher.expires_at.astimezone(jobs.zone).date(), language)
        lines.append(jobs.text(language, "birthday.voucher", title=voucher.title, code=voucher.shown_code, date=until))
    return "\n\n".join(lines)


async def remind_expiring(jobs: Jobs, now: datetime) -> int:
    """Enqueue a reminder to each member whose points expire within the owner's days ahead, once per day of expiry."""
    async with jobs.sessions() as session:
        days = (await rules.current(session, jobs.defaults)).expiry_reminder_days
    if days == 0:
        return 0
    last = datetime.combine(jobs.today(now) + timedelta(days=days + 1), time(), tzinfo=jobs.zone)
    reminded, after = 0, 0
    while True:
        async with jobs.sessions() as session, write_transaction(session):
            batch = await reminders.expiring(session, now, last, jobs.zone, after=after, limit=BATCH)
            messages = [
                Outgoing(
                    reminders.reminder_key(item.member.id, item.day),
                    REMINDER,
                    item.member.telegram_id,
                    Message(reminder_text(jobs, item)),
                    item.member.id,
                )
                for item in batch
            ]
            reminded += await outbox.enqueue(session, messages, now)
        members = {item.member.id for item in batch}
        if len(members) < BATCH:
            logger.info("reminded %s members of points about to expire", reminded)
            return reminded
        after = max(members)


def reminder_text(jobs: Jobs, item: reminders.Expiring) -> str:
    """The reminder in the member's language: how many points expire, and on which day."""
    language = item.member.language
    with speaking(jobs.i18n, language):
        return counted("reminder.expiring", item.points).format(
            name=item.member.first_name, points=number(item.points), date=format_date(item.day, language)
        )


async def prune_outbox(jobs: Jobs, now: datetime) -> int:
    """Archive campaigns over for 90 days and delete greetings, reminders, notices and gift messages over a year
    old."""
    async with jobs.sessions() as session:
        deleted = await campaigns.archive_finished(session, now - KEEP_CAMPAIGN_ROWS)
        deleted += await prune(session, now - KEEP_KEYED_ROWS)
    logger.info("deleted %s old outbox rows", deleted)
    return deleted


async def send_digests(jobs: Jobs, now: datetime) -> int:
    """Enqueue today's digest to each owner and each manager who asked for it, in their language (the shop's if they
    are not a member), once a day."""
    async with jobs.sessions() as session, write_transaction(session):
        club = await rules.current(session, jobs.defaults)
        if not club.digest:
            return 0
        figures = await digest.digest(session, now, jobs.zone)
        readers = await digest_readers.readers(session, jobs.owner_ids)
        messages = [
            Outgoing(
                digest.key(figures.day, reader.telegram_id),
                DIGEST,
                reader.telegram_id,
                digest_message(jobs, figures, club.currency, reader.language or jobs.i18n.default_locale),
            )
            for reader in readers
        ]
        sent = await outbox.enqueue(session, messages, now)
    logger.info("sent the daily digest to %s readers", sent)
    return sent


def digest_message(jobs: Jobs, figures: digest.Digest, unit: str, language: str) -> Message:
    """The digest, with a button that starts the win-back campaign when there is someone to win back."""
    text = digest_text(jobs, figures, unit, language)
    if not figures.away:
        return Message(text)
    return Message(text, buttons=((jobs.text(language, "button.digest_win_back"), digest.WIN_BACK_BUTTON),))


def digest_text(jobs: Jobs, figures: digest.Digest, unit: str, language: str) -> str:
    """The digest in the reader's language: the sales against last week's same day, what is coming, a suggestion."""
    with speaking(jobs.i18n, language):
        lines = [
            jobs.text(language, "digest.title", date=format_date(figures.day, language)),
            jobs.text(
                language,
                "digest.sales",
                purchases=compared(number(int(figures.purchases.now)), figures.purchases),
                total=compared(amount_text(int(figures.total.now), unit), figures.total),
                average=compared(amount_text(round(figures.average.now), unit), figures.average),
            ),
            counted("digest.birthdays", figures.birthdays_tomorrow).format(count=number(figures.birthdays_tomorrow)),
            jobs.text(language, "digest.expiring", points=points_text(figures.expiring_points)),
        ]
        if figures.away:
            lines.append(counted("digest.win_back", figures.away).format(count=number(figures.away)))
    return "\n\n".join(lines)


async def forget_inactive(jobs: Jobs, now: datetime) -> int:
    """Erase the personal data of members who stopped the bot or cannot be reached and have done nothing with the club
    for longer than the owner keeps it (`privacy_retention_days`; 0: forever), as /forgetme does, their chat's
    conversation state too (`Jobs.forget_chat`); how many."""
    async with jobs.sessions() as session:
        days = (await rules.current(session, jobs.defaults)).privacy_retention_days
    if days == 0:
        return 0
    erased, after = 0, 0
    while True:
        async with jobs.sessions() as session:
            batch = await privacy.idle_members(session, now, days, after=after, limit=BATCH)
            for member_id in batch:
                forgotten = await privacy.forget(
                    session, member_id, actor_id=None, now=now, forget_chat=jobs.forget_chat
                )
                erased += forgotten is not None
        if len(batch) < BATCH:
            logger.info("erased the personal data of %s idle members", erased)
            return erased
        after = batch[-1]


async def back_up(jobs: Jobs, now: datetime) -> Path | None:
    """Write tonight's backup to the owner's folder and delete all but the last `keep`; the new backup's file."""
    plan = jobs.backups
    if plan is None or plan.keep == 0:
        return None
    path = backup.backup_path(plan.folder, NIGHTLY, plan.database_url, now)
    await asyncio.to_thread(backup.back_up, plan.database_url, path)
    deleted = await asyncio.to_thread(backup.prune, plan.folder, NIGHTLY, plan.keep)
    logger.info("backed up the database to %s; deleted %s older backups", path, len(deleted))
    return path


@dataclass(frozen=True)
class Daily:
    """A job run once a day, from its hour of the shop's day (which may depend on the owner's rules)."""

    name: str
    at: Callable[[Rules], time]
    run: Callable[[Jobs, datetime], Awaitable[object]]


DAILY = (
    Daily("backup", lambda _: time(2), back_up),
    Daily("expire_points", lambda _: time(3), expire_points),
    Daily("review_tiers", lambda _: time(4), review_tiers),
    Daily("prune_outbox", lambda _: time(5), prune_outbox),
    Daily("birthdays", lambda club: time(club.birthday_hour), greet_birthdays),
    Daily("expiry_reminders", lambda _: REMINDER_TIME, remind_expiring),
    Daily("digest", lambda club: time(club.digest_hour), send_digests),
    Daily("forget_inactive", lambda _: FORGET_TIME, forget_inactive),
)


async def run_due(jobs: Jobs) -> list[str]:
    """Run, in order, each daily job whose hour has come today and that no instance has run today; their names."""
    now = jobs.clock()
    async with jobs.sessions() as session:
        club = await rules.current(session, jobs.defaults)
    ran = []
    for job in DAILY:
        if now.astimezone(jobs.zone).time() < job.at(club):
            continue
        today = jobs.today(now)
        async with jobs.sessions() as session:
            if not await runs.claim(session, job.name, today, jobs.holder, jobs.clock()):  # when it begins
                continue
        try:
            await job.run(jobs, now)
        except Exception:
            logger.exception("the daily job %s failed; it is tried again after its lease", job.name)
            continue
        async with jobs.sessions() as session:
            await runs.finish(session, job.name, today, jobs.holder, jobs.clock())
        ran.append(job.name)
    return ran


async def tick(jobs: Jobs) -> None:
    """A tick of the scheduler: `run_due`, known to `stop` while it runs."""
    task = asyncio.current_task()
    assert task is not None  # APScheduler runs a coroutine job in a task
    jobs.ticking.add(task)
    try:
        await run_due(jobs)
    finally:
        jobs.ticking.discard(task)


async def stop(scheduler: AsyncIOScheduler, jobs: Jobs, grace: float) -> None:
    """Stop ticking; give a tick under way `grace` seconds to end, then cancel it and let the run it had claimed go
    (`runs.let_go`), so another instance runs that job at once."""
    scheduler.pause()
    if jobs.ticking:
        _, unfinished = await asyncio.wait(set(jobs.ticking), timeout=grace)
        for task in unfinished:
            logger.warning("a daily job did not end within %s s of the stop; cancelled", grace)
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
    scheduler.shutdown(wait=False)
    async with jobs.sessions() as session:
        await runs.let_go(session, jobs.holder, jobs.clock())


def create_scheduler(jobs: Jobs) -> AsyncIOScheduler:
    """APScheduler ticking every minute, and once at start, to run the daily jobs that are due."""
    scheduler = AsyncIOScheduler(timezone=jobs.zone)
    scheduler.add_job(
        tick,
        IntervalTrigger(minutes=1, timezone=jobs.zone),
        args=[jobs],
        id="daily_jobs",
        next_run_time=datetime.now(jobs.zone),
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )
    return scheduler
