"""members' forgotten_at: when a member's personal data was erased (/forgetme or the owner's retention) (issue #16)

Revision ID: 0019_members_forgotten_at
Revises: 0018_members_tier
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_members_forgotten_at"
down_revision: str | None = "0018_members_tier"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forgotten_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("forgotten_at")
