"""Campaigns: a message, perhaps with a gift, to an audience of members, now or at a set time.

A campaign's life: draft → (scheduled →) running ⇄ paused → done; anything not yet done can be cancelled.
- `create` checks and stores a draft: a name, an `Audience`, the message (text, or a photo with a caption), an
  optional gift and an optional time to send.
- `start` confirms it. A time still to come makes it scheduled (`start_due` starts it then); otherwise the outbox
  is filled by one INSERT ... SELECT from the audience — one row per recipient, unique (campaign, member) — and
  the campaign runs. The audience is taken at that moment, in the database. `confirm` is the wizard's Confirm:
  both, once per update.
- Staff steer a campaign from its view (`steer`): pause, resume, cancel, end its extra points, or finish a draft
  whose confirmation failed.
- The sender (`scheduler.sender`) sends the rows of running campaigns; a paused campaign's rows wait, `cancel`
  turns the rows not yet sent to cancelled, and a campaign with no row left waiting is done.
- Each message is written for its member when it is sent (`messages_for`), not when the campaign starts:
  {name}, {points}, {tier} and {voucher} are filled in with the member's values as they are then, in the
  member's language and digits, and {shop} with the shop's name (`loyalty.shop`; a neutral one while it has
  none). Anything else in braces stays as typed: one pass of a fixed pattern, never str.format, so a name such as
  "{points}" or "{0.__class__}" is only text.
- A gift is given to each member right before their message is sent, so cancelling a campaign also stops its
  gifts: points with their own expiry (`ledger.grant` under the key campaign:<id>:<member>, so a repeated send
  gives nothing more), or a voucher of the campaign's gift (a `gifts` row; the unique gift–member index keeps it
  to one per member). A points multiplier is for the whole club: it is added in the start's own transaction
  (`purchases.new_multiplier`), so a start that fails leaves none; cancelling the campaign ends it, and staff may
  end it early on its own (`end_extra_points`, audited; `running_multipliers` lists those still running).
- `progress` counts a campaign's rows by state (delivered, blocked, failed, cancelled, waiting) with the recent
  rate and the time left, and on request how many vouchers of its voucher gift were used so far.
- A campaign over for a while is archived (`archive_finished`, from the daily jobs): its counts and the purchases
  its members made after it (`campaign_results.frozen`) move onto the campaign (`final_counts`) and its outbox
  rows, the bulk of the outbox, are deleted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal, NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from sqlalchemy import Integer, String, case, exists, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audiences, audit, campaign_results, ledger, purchases, shop, vouchers
from loyalty.audiences import Audience, invalid
from loyalty.errors import InvalidReward, LoyaltyError, UnknownMember
from loyalty.gifts import GiftDraft
from loyalty.numerals import format_number
from loyalty.outbox import CAPTION_LENGTH, TEXT_LENGTH, Message
from loyalty.rewards import MAX_VALIDITY_DAYS, NAME_LENGTH
from loyalty.stamps import Stamp
from loyalty.voucher_codes import display
from storage import repositories
from storage.database import rowcount, write_transaction
from storage.models import WAITING, Campaign, Gift, Member, Multiplier, OutboxMessage, OutboxState, Voucher, written

KIND = "campaign"  # the outbox kind of a campaign's rows
FILE_ID_LENGTH = 255
PLACEHOLDERS = re.compile(r"\{(name|points|tier|voucher|shop)\}")
RATE_WINDOW = 60.0  # seconds over which `progress` measures the sending rate
ARCHIVE_CHUNK = 50_000  # outbox rows deleted per transaction when a campaign is archived


class State(StrEnum):
    """Where a campaign stands."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"


# action: (the states it starts from, the state it leads to)
MOVES: dict[str, tuple[frozenset[State], State]] = {
    "pause": (frozenset({State.RUNNING}), State.PAUSED),
    "resume": (frozenset({State.PAUSED}), State.RUNNING),
    "cancel": (frozenset({State.DRAFT, State.SCHEDULED, State.RUNNING, State.PAUSED}), State.CANCELLED),
}


