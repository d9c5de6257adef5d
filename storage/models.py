"""Database tables of the club, declared once for SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A moment in time, stored in UTC and always read back as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


OPEN_LOT = text("remaining > 0")
KEPT_PURCHASE = text("reversed_at IS NULL")


def written(value: int | str) -> ColumnElement[Any]:
    """`value` written into a statement's SQL, not bound: for a term that a partial index's WHERE could match, such as
    `remaining > 0` (`OPEN_LOT`) or `status = 'active'` (`ACTIVE_VOUCHER`). SQLite plans such a statement by the bound
    value, so it prepares the statement again every time it runs: that was 60 µs of the 70 the sender's lookup took."""
    return literal_column(str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'")


Wide = BigInteger().with_variant(Integer(), "sqlite")
"""Points and counts that may pass 2**31: BIGINT on PostgreSQL; on SQLite every INTEGER is already 64-bit, and the
tables created before these columns were widened (migration 0008) keep saying INTEGER there."""


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING)
    __table__: ClassVar[Table]  # every model here maps one Table (SQLAlchemy types it as any FromClause)


class Member(Base):
    """A customer of the club; `balance` always equals the sum of the member's open lots.

    `stopped` means the member stopped the bot's news (not a block); `blocked` is set by staff for abuse;
    `unreachable` is set by the broadcast sender when the messenger says the member blocked the bot or the
    chat is gone (403, "chat not found"), so broadcasts leave them out.
    `birthday_md` is the birthday's month * 100 + day in the member's own calendar (`loyalty.birthdays`), so
    today's birthdays are found by an index.
    `points_owed`: points a take-back could not take because they were spent; reversals settle it first.
    `first_purchase_at`: the moment of the member's first purchase not reversed (`loyalty.purchases` keeps it), so
    the reports count new buyers by an index instead of seeking each buyer's purchases.
    `out_of_reach_since`: when the bot stopped reaching the member — they sent /stop, or a send found them
    unreachable — the earlier while either holds; None while neither does. Retention counts from it (`loyalty.privacy`).
    `forgotten_at`: when the member's personal data was erased (`loyalty.privacy`); the row and its ledger stay for the
    shop's accounts, under a placeholder phone, so the person may join again as a new member.
    """

    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("points_owed >= 0", name="points_owed_not_negative"),
        Index("ix_members_birthday", "birthday_calendar", "birthday_md"),
        Index("ix_members_first_purchase", "first_purchase_at"),
        Index("ix_members_tier", "tier"),  # the Members report's tiers, counted without sorting the club (0018)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    first_name: Mapped[str] = mapped_column(String(64))
    birthday: Mapped[date | None] = mapped_column(Date)
    birthday_calendar: Mapped[str | None] = mapped_column(String(10))
    birthday_md: Mapped[int | None] = mapped_column(SmallInteger)  # month * 100 + day in birthday_calendar
    birthday_greeted_on: Mapped[date | None] = mapped_column(Date)  # the shop's date of the last birthday gift
    gender: Mapped[str | None] = mapped_column(String(10))
    news_consent: Mapped[bool] = mapped_column(default=False)
    stopped: Mapped[bool] = mapped_column(default=False)
    blocked: Mapped[bool] = mapped_column(default=False)
    unreachable: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str] = mapped_column(String(5))
    referral_payload: Mapped[str | None] = mapped_column(String(64))
    balance: Mapped[int] = mapped_column(Wide, default=0)
    points_owed: Mapped[int] = mapped_column(Wide, default=0, server_default="0")  # see `loyalty.ledger`
    tier: Mapped[str] = mapped_column(String(16), default="bronze")
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: datetime.now(UTC))
    first_purchase_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    forgotten_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # personal data erased (`loyalty.privacy`, 0019)
    out_of_reach_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # stopped or unreachable since (0020)


class LedgerEntry(Base):
    """One append-only change of a member's points, with why and under which idempotency key."""

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_member_created", "member_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Wide)
    reason: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))


