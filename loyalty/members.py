"""Joining the club and keeping a member's profile."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audit, gifts, ledger, outbox, purchases, referrals, rules, staff
from loyalty.birthdays import birthday_md
from loyalty.codes import looks_like_member_code, new_member_code, read_member_code
from loyalty.errors import InvalidName, InvalidPhone, MistypedCode, NotAMemberReference, PhoneTaken, UnknownMember
from loyalty.outbox import Notices
from loyalty.phones import normalise_phone
from loyalty.rules import Rules
from loyalty.stamps import Stamp
from storage import repositories
from storage.database import write_transaction
from storage.models import Member

MAX_NAME_LENGTH = 64
CODE_ATTEMPTS = 20
GENDERS = ("female", "male")


@dataclass(frozen=True)
class Profile:
    """What a newcomer tells us while joining."""

    first_name: str
    language: str
    birthday: date | None = None
    birthday_calendar: str | None = None
    gender: str | None = None
    news_consent: bool = False
    referral_payload: str | None = None


@dataclass(frozen=True)
class Own:
    """What the joining account had given, as staff, the member it joins as, now taken back: the purchases it recorded,
    reversed; the points its adjustments added; the vouchers of its one-member gifts, cancelled."""

    purchases: tuple[purchases.Undone, ...] = ()
    adjusted: int = 0
    vouchers: int = 0

    @property
    def given(self) -> bool:
        """True if there was anything to take back."""
        return bool(self.purchases or self.adjusted or self.vouchers)


@dataclass(frozen=True)
class Joined:
    """The outcome of joining: the member, the bonus credited now, whether they were already in, a referral's news, and
    the points that were waiting on their phone (walk-in purchases recorded before they joined); what the joining
    account had given that member itself, taken back, and the owners to tell of it (none if nothing was)."""

    member: Member
    bonus: int
    already_member: bool
    referral: referrals.ReferralEvent | None = None
    waiting: int = 0
    own: Own = Own()
    owners: tuple[staff.Owner, ...] = ()


@dataclass(frozen=True)
class PhoneChanged:
    """A member moved to a new phone by staff: the number they had and the one they have; `changed` False when the
    member had that number already (a second confirmation)."""

    member: Member
    old: str
    new: str
    changed: bool


def clean_name(text: str) -> str:
    """A typed name, trimmed, spaces folded; refused if empty, too long or without letters."""
    name = " ".join(text.split())
    if not name:
        raise InvalidName("empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName("too_long")
    if not any(char.isalpha() for char in name) or name.startswith("/"):
        raise InvalidName("not_a_name")
    return name


async def ensure_phone_free(session: AsyncSession, phone: str, telegram_id: int) -> None:
    """Raise PhoneTaken when the number already belongs to another messenger account."""
    owner = await repositories.member_by_phone(session, phone)
    if owner is not None and owner.telegram_id not in (None, telegram_id):
        raise PhoneTaken(phone)


async def join(
    session: AsyncSession,
    phone: str,
    profile: Profile,
    defaults: Rules,
    stamp: Stamp,
    *,
    owner_ids: Collection[int] = frozenset(),
    notices: Notices[Joined] | None = None,
) -> Joined:
    """Make the account `stamp.actor_id` a member in one transaction (linking an imported phone); welcome bonus
    once.

    Linking a member the club knew, what this account gave it as staff is taken back (`_take_back_own`; not an
    owner's, it is their shop), so it is not among the points waiting, and the owners are told. A pending referral
    of the account is attributed in the same transaction (`referrals.on_joined`), and the `notices` of the joining
    (to the referrer, to the owners) are enqueued in it (`loyalty.outbox`).
    """
    telegram_id, now = stamp.actor_id, stamp.at
    existing = await repositories.member_by_telegram_id(session, telegram_id)
    if existing is not None:
        return Joined(existing, bonus=0, already_member=True)
    try:
        async with write_transaction(session):
            member = await _member_for_phone(session, telegram_id, phone, now)
            phone_in_club = member.id is not None  # imported, or a walk-in who bought before: a customer already
            _apply_profile(member, profile, now)
            await session.flush()
            club_rules = await rules.current(session, defaults)
            own = await _take_back_own(session, member, club_rules, stamp, owner_ids) if phone_in_club else Own()
            waiting = await _waiting_points(session, member, now) if phone_in_club else 0
            bonus = await _welcome_bonus(session, member, club_rules, now)
            referral = await referrals.on_joined(
                session, member, now=now, rules=club_rules, update_id=stamp.update_id, phone_in_club=phone_in_club
            )
            owners = await staff.owners(session, owner_ids, but=telegram_id) if own.given else ()
            joined = Joined(member, bonus, False, referral, waiting, own, owners)
            await outbox.notify(session, notices, joined, now=now)
    except IntegrityError:
        raced = await repositories.member_by_telegram_id(session, telegram_id)
        if raced is None:
            raise PhoneTaken(phone) from None
        return Joined(raced, bonus=0, already_member=True)
    return joined


async def _member_for_phone(session: AsyncSession, telegram_id: int, phone: str, now: datetime) -> Member:
    """The imported member with this phone, now linked, or a new member with a fresh code, made at `now`."""
    member = await repositories.member_by_phone(session, phone)
    if member is not None:
        if member.telegram_id not in (None, telegram_id):
            raise PhoneTaken(phone)
        member.telegram_id = telegram_id
        return member
    code = await _unused_code(session)
    member = Member(telegram_id=telegram_id, phone=phone, code=code, balance=0, tier="bronze", created_at=now)
    session.add(member)
    return member


async def _take_back_own(
    session: AsyncSession, member: Member, club_rules: Rules, stamp: Stamp, owner_ids: Collection[int]
) -> Own:
    """What the joining account gave the member it links as staff, taken back: its purchases reversed
    (`purchases.reverse_own`), the points its adjustments added, its one-member gifts' vouchers (each audited); nothing
    of an owner's."""
    actor_id, now = stamp.actor_id, stamp.at
    if await staff.role_of(session, actor_id, owner_ids) is staff.Role.OWNER:
        return Own()
    await repositories.lock_member(session, member.id)
    reversed_ = tuple(await purchases.reverse_own(session, club_rules, member.id, stamp))
    key = f"own-adjust:{member.id}:{actor_id}"
    adjusted = await ledger.take_back_adjusted(session, member, actor_id=actor_id, key=key, now=now)
    vouchers = await gifts.cancel_given(session, member.id, actor_id, now)
    for action, name, count in (
        ("adjust.own_reversed", "points", adjusted),
        ("voucher.own_cancelled", "vouchers", vouchers),
    ):
        if count:
            details = {name: count}
            await audit.record(
                session,
                actor_id=actor_id,
                action=action,
                now=now,
                member_id=member.id,
                update_id=stamp.update_id,
                **details,
            )
    return Own(reversed_, adjusted, vouchers)


async def _waiting_points(session: AsyncSession, member: Member, now: datetime) -> int:
    """The points waiting on the phone of a member the club knew before they joined, what is due expired first."""
    await ledger.expire_member(session, member.id, now)
    await session.refresh(member, ["balance"])
    return member.balance


async def waiting_member(session: AsyncSession, phone: str, language: str, stamp: Stamp) -> Member:
    """The member of `phone`, made now without a messenger account when there is none (a walk-in customer, in one
    transaction, audited): purchases wait on it until someone joins with that phone (`join` links it)."""
    try:
        async with write_transaction(session):
            member = await repositories.member_by_phone(session, phone)
            if member is not None:
                return member
            member = Member(
                phone=phone,
                code=await _unused_code(session),
                first_name="",
                language=language,
                balance=0,
                tier="bronze",
                created_at=stamp.at,
            )
            session.add(member)
            await session.flush()
            await audit.record(
                session,
                actor_id=stamp.actor_id,
                action="member.walk_in",
                now=stamp.at,
                member_id=member.id,
                update_id=stamp.update_id,
                phone=phone,
            )
    except IntegrityError:
        raced = await repositories.member_by_phone(session, phone)
        if raced is None:
            raise
        return raced
    return member


async def check_new_phone(session: AsyncSession, member: Member, phone: str) -> None:
    """Raise PhoneTaken when another member has the number `member` would move to."""
    owner = await repositories.member_by_phone(session, phone)
    if owner is not None and owner.id != member.id:
        raise PhoneTaken(phone)


async def change_phone(
    session: AsyncSession, member_id: int, phone: str, stamp: Stamp, *, notices: Notices[PhoneChanged] | None = None
) -> PhoneChanged:
    """Move a member to the number `phone` (E.164) for the staff member `stamp.actor_id`, in one transaction: the
    same member, points and history; the old and new numbers audited and the member's `notices` enqueued.

    Raises PhoneTaken when another member has that number; the member's number already is a change of nothing.
    """
    try:
        async with write_transaction(session):
            member = await repositories.lock_member(session, member_id)
            old = member.phone
            if old == phone:
                return PhoneChanged(member, old, phone, changed=False)
            await check_new_phone(session, member, phone)
            member.phone = phone
            await session.flush()
            await audit.record(
                session,
                actor_id=stamp.actor_id,
                action="member.phone",
                now=stamp.at,
                member_id=member.id,
                update_id=stamp.update_id,
                old=old,
                new=phone,
            )
            changed = PhoneChanged(member, old, phone, changed=True)
            await outbox.notify(session, notices, changed, now=stamp.at)
    except IntegrityError:
        raise PhoneTaken(phone) from None
    return changed


async def unused_codes(session: AsyncSession, count: int) -> list[str]:
    """`count` different member codes nobody has yet, the taken ones found by one query per round."""
    codes: set[str] = set()
    for _ in range(CODE_ATTEMPTS):
        if len(codes) == count:
            return list(codes)
        wanted = {new_member_code() for _ in range(count - len(codes))} - codes
        codes |= wanted - await repositories.taken_codes(session, wanted)
    if len(codes) < count:
        raise RuntimeError("no free member codes found; the code space is nearly full")
    return list(codes)


async def _unused_code(session: AsyncSession) -> str:
    """A member code nobody has yet."""
    for _ in range(CODE_ATTEMPTS):
        code = new_member_code()
        if not await repositories.code_exists(session, code):
            return code
    raise RuntimeError("no free member code found; the code space is nearly full")


def _apply_profile(member: Member, profile: Profile, now: datetime) -> None:
    """Copy what the newcomer told us onto the member."""
    member.first_name = profile.first_name
    member.language = profile.language
    _set_birthday(member, profile.birthday, profile.birthday_calendar)
    member.gender = profile.gender
    member.news_consent = profile.news_consent
    member.referral_payload = profile.referral_payload
    member.stopped = False
    if not member.unreachable:
        member.out_of_reach_since = None
    member.joined_at = now


def _set_birthday(member: Member, birthday: date | None, calendar: str | None) -> None:
    """Store a birthday with its month-day key in its calendar (today's birthdays are found by it)."""
    member.birthday, member.birthday_calendar = birthday, calendar
    member.birthday_md = birthday_md(birthday, calendar) if birthday and calendar else None


async def _welcome_bonus(session: AsyncSession, member: Member, club_rules: Rules, now: datetime) -> int:
    """Credit the welcome bonus once per member (its idempotency key is the member's id)."""
    key = f"welcome:{member.id}"
    if club_rules.welcome_bonus <= 0 or await repositories.entry_by_key(session, key) is not None:
        return 0
    entry = await ledger.post_credit(
        session,
        member,
        points=club_rules.welcome_bonus,
        kind=ledger.Kind.BONUS,
        reason=ledger.WELCOME,
        key=key,
        now=now,
        expires_at=now + timedelta(days=club_rules.expiry_days),
    )
    return entry.points


async def update_member(session: AsyncSession, member: Member, **changes: object) -> Member:
    """Change profile fields (name, birthday, gender, consent, language) in one transaction."""
    refused = set(changes) - _EDITABLE
    if refused:
        raise ValueError(f"not editable: {', '.join(sorted(refused))}")
    async with write_transaction(session):
        for field, value in changes.items():
            setattr(member, field, value)
        _set_birthday(member, member.birthday, member.birthday_calendar)
        session.add(member)
    return member


async def stop(session: AsyncSession, member: Member, now: datetime) -> None:
    """/stop, in one transaction: no more news or campaigns, and out of reach since `now` unless already."""
    async with write_transaction(session):
        member.stopped = True
        member.out_of_reach_since = member.out_of_reach_since or now
        session.add(member)


async def welcome_back(session: AsyncSession, member: Member) -> bool:
    """A member back through /start, in one transaction: their messages resume if they had sent /stop, and
    broadcasts reach them again if they had blocked the bot. Returns whether they had stopped."""
    stopped, blocked = member.stopped, member.unreachable
    if not (stopped or blocked):
        return False
    assert member.telegram_id is not None  # they are writing from their account
    async with write_transaction(session):
        member.stopped = False
        member.out_of_reach_since = None
        session.add(member)
        if blocked:
            await repositories.mark_reachable(session, member.telegram_id)
    member.unreachable = False
    return stopped


_EDITABLE = frozenset({"first_name", "birthday", "birthday_calendar", "gender", "news_consent", "language"})


async def find(session: AsyncSession, reference: str) -> Member:
    """The member a cashier means by a member code or a phone number, in any digits.

    Raises MistypedCode (eight digits, wrong check digit), UnknownMember, or NotAMemberReference.
    """
    if looks_like_member_code(reference):
        code = read_member_code(reference)
        if code is None:
            raise MistypedCode(reference)
        member = await repositories.member_by_code(session, code)
    else:
        try:
            phone = normalise_phone(reference)
        except InvalidPhone:
            raise NotAMemberReference(reference) from None
        member = await repositories.member_by_phone(session, phone)
    if member is None:
        raise UnknownMember(reference)
    return member


async def search(session: AsyncSession, text: str, limit: int) -> list[Member]:
    """The members staff look for by a member code or a phone number (as `find` reads them), or else by the start of
    their first name; none for a code or phone no member has. Raises MistypedCode."""
    try:
        return [await find(session, text)]
    except UnknownMember:
        return []
    except NotAMemberReference:
        name = " ".join(text.split())
        return await repositories.members_named(session, name, limit) if name else []
