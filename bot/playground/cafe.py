"""The playground's café: an empty, migrated database filled with a believable shop, through the domain's own calls.

Kafe Narenj in Tehran, open a year: its profile and rules, a catalog, the cast of `bot.playground.cast` (the owner,
a cashier on the staff, members who have been coming), some two hundred more members who joined over the year, some
invited by others, and their purchases of the last 90 days at the café's hours (afternoons, Thursday evenings and
Fridays busiest), with rewards redeemed and vouchers used, a few members who stopped the news or were blocked, a
finished campaign whose messages went out and a Yalda one scheduled. Every change goes through `loyalty` at its own
past moment (joining, `record_purchase`, redeeming, ...), so the ledger, lots, tiers, referrals and audit hold as if
it had all happened; the choices come from one seeded random generator, so every seed tells the same story (member
and voucher codes are the domain's, random). What the outbox held by then is marked sent through the sender's own
`scheduler.outbox` calls: the members are made up, and the playground's bot sends nothing of the past.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.factory import club_of
from bot.playground.cast import CASHIER, EMMA, OWNER, SARA, Person
from bot.settings import Settings
from loyalty import blocking, campaigns, members, purchases, referrals, rewards, rules, shop, staff, voucher_use
from loyalty.audiences import Audience
from loyalty.calendar import calendar_for
from loyalty.occasions import YALDA, next_occurrence
from loyalty.outbox import Message
from loyalty.rules import Rules
from loyalty.stamps import Stamp
from loyalty.vouchers import Kind, Worth
from scheduler import outbox
from storage.database import session_factory, write_transaction
from storage.models import Member, OutboxState

SEED = 1404  # the random generator's seed: the same café every time
MEMBERS = 200  # members besides the cast
FIRST_TELEGRAM_ID = 8_100_000  # the made-up members' messenger ids: FIRST_TELEGRAM_ID + n
OPEN_DAYS = 365  # the café has had its club this long
SALES_DAYS = 90  # purchases are recorded over this many days before now
DAY = timedelta(days=1)
PROFILE = {
    "name": "کافه نارنج",
    "description": "قهوه‌ی تازه‌برشته، کیک‌های خانگی و یک گوشه‌ی دنج برای کتاب خواندن.",
    "address": "تهران، خیابان ولیعصر، بالاتر از پارک ساعی، کوچه‌ی نارنج، پلاک ۱۲",
    "hours": "همه‌روزه ۸ صبح تا ۱۱ شب",
    "phone": "+982188776655",
    "instagram": "cafe.narenj",
}
RULES = {  # amounts in toman, the default currency: a point for every 10,000 toman
    "amount_per_point": 10_000,
    "welcome_bonus": 50,
    "tiers": [
        {"name": "bronze", "threshold": 0, "percent": 100},
        {"name": "silver", "threshold": 3_000_000, "percent": 125},
        {"name": "gold", "threshold": 8_000_000, "percent": 150},
    ],
    "referral_reward_to": "both",
    "referral_referrer_points": 100,
    "referral_friend_points": 50,
    "referral_trigger": "purchase",
}
CATALOG = (
    rewards.RewardDraft("یک قهوه‌ی رایگان", 150, 30, Worth(Kind.ITEM), "هر نوشیدنی قهوه‌ای منو، به انتخاب شما"),
    rewards.RewardDraft("یک برش کیک رایگان", 120, 30, Worth(Kind.ITEM), "کیک روز، به انتخاب شما"),
    rewards.RewardDraft("۱۰٪ تخفیف", 80, 14, Worth(Kind.PERCENT, 10, 100_000), "تا سقف ۱۰۰ هزار تومان"),
    rewards.RewardDraft("۵۰ هزار تومان تخفیف", 300, 30, Worth(Kind.FIXED, 50_000)),
)
DRINKS = (75_000, 85_000, 95_000, 115_000, 120_000, 135_000, 140_000, 60_000)  # espresso … iced latte, tea
CAKES = (95_000, 150_000, 165_000, 185_000)  # croissant, cake of the day, brownie, cheesecake
COFFEE, CAKE = "قهوه", "کیک"  # the cashier's #categories
PAYMENTS = (("card", 70), ("online", 20), ("cash", 10))
HOURS = {8: 1, 9: 2, 10: 3, 11: 3, 12: 3, 13: 3, 14: 3, 15: 4, 16: 6, 17: 7, 18: 8, 19: 8, 20: 7, 21: 5, 22: 3}
WEEKDAYS = (0.9, 0.95, 1.0, 1.4, 1.3, 1.0, 0.9)  # Monday … Sunday: Thursday evening and Friday are the weekend
VISITS_PER_WEEK = ((0.1, 2.0, 3.5), (0.4, 0.4, 1.0), (0.5, 0.05, 0.25))  # regulars, occasional, rare: share, from, to
REFERRED = 0.35  # of the members who joined within the sales days, invited by a member
REDEEM = 0.2  # chance a member with enough points redeems at a visit


def _words(text: str) -> tuple[str, ...]:
    """The words of a list of names typed with spaces between them."""
    return tuple(text.split())


FEMALE = _words(
    "سارا مریم زهرا فاطمه نگار نازنین الهام شیرین مهسا پریسا نیلوفر آزاده "
    "هانیه یاسمن ترانه سپیده مینا رها آیدا بهاره کیمیا غزل لیلا ستاره"
)
MALE = _words(
    "علی محمد رضا حسین امیر مهدی سعید پویا آرش بابک کاوه سینا "
    "نیما حامد مجید فرهاد بهرام کامران میلاد احسان پیمان شهاب یاسین دانیال"
)
SURNAMES = _words(
    "محمدی حسینی احمدی رضایی کریمی موسوی جعفری صادقی رحیمی نوری کاظمی "
    "تهرانی شریفی قاسمی زمانی اکبری مرادی یزدانی فرهادی نیک‌نام امینی سلیمی"
)


class CafeExists(RuntimeError):
    """The database has a club already: the café is seeded only into an empty one."""


@dataclass
class _Newcomer:
    """A member to be: who they are, when they join, whom they came through, how often they come."""

    person: Person
    surname: str
    gender: str
    birthday: date
    joined_at: datetime
    visits_per_week: float
    news: bool
    referrer: _Newcomer | None = None
    member_id: int = 0
    code: str = ""


@dataclass
class _Cafe:
    """What the seed knows while it runs: sessions, the rules' defaults, the clock's end and the random generator."""

    session: AsyncSession
    defaults: Rules
    owner_ids: frozenset[int]
    zone: ZoneInfo
    now: datetime
    rng: random.Random
    reward_ids: list[int] = field(default_factory=list)
    updates: itertools.count[int] = field(default_factory=itertools.count)

    def stamp(self, actor: int, at: datetime) -> Stamp:
        """A stamp of a made-up update of `actor` at `at`."""
        return Stamp(actor, f"cafe:{next(self.updates)}", at)

    def at_hours(self, day: date) -> datetime:
        """A moment of `day` while the café is open, the busy hours likelier (UTC)."""
        hour = self.rng.choices(list(HOURS), list(HOURS.values()))[0]
        local = datetime.combine(day, time(hour, self.rng.randrange(60), self.rng.randrange(60)), self.zone)
        return local.astimezone(UTC)


Event = Callable[[datetime], Awaitable[None]]  # what happens at the moment it is given


async def seed_cafe(engine: AsyncEngine, settings: Settings, *, now: datetime) -> None:
    """Fill the empty, migrated database of `engine` with the café as it stands at `now`; CafeExists if it has a
    club already (members or a shop profile), having written nothing."""
    async with session_factory(engine)() as session:
        if await session.scalar(select(func.count()).select_from(Member)) or not (await shop.current(session)).is_empty:
            raise CafeExists("the database has a club already; the café is seeded into an empty one")
        await session.commit()
        owner_ids = frozenset(settings.owner_ids) | {OWNER.telegram_id}
        cafe = _Cafe(session, club_of(settings).rules, owner_ids, settings.zone, now, random.Random(SEED))
        opened = cafe.at_hours((now - OPEN_DAYS * DAY).astimezone(settings.zone).date())
        await _open(cafe, opened)
        newcomers = _newcomers(cafe, opened)
        events: list[tuple[datetime, int, Event]] = []
        order = itertools.count()
        for moment, event in _story(cafe, newcomers):
            heapq.heappush(events, (moment, next(order), event))
        while events:
            moment, _, event = heapq.heappop(events)
            await event(moment)
        await _deliver(cafe, now)


async def _open(cafe: _Cafe, at: datetime) -> None:
    """The owner sets up the club: the profile, the rules, the catalog, and a cashier hired by invite."""
    session, owner = cafe.session, OWNER.telegram_id
    for part, value in PROFILE.items():
        await shop.set_field(session, part, value, cafe.stamp(owner, at))
    for rule, setting in RULES.items():
        await rules.set_rule(session, cafe.defaults, rule, setting, cafe.stamp(owner, at))
    for draft in CATALOG:
        cafe.reward_ids.append((await rewards.add_reward(session, draft, cafe.stamp(owner, at))).id)
    token = await staff.create_invite(session, staff.Role.CASHIER, cafe.stamp(owner, at), owner_ids=cafe.owner_ids)
    hired = cafe.stamp(CASHIER.telegram_id, at + timedelta(hours=1))
    await staff.accept_invite(session, token, hired, name=CASHIER.first_name, owner_ids=cafe.owner_ids)


def _newcomers(cafe: _Cafe, opened: datetime) -> list[_Newcomer]:
    """The cast's members and MEMBERS more, in the order they join, some invited by one who joined before them."""
    rng, today = cafe.rng, cafe.now.astimezone(cafe.zone).date()
    cast = [
        _person(cafe, OWNER, "کریمی", "female", opened + timedelta(hours=2), 1.0),
        _person(cafe, SARA, "رضایی", "female", cafe.now - 120 * DAY, 3.0),
        _person(cafe, EMMA, "Brown", "female", cafe.now - 60 * DAY, 1.5),
    ]
    phones = rng.sample(range(2_000_000, 10_000_000), MEMBERS)
    made = []
    for number, phone in enumerate(phones):
        gender = rng.choice(("female", "male"))
        name = rng.choice(FEMALE if gender == "female" else MALE)
        person = Person(FIRST_TELEGRAM_ID + number, name, "fa", f"+98912{phone:07d}", "customer", member=True)
        day = today - timedelta(days=int(OPEN_DAYS * rng.random() ** 0.8))  # more joined lately
        made.append(_person(cafe, person, rng.choice(SURNAMES), gender, cafe.at_hours(day), _visits(rng)))
    newcomers = sorted(cast + made, key=lambda newcomer: newcomer.joined_at)
    recent = cafe.now - SALES_DAYS * DAY
    for index, newcomer in enumerate(newcomers):
        if newcomer.person.telegram_id >= FIRST_TELEGRAM_ID and newcomer.joined_at > recent and index > 10:
            newcomer.referrer = rng.choice(newcomers[:index]) if rng.random() < REFERRED else None
    return newcomers