class InvalidCampaign(LoyaltyError):
    """A campaign that cannot be sent; `field` is what is wrong (name, text, gift.points…) and `reason` why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class CampaignNotFound(LoyaltyError):
    """No campaign has this id."""


class CampaignStateError(LoyaltyError):
    """The campaign cannot `action` (start, pause, resume, cancel) from its current `state`."""

    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"cannot {action} a campaign that is {state}")
        self.state = state
        self.action = action


def check_message(message: Message) -> None:
    """Refuse a message the messenger would refuse (InvalidCampaign naming text or photo)."""
    if message.photo is not None and not 0 < len(message.photo) <= FILE_ID_LENGTH:
        raise InvalidCampaign("photo", "length")
    limit = TEXT_LENGTH if message.photo is None else CAPTION_LENGTH
    if len(message.text) > limit or (message.photo is None and not message.text.strip()):
        raise InvalidCampaign("text", "length")


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill {name}, {points}, {tier}, {voucher}, {shop} from `values` in one pass; others (or those missing) stay."""
    return PLACEHOLDERS.sub(lambda match: values.get(match.group(1), match.group(0)), template)


# --- gifts ------------------------------------------------------------------------------------------------------


class PointsGift(BaseModel):
    """Points for each recipient, lasting `expiry_days` from the day they are given."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["points"] = "points"
    points: Annotated[int, Field(ge=1, le=1_000_000)]
    expiry_days: Annotated[int, Field(ge=1, le=3650)]


class VoucherGift(BaseModel):
    """A voucher for each recipient: `title`, worth (`worth`, `value`, `cap` as in the catalog), valid days."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["voucher"] = "voucher"
    title: Annotated[str, Field(min_length=1, max_length=NAME_LENGTH)]
    worth: vouchers.Kind
    value: int | None = None
    cap: int | None = None
    validity_days: Annotated[int, Field(ge=1, le=MAX_VALIDITY_DAYS)]

    def draft(self) -> GiftDraft:
        """The gift as `loyalty.gifts` checks and describes it."""
        return GiftDraft(self.title, vouchers.Worth(self.worth, self.value, self.cap), self.validity_days)


class MultiplierGift(BaseModel):
    """Purchases of the whole club earn `percent`% points between `starts_at` and `ends_at` (200 = double)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["multiplier"] = "multiplier"
    percent: Annotated[int, Field(gt=100, le=1000)]
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    bonus_expiry_days: Annotated[int, Field(ge=1, le=3650)]

    @model_validator(mode="after")
    def _window(self) -> MultiplierGift:
        if self.ends_at <= self.starts_at:
            raise ValueError("the window ends before it starts")
        return self


CampaignGift = PointsGift | VoucherGift | MultiplierGift
_GIFTS: TypeAdapter[CampaignGift] = TypeAdapter(Annotated[CampaignGift, Field(discriminator="kind")])


def gift_from(data: Mapping[str, object]) -> CampaignGift:
    """A gift from the staff's answers (with its `kind`), or InvalidCampaign naming the wrong field."""
    try:
        gift = _GIFTS.validate_python(dict(data))
    except ValidationError as error:
        raise invalid(error, lambda field, reason: InvalidCampaign(f"gift.{field}", reason)) from None
    _check_gift(gift)
    return gift


def _check_gift(gift: CampaignGift) -> None:
    """Refuse a voucher the counter could not honour."""
    if isinstance(gift, VoucherGift):
        try:
            gift.draft().check()
        except InvalidReward as error:
            raise InvalidCampaign(f"gift.{error.field}", error.reason) from None


# --- drafts and what staff see ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignDraft:
    """A campaign as staff describe it; `send_at` None sends as soon as it is started."""

    name: str
    audience: Audience
    message: Message
    gift: CampaignGift | None = None
    send_at: datetime | None = None

    def check(self) -> None:
        """Refuse a campaign that cannot be sent (InvalidCampaign naming the field)."""
        if not 0 < len(self.name.strip()) <= NAME_LENGTH:
            raise InvalidCampaign("name", "length")
        check_message(self.message)
        if self.gift is not None:
            _check_gift(self.gift)
        if self.send_at is not None and self.send_at.tzinfo is None:
            raise InvalidCampaign("send_at", "naive")


@dataclass(frozen=True)
class ExtraPoints:
    """The points multiplier a campaign gave: `percent`% on purchases from `starts_at` until `ends_at`."""

    percent: int
    starts_at: datetime
    ends_at: datetime

    def running(self, now: datetime) -> bool:
        """True while purchases still earn the extra points (or will, once it starts)."""
        return self.ends_at > now


@dataclass(frozen=True)
class CampaignInfo:
    """A stored campaign as staff see it; `multiplier` is the points multiplier it gave, if any."""

    id: int
    name: str
    state: State
    audience: Audience
    message: Message
    gift: CampaignGift | None
    send_at: datetime | None
    recipients: int
    created_by: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    multiplier: ExtraPoints | None = None


