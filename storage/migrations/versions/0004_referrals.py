"""referrals; members can be blocked

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blocked', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referrer_id', sa.Integer(), nullable=False),
    sa.Column('friend_telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('friend_member_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('converted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('purchase_id', sa.Integer(), nullable=True),
    sa.Column('rewarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('referrer_points', sa.Integer(), nullable=False),
    sa.Column('friend_points', sa.Integer(), nullable=False),
    sa.Column('referrer_voucher_id', sa.Integer(), nullable=True),
    sa.Column('friend_voucher_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'joined', 'rewarded', 'refused')", name=op.f('ck_referrals_status_known')),
    sa.CheckConstraint('referrer_points >= 0 AND friend_points >= 0', name=op.f('ck_referrals_points_not_negative')),
    sa.ForeignKeyConstraint(['friend_member_id'], ['members.id'], name=op.f('fk_referrals_friend_member_id_members')),
    sa.ForeignKeyConstraint(['friend_voucher_id'], ['vouchers.id'], name=op.f('fk_referrals_friend_voucher_id_vouchers')),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchases.id'], name=op.f('fk_referrals_purchase_id_purchases')),
    sa.ForeignKeyConstraint(['referrer_id'], ['members.id'], name=op.f('fk_referrals_referrer_id_members')),
    sa.ForeignKeyConstraint(['referrer_voucher_id'], ['vouchers.id'], name=op.f('fk_referrals_referrer_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('friend_member_id', name=op.f('uq_referrals_friend_member_id')),
    sa.UniqueConstraint('friend_telegram_id', name=op.f('uq_referrals_friend_telegram_id'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_referrer_rewarded', ['referrer_id', 'rewarded_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_referrer_rewarded')

    op.drop_table('referrals')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('blocked')
