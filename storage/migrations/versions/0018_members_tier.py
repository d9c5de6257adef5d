"""members by tier, indexed: the Members report counts each tier along the index instead of sorting the club by tier
(issue #15)

Revision ID: 0018_members_tier
Revises: 0017_previous_purchase
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018_members_tier"
down_revision: str | None = "0017_previous_purchase"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index("ix_members_tier", ["tier"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_tier")