def _person(cafe: _Cafe, person: Person, surname: str, gender: str, joined_at: datetime, visits: float) -> _Newcomer:
    """A newcomer with a birthday 18 to 55 years ago and the news wanted, mostly."""
    rng = cafe.rng
    birthday = cafe.now.date() - timedelta(days=rng.randrange(18 * 365, 55 * 365))
    return _Newcomer(person, surname, gender, birthday, joined_at, visits, news=rng.random() < 0.7)


def _visits(rng: random.Random) -> float:
    """How often a made-up member comes, a week: a few regulars, many occasional and rare ones."""
    _share, low, high = rng.choices(VISITS_PER_WEEK, [kind[0] for kind in VISITS_PER_WEEK])[0]
    return rng.uniform(low, high)


def _story(cafe: _Cafe, newcomers: list[_Newcomer]) -> list[tuple[datetime, Event]]:
    """Everything that happens after the opening, each at its moment: joinings, purchases, members stopping the
    news or blocked, and the campaigns."""
    rng, events = cafe.rng, []
    sales_start = cafe.now - SALES_DAYS * DAY
    for newcomer in newcomers:
        events.append((newcomer.joined_at, _joining(cafe, newcomer)))
        first = max(newcomer.joined_at + timedelta(minutes=5), sales_start)
        moments = _visit_moments(cafe, newcomer, first)
        if newcomer.referrer is not None:  # the invited friend's first purchase on their joining day
            moments = sorted({newcomer.joined_at + timedelta(minutes=10), *moments})
        ends = cafe.now
        if newcomer.person.telegram_id >= FIRST_TELEGRAM_ID and rng.random() < 0.04:
            ends = cafe.now - rng.randrange(2, 30) * DAY
            events.append((ends, _leaving(cafe, newcomer, blocked=rng.random() < 0.4)))
        events += [(moment, _visit(cafe, newcomer)) for moment in moments if moment < ends]
    events += _campaigns(cafe)
    return events