def info(campaign: Campaign, multiplier: Multiplier | None = None) -> CampaignInfo:
    """The stored campaign as a plain result (with the multiplier it gave, when given)."""
    return CampaignInfo(
        id=campaign.id,
        name=campaign.name,
        state=State(campaign.state),
        audience=Audience.from_json(campaign.audience),
        message=Message(campaign.text, campaign.photo_file_id),
        gift=_GIFTS.validate_json(campaign.gift) if campaign.gift else None,
        send_at=campaign.send_at,
        recipients=campaign.recipients,
        created_by=campaign.created_by,
        created_at=campaign.created_at,
        started_at=campaign.started_at,
        finished_at=campaign.finished_at,
        multiplier=ExtraPoints(multiplier.percent, multiplier.starts_at, multiplier.ends_at) if multiplier else None,
    )


async def _info(session: AsyncSession, campaign: Campaign) -> CampaignInfo:
    """The campaign as a plain result, its multiplier read along."""
    multiplier = await _multiplier(session, campaign)
    return info(campaign, multiplier)


async def _multiplier(session: AsyncSession, campaign: Campaign) -> Multiplier | None:
    """The points multiplier the campaign gave, freshly read (None without one)."""
    if campaign.multiplier_id is None:
        return None
    return await session.get(Multiplier, campaign.multiplier_id, populate_existing=True)


async def create(
    session: AsyncSession,
    draft: CampaignDraft,
    *,
    actor_id: int,
    now: datetime,
    update_id: int | None = None,
    key: str | None = None,
) -> CampaignInfo:
    """Store a checked draft (audited); nothing is sent until `start`.

    Under an idempotency `key`, a campaign already stored under it is returned as it is (a confirmation repeated
    after a failure finds the campaign the first one stored).
    """
    draft.check()
    if key is not None and (seen := await _by_key(session, key)) is not None:
        return await _info(session, seen)
    try:
        return await _store(session, draft, actor_id, now, update_id, key)
    except IntegrityError:  # the same key stored at the same moment (PostgreSQL)
        if key is None or (seen := await _by_key(session, key)) is None:
            raise
        return await _info(session, seen)


def confirm_key(update_key: str) -> str:
    """The idempotency key of a campaign confirmed by the update known by `update_key`."""
    return f"campaign-update:{update_key}"


async def confirm(session: AsyncSession, draft: CampaignDraft, stamp: Stamp) -> CampaignInfo:
    """Store a checked draft and start it (`start`: scheduled, or sent now), once per `stamp.update_key`.

    Two write transactions, on purpose: the draft is stored (audited), then started, all or nothing. A start that
    fails leaves the draft, not half a campaign: it shows as not finished, to finish or cancel from its view, so
    the staff member's campaign is not lost with the wizard; confirmed again under the same key it is found and
    started, never stored twice. A campaign found already started (or cancelled meanwhile) is returned as it is.
    """
    campaign = await create(
        session,
        draft,
        actor_id=stamp.actor_id,
        now=stamp.at,
        update_id=stamp.update_id,
        key=confirm_key(stamp.update_key),
    )
    if campaign.state != State.DRAFT:
        return campaign
    return await start(session, campaign.id, actor_id=stamp.actor_id, now=stamp.at)


async def _by_key(session: AsyncSession, key: str) -> Campaign | None:
    """The campaign stored under this idempotency key, freshly read."""
    statement = select(Campaign).where(Campaign.idempotency_key == key).execution_options(populate_existing=True)
    return await session.scalar(statement)


async def _store(
    session: AsyncSession, draft: CampaignDraft, actor_id: int, now: datetime, update_id: int | None, key: str | None
) -> CampaignInfo:
    """A new draft and its audit entry, in one write transaction."""
    async with write_transaction(session):
        campaign = Campaign(
            idempotency_key=key,
            name=draft.name.strip(),
            state=State.DRAFT,
            audience=draft.audience.to_json(),
            text=draft.message.text,
            photo_file_id=draft.message.photo,
            gift=draft.gift.model_dump_json() if draft.gift else None,
            send_at=draft.send_at,
            recipients=0,
            created_by=actor_id,
            created_at=now,
        )
        session.add(campaign)
        await session.flush()
        await audit.record(
            session,
            actor_id=actor_id,
            action="campaign.create",
            now=now,
            update_id=update_id,
            campaign_id=campaign.id,
            name=campaign.name,
            audience=json.loads(campaign.audience),
            gift=json.loads(campaign.gift) if campaign.gift else None,
            send_at=draft.send_at,
        )
    return info(campaign)


async def get(session: AsyncSession, campaign_id: int) -> CampaignInfo:
    """The campaign, freshly read (CampaignNotFound if there is none)."""
    return await _info(session, await _campaign(session, campaign_id))


