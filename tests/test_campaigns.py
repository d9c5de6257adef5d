"""Campaigns: checked drafts, start now or later, the outbox filled from the audience, pause, resume, cancel,
messages written per member safely, gifts given once, progress — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audiences, campaigns, purchases, voucher_use
from loyalty.audiences import Audience
from loyalty.campaigns import (
    CampaignDraft,
    CampaignStateError,
    InvalidCampaign,
    Message,
    Recipient,
    Report,
    State,
    gift_from,
    render,
)
from loyalty.purchases import active_multiplier
from loyalty.stamps import Stamp
from storage.models import (
    AuditEntry,
    Campaign,
    Gift,
    LedgerEntry,
    Member,
    Multiplier,
    OutboxMessage,
    OutboxState,
    Voucher,
)
from tests.factories import NOW, add_members, member_row
from tests.steps import RULES

STAFF = 1
HOUR = timedelta(hours=1)


def draft(text: str = "Hello {name}", **fields: Any) -> CampaignDraft:
    """A campaign to every member, now, without a gift."""
    values: dict[str, Any] = {"name": "Autumn", "audience": Audience(), "message": Message(text)}
    return CampaignDraft(**(values | fields))


async def outbox_rows(session: AsyncSession, campaign_id: int) -> list[OutboxMessage]:
    statement = select(OutboxMessage).where(OutboxMessage.campaign_id == campaign_id).order_by(OutboxMessage.id)
    return list((await session.scalars(statement.execution_options(populate_existing=True))).all())


async def started(session: AsyncSession, campaign: CampaignDraft | None = None) -> campaigns.CampaignInfo:
    created = await campaigns.create(session, campaign or draft(), actor_id=STAFF, now=NOW)
    return await campaigns.start(session, created.id, actor_id=STAFF, now=NOW)


async def mark(session: AsyncSession, campaign_id: int, state: OutboxState, *member_ids: int) -> None:
    """Set some of the campaign's rows to `state`, as the sender would."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.campaign_id == campaign_id, OutboxMessage.member_id.in_(member_ids))
        .values(state=state, sent_at=NOW)
    )
    await session.commit()


# --- drafts -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("campaign", "field", "reason"),
    [
        (draft(name=" "), "name", "length"),
        (draft(""), "text", "length"),
        (draft("x" * 4097), "text", "length"),
        (draft(message=Message("x" * 1025, photo="AgAD")), "text", "length"),
        (draft(send_at=NOW.replace(tzinfo=None)), "send_at", "naive"),
    ],
)
async def test_a_campaign_that_cannot_be_sent_is_refused(
    session: AsyncSession, campaign: CampaignDraft, field: str, reason: str
) -> None:
    with pytest.raises(InvalidCampaign) as refused:
        await campaigns.create(session, campaign, actor_id=STAFF, now=NOW)
    assert (refused.value.field, refused.value.reason) == (field, reason)
    assert await campaigns.recent(session) == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "points", "points": 0, "expiry_days": 30}, "gift.points"),
        ({"kind": "voucher", "title": "Off", "worth": "percent", "value": 150, "validity_days": 7}, "gift.value"),
        ({"kind": "voucher", "title": "Tea", "worth": "item", "value": 5, "validity_days": 7}, "gift.value"),
        ({"kind": "multiplier", "percent": 200, "starts_at": NOW, "ends_at": NOW, "bonus_expiry_days": 30}, "gift"),
        ({"kind": "cake"}, "gift"),
    ],
)
def test_a_gift_that_cannot_be_given_is_refused(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidCampaign) as refused:
        gift_from(data)
    assert refused.value.field.startswith(field)


async def test_a_draft_is_stored_with_its_audience_message_and_gift(session: AsyncSession) -> None:
    gift = gift_from({"kind": "points", "points": 50, "expiry_days": 30})
    audience = Audience.build(tiers=["gold"], inactive_days=60)
    photo = Message("Hi {name}", photo="AgADphoto")
    created = await campaigns.create(session, draft(audience=audience, message=photo, gift=gift), actor_id=7, now=NOW)
    stored = await campaigns.get(session, created.id)
    assert (stored.state, stored.audience, stored.message, stored.gift) == (State.DRAFT, audience, photo, gift)
    assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


# --- starting ---------------------------------------------------------------------------------------------------