def _visit_moments(cafe: _Cafe, newcomer: _Newcomer, first: datetime) -> list[datetime]:
    """When the member comes, from `first` to now: their visits a week, on weekdays and hours as the café's."""
    zone, rng = cafe.zone, cafe.rng
    start, end = first.astimezone(zone).date(), cafe.now.astimezone(zone).date()
    days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
    expected = newcomer.visits_per_week * len(days) / 7
    count = int(expected) + (rng.random() < expected - int(expected))
    chosen = rng.choices(days, [WEEKDAYS[day.weekday()] for day in days], k=count) if count else []
    moments = (cafe.at_hours(day) for day in chosen)
    return sorted(moment for moment in moments if first <= moment < cafe.now)


def _joining(cafe: _Cafe, newcomer: _Newcomer) -> Event:
    """The newcomer joins (through their friend's link if invited), with their profile."""

    async def join(at: datetime) -> None:
        person, session = newcomer.person, cafe.session
        payload = referrals.payload_for(newcomer.referrer.code) if newcomer.referrer else None
        club_rules = await rules.current(session, cafe.defaults)
        if payload is not None:
            opened = at - timedelta(minutes=cafe.rng.randrange(5, 600))
            await referrals.opened(session, payload, telegram_id=person.telegram_id, now=opened, rules=club_rules)
        name = f"{person.first_name} {newcomer.surname}"
        profile = members.Profile(
            first_name=name,
            language=person.language,
            birthday=newcomer.birthday,
            birthday_calendar=calendar_for(person.language),
            gender=newcomer.gender,
            news_consent=newcomer.news,
            referral_payload=payload,
        )
        stamp = cafe.stamp(person.telegram_id, at)
        joined = await members.join(session, person.phone, profile, cafe.defaults, stamp, owner_ids=cafe.owner_ids)
        newcomer.member_id, newcomer.code = joined.member.id, joined.member.code

    return join