async def recent(session: AsyncSession, limit: int = 10) -> list[CampaignInfo]:
    """The latest campaigns, newest first."""
    found = (await session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(limit))).all()
    return [await _info(session, campaign) for campaign in found]


async def _campaign(session: AsyncSession, campaign_id: int, *, lock: bool = False) -> Campaign:
    campaign = await session.get(Campaign, campaign_id, with_for_update=lock, populate_existing=True)
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    return campaign


# --- starting and steering --------------------------------------------------------------------------------------


async def start(
    session: AsyncSession, campaign_id: int, *, actor_id: int | None, now: datetime, report: Report | None = None
) -> CampaignInfo:
    """Confirm a draft: scheduled if its time is still to come, else its outbox is filled and it runs; one write
    transaction, so a start that fails leaves the campaign as it was (no outbox row, gift or multiplier).

    A scheduled campaign whose time has come starts the same way (`actor_id` None: the scheduler).
    A campaign that reaches nobody is done at once. Raises CampaignStateError once it has started.
    `report`: the staff message to keep up to date with its progress, unless it has one already.
    """
    async with write_transaction(session):
        campaign = await _campaign(session, campaign_id, lock=True)
        if campaign.state not in (State.DRAFT, State.SCHEDULED):  # started, or cancelled, meanwhile
            raise CampaignStateError(campaign.state, "start")
        actor = actor_id if actor_id is not None else campaign.created_by
        if campaign.send_at is not None and campaign.send_at > now:
            await _schedule(session, campaign, actor, now)
        else:
            await _run(session, campaign, actor_id, actor, now)
        if report is not None and campaign.report_message_id is None:
            campaign.report_chat_id, campaign.report_message_id = report
    return await _info(session, campaign)


async def _run(
    session: AsyncSession, campaign: Campaign, actor_id: int | None, actor: int | None, now: datetime
) -> None:
    """Give the locked campaign its gift's multiplier or voucher row (made by `actor`), fill its outbox and set it
    running (or done, reaching nobody), audited as started by `actor_id` (None: the scheduler) — in the caller's
    write transaction."""
    gift = info(campaign).gift
    if isinstance(gift, MultiplierGift):
        campaign.multiplier_id = await _add_multiplier(session, campaign, gift, actor, now)
    if isinstance(gift, VoucherGift):
        campaign.gift_id = await _voucher_gift(session, campaign, gift, actor, now)
    campaign.recipients = await _fill_outbox(session, campaign, Audience.from_json(campaign.audience), now)
    campaign.state = State.RUNNING if campaign.recipients else State.DONE
    campaign.started_at = now
    campaign.finished_at = None if campaign.recipients else now
    await audit.record(
        session,
        actor_id=actor_id,
        action="campaign.start",
        now=now,
        campaign_id=campaign.id,
        recipients=campaign.recipients,
        gift_id=campaign.gift_id,
        multiplier_id=campaign.multiplier_id,
    )


async def _add_multiplier(
    session: AsyncSession, campaign: Campaign, gift: MultiplierGift, actor_id: int | None, now: datetime
) -> int:
    """The campaign's points multiplier, added to the start's own transaction (a start that fails leaves none)."""
    multiplier = await purchases.new_multiplier(
        session,
        name=campaign.name,
        percent=gift.percent,
        starts_at=gift.starts_at,
        ends_at=gift.ends_at,
        bonus_expiry_days=gift.bonus_expiry_days,
        actor_id=actor_id or 0,
        now=now,
    )
    return multiplier.id


async def _schedule(session: AsyncSession, campaign: Campaign, actor_id: int | None, now: datetime) -> None:
    """A locked draft waits for its time, audited (a scheduled campaign stays as it is); in the caller's transaction."""
    if campaign.state == State.DRAFT:
        campaign.state = State.SCHEDULED
        await audit.record(
            session,
            actor_id=actor_id,
            action="campaign.schedule",
            now=now,
            campaign_id=campaign.id,
            send_at=campaign.send_at,
        )


