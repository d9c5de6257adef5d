"""gifts keep their message and when members were told (or the gift cancelled); campaigns keep their confirm key

A gift to many members or a campaign whose confirmation failed midway is finished or cancelled later from the
chat: the gift's message is needed to tell its members then, `told_at` says they were, `cancelled_at` that it was
withdrawn; a campaign's `idempotency_key` lets a repeated confirmation find the campaign the first one created.
Gifts already in are told (or belong to a campaign, which tells its members itself).

Revision ID: 0010_campaigns
Revises: 0009_wide
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_campaigns'
down_revision: str | None = '0009_wide'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('gifts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('told_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE gifts SET told_at = created_at")
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_campaigns_idempotency_key'), ['idempotency_key'])


def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_campaigns_idempotency_key'), type_='unique')
        batch_op.drop_column('idempotency_key')
    with op.batch_alter_table('gifts', schema=None) as batch_op:
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('told_at')
        batch_op.drop_column('message')