class PointLot(Base):
    """Points credited together that expire together; spending draws on the soonest-expiring lot."""

    __tablename__ = "point_lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_in_range"),
        Index("ix_point_lots_member_expiry", "member_id", "expires_at"),
        Index("ix_point_lots_open_expiry", "expires_at", sqlite_where=OPEN_LOT, postgresql_where=OPEN_LOT),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    points: Mapped[int] = mapped_column(Wide)
    remaining: Mapped[int] = mapped_column(Wide)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LotDraw(Base):
    """How many points a debit entry took from one lot, so a reversal can give them back with their expiry."""

    __tablename__ = "lot_draws"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("point_lots.id"))
    points: Mapped[int] = mapped_column(Wide)


class Purchase(Base):
    """A purchase recorded at the counter; its points are the ledger entry `entry_id` (plus any bonus).

    `previous_at`: the moment of the same member's purchase before it (both not reversed; None: their first), kept
    by `loyalty.purchases` on earn and undo, so a period's buyers are its purchases whose previous one is older than
    the period: counted along an index, no DISTINCT.
    """

    __tablename__ = "purchases"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_purchases_member_created", "member_id", "created_at"),
        # The reports (`loyalty.reports`) read only kept purchases: a period's rows by range, covered (no table
        # look-ups), and each buyer's first purchase without reading the reversed ones (migration 0014); the period's
        # split by payment method is covered too (migration 0015), and so are a period's buyers (migration 0017).
        Index(
            "ix_purchases_kept_created",
            "created_at",
            "member_id",
            "amount",
            "payment",
            "previous_at",
            sqlite_where=KEPT_PURCHASE,
            postgresql_where=KEPT_PURCHASE,
        ),
        Index(
            "ix_purchases_kept_member",
            "member_id",
            "created_at",
            sqlite_where=KEPT_PURCHASE,
            postgresql_where=KEPT_PURCHASE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    receipt: Mapped[str | None] = mapped_column(String(64), unique=True)
    category: Mapped[str | None] = mapped_column(String(32))
    payment: Mapped[str | None] = mapped_column(String(8))  # `loyalty.payments.Payment`; NULL: not said
    points: Mapped[int] = mapped_column(Wide)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    staff_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    previous_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Multiplier(Base):
    """A time-boxed points campaign: purchases in the window earn `percent`% of the points (200 = double)."""

    __tablename__ = "multipliers"
    __table_args__ = (CheckConstraint("percent > 100", name="percent_above_100"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    percent: Mapped[int] = mapped_column(Wide)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    bonus_expiry_days: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffMember(Base):
    """A messenger account that works for the shop: owner, manager or cashier."""

    __tablename__ = "staff"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    added_by: Mapped[int | None] = mapped_column(BigInteger)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffInvite(Base):
    """A one-time, expiring link that makes whoever opens it a staff member with `role`.

    `revoked_at` is set when an owner withdraws it, or when its maker leaves or loses the right to invite to
    `role` (migration 0008); `revoked_by` is the account whose action revoked it.
    """

    __tablename__ = "staff_invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[int | None] = mapped_column(BigInteger)


class AuditEntry(Base):
    """Who did what to whom, when, and from which update."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_member", "member_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    details: Mapped[str] = mapped_column(Text, default="{}")
    update_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClubSetting(Base):
    """One of the owner's rules (earning, tiers, expiry, bonuses) as JSON, validated in `loyalty.rules`."""

    __tablename__ = "club_settings"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- rewards and vouchers (migration 0003) ---------------------------------------------------------------------

VOUCHER_KINDS = "kind IN ('fixed', 'percent', 'item')"
ACTIVE_VOUCHER = text("status = 'active'")
VOUCHER_MISS = text("action = 'voucher.miss'")


class Reward(Base):
    """A catalog item members buy with `cost` points: a voucher of `kind` worth `value`, valid `validity_days`.

    `value` is money for a fixed discount, a percent for a percentage (capped at `cap` money if set), and
    empty for a free item; `stock` None is unlimited, `per_member_limit` None is no limit.
    """

    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint(VOUCHER_KINDS, name="kind_known"),
        CheckConstraint("cost > 0", name="cost_positive"),
        CheckConstraint("validity_days > 0", name="validity_positive"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("per_member_limit > 0", name="limit_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    photo_file_id: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[int | None] = mapped_column(BigInteger)
    cap: Mapped[int | None] = mapped_column(BigInteger)
    cost: Mapped[int] = mapped_column(Wide)
    validity_days: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int | None] = mapped_column(Wide)
    per_member_limit: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


GIFT_AUDIENCES = "audience IN ('member', 'tier', 'all', 'campaign')"


class Gift(Base):
    """Vouchers staff give without points to one member, a tier or everyone; issued in batches, resumed by key.

    A gift is finished once its members are told (`told_at`); one cut short is finished or cancelled later.

    A campaign's voucher gift (audience 'campaign') is issued one member at a time as the campaign's messages go.
    """

    __tablename__ = "gifts"
    __table_args__ = (
        CheckConstraint(VOUCHER_KINDS, name="kind_known"),
        CheckConstraint(GIFT_AUDIENCES, name="audience_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[int | None] = mapped_column(BigInteger)
    cap: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    audience: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str | None] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    issued: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # every batch issued
    message: Mapped[str | None] = mapped_column(Text)  # what the staff member wrote to the members
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the members' messages sent or enqueued
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # withdrawn before it was finished


class Voucher(Base):
    """A member's voucher: bought with `points` (spend entry `entry_id`) or given (`gift_id`); used at most once.

    The worth is copied from the reward or gift, so editing the catalog never changes a voucher already out.
    `status` is active, used or cancelled; an active voucher past `expires_at` is expired (derived, no job).
    """

    __tablename__ = "vouchers"
    __table_args__ = (
        CheckConstraint(VOUCHER_KINDS, name="kind_known"),
        CheckConstraint("status IN ('active', 'used', 'cancelled')", name="status_known"),
        CheckConstraint("points >= 0", name="points_not_negative"),
        UniqueConstraint("gift_id", "member_id", name="uq_vouchers_gift_member"),
        Index("ix_vouchers_member", "member_id", "id"),
        Index("ix_vouchers_active_expiry", "expires_at", sqlite_where=ACTIVE_VOUCHER, postgresql_where=ACTIVE_VOUCHER),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("rewards.id"))
    gift_id: Mapped[int | None] = mapped_column(ForeignKey("gifts.id"))
    title: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[int | None] = mapped_column(BigInteger)
    cap: Mapped[int | None] = mapped_column(BigInteger)
    points: Mapped[int] = mapped_column(Wide, default=0)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    refund_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[int | None] = mapped_column(BigInteger)


# Wrong voucher codes typed by one account in the last minute are counted on every look-up (the throttle):
# a small partial index on the audit log keeps that count cheap however long the log grows.
Index(
    "ix_audit_log_voucher_misses",
    AuditEntry.actor_id,
    AuditEntry.created_at,
    sqlite_where=VOUCHER_MISS,
    postgresql_where=VOUCHER_MISS,
)


# --- referrals (migration 0004) ---------------------------------------------------------------------------------

REFERRAL_STATUSES = "status IN ('pending', 'joined', 'rewarded', 'refused')"


class Referral(Base):
    """A newcomer who opened a member's invite link: pending, joined (attributed), rewarded once, or refused.

    One row per newcomer's messenger account. `converted_at` is the friend's first purchase of at least the
    owner's minimum (`purchase_id`); `reason` says why the referral was refused, or why the referrer got nothing.
    The reward paid, once, is each side's points and catalog voucher (`*_points`, `*_voucher_id`).
    """

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint(REFERRAL_STATUSES, name="status_known"),
        CheckConstraint("referrer_points >= 0 AND friend_points >= 0", name="points_not_negative"),
        Index("ix_referrals_referrer_rewarded", "referrer_id", "rewarded_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    friend_telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    friend_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(String(32))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchases.id"))
    rewarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    referrer_points: Mapped[int] = mapped_column(Wide, default=0)
    friend_points: Mapped[int] = mapped_column(Wide, default=0)
    referrer_voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"))
    friend_voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"))


# --- campaigns and the broadcast outbox (migration 0005) ---------------------------------------------------------

CAMPAIGN_STATES = "state IN ('draft', 'scheduled', 'running', 'paused', 'done', 'cancelled')"


class Campaign(Base):
    """A message (with an optional gift) to an audience of members, now or at `send_at`; see `loyalty.campaigns`.

    `audience`, `gift` and the message are stored as staff set them (JSON for the first two); the outbox gets one
    row per recipient when the campaign starts, and `recipients` says how many. `gift_id` is the voucher gift and
    `multiplier_id` the points multiplier the campaign gave; `report_chat_id`/`report_message_id` name the staff
    message that shows the campaign's progress.
    """

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(CAMPAIGN_STATES, name="state_known"),
        Index("ix_campaigns_state_send_at", "state", "send_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # the confirmation that made it
    name: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="draft")
    audience: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    photo_file_id: Mapped[str | None] = mapped_column(String(255))
    gift: Mapped[str | None] = mapped_column(Text)
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    gift_id: Mapped[int | None] = mapped_column(ForeignKey("gifts.id"))
    multiplier_id: Mapped[int | None] = mapped_column(ForeignKey("multipliers.id"))
    report_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    report_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    final_counts: Mapped[str | None] = mapped_column(Text)  # JSON {state: rows, "purchases": [n, amount]} once archived


class OutboxState(StrEnum):
    """Where one message of the outbox stands: waiting, claimed by a sender, or finished one way or another."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"
    CANCELLED = "cancelled"


OUTBOX_STATES = "state IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'cancelled')"
KEYED = text("key IS NOT NULL")


class OutboxMessage(Base):
    """One message to one chat, sent by `scheduler.sender` exactly once.

    `kind` says who produced it (campaign, birthday…). A campaign's row is known by (campaign, member), unique;
    any other row by its unique `key` (e.g. birthday:2026:17), so enqueueing it again is a no-op. Campaign rows
    carry no key, and the table no foreign keys: a campaign inserts a million rows at once, and a text key or
    two foreign-key look-ups per row would make that half again as slow (rows come from members and campaigns,
    which are never deleted).
    `payload` is the message as sent (JSON, see `loyalty.outbox.Message`), or empty for a campaign's row:
    that one is written from the campaign when it is sent, for the member as they are then. While pending,
    `next_attempt_at` is when it may be sent; while sending, it is when the sender's lease (`claim`) runs out
    and another sender may take the row over.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(OUTBOX_STATES, name="state_known"),
        CheckConstraint("key IS NOT NULL OR campaign_id IS NOT NULL", name="identified"),
        UniqueConstraint("campaign_id", "member_id", name="uq_outbox_campaign_member"),
        Index("uq_outbox_key", "key", unique=True, sqlite_where=KEYED, postgresql_where=KEYED),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    campaign_id: Mapped[int | None] = mapped_column(Integer)  # campaigns.id
    member_id: Mapped[int | None] = mapped_column(Integer)  # members.id
    chat_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=OutboxState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claim: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(200))


# The rows a sender may claim, with the states as literals (not parameters) so the partial index below serves
# every query that says WAITING: a claim reads one campaign's (or the other rows') waiting rows in id order from
# it. No time in the index: it would make a campaign's million-row INSERT a tenth slower, and the few rows
# waiting for a retry or a lease are simply passed over.
WAITING = OutboxMessage.state.in_([literal_column("'pending'"), literal_column("'sending'")])
Index(
    "ix_outbox_waiting",
    OutboxMessage.campaign_id,
    OutboxMessage.id,
    sqlite_where=WAITING,
    postgresql_where=WAITING,
)


class JobRun(Base):
    """A daily job's last day (shop date), claimed by one instance: the jobs' schedule and lock in one row.

    An instance runs a job when it claims the row for today (`scheduler.runs`): the day is older, or today's run
    was left unfinished by an instance whose lease ran out. `finished_at` is set when the run ends.
    """

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date | None] = mapped_column(Date)
    holder: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