async def _voucher_gift(
    session: AsyncSession, campaign: Campaign, gift: VoucherGift, actor_id: int | None, now: datetime
) -> int:
    """The `gifts` row whose vouchers the campaign's members get, valid `validity_days` from the start."""
    row = Gift(
        idempotency_key=f"campaign:{campaign.id}",
        title=gift.title.strip(),
        kind=gift.worth,
        value=gift.value,
        cap=gift.cap,
        expires_at=now + timedelta(days=gift.validity_days),
        audience="campaign",
        issued=0,
        created_by=actor_id,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row.id


async def _fill_outbox(session: AsyncSession, campaign: Campaign, audience: Audience, now: datetime) -> int:
    """One pending outbox row per member of the audience, in one INSERT ... SELECT; returns how many."""
    rows = select(
        literal(KIND, String),
        literal(campaign.id, Integer),
        Member.id,
        Member.telegram_id,
        literal(OutboxState.PENDING.value, String),
        literal(0, Integer),
        literal(now, OutboxMessage.next_attempt_at.type),
    ).where(*audiences.where(audience, now))
    columns = ["kind", "campaign_id", "member_id", "chat_id", "state", "attempts", "next_attempt_at"]
    result = await session.execute(insert(OutboxMessage.__table__).from_select(columns, rows))
    return rowcount(result)


async def start_due(session: AsyncSession, now: datetime) -> list[CampaignInfo]:
    """Start every scheduled campaign whose time has come (for a job that runs every minute or so)."""
    due = await session.scalars(
        select(Campaign.id).where(Campaign.state == State.SCHEDULED, Campaign.send_at <= now).order_by(Campaign.id)
    )
    started = []
    for campaign_id in due.all():
        try:
            started.append(await start(session, campaign_id, actor_id=None, now=now))
        except CampaignStateError:  # started or cancelled meanwhile
            continue
    return started


async def pause(session: AsyncSession, campaign_id: int, *, actor_id: int, now: datetime) -> CampaignInfo:
    """Stop sending a running campaign for now; messages already on their way still arrive."""
    return await _move(session, campaign_id, "pause", actor_id, now)


async def resume(session: AsyncSession, campaign_id: int, *, actor_id: int, now: datetime) -> CampaignInfo:
    """Go on sending a paused campaign (done at once if nothing is left to send)."""
    return await _move(session, campaign_id, "resume", actor_id, now)


async def cancel(session: AsyncSession, campaign_id: int, *, actor_id: int, now: datetime) -> CampaignInfo:
    """Stop a campaign for good: messages not yet sent (and their gifts) are cancelled."""
    return await _move(session, campaign_id, "cancel", actor_id, now)


async def _move(session: AsyncSession, campaign_id: int, action: str, actor_id: int, now: datetime) -> CampaignInfo:
    """Take the campaign from one state to the next by `MOVES`, in one audited write transaction."""
    sources, target = MOVES[action]
    async with write_transaction(session):
        campaign = await _campaign(session, campaign_id, lock=True)
        if campaign.state not in sources:
            raise CampaignStateError(campaign.state, action)
        campaign.state = target
        details: dict[str, int | bool] = {}
        if target == State.CANCELLED:
            campaign.finished_at = now
            cancelled = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.campaign_id == campaign.id, OutboxMessage.state == OutboxState.PENDING)
                .values(state=OutboxState.CANCELLED, claim=None)
            )
            details["cancelled"] = rowcount(cancelled)
            if _close(await _multiplier(session, campaign), now):
                details["multiplier_ended"] = True
        await session.flush()
        if target == State.RUNNING:
            await finish_drained(session, [campaign.id], now)
            await session.refresh(campaign)
        await audit.record(
            session, actor_id=actor_id, action=f"campaign.{action}", now=now, campaign_id=campaign.id, **details
        )
    return await _info(session, campaign)


def _close(multiplier: Multiplier | None, now: datetime) -> bool:
    """End a points multiplier still running at `now` (in the caller's transaction); False if there was none.

    Its window is closed at `now` (at its start, if it has not begun): purchases from now on earn no extra.
    """
    if multiplier is None or multiplier.ends_at <= now:
        return False
    multiplier.ends_at = max(now, multiplier.starts_at)
    return True


async def end_extra_points(session: AsyncSession, campaign_id: int, *, actor_id: int, now: datetime) -> CampaignInfo:
    """End the campaign's points multiplier early (audited); its messages go on. CampaignStateError if none runs."""
    async with write_transaction(session):
        campaign = await _campaign(session, campaign_id, lock=True)
        multiplier = await _multiplier(session, campaign)
        ends_at = multiplier.ends_at if multiplier is not None else None
        if not _close(multiplier, now):
            raise CampaignStateError(campaign.state, "end_extra_points")
        await audit.record(
            session,
            actor_id=actor_id,
            action="campaign.end_extra_points",
            now=now,
            campaign_id=campaign.id,
            multiplier_id=campaign.multiplier_id,
            ends_at_was=ends_at,
        )
    return await _info(session, campaign)


