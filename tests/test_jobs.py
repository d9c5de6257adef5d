"""The daily jobs: points expire at night, tiers are reviewed and the changes announced in each member's language,
birthdays greeted in each member's own calendar with the owner's gift, reminders sent before points expire, each
job once a day from its hour however many instances tick — with a frozen clock."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import create_i18n
from loyalty import birthdays, campaigns, members, outbox, purchases, vouchers
from loyalty.audiences import Audience
from loyalty.calendar import format_date
from loyalty.campaigns import CampaignDraft, Message, State
from loyalty.outbox import Outgoing, enqueue
from loyalty.rules import Rules
from loyalty.stamps import Stamp
from scheduler import runs
from scheduler.jobs import (
    DAILY,
    Jobs,
    expire_points,
    greet_birthdays,
    prune_outbox,
    remind_expiring,
    review_tiers,
    run_due,
)
from scheduler.sender import Sender, SenderConfig
from storage.database import write_transaction
from storage.models import LedgerEntry, Member, OutboxMessage, PointLot, Reward, Voucher
from tests.chat import drain
from tests.factories import NOW, add_members, imported_member, member_row, new_reward, phone_of, profile
from tests.faults import fail_after
from tests.sending import Clock, Recorder, greeting
from tests.stub_bot import stub_bot

Sessions = async_sessionmaker[AsyncSession]
DAY = timedelta(days=1)
TEHRAN = ZoneInfo("Asia/Tehran")
I18N = create_i18n("fa")


def jobs_on(sessions: Sessions, clock: Callable[[], datetime] = lambda: NOW, **rules: object) -> Jobs:
    """The daily jobs on the test database, the shop in Tehran, with these rules over the defaults."""
    return Jobs(I18N, sessions, Rules(**rules), clock, TEHRAN)  # type: ignore[arg-type]


async def member_with_big_purchase(sessions: Sessions, telegram_id: int, language: str) -> int:
    async with sessions() as session:
        member = await imported_member(session, f"+9891200000{telegram_id:02d}")
        member.telegram_id, member.language = telegram_id, language
        await session.commit()
        await purchases.record_purchase(
            session,
            Rules(),
            member_id=member.id,
            amount=30_000_000,
            receipt=f"R{telegram_id}",
            stamp=Stamp(1, str(telegram_id), NOW),
        )
        return member.id


async def test_a_year_later_members_are_moved_down_and_told(sessions: Sessions) -> None:
    persian = await member_with_big_purchase(sessions, 11, "fa")
    english = await member_with_big_purchase(sessions, 12, "en")
    changes = await review_tiers(jobs_on(sessions), NOW + 400 * DAY)
    assert {(change.member_id, change.old, change.new) for change in changes} == {
        (persian, "silver", "bronze"),
        (english, "silver", "bronze"),
    }
    _, told = await drain(sessions, stub_bot(), NOW + 400 * DAY)
    sent = {reply.method.chat_id: reply.text for reply in told}
    assert "برنزی" in sent[11] and "Your tier is now Bronze" in sent[12]
    async with sessions() as session:
        assert (await session.get(Member, persian)).tier == "bronze"
    assert await review_tiers(jobs_on(sessions), NOW + 401 * DAY) == []


async def test_tier_changes_are_told_through_the_outbox_in_the_reviews_transaction_and_paced(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = [await member_with_big_purchase(sessions, telegram_id, "en") for telegram_id in (11, 12)]
    later = NOW + 400 * DAY
    fail_after(monkeypatch, outbox, "enqueue")
    with pytest.raises(ConnectionError):
        await review_tiers(jobs_on(sessions), later)
    async with sessions() as session:  # the review and its messages are one transaction: neither was kept
        assert [(await session.get_one(Member, member_id)).tier for member_id in members] == ["silver", "silver"]
    assert await outbox_rows(sessions) == {}
    monkeypatch.undo()
    await review_tiers(jobs_on(sessions), later)
    rows = await outbox_rows(sessions)
    assert sorted((row.kind, row.chat_id, row.state) for row in rows.values()) == [
        ("tier", 11, "pending"),
        ("tier", 12, "pending"),
    ]
    assert set(rows) == {f"tier:{member_id}:2027-12-27:bronze" for member_id in members}
    send, began = Recorder(), monotonic()
    await Sender(sessions, send, SenderConfig(rate=4, chat_interval=0, quiet=None), clock=lambda: later).drain()
    assert send.chats == {11: 1, 12: 1} and monotonic() - began >= 0.2  # a quarter second apart: paced


async def test_the_night_job_expires_points_once(sessions: Sessions) -> None:
    member_id = await member_with_big_purchase(sessions, 13, "fa")
    jobs = jobs_on(sessions)
    assert await expire_points(jobs, NOW + 366 * DAY) == 3_000
    assert await expire_points(jobs, NOW + 367 * DAY) == 0
    async with sessions() as session:
        assert (await session.get(Member, member_id)).balance == 0


# --- birthdays ---------------------------------------------------------------------------------------------------


async def born(sessions: Sessions, telegram_id: int, birthday: date, calendar: str, language: str = "fa") -> int:
    """A member who joined through the bot, born on `birthday` (Gregorian) as given in `calendar`."""
    async with sessions() as session:
        answers = profile(f"Member{telegram_id}", language, birthday=birthday, birthday_calendar=calendar)
        joined = await members.join(
            session, phone_of(telegram_id), answers, Rules(), Stamp(telegram_id, "k", NOW - 400 * DAY)
        )
        return joined.member.id


async def outbox_rows(sessions: Sessions) -> dict[str, OutboxMessage]:
    async with sessions() as session:
        return {row.key: row for row in await session.scalars(select(OutboxMessage)) if row.key is not None}


async def birthday_points(sessions: Sessions, member_id: int) -> list[tuple[int, datetime]]:
    async with sessions() as session:
        rows = await session.execute(
            select(PointLot.points, PointLot.expires_at)
            .join(LedgerEntry, LedgerEntry.id == PointLot.entry_id)
            .where(PointLot.member_id == member_id, LedgerEntry.reason == "birthday")
        )
        return [tuple(row) for row in rows]


async def test_members_are_greeted_on_their_day_in_their_own_calendar_once(sessions: Sessions) -> None:
    jalali = await born(sessions, 11, date(1996, 11, 21), "jalali")  # 1 Azar 1375: today is 1 Azar 1405
    gregorian = await born(sessions, 12, date(1990, 11, 22), "gregorian", "en")
    await born(sessions, 13, date(1996, 11, 21), "gregorian")  # 21 November: yesterday
    await born(sessions, 15, date(1996, 11, 20), "jalali")  # 30 Aban 1375: yesterday
    twin = await born(sessions, 16, date(1996, 11, 21), "jalali")
    async with sessions() as session:
        stopped = await session.get(Member, (await born(sessions, 17, date(1996, 11, 21), "jalali")))
        stopped.stopped = True
        await session.commit()
    jobs = jobs_on(sessions)
    assert await greet_birthdays(jobs, NOW) == 3
    rows = await outbox_rows(sessions)
    assert {row.member_id for row in rows.values()} == {jalali, gregorian, twin}
    assert rows[f"birthday:1405:{jalali}"].kind == "birthday"
    english = Message.from_json(rows[f"birthday:2026:{gregorian}"].payload or "").text
    assert english.startswith("🎂 Happy birthday, Member12!") and "100 points" in english and "22 Dec 2026" in english
    persian = Message.from_json(rows[f"birthday:1405:{jalali}"].payload or "").text
    assert "تولدتان مبارک" in persian and "۱۰۰ امتیاز" in persian and "۱ دی ۱۴۰۵" in persian
    assert await birthday_points(sessions, jalali) == [(100, NOW + 30 * DAY)]
    assert await greet_birthdays(jobs, NOW + timedelta(hours=5)) == 0  # a second run the same day: nothing more
    assert len(await outbox_rows(sessions)) == 3 and await birthday_points(sessions, jalali) == [(100, NOW + 30 * DAY)]


@pytest.mark.parametrize(
    ("birthday", "calendar", "greeted_on", "not_on"),
    [
        (date(2000, 2, 29), "gregorian", date(2027, 2, 28), date(2027, 3, 1)),  # a common year: on 28 February
        (date(2025, 3, 20), "jalali", date(2027, 3, 20), date(2027, 3, 21)),  # 30 Esfand 1403 → 29 Esfand 1405
    ],
)
async def test_a_leap_day_birthday_is_greeted_the_day_before_in_common_years(
    sessions: Sessions, birthday: date, calendar: str, greeted_on: date, not_on: date
) -> None:
    member_id = await born(sessions, 21, birthday, calendar)
    at_noon = datetime.combine(not_on, time(12), tzinfo=TEHRAN)
    assert await greet_birthdays(jobs_on(sessions), at_noon) == 0
    at_noon = datetime.combine(greeted_on, time(12), tzinfo=TEHRAN)
    assert await greet_birthdays(jobs_on(sessions), at_noon) == 1
    assert [row.member_id for row in (await outbox_rows(sessions)).values()] == [member_id]


async def test_the_owner_chooses_the_gift_a_voucher_and_no_points_or_no_greeting(sessions: Sessions) -> None:
    member_id = await born(sessions, 31, date(1990, 11, 22), "gregorian", "en")
    async with sessions() as session:
        cake = await new_reward(session, name="Birthday cake", validity_days=14, stock=1)
    assert await greet_birthdays(jobs_on(sessions, birthday_greetings=False), NOW) == 0
    assert await greet_birthdays(jobs_on(sessions, birthday_points=0, birthday_reward_id=cake.id), NOW) == 1
    [row] = (await outbox_rows(sessions)).values()
    text = Message.from_json(row.payload or "").text
    async with sessions() as session:
        [voucher] = await session.scalars(select(Voucher).where(Voucher.member_id == member_id))
        assert (await session.get(Reward, cake.id)).stock == 0
    assert "Birthday cake" in text and vouchers.info(voucher, NOW).shown_code in text and "points" not in text
    assert await birthday_points(sessions, member_id) == []


async def test_an_out_of_stock_voucher_still_leaves_the_points(sessions: Sessions) -> None:
    member_id = await born(sessions, 41, date(1990, 11, 22), "gregorian", "en")
    async with sessions() as session:
        cake = await new_reward(session, name="Birthday cake", stock=0)
    assert await greet_birthdays(jobs_on(sessions, birthday_reward_id=cake.id), NOW) == 1
    assert await birthday_points(sessions, member_id) == [(100, NOW + 30 * DAY)]
    [row] = (await outbox_rows(sessions)).values()
    assert "cake" not in Message.from_json(row.payload or "").text


async def new_birthday(sessions: Sessions, member_id: int, birthday: date, calendar: str) -> None:
    async with sessions() as session:
        member = await session.get_one(Member, member_id)
        await members.update_member(session, member, birthday=birthday, birthday_calendar=calendar)


async def test_a_gift_comes_once_in_365_days_whatever_the_member_does_to_the_birthday(sessions: Sessions) -> None:
    # given a member greeted today, 1 Azar 1405, on a Jalali birthday
    member_id = await born(sessions, 51, date(1996, 11, 21), "jalali")
    assert await greet_birthdays(jobs_on(sessions), NOW) == 1
    # when they move their birthday to tomorrow in the Gregorian calendar (another calendar year, another key)
    await new_birthday(sessions, member_id, date(1990, 11, 23), "gregorian")
    # then tomorrow's run gives nothing
    assert await greet_birthdays(jobs_on(sessions), NOW + DAY) == 0
    # nor does a birthday 364 days on
    await new_birthday(sessions, member_id, date(1997, 11, 21), "gregorian")
    assert await greet_birthdays(jobs_on(sessions), NOW + 364 * DAY) == 0
    # and 365 days after the gift, the birthday gives again
    await new_birthday(sessions, member_id, date(1990, 11, 22), "gregorian")
    assert await greet_birthdays(jobs_on(sessions), NOW + 365 * DAY) == 1
    assert [points for points, _ in await birthday_points(sessions, member_id)] == [100, 100]
    assert len(await outbox_rows(sessions)) == 2


async def test_ten_claims_of_a_birthday_gift_at_once_on_two_days_give_it_once(sessions: Sessions) -> None:
    member_id = await born(sessions, 52, date(1996, 11, 21), "jalali")

    async def claim(day: date) -> bool:
        async with sessions() as session, write_transaction(session):
            return await birthdays.claim_gift(session, member_id, day)

    today = NOW.date()
    claimed = await asyncio.gather(*(claim(today + (number % 2) * DAY) for number in range(10)))
    assert claimed.count(True) == 1
    async with sessions() as session:
        greeted_on = (await session.get_one(Member, member_id)).birthday_greeted_on
    assert greeted_on in (today, today + DAY)
    assert not await claim(greeted_on + 364 * DAY) and await claim(greeted_on + 365 * DAY)


# --- reminders ---------------------------------------------------------------------------------------------------


async def test_members_are_reminded_once_a_week_before_their_points_expire(sessions: Sessions) -> None:
    member_id = await born(sessions, 51, date(1990, 1, 1), "gregorian", "en")  # 100 welcome points, expiring…
    async with sessions() as session:
        [lot] = await session.scalars(select(PointLot).where(PointLot.member_id == member_id))
    week_before = lot.expires_at - 7 * DAY
    jobs = jobs_on(sessions)
    assert await remind_expiring(jobs, week_before - 2 * DAY) == 0  # nine days before: not yet
    assert await remind_expiring(jobs, week_before) == 1
    [row] = (await outbox_rows(sessions)).values()
    day = lot.expires_at.astimezone(TEHRAN).date()
    assert (row.key, row.kind) == (f"expiry:{day.isoformat()}:{member_id}", "reminder")
    text = Message.from_json(row.payload or "").text
    assert "100 of your points expire on" in text and format_date(day, "en") in text
    assert await remind_expiring(jobs, week_before + DAY) == 0  # the next day: already reminded
    assert await remind_expiring(jobs_on(sessions, expiry_reminder_days=0), week_before) == 0


# --- the daily schedule ------------------------------------------------------------------------------------------


async def test_each_job_runs_once_a_day_from_its_hour_whichever_instance_ticks(sessions: Sessions) -> None:
    night = datetime(2026, 11, 22, 1, 0, tzinfo=TEHRAN)
    clock = Clock(night)
    first, second = jobs_on(sessions, clock=clock), jobs_on(sessions, clock=clock)
    assert await run_due(first) == []
    clock.now = night.replace(hour=3, minute=1)
    assert await run_due(first) == ["backup", "expire_points"]
    assert await run_due(second) == []
    clock.now = night.replace(hour=13)  # the bot was down from 3:01 till 13:00: the rest runs now, once
    assert await run_due(second) == ["review_tiers", "prune_outbox", "birthdays", "expiry_reminders"]
    assert await run_due(first) == []
    clock.now += DAY
    every = ["backup", "expire_points", "review_tiers", "prune_outbox", "birthdays", "expiry_reminders"]
    assert await run_due(first) == every


async def test_the_birthday_hour_is_the_owners(sessions: Sessions) -> None:
    clock = Clock(datetime(2026, 11, 22, 12, 0, tzinfo=TEHRAN))
    assert "birthdays" not in await run_due(jobs_on(sessions, clock=clock, birthday_hour=18))
    clock.now = clock.now.replace(hour=18)
    assert await run_due(jobs_on(sessions, clock=clock, birthday_hour=18)) == ["birthdays"]


async def test_a_job_that_failed_or_died_is_run_again_after_its_lease(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(datetime(2026, 11, 22, 3, 30, tzinfo=TEHRAN))

    async def broken(jobs: Jobs, now: datetime) -> int:
        raise RuntimeError("the database went away")

    [expiry] = [job for job in DAILY if job.name == "expire_points"]
    monkeypatch.setattr("scheduler.jobs.DAILY", (replace(expiry, run=broken),))
    assert await run_due(jobs_on(sessions, clock=clock)) == []
    monkeypatch.setattr("scheduler.jobs.DAILY", (expiry,))
    assert await run_due(jobs_on(sessions, clock=clock)) == []  # still leased to the failed run
    clock.now += runs.LEASE + timedelta(minutes=1)
    assert await run_due(jobs_on(sessions, clock=clock)) == ["expire_points"]


async def test_two_instances_ticking_at_once_run_each_job_once(sessions: Sessions) -> None:
    clock = Clock(datetime(2026, 11, 22, 21, 30, tzinfo=TEHRAN))  # every job's hour has come, the digest's too
    first, second = await asyncio.gather(
        run_due(jobs_on(sessions, clock=clock)), run_due(jobs_on(sessions, clock=clock))
    )
    assert sorted(first + second) == sorted(job.name for job in DAILY)


async def test_a_standing_lease_is_one_holders_until_it_runs_out_or_is_released(sessions: Sessions) -> None:
    minute = timedelta(minutes=1)
    async with sessions() as session:
        assert await runs.hold(session, runs.SENDER, "a", NOW, NOW + minute)
        assert not await runs.hold(session, runs.SENDER, "b", NOW + minute / 2, NOW + minute * 1.5)
        assert await runs.hold(session, runs.SENDER, "a", NOW + minute / 2, NOW + minute * 1.5)  # renewed
        assert not await runs.hold(session, runs.SENDER, "b", NOW + minute, NOW + minute * 2)
        assert await runs.hold(session, runs.SENDER, "b", NOW + minute * 2, NOW + minute * 3)  # a died: b takes it
        await runs.release(session, runs.SENDER, "b")
        assert await runs.hold(session, runs.SENDER, "a", NOW + minute * 2, NOW + minute * 3)


async def test_a_greeting_is_delivered_once_even_in_quiet_hours_and_a_second_run_sends_nothing(
    sessions: Sessions,
) -> None:
    member_id = await born(sessions, 61, date(1990, 11, 22), "gregorian", "en")
    night = datetime(2026, 11, 22, 23, 30, tzinfo=TEHRAN)  # in quiet hours: greetings are not held
    send = Recorder()
    sender = Sender(sessions, send, SenderConfig(rate=1000, chat_interval=0), clock=lambda: night)
    assert await greet_birthdays(jobs_on(sessions), night) == 1
    await sender.drain()
    assert await greet_birthdays(jobs_on(sessions), night) == 0
    await sender.drain()
    [(chat_id, message)] = send.sent
    assert chat_id == 61 and message.text.startswith("🎂 Happy birthday, Member61!")
    async with sessions() as session:
        assert (await session.get(Member, member_id)).balance == 200  # the welcome bonus and the birthday points


async def test_the_outbox_keeps_what_is_recent_or_on_its_way_and_archives_the_rest(sessions: Sessions) -> None:
    async def sent_at(moment: datetime, name: str | None = None, greetings: tuple[Outgoing, ...] = ()) -> int | None:
        """A campaign to everyone (if named) and the greetings, sent out at `moment`."""
        campaign_id = None
        async with sessions() as session:
            if name is not None:
                draft = CampaignDraft(name, Audience(), Message("Hi"))
                campaign_id = (await campaigns.create(session, draft, actor_id=1, now=moment)).id
                await campaigns.start(session, campaign_id, actor_id=1, now=moment)
            await enqueue(session, list(greetings), moment)
            await session.commit()
        config = SenderConfig(rate=1000, chat_interval=0, quiet=None)
        await Sender(sessions, Recorder(), config, clock=lambda: moment).drain()
        return campaign_id

    async with sessions() as session:
        await add_members(session, [member_row(number) for number in range(1, 5)])
    old = await sent_at(NOW, "Old", (greeting(1), greeting(2)))
    new = await sent_at(NOW + 350 * DAY, "New")
    async with sessions() as session:
        await enqueue(session, [greeting(3)], NOW + 500 * DAY)  # waiting to be sent
        await session.commit()
        before = await campaigns.progress(session, old, NOW)
    assert await prune_outbox(jobs_on(sessions), NOW + 401 * DAY) == 4 + 2  # the old campaign's rows, two greetings
    async with sessions() as session:
        left = Counter((row.campaign_id, row.key) for row in await session.scalars(select(OutboxMessage)))
        assert left == Counter({(new, None): 4, (None, "birthday:2026:3"): 1})
        after = await campaigns.progress(session, old, NOW + 401 * DAY)
    assert (
        (after.sent, after.recipients, after.state)
        == (before.sent, before.recipients, State.DONE)
        == (4, 4, State.DONE)
    )
    assert await prune_outbox(jobs_on(sessions), NOW + 402 * DAY) == 0
