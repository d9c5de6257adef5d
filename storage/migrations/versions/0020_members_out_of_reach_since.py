"""members' out_of_reach_since: when the bot stopped reaching a member (/stop, or a send found them unreachable), so
the owner's retention counts from it (issue #16). Members already stopped or unreachable get their last activity:
the later of their joining and their last ledger entry, from which the retention counted until now.

Revision ID: 0020_members_out_of_reach_since
Revises: 0019_members_forgotten_at
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_members_out_of_reach_since"
down_revision: str | None = "0019_members_forgotten_at"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _backfill() -> None:
    """Each stopped or unreachable member's last activity: the later of joining (or being added) and their last
    ledger entry."""
    ledger = sa.table("ledger_entries", sa.column("member_id", sa.Integer), sa.column("created_at", sa.DateTime))
    members = sa.table(
        "members",
        sa.column("id", sa.Integer),
        sa.column("stopped", sa.Boolean),
        sa.column("unreachable", sa.Boolean),
        sa.column("joined_at", sa.DateTime),
        sa.column("created_at", sa.DateTime),
        sa.column("out_of_reach_since", sa.DateTime),
    )
    joined = sa.func.coalesce(members.c.joined_at, members.c.created_at)
    last_entry = (
        sa.select(sa.func.max(ledger.c.created_at)).where(ledger.c.member_id == members.c.id).scalar_subquery()
    )
    # the later of two moments, the entry's if any: SQLite's two-argument max(), PostgreSQL's greatest()
    later = sa.func.max if op.get_bind().dialect.name == "sqlite" else sa.func.greatest
    since = later(joined, sa.func.coalesce(last_entry, joined))
    out_of_reach = sa.or_(members.c.stopped.is_(True), members.c.unreachable.is_(True))
    op.get_bind().execute(members.update().where(out_of_reach).values(out_of_reach_since=since))


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("out_of_reach_since", sa.DateTime(timezone=True), nullable=True))
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("out_of_reach_since")