def _visit(cafe: _Cafe, newcomer: _Newcomer) -> Event:
    """A visit: the cashier (now and then the owner) records what the member bought; with enough points, the member
    may redeem a reward, its voucher used there and then."""

    async def visit(at: datetime) -> None:
        rng = cafe.rng
        amount, category = _basket(rng)
        cashier = OWNER if rng.random() < 0.2 and newcomer.person != OWNER else CASHIER
        payment = rng.choices([method for method, _ in PAYMENTS], [weight for _, weight in PAYMENTS])[0]
        earned = await purchases.record_purchase(
            cafe.session,
            cafe.defaults,
            member_id=newcomer.member_id,
            amount=amount,
            receipt=None,
            stamp=cafe.stamp(cashier.telegram_id, at),
            category=category,
            payment=payment,
        )
        if rng.random() < REDEEM:
            await _redeem(cafe, newcomer, earned.balance, at + timedelta(minutes=1), cashier)

    return visit


def _basket(rng: random.Random) -> tuple[int, str | None]:
    """What a visit costs (toman) and its category: a drink or two, perhaps a cake; now and then no tag typed."""
    drinks = rng.choices(DRINKS, k=rng.choices((1, 2, 3), (6, 3, 1))[0])
    cakes = rng.choices(CAKES, k=rng.choices((0, 1, 2), (6, 3, 1))[0])
    category = CAKE if cakes and rng.random() < 0.6 else COFFEE
    return sum(drinks) + sum(cakes), category if rng.random() < 0.9 else None


