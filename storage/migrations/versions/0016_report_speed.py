"""members' first purchase not reversed, indexed, filled in from the purchases already recorded: the reports count
new buyers by it instead of seeking each buyer's first purchase (issue #15)

Revision ID: 0016_report_speed
Revises: 0015_payment_method
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_report_speed"
down_revision: str | None = "0015_payment_method"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _backfill() -> None:
    """Each member's earliest purchase not reversed (NULL without one), read along `ix_purchases_kept_member`."""
    purchases = sa.table(
        "purchases",
        sa.column("member_id", sa.Integer),
        sa.column("created_at", sa.DateTime),
        sa.column("reversed_at", sa.DateTime),
    )
    members = sa.table("members", sa.column("id", sa.Integer), sa.column("first_purchase_at", sa.DateTime))
    first = (
        sa.select(sa.func.min(purchases.c.created_at))
        .where(purchases.c.member_id == members.c.id, purchases.c.reversed_at.is_(None))
        .scalar_subquery()
    )
    op.get_bind().execute(members.update().values(first_purchase_at=first))


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_purchase_at", sa.DateTime(timezone=True), nullable=True))
    _backfill()
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index("ix_members_first_purchase", ["first_purchase_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_first_purchase")
        batch_op.drop_column("first_purchase_at")
