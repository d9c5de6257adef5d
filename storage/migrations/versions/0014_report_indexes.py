"""indexes on the kept (not reversed) purchases for the owner's reports: a period's purchases by range, covered,
and each buyer's purchases by member (issue #15)

Revision ID: 0014_reports
Revises: 0013_ledger
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_reports"
down_revision: str | None = "0013_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEPT = sa.text("reversed_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_purchases_kept_created",
            ["created_at", "member_id", "amount"],
            unique=False,
            sqlite_where=KEPT,
            postgresql_where=KEPT,
        )
        batch_op.create_index(
            "ix_purchases_kept_member",
            ["member_id", "created_at"],
            unique=False,
            sqlite_where=KEPT,
            postgresql_where=KEPT,
        )


def downgrade() -> None:
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_index("ix_purchases_kept_member")
        batch_op.drop_index("ix_purchases_kept_created")