async def _redeem(cafe: _Cafe, newcomer: _Newcomer, balance: int, at: datetime, cashier: Person) -> None:
    """The member spends points on a reward they can afford, and the cashier takes the voucher a minute later (most
    times; the others keep it for another day)."""
    affordable = [reward_id for reward_id, draft in zip(cafe.reward_ids, CATALOG, strict=True) if draft.cost <= balance]
    if not affordable:
        return
    reward_id = cafe.rng.choice(affordable)
    stamp = cafe.stamp(newcomer.person.telegram_id, at)
    key = f"redeem:{stamp.update_key}"
    redeemed = await rewards.redeem(cafe.session, reward_id, stamp, member_id=newcomer.member_id, key=key)
    if cafe.rng.random() < 0.8:
        used = cafe.stamp(cashier.telegram_id, at + timedelta(minutes=1))
        await voucher_use.use(cafe.session, redeemed.voucher.id, used)


def _leaving(cafe: _Cafe, newcomer: _Newcomer, *, blocked: bool) -> Event:
    """The member stops the club's news, or the owner blocks them (and they come no more)."""

    async def leave(at: datetime) -> None:
        session = cafe.session
        if blocked:
            stamp = cafe.stamp(OWNER.telegram_id, at)
            await blocking.block(session, newcomer.member_id, stamp, blocked=True, reason="سوءاستفاده از کد معرفی")
            return
        member = await session.get_one(Member, newcomer.member_id)
        await members.stop(session, member, at)

    return leave


def _campaigns(cafe: _Cafe) -> list[tuple[datetime, Event]]:
    """Coffee week, 45 days ago: double points for three days, its message sent to the members who want the news; and
    the Yalda night campaign, created two days ago and scheduled for the morning of the coming Yalda."""
    week = cafe.at_hours((cafe.now - 45 * DAY).astimezone(cafe.zone).date())
    today = cafe.now.astimezone(cafe.zone).date()
    yalda = next_occurrence(YALDA, today)
    assert yalda is not None  # a solar date
    send_at = datetime.combine(yalda.day, time(10), cafe.zone).astimezone(UTC)
    return [(week, _coffee_week(cafe)), (cafe.now - 2 * DAY, _yalda(cafe, send_at))]


def _coffee_week(cafe: _Cafe) -> Event:
    """The owner sends coffee week (to the members who want the news), with double points for three days; it is
    delivered within the quarter hour."""

    async def send(at: datetime) -> None:
        gift = campaigns.MultiplierGift(percent=200, starts_at=at, ends_at=at + 3 * DAY, bonus_expiry_days=60)
        text = "{name} عزیز، هفته‌ی قهوه در {shop} شروع شد: تا سه روز هر خرید امتیاز دوبرابر دارد! ☕"
        draft = campaigns.CampaignDraft("هفته‌ی قهوه", Audience(), Message(text), gift)
        await campaigns.confirm(cafe.session, draft, cafe.stamp(OWNER.telegram_id, at))
        await _deliver(cafe, at + timedelta(minutes=15))

    return send


def _yalda(cafe: _Cafe, send_at: datetime) -> Event:
    """The owner schedules the Yalda night campaign: a free slice of cake for the members who want the news."""

    async def schedule(at: datetime) -> None:
        gift = campaigns.VoucherGift(title="برش کیک یلدایی", worth=Kind.ITEM, validity_days=3)
        text = "{name} عزیز، شب یلدا مهمان {shop} باشید: یک برش کیک یلدایی هدیه‌ی ماست. 🍉"
        draft = campaigns.CampaignDraft("شب یلدا", Audience(), Message(text), gift, send_at)
        await campaigns.confirm(cafe.session, draft, cafe.stamp(OWNER.telegram_id, at))

    return schedule


async def _deliver(cafe: _Cafe, at: datetime) -> None:
    """Every message waiting in the outbox at `at` went out then (the seed's members are made up: nothing is sent),
    and the campaigns with nothing left to send are done."""
    session = cafe.session
    claimed = await outbox.claim(session, token="playground-seed", limit=100_000, now=at, lease_until=at)
    async with write_transaction(session):
        await outbox.settle(session, [outbox.Outcome(row, OutboxState.SENT) for row in claimed], at)
        drained = {row.campaign_id for row in claimed if row.campaign_id is not None}
        await campaigns.finish_drained(session, drained, at)
