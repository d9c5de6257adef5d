"""members owe the points a take-back could not take (settled by later reversals)

Revision ID: 0011_ledger
Revises: 0010_campaigns
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_ledger'
down_revision: str | None = '0010_campaigns'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('points_owed', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), server_default='0', nullable=False))
        batch_op.create_check_constraint(op.f('ck_members_points_owed_not_negative'), 'points_owed >= 0')


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_members_points_owed_not_negative'), type_='check')
        batch_op.drop_column('points_owed')
