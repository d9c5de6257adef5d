"""how a purchase was paid: `purchases.payment` (cash, card, online, credit; NULL for not said, as every purchase
before), and the kept purchases' period index covering it, so the Sales report's split reads no table rows
(issue #15)

Revision ID: 0015_payment_method
Revises: 0014_reports
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_payment_method"
down_revision: str | None = "0014_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEPT = sa.text("reversed_at IS NULL")
INDEX = "ix_purchases_kept_created"


def upgrade() -> None:
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment", sa.String(length=8), nullable=True))
        batch_op.drop_index(INDEX)
        columns = ["created_at", "member_id", "amount", "payment"]
        batch_op.create_index(INDEX, columns, unique=False, sqlite_where=KEPT, postgresql_where=KEPT)


def downgrade() -> None:
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        columns = ["created_at", "member_id", "amount"]
        batch_op.create_index(INDEX, columns, unique=False, sqlite_where=KEPT, postgresql_where=KEPT)
        batch_op.drop_column("payment")