async def steer(
    session: AsyncSession, campaign_id: int, move: str, stamp: Stamp, *, report: Report | None = None
) -> CampaignInfo:
    """A move staff make from the campaign's view, in one audited write transaction (CampaignStateError if its state
    no longer allows it): pause, resume or cancel it (`MOVES`), end_extra (its extra points, `end_extra_points`), or
    finish a draft whose confirmation failed — it starts (`start`), and the view it was finished from (`report`)
    shows its progress from then on, unless it has a progress message already."""
    if move == "finish":
        return await start(session, campaign_id, actor_id=stamp.actor_id, now=stamp.at, report=report)
    if move == "end_extra":
        return await end_extra_points(session, campaign_id, actor_id=stamp.actor_id, now=stamp.at)
    return await _move(session, campaign_id, move, stamp.actor_id, stamp.at)


@dataclass(frozen=True)
class RunningMultiplier:
    """A campaign whose extra points on purchases still run: its id and name, the percent, until when."""

    campaign_id: int
    name: str
    percent: int
    ends_at: datetime


async def running_multipliers(session: AsyncSession, now: datetime) -> list[RunningMultiplier]:
    """The campaigns whose points multipliers still run at `now` (or are still to begin), ending soonest first."""
    rows = await session.execute(
        select(Campaign.id, Campaign.name, Multiplier.percent, Multiplier.ends_at)
        .join(Multiplier, Multiplier.id == Campaign.multiplier_id)
        .where(Multiplier.ends_at > now)
        .order_by(Multiplier.ends_at, Campaign.id)
    )
    return [RunningMultiplier(*row) for row in rows]


async def finish_drained(session: AsyncSession, campaign_ids: Collection[int], now: datetime) -> list[int]:
    """Mark done the running campaigns among these that have no row left waiting; returns their ids.

    Adds to the caller's write transaction (the sender calls it after writing what it sent).
    """
    if not campaign_ids:
        return []
    waiting = select(OutboxMessage.id).where(OutboxMessage.campaign_id == Campaign.id, WAITING).exists()
    finished = await session.scalars(
        update(Campaign)
        .where(Campaign.id.in_(list(campaign_ids)), Campaign.state == State.RUNNING, ~waiting)
        .values(state=State.DONE, finished_at=now)
        .returning(Campaign.id)
    )
    return list(finished.all())


class Report(NamedTuple):
    """A staff message showing a campaign's progress, which the sender keeps up to date."""

    chat_id: int
    message_id: int


async def set_report(session: AsyncSession, campaign_id: int, chat_id: int, message_id: int) -> None:
    """Remember the staff message that shows the campaign's progress (edited by the progress hook)."""
    async with write_transaction(session):
        campaign = await _campaign(session, campaign_id, lock=True)
        campaign.report_chat_id, campaign.report_message_id = chat_id, message_id


