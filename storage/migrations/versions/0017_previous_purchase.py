"""each purchase's member's previous purchase (both not reversed), filled in from the purchases already recorded,
and the kept purchases' period index covering it: the reports count a period's buyers as its purchases whose
previous one is older than the period, without DISTINCT (issue #15)

Revision ID: 0017_previous_purchase
Revises: 0016_report_speed
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_previous_purchase"
down_revision: str | None = "0016_report_speed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEPT = sa.text("reversed_at IS NULL")
INDEX = "ix_purchases_kept_created"
COLUMNS = ["created_at", "member_id", "amount", "payment"]


def _backfill() -> None:
    """Each kept purchase's predecessor among its member's kept purchases, in the order of time then id (one pass
    with LAG along `ix_purchases_kept_member`); the reversed ones stay NULL, as no report reads them."""
    purchases = sa.table(
        "purchases",
        sa.column("id", sa.Integer),
        sa.column("member_id", sa.Integer),
        sa.column("created_at", sa.DateTime),
        sa.column("reversed_at", sa.DateTime),
        sa.column("previous_at", sa.DateTime),
    )
    lag = sa.func.lag(purchases.c.created_at).over(
        partition_by=purchases.c.member_id, order_by=(purchases.c.created_at, purchases.c.id)
    )
    chain = (
        sa.select(purchases.c.id.label("id"), lag.label("at")).where(purchases.c.reversed_at.is_(None)).subquery()
    )
    filled = purchases.update().where(purchases.c.id == chain.c.id, chain.c.at.is_not(None))
    op.get_bind().execute(filled.values(previous_at=chain.c.at))


def upgrade() -> None:
    with op.batch_alter_table("purchases", schema=None) as batch_op:  # the index is made again after the backfill
        batch_op.drop_index(INDEX)
        batch_op.add_column(sa.Column("previous_at", sa.DateTime(timezone=True), nullable=True))
    _backfill()
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.create_index(INDEX, [*COLUMNS, "previous_at"], unique=False, sqlite_where=KEPT, postgresql_where=KEPT)


def downgrade() -> None:
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.create_index(INDEX, COLUMNS, unique=False, sqlite_where=KEPT, postgresql_where=KEPT)
        batch_op.drop_column("previous_at")
