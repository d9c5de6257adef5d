"""The broadcast outbox: one row per message to send, claimed by senders without overlap, finished once.

A row is pending until a sender claims it: the claim marks it sending under the sender's token and puts its
`next_attempt_at` at the end of a lease (default 60 s), which the sender extends while it holds the row. A row
still sending when its lease ran out belongs to a sender that died: any sender may claim it again, so a crash
repeats at most the messages that were on their way. Claims never overlap: in one transaction, the rows are
picked and locked (PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, passing by rows another sender is claiming),
then marked sending only if still claimable; on SQLite the whole claim holds the write lock (BEGIN IMMEDIATE).
The claim reads the partial index `ix_outbox_waiting` (campaign, id) of the waiting rows: first the due rows
that belong to no campaign (birthday greetings and the like go first), then those of running campaigns, one
campaign after the other, in id order; rows of a paused campaign are not read.

This is the sender's side of the outbox (claim, extend, settle) and its clean-up (`prune`). Producers add rows
with `loyalty.outbox.enqueue`, below both the chat and the scheduler, so any layer can enqueue without this one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import campaigns
from loyalty.campaigns import State as CampaignState
from loyalty.outbox import RETURNED, Claimed, batched, claimed_row
from storage import repositories
from storage.database import write_transaction
from storage.models import WAITING, Campaign, OutboxMessage, OutboxState

ERROR_LENGTH = 200


async def prune(session: AsyncSession, before: datetime, *, chunk: int = 50_000) -> int:
    """Delete the finished rows of no campaign (greetings, reminders, notices, gift messages) last tried before
    `before`, `chunk` at a time; returns how many. Keep them as long as their keys can come again (a year and more)."""
    finished = OutboxMessage.state.in_([OutboxState.SENT, OutboxState.BLOCKED, OutboxState.FAILED])
    last_tried = func.coalesce(OutboxMessage.sent_at, OutboxMessage.next_attempt_at)
    return await repositories.delete_outbox_rows(
        session, OutboxMessage.campaign_id.is_(None), finished, last_tried < before, chunk=chunk
    )


async def claim(
    session: AsyncSession,
    *,
    token: str,
    limit: int,
    now: datetime,
    lease_until: datetime,
    quiet_kinds: Collection[str] = (),
) -> list[Claimed]:
    """Claim up to `limit` due rows for the sender `token` until `lease_until`, in one write transaction.

    Rows of a kind in `quiet_kinds` are left waiting (quiet hours); campaign rows have the kind 'campaign'.
    """
    claimed: list[Claimed] = []
    async with write_transaction(session):
        lanes: list[int | None] = [None]
        if campaigns.KIND not in quiet_kinds:
            running = await session.scalars(
                select(Campaign.id).where(Campaign.state == CampaignState.RUNNING).order_by(Campaign.id)
            )
            lanes.extend(running.all())
        for lane in lanes:
            if len(claimed) >= limit:
                break
            claimed += await _claim_lane(session, lane, token, limit - len(claimed), now, lease_until, quiet_kinds)
    return claimed


async def _claim_lane(
    session: AsyncSession,
    campaign_id: int | None,
    token: str,
    limit: int,
    now: datetime,
    lease_until: datetime,
    quiet_kinds: Collection[str],
) -> list[Claimed]:
    """Claim the due rows of one campaign (None: rows of no campaign), in id order."""
    table = OutboxMessage
    lane = table.campaign_id.is_(None) if campaign_id is None else table.campaign_id == campaign_id
    due = [WAITING, lane, table.next_attempt_at <= now]
    if quiet_kinds:
        due.append(table.kind.not_in(list(quiet_kinds)))
    picked = select(table.id).where(*due).order_by(table.id).limit(limit)
    # PostgreSQL: lock the rows picked, passing by those another sender is claiming; a separate statement, as an
    # UPDATE ... WHERE id IN (that subquery) may run the subquery again and take more than `limit` rows.
    ids = list((await session.scalars(picked.with_for_update(skip_locked=True))).all())
    if not ids:
        return []
    statement = (
        update(table)
        .where(table.id.in_(ids), WAITING, table.next_attempt_at <= now)  # still claimable once the locks are ours
        .values(state=OutboxState.SENDING, claim=token, next_attempt_at=lease_until, attempts=table.attempts + 1)
        .returning(*RETURNED)
    )
    return sorted((claimed_row(row) for row in await session.execute(statement)), key=lambda row: row.id)


async def extend(session: AsyncSession, ids: Collection[int], token: str, lease_until: datetime) -> None:
    """Keep holding these rows (the sender is alive): their lease now ends at `lease_until`."""
    async with write_transaction(session):
        for chunk in batched(sorted(ids)):
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(chunk), OutboxMessage.claim == token, WAITING)
                .values(next_attempt_at=lease_until)
            )


@dataclass(frozen=True)
class Outcome:
    """How sending one row ended: sent, blocked, failed, or pending again at `retry_at`."""

    row: Claimed
    state: OutboxState
    error: str | None = None
    retry_at: datetime | None = None


async def settle(session: AsyncSession, outcomes: Iterable[Outcome], now: datetime) -> None:
    """Write how the rows ended, in the caller's write transaction; a blocked row's member becomes unreachable.

    Only rows still waiting are changed, so a row some other sender finished is left as it is.
    """
    by_state: dict[tuple[OutboxState, str | None], list[int]] = {}
    unreachable: list[int] = []
    for outcome in outcomes:
        error = outcome.error[:ERROR_LENGTH] if outcome.error else None
        if outcome.state is OutboxState.PENDING:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == outcome.row.id, WAITING)
                .values(state=OutboxState.PENDING, claim=None, next_attempt_at=outcome.retry_at, error=error)
            )
            continue
        by_state.setdefault((outcome.state, error), []).append(outcome.row.id)
        if outcome.state is OutboxState.BLOCKED and outcome.row.member_id is not None:
            unreachable.append(outcome.row.member_id)
    for (state, error), ids in by_state.items():
        values: dict[str, object] = {"state": state, "claim": None, "error": error}
        if state is OutboxState.SENT:
            values["sent_at"] = now
        for chunk in batched(ids):
            await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(chunk), WAITING).values(values))
    await repositories.mark_unreachable(session, unreachable, now)