async def test_starting_fills_the_outbox_with_one_row_per_member_of_the_audience(session: AsyncSession) -> None:
    await add_members(
        session, [member_row(1), member_row(2, tier="gold"), member_row(3, tier="gold"), member_row(4, stopped=True)]
    )
    campaign = await started(session, draft(audience=Audience(tiers=("gold",))))
    assert (campaign.state, campaign.recipients, campaign.started_at) == (State.RUNNING, 2, NOW)
    rows = await outbox_rows(session, campaign.id)
    assert [(row.member_id, row.chat_id, row.key, row.kind, row.state, row.payload) for row in rows] == [
        (2, 7_000_002, None, "campaign", "pending", None),
        (3, 7_000_003, None, "campaign", "pending", None),
    ]
    with pytest.raises(CampaignStateError):
        await campaigns.start(session, campaign.id, actor_id=STAFF, now=NOW)
    assert len(await outbox_rows(session, campaign.id)) == 2


async def test_the_audience_is_taken_when_the_campaign_starts(session: AsyncSession) -> None:
    await add_members(session, [member_row(1)])
    created = await campaigns.create(session, draft(send_at=NOW + HOUR), actor_id=STAFF, now=NOW)
    scheduled = await campaigns.start(session, created.id, actor_id=STAFF, now=NOW)
    assert scheduled.state == State.SCHEDULED
    await add_members(session, [member_row(2)])
    assert await campaigns.start_due(session, NOW + HOUR / 2) == []
    [running] = await campaigns.start_due(session, NOW + HOUR)
    assert (running.id, running.state, running.recipients) == (created.id, State.RUNNING, 2)
    assert await campaigns.start_due(session, NOW + 2 * HOUR) == []


async def test_a_campaign_that_reaches_nobody_is_done_at_once(session: AsyncSession) -> None:
    campaign = await started(session)
    assert (campaign.state, campaign.recipients, campaign.finished_at) == (State.DONE, 0, NOW)


# --- confirming: the wizard's Confirm ----------------------------------------------------------------------------

VOUCHER = {"kind": "voucher", "title": "Free tea", "worth": "item", "validity_days": 10}


async def broken(*args: object) -> int:
    raise RuntimeError("the database went away")


async def audited(session: AsyncSession) -> list[tuple[str, int | None]]:
    """The audit log's actions and update ids, in order."""
    rows = await session.execute(select(AuditEntry.action, AuditEntry.update_id).order_by(AuditEntry.id))
    return [(action, update_id) for action, update_id in rows]


async def test_confirming_stores_and_starts_the_campaign_once_per_update(session: AsyncSession) -> None:
    await add_members(session, [member_row(1), member_row(2)])
    stamp = Stamp(STAFF, "100:7:9", NOW, update_id=31)
    campaign = await campaigns.confirm(session, draft(), stamp)
    assert (campaign.state, campaign.recipients, campaign.created_by) == (State.RUNNING, 2, STAFF)
    again = await campaigns.confirm(session, draft(), stamp)  # a repeated press: found, not stored or started again
    assert (again.id, again.state) == (campaign.id, State.RUNNING)
    assert len(await campaigns.recent(session)) == 1 and len(await outbox_rows(session, campaign.id)) == 2
    assert await audited(session) == [("campaign.create", 31), ("campaign.start", None)]


async def test_a_confirmation_for_later_schedules_the_campaign(session: AsyncSession) -> None:
    campaign = await campaigns.confirm(session, draft(send_at=NOW + HOUR), Stamp(STAFF, "k", NOW))
    assert (campaign.state, campaign.send_at) == (State.SCHEDULED, NOW + HOUR)


