"""members' last birthday greeting (a gift at most once in 365 days), filled in from greetings already given

Revision ID: 0013_ledger
Revises: 0012_ledger
"""

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0013_ledger"
down_revision: str | None = "0012_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _backfill() -> None:
    """The date (UTC) of each member's latest birthday greeting in the outbox or birthday points in the ledger."""
    outbox = sa.table(
        "outbox",
        sa.column("member_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("next_attempt_at", sa.DateTime),
        sa.column("sent_at", sa.DateTime),
    )
    entries = sa.table(
        "ledger_entries",
        sa.column("member_id", sa.Integer),
        sa.column("reason", sa.String),
        sa.column("created_at", sa.DateTime),
    )
    members = sa.table("members", sa.column("id", sa.Integer), sa.column("birthday_greeted_on", sa.Date))
    connection = op.get_bind()
    latest: dict[int, date] = {}
    for query in (
        sa.select(outbox.c.member_id, sa.func.max(sa.func.coalesce(outbox.c.sent_at, outbox.c.next_attempt_at)))
        .where(outbox.c.kind == "birthday", outbox.c.member_id.is_not(None))
        .group_by(outbox.c.member_id),
        sa.select(entries.c.member_id, sa.func.max(entries.c.created_at))
        .where(entries.c.reason == "birthday")
        .group_by(entries.c.member_id),
    ):
        for member_id, at in connection.execute(query):
            day = _date(at)
            if day is not None and (member_id not in latest or day > latest[member_id]):
                latest[member_id] = day
    if latest:
        connection.execute(
            members.update()
            .where(members.c.id == sa.bindparam("member"))
            .values(birthday_greeted_on=sa.bindparam("day")),
            [{"member": member_id, "day": day} for member_id, day in latest.items()],
        )


def _date(at: datetime | str | None) -> date | None:
    """The date of a stored moment, as either database returns it (a datetime, or SQLite's text of one)."""
    if at is None:
        return None
    return date.fromisoformat(at[:10]) if isinstance(at, str) else at.date()


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birthday_greeted_on", sa.Date(), nullable=True))
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("birthday_greeted_on")