# --- progress ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """How far a campaign has gone: its rows by outbox state, the recent rate (messages a second), time left.

    `used` and `issued` count the vouchers of a voucher gift used so far and given (None unless asked for, or
    without a voucher gift).
    """

    campaign_id: int
    state: State
    recipients: int
    counts: Mapping[str, int]
    rate: float
    seconds_left: float | None
    report_chat_id: int | None = None
    report_message_id: int | None = None
    used: int | None = None
    issued: int | None = None

    @property
    def sent(self) -> int:
        """Messages delivered."""
        return self.counts.get(OutboxState.SENT, 0)

    @property
    def blocked(self) -> int:
        """Messages not delivered because the member blocked the bot or their chat is gone."""
        return self.counts.get(OutboxState.BLOCKED, 0)

    @property
    def failed(self) -> int:
        """Messages the messenger refused for another reason, or that failed every try."""
        return self.counts.get(OutboxState.FAILED, 0)

    @property
    def cancelled(self) -> int:
        """Messages never sent because the campaign was cancelled."""
        return self.counts.get(OutboxState.CANCELLED, 0)

    @property
    def waiting(self) -> int:
        """Messages still to send (pending or on their way)."""
        return self.counts.get(OutboxState.PENDING, 0) + self.counts.get(OutboxState.SENDING, 0)

    @property
    def handled(self) -> int:
        """Messages finished one way or another (delivered, blocked, failed or cancelled)."""
        return sum(self.counts.values()) - self.waiting


async def progress(
    session: AsyncSession,
    campaign_id: int,
    now: datetime,
    window: float = RATE_WINDOW,
    *,
    redemptions: bool = False,
) -> Progress:
    """The campaign's progress, counted in the database (one grouped query over its rows).

    With `redemptions`, one more query counts the vouchers of its voucher gift used so far (for the campaign's
    view; the sender's frequent reports leave it out).
    """
    campaign = await _campaign(session, campaign_id)
    if campaign.final_counts is not None:  # archived: its rows are gone
        stored, sent_lately = json.loads(campaign.final_counts), 0
        counts: dict[str, int] = {state: stored[state] for state in OutboxState if state in stored}  # no purchases
    else:
        counts, sent_lately = await _row_counts(session, campaign_id, now - timedelta(seconds=window))
    running_for = (now - campaign.started_at).total_seconds() if campaign.started_at else window
    rate = sent_lately / min(window, running_for) if running_for > 0 else 0.0
    waiting = counts.get(OutboxState.PENDING, 0) + counts.get(OutboxState.SENDING, 0)
    used, issued = await _redemptions(session, campaign.gift_id) if redemptions else (None, None)
    return Progress(
        campaign_id=campaign.id,
        state=State(campaign.state),
        recipients=campaign.recipients,
        counts=counts,
        rate=rate,
        seconds_left=waiting / rate if rate > 0 else (0.0 if not waiting else None),
        report_chat_id=campaign.report_chat_id,
        report_message_id=campaign.report_message_id,
        used=used,
        issued=issued,
    )


async def _row_counts(session: AsyncSession, campaign_id: int, since: datetime) -> tuple[dict[str, int], int]:
    """The campaign's outbox rows by state, and how many were sent after `since` (one grouped query)."""
    recent = func.sum(case((OutboxMessage.sent_at > since, 1), else_=0))
    rows = await session.execute(
        select(OutboxMessage.state, func.count(), recent)
        .where(OutboxMessage.campaign_id == campaign_id)
        .group_by(OutboxMessage.state)
    )
    counts: dict[str, int] = {}
    sent_lately = 0
    for state, number, lately in rows:
        counts[state] = int(number)
        sent_lately += int(lately or 0) if state == OutboxState.SENT else 0
    return counts, sent_lately


async def archive_finished(session: AsyncSession, before: datetime, *, chunk: int = ARCHIVE_CHUNK) -> int:
    """Campaigns over (done or cancelled) before `before` keep their counts and give up their outbox rows, the
    bulk of the outbox; a chunk of rows per transaction, resumable. Returns the rows deleted."""
    over = select(Campaign.id).where(
        Campaign.state.in_([State.DONE, State.CANCELLED]),
        Campaign.finished_at < before,
        exists().where(OutboxMessage.campaign_id == Campaign.id),
    )
    deleted = 0
    for campaign_id in (await session.scalars(over.order_by(Campaign.id))).all():
        async with write_transaction(session):
            campaign = await _campaign(session, campaign_id, lock=True)
            if campaign.final_counts is None:
                counts, _ = await _row_counts(session, campaign_id, before)
                kept = await campaign_results.frozen(session, campaign_id, campaign.started_at)
                campaign.final_counts = json.dumps({**counts, **kept})
        rows = OutboxMessage.campaign_id == campaign_id
        deleted += await repositories.delete_outbox_rows(session, rows, chunk=chunk)
    return deleted


async def _redemptions(session: AsyncSession, gift_id: int | None) -> tuple[int | None, int | None]:
    """How many vouchers of the campaign's gift were used so far, and how many were given (one query)."""
    if gift_id is None:
        return None, None
    used = (
        select(func.count())
        .select_from(Voucher)
        .where(Voucher.gift_id == gift_id, Voucher.status == written(vouchers.Status.USED))
        .scalar_subquery()
    )
    row = (await session.execute(select(used, Gift.issued).where(Gift.id == gift_id))).one_or_none()
    return (int(row[0]), int(row[1])) if row is not None else (None, None)


# --- the messages, member by member -----------------------------------------------------------------------------

TierNames = Callable[[str, str], str]  # (tier, language) -> the tier's name in that language
ShopNames = Callable[[str | None, str], str]  # (the shop's name, language) -> what to call the shop in that language


def plain_tier(tier: str, language: str) -> str:
    """A tier's name when no translation is at hand: silver → Silver."""
    return tier.replace("_", " ").title()


def plain_shop(name: str | None, language: str) -> str:
    """What to call the shop when no translation is at hand: its name, or nothing."""
    return name or ""


@dataclass(frozen=True)
class Recipient:
    """A campaign's outbox row about to be sent: which row, which campaign, which member."""

    row_id: int
    campaign_id: int
    member_id: int


@dataclass(frozen=True)
class Addressee:
    """What a message says about its member: name, points, tier, in the member's language."""

    id: int
    first_name: str
    balance: int
    tier: str
    language: str


def values_for(
    member: Addressee | Member,
    tier_names: TierNames,
    voucher: str | None = None,
    *,
    shop_name: str | None = None,
    shop_names: ShopNames = plain_shop,
) -> dict[str, str]:
    """The placeholders' values for a member, in the member's language and digits (the shop called `shop_name`)."""
    values = {
        "name": member.first_name,
        "points": format_number(member.balance, member.language),
        "tier": tier_names(member.tier, member.language),
        "shop": shop_names(shop_name, member.language),
    }
    if voucher is not None:
        values["voucher"] = display(voucher)
    return values


def personal(message: Message, values: Mapping[str, str]) -> Message:
    """The message with its placeholders filled in, cut to the messenger's limit."""
    return Message(render(message.text, values), message.photo).limited()


async def preview(
    session: AsyncSession,
    campaign_id: int,
    member_id: int,
    tier_names: TierNames = plain_tier,
    shop_names: ShopNames = plain_shop,
) -> Message:
    """The campaign's message as the member would get it now (no gift given, so {voucher} stays as typed)."""
    campaign = await _campaign(session, campaign_id)
    member = await session.get(Member, member_id)
    if member is None:
        raise UnknownMember(member_id)
    shop_name = (await shop.current(session)).name
    values = values_for(member, tier_names, shop_name=shop_name, shop_names=shop_names)
    return personal(Message(campaign.text, campaign.photo_file_id), values)


async def messages_for(
    session: AsyncSession,
    recipients: Sequence[Recipient],
    now: datetime,
    tier_names: TierNames = plain_tier,
    shop_names: ShopNames = plain_shop,
) -> dict[int, Message]:
    """Each recipient's message (by row id), after giving them the campaign's gift; once per member and gift.

    Rows whose campaign or member is gone are left out. Gifts are written in transactions of their own.
    """
    campaign_ids = {recipient.campaign_id for recipient in recipients}
    found = await session.scalars(select(Campaign).where(Campaign.id.in_(campaign_ids)))
    campaigns = {campaign.id: campaign for campaign in found}
    rows = await session.execute(
        select(Member.id, Member.first_name, Member.balance, Member.tier, Member.language).where(
            Member.id.in_({recipient.member_id for recipient in recipients})
        )
    )
    members = {row.id: Addressee(*row) for row in rows}
    gifts = {campaign.id: info(campaign).gift for campaign in campaigns.values()}
    shop_name = (await shop.current(session)).name
    messages: dict[int, Message] = {}
    for recipient in recipients:
        campaign, member = campaigns.get(recipient.campaign_id), members.get(recipient.member_id)
        if campaign is None or member is None:
            continue
        member, voucher = await _give(session, campaign, gifts[campaign.id], member, now)
        values = values_for(member, tier_names, voucher, shop_name=shop_name, shop_names=shop_names)
        messages[recipient.row_id] = personal(Message(campaign.text, campaign.photo_file_id), values)
    return messages


async def _give(
    session: AsyncSession, campaign: Campaign, gift: CampaignGift | None, member: Addressee, now: datetime
) -> tuple[Addressee, str | None]:
    """Give the member the campaign's gift (once); the member as they are after it, and a voucher's code."""
    if isinstance(gift, PointsGift):
        posted = await ledger.grant(
            session,
            member.id,
            gift.points,
            kind=ledger.Kind.BONUS,
            reason=KIND,
            key=f"{KIND}:{campaign.id}:{member.id}",
            now=now,
            expires_at=now + timedelta(days=gift.expiry_days),
        )
        return Addressee(member.id, member.first_name, posted.balance, member.tier, member.language), None
    if isinstance(gift, VoucherGift) and campaign.gift_id is not None:
        return member, await _voucher_for(session, campaign.gift_id, member.id, now)
    return member, None


async def _voucher_for(session: AsyncSession, gift_id: int, member_id: int, now: datetime) -> str:
    """The code of the member's voucher of this gift, issued now unless it was before."""
    mine = select(Voucher.code).where(Voucher.gift_id == gift_id, Voucher.member_id == member_id)
    try:
        async with write_transaction(session):
            if (code := await session.scalar(mine)) is not None:
                return code
            gift = await session.get(Gift, gift_id)
            assert gift is not None
            voucher = await vouchers.issue(
                session,
                member_id=member_id,
                title=gift.title,
                worth=vouchers.Worth(vouchers.Kind(gift.kind), gift.value, gift.cap),
                expires_at=gift.expires_at,
                now=now,
                gift_id=gift.id,
            )
            await session.execute(update(Gift).where(Gift.id == gift_id).values(issued=Gift.issued + 1))
            return voucher.code
    except IntegrityError:  # another sender issued it at the same moment (PostgreSQL)
        code = await session.scalar(mine)
        if code is None:
            raise
        return code