async def test_a_confirmation_whose_start_fails_leaves_a_clean_draft_that_confirming_again_starts(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_members(session, [member_row(1)])
    stamp = Stamp(STAFF, "100:7:9", NOW)
    with monkeypatch.context() as patch:
        patch.setattr(campaigns, "_fill_outbox", broken)
        with pytest.raises(RuntimeError):
            await campaigns.confirm(session, draft(gift=gift_from(VOUCHER)), stamp)
    [stored] = await campaigns.recent(session)  # kept on purpose: listed as not finished, to finish or cancel
    assert (stored.state, stored.recipients, stored.started_at) == (State.DRAFT, 0, None)
    assert await session.scalar(select(func.count()).select_from(Gift)) == 0  # nothing of the start was written
    assert await outbox_rows(session, stored.id) == []
    assert [action for action, _update_id in await audited(session)] == ["campaign.create"]
    campaign = await campaigns.confirm(session, draft(gift=gift_from(VOUCHER)), stamp)
    assert (campaign.id, campaign.state, campaign.recipients) == (stored.id, State.RUNNING, 1)
    assert await session.scalar(select(func.count()).select_from(Gift)) == 1


async def test_a_campaign_cancelled_after_a_failed_confirmation_is_not_started_by_confirming_again(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_members(session, [member_row(1)])
    stamp = Stamp(STAFF, "k", NOW)
    with monkeypatch.context() as patch:
        patch.setattr(campaigns, "_fill_outbox", broken)
        with pytest.raises(RuntimeError):
            await campaigns.confirm(session, draft(), stamp)
    [stored] = await campaigns.recent(session)
    await campaigns.steer(session, stored.id, "cancel", stamp)
    assert (await campaigns.confirm(session, draft(), stamp)).state == State.CANCELLED
    assert await outbox_rows(session, stored.id) == []


# --- steering ---------------------------------------------------------------------------------------------------


async def test_finishing_a_draft_starts_it_and_its_view_becomes_its_progress_message(session: AsyncSession) -> None:
    await add_members(session, [member_row(1)])
    created = await campaigns.create(session, draft(), actor_id=STAFF, now=NOW)
    finished = await campaigns.steer(session, created.id, "finish", Stamp(STAFF, "k", NOW), report=Report(900, 55))
    assert (finished.state, finished.recipients) == (State.RUNNING, 1)
    progress = await campaigns.progress(session, created.id, NOW)
    assert (progress.report_chat_id, progress.report_message_id) == (900, 55)


async def test_finishing_keeps_a_progress_message_the_campaign_has(session: AsyncSession) -> None:
    created = await campaigns.create(session, draft(send_at=NOW + HOUR), actor_id=STAFF, now=NOW)
    await campaigns.set_report(session, created.id, 900, 55)
    await campaigns.steer(session, created.id, "finish", Stamp(STAFF, "k", NOW), report=Report(900, 77))
    progress = await campaigns.progress(session, created.id, NOW)
    assert (progress.state, progress.report_message_id) == (State.SCHEDULED, 55)


async def test_a_finish_that_fails_writes_neither_the_start_nor_the_progress_message(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_members(session, [member_row(1)])
    created = await campaigns.create(session, draft(), actor_id=STAFF, now=NOW)
    monkeypatch.setattr(campaigns, "_fill_outbox", broken)
    with pytest.raises(RuntimeError):
        await campaigns.steer(session, created.id, "finish", Stamp(STAFF, "k", NOW), report=Report(900, 55))
    progress = await campaigns.progress(session, created.id, NOW)
    assert (progress.state, progress.report_message_id, progress.recipients) == (State.DRAFT, None, 0)


async def test_steering_pauses_resumes_and_ends_the_extra_points_as_the_stamp_says(session: AsyncSession) -> None:
    await add_members(session, [member_row(1)])
    campaign = await started(session, draft(gift=gift_from(MULTIPLIER)))
    stamp = Stamp(7, "k", NOW + HOUR)
    assert (await campaigns.steer(session, campaign.id, "pause", stamp)).state == State.PAUSED
    assert (await campaigns.steer(session, campaign.id, "resume", stamp)).state == State.RUNNING
    ended = await campaigns.steer(session, campaign.id, "end_extra", stamp)
    assert ended.multiplier is not None and ended.multiplier.ends_at == NOW + HOUR
    with pytest.raises(CampaignStateError):
        await campaigns.steer(session, campaign.id, "resume", stamp)
    actors = await session.execute(select(AuditEntry.action, AuditEntry.actor_id).where(AuditEntry.actor_id == 7))
    assert [action for action, _actor in actors] == ["campaign.pause", "campaign.resume", "campaign.end_extra_points"]


async def test_pause_resume_and_cancel_move_the_campaign_and_its_rows(session: AsyncSession) -> None:
    await add_members(session, [member_row(number) for number in range(1, 5)])
    campaign = await started(session)
    await mark(session, campaign.id, OutboxState.SENT, 1)
    await mark(session, campaign.id, OutboxState.SENDING, 2)
    assert (await campaigns.pause(session, campaign.id, actor_id=STAFF, now=NOW)).state == State.PAUSED
    with pytest.raises(CampaignStateError):
        await campaigns.pause(session, campaign.id, actor_id=STAFF, now=NOW)
    assert (await campaigns.resume(session, campaign.id, actor_id=STAFF, now=NOW)).state == State.RUNNING
    cancelled = await campaigns.cancel(session, campaign.id, actor_id=STAFF, now=NOW)
    assert (cancelled.state, cancelled.finished_at) == (State.CANCELLED, NOW)
    assert [row.state for row in await outbox_rows(session, campaign.id)] == [
        "sent",
        "sending",
        "cancelled",
        "cancelled",
    ]
    for action in (campaigns.pause, campaigns.resume, campaigns.cancel):
        with pytest.raises(CampaignStateError):
            await action(session, campaign.id, actor_id=STAFF, now=NOW)


async def test_a_campaign_with_nothing_left_waiting_is_done(session: AsyncSession) -> None:
    await add_members(session, [member_row(1), member_row(2)])
    campaign = await started(session)
    await mark(session, campaign.id, OutboxState.SENT, 1)
    assert await campaigns.finish_drained(session, [campaign.id], NOW) == []
    await mark(session, campaign.id, OutboxState.BLOCKED, 2)
    assert await campaigns.finish_drained(session, [campaign.id], NOW + HOUR) == [campaign.id]
    await session.commit()
    done = await campaigns.get(session, campaign.id)
    assert (done.state, done.finished_at) == (State.DONE, NOW + HOUR)


async def test_progress_counts_the_rows_by_state_with_the_rate_and_time_left(session: AsyncSession) -> None:
    await add_members(session, [member_row(number) for number in range(1, 11)])
    campaign = await started(session)
    await mark(session, campaign.id, OutboxState.SENT, 1, 2, 3, 4)
    await mark(session, campaign.id, OutboxState.BLOCKED, 5)
    progress = await campaigns.progress(session, campaign.id, NOW + timedelta(seconds=2))
    assert (progress.recipients, progress.sent, progress.waiting) == (10, 4, 5)
    assert dict(progress.counts) == {"sent": 4, "blocked": 1, "pending": 5}
    assert (progress.blocked, progress.failed, progress.cancelled, progress.handled) == (1, 0, 0, 5)
    assert (progress.rate, progress.seconds_left) == (2.0, 2.5)
    assert (progress.used, progress.issued) == (None, None)


async def test_a_cancelled_campaign_counts_its_rows_never_sent(session: AsyncSession) -> None:
    await add_members(session, [member_row(number) for number in range(1, 5)])
    campaign = await started(session)
    await mark(session, campaign.id, OutboxState.SENT, 1)
    await mark(session, campaign.id, OutboxState.FAILED, 2)
    await campaigns.cancel(session, campaign.id, actor_id=STAFF, now=NOW)
    progress = await campaigns.progress(session, campaign.id, NOW, redemptions=True)
    assert (progress.state, progress.sent, progress.failed, progress.cancelled) == (State.CANCELLED, 1, 1, 2)
    assert (progress.waiting, progress.handled) == (0, 4)
    assert (progress.used, progress.issued) == (None, None)  # no voucher gift: nothing to redeem


async def test_gift_redemptions_count_the_campaigns_vouchers_used(session: AsyncSession) -> None:
    await add_members(session, [member_row(1), member_row(2), member_row(3)])
    data = {"kind": "voucher", "title": "Free tea", "worth": "item", "validity_days": 10}
    campaign = await started(session, draft("Your code: {voucher}", gift=gift_from(data)))
    other = await started(session, draft("Another: {voucher}", gift=gift_from(data)))
    await campaigns.messages_for(session, [Recipient(1, campaign.id, 1), Recipient(2, campaign.id, 2)], NOW)
    await campaigns.messages_for(session, [Recipient(3, other.id, 1)], NOW)
    progress = await campaigns.progress(session, campaign.id, NOW, redemptions=True)
    assert (progress.used, progress.issued) == (0, 2)
    for campaign_id in (campaign.id, other.id):  # member 1 uses the voucher of each campaign, member 2 none
        gift_id = (await session.get_one(Campaign, campaign_id)).gift_id
        voucher_id = await session.scalar(select(Voucher.id).where(Voucher.gift_id == gift_id, Voucher.member_id == 1))
        assert voucher_id is not None
        await voucher_use.use(session, voucher_id, Stamp(STAFF, "k", NOW))
    progress = await campaigns.progress(session, campaign.id, NOW + HOUR, redemptions=True)
    assert (progress.used, progress.issued) == (1, 2)
    assert (await campaigns.progress(session, campaign.id, NOW + HOUR)).used is None  # the sender's reports skip it


# --- the messages -----------------------------------------------------------------------------------------------


def test_placeholders_are_filled_in_one_pass_and_others_left_as_typed() -> None:
    values = {"name": "{points}", "points": "۱۲۰", "tier": "Gold"}
    text = "Hi {name}: {points} points, {tier} {tier}. {voucher} {0.__class__} {name!r} {{name}}"
    assert render(text, values) == "Hi {points}: ۱۲۰ points, Gold Gold. {voucher} {0.__class__} {name!r} {{points}}"


async def test_each_member_gets_the_message_written_for_them_in_their_language(session: AsyncSession) -> None:
    await add_members(
        session,
        [
            member_row(1, first_name="سارا", balance=1_250, tier="gold"),
            member_row(2, first_name="John", language="en", balance=1_250, tier="silver_plus"),
        ],
    )
    campaign = await started(session, draft("{name}: {points} — {tier} {unknown}"))
    messages = await campaigns.messages_for(
        session, [Recipient(10, campaign.id, 1), Recipient(11, campaign.id, 2)], NOW
    )
    assert messages == {10: Message("سارا: ۱٬۲۵۰ — Gold {unknown}"), 11: Message("John: 1,250 — Silver Plus {unknown}")}
    preview = await campaigns.preview(session, campaign.id, 2, tier_names=lambda tier, language: f"{tier}/{language}")
    assert preview == Message("John: 1,250 — silver_plus/en {unknown}")


async def test_a_points_gift_is_given_once_per_member_before_the_message(session: AsyncSession) -> None:
    await add_members(session, [member_row(1, language="en")])
    gift = gift_from({"kind": "points", "points": 300, "expiry_days": 30})
    campaign = await started(session, draft("You have {points}", gift=gift))
    for _ in range(2):  # a repeated send (after a crash) gives nothing more
        assert await campaigns.messages_for(session, [Recipient(1, campaign.id, 1)], NOW) == {
            1: Message("You have 300")
        }
    entries = (await session.scalars(select(LedgerEntry).where(LedgerEntry.member_id == 1))).all()
    assert [(entry.points, entry.idempotency_key) for entry in entries] == [(300, f"campaign:{campaign.id}:1")]
    assert (await session.get(Member, 1, populate_existing=True)).balance == 300  # type: ignore[union-attr]


async def test_a_voucher_gift_gives_each_member_one_voucher_of_the_campaign(session: AsyncSession) -> None:
    await add_members(session, [member_row(1), member_row(2)])
    data = {"kind": "voucher", "title": "Free tea", "worth": "item", "validity_days": 10}
    campaign = await started(session, draft("Your code: {voucher}", gift=gift_from(data)))
    first = await campaigns.messages_for(session, [Recipient(1, campaign.id, 1), Recipient(2, campaign.id, 2)], NOW)
    again = await campaigns.messages_for(session, [Recipient(1, campaign.id, 1)], NOW + HOUR)
    assert again[1] == first[1] and first[1] != first[2]
    vouchers = (await session.scalars(select(Voucher).order_by(Voucher.member_id))).all()
    gift = await session.get(Gift, vouchers[0].gift_id, populate_existing=True)
    assert [voucher.member_id for voucher in vouchers] == [1, 2]
    assert gift is not None and (gift.audience, gift.issued, gift.expires_at) == ("campaign", 2, NOW + 10 * 24 * HOUR)
    assert first[1].text.endswith(f"{vouchers[0].code[:4]}-{vouchers[0].code[4:8]}-{vouchers[0].code[8:]}")


async def test_a_multiplier_gift_starts_with_the_campaign_once(session: AsyncSession) -> None:
    await add_members(session, [member_row(1)])
    data = {"kind": "multiplier", "percent": 200, "starts_at": NOW, "ends_at": NOW + 48 * HOUR, "bonus_expiry_days": 7}
    campaign = await started(session, draft(gift=gift_from(data)))
    assert await session.scalar(select(func.count()).select_from(Multiplier)) == 1
    multiplier = await active_multiplier(session, NOW + HOUR)
    assert multiplier is not None and (multiplier.percent, multiplier.name) == (200, "Autumn")
    assert await campaigns.messages_for(session, [Recipient(1, campaign.id, 1)], NOW) == {1: Message("Hello Member 1")}


MULTIPLIER = {
    "kind": "multiplier",
    "percent": 200,
    "starts_at": NOW,
    "ends_at": NOW + 48 * HOUR,
    "bonus_expiry_days": 7,
}


async def earned_at(session: AsyncSession, member_id: int, at: datetime, receipt: str) -> purchases.Earned:
    """A purchase of 500,000 (50 points at 100%) by the member at `at`."""
    return await purchases.record_purchase(
        session, RULES, member_id=member_id, amount=500_000, receipt=receipt, stamp=Stamp(STAFF, "1", at)
    )


async def test_cancelling_a_campaign_ends_its_extra_points(session: AsyncSession) -> None:
    await add_members(session, [member_row(1)])
    campaign = await started(session, draft(gift=gift_from(MULTIPLIER)))
    assert (await earned_at(session, 1, NOW + HOUR, "before")).campaign_points == 50
    await campaigns.cancel(session, campaign.id, actor_id=STAFF, now=NOW + 2 * HOUR)
    after = await earned_at(session, 1, NOW + 3 * HOUR, "after")
    assert (after.points, after.campaign_points) == (50, 0)
    assert await active_multiplier(session, NOW + 3 * HOUR) is None
    details = await session.scalar(select(AuditEntry.details).where(AuditEntry.action == "campaign.cancel"))
    assert details is not None and json.loads(details)["multiplier_ended"] is True


async def test_a_start_that_fails_leaves_no_multiplier_and_the_next_start_adds_one(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_members(session, [member_row(1)])
    created = await campaigns.create(session, draft(gift=gift_from(MULTIPLIER)), actor_id=STAFF, now=NOW)
    with monkeypatch.context() as patch:
        patch.setattr(campaigns, "_fill_outbox", broken)
        with pytest.raises(RuntimeError):
            await campaigns.start(session, created.id, actor_id=STAFF, now=NOW)
    assert await session.scalar(select(func.count()).select_from(Multiplier)) == 0
    assert (await campaigns.get(session, created.id)).state == State.DRAFT
    campaign = await campaigns.start(session, created.id, actor_id=STAFF, now=NOW)
    assert await session.scalar(select(func.count()).select_from(Multiplier)) == 1
    assert campaign.state == State.RUNNING and campaign.multiplier is not None


async def test_staff_end_a_campaigns_extra_points_early_audited(session: AsyncSession) -> None:
    await add_members(session, [member_row(1)])
    campaign = await started(session, draft(gift=gift_from(MULTIPLIER)))
    assert campaign.multiplier is not None and campaign.multiplier.ends_at == NOW + 48 * HOUR
    assert [running.campaign_id for running in await campaigns.running_multipliers(session, NOW)] == [campaign.id]
    ended = await campaigns.end_extra_points(session, campaign.id, actor_id=STAFF, now=NOW + HOUR)
    assert ended.multiplier is not None and ended.multiplier.ends_at == NOW + HOUR
    assert ended.state == State.RUNNING  # the messages go on; only the extra points end
    assert await campaigns.running_multipliers(session, NOW + HOUR) == []
    assert (await earned_at(session, 1, NOW + 2 * HOUR, "later")).campaign_points == 0
    with pytest.raises(CampaignStateError):
        await campaigns.end_extra_points(session, campaign.id, actor_id=STAFF, now=NOW + 2 * HOUR)
    actions = (await session.scalars(select(AuditEntry.action))).all()
    assert "campaign.end_extra_points" in actions


async def test_rows_of_a_member_or_campaign_that_is_gone_get_no_message(session: AsyncSession) -> None:
    await add_members(session, [member_row(1)])
    campaign = await started(session)
    assert await campaigns.messages_for(session, [Recipient(1, campaign.id, 99), Recipient(2, 99, 1)], NOW) == {}
    assert await audiences.count(session, Audience(), NOW) == 1
