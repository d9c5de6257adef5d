"""rewards catalog, gifts, vouchers; audit index for wrong voucher codes

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rewards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('photo_file_id', sa.String(length=255), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=True),
    sa.Column('cap', sa.BigInteger(), nullable=True),
    sa.Column('cost', sa.Integer(), nullable=False),
    sa.Column('validity_days', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=True),
    sa.Column('per_member_limit', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('fixed', 'percent', 'item')", name=op.f('ck_rewards_kind_known')),
    sa.CheckConstraint('cost > 0', name=op.f('ck_rewards_cost_positive')),
    sa.CheckConstraint('per_member_limit > 0', name=op.f('ck_rewards_limit_positive')),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_rewards_stock_not_negative')),
    sa.CheckConstraint('validity_days > 0', name=op.f('ck_rewards_validity_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rewards'))
    )
    op.create_table('gifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=True),
    sa.Column('cap', sa.BigInteger(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("audience IN ('member', 'tier', 'all')", name=op.f('ck_gifts_audience_known')),
    sa.CheckConstraint("kind IN ('fixed', 'percent', 'item')", name=op.f('ck_gifts_kind_known')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_gifts_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gifts')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_gifts_idempotency_key'))
    )
    op.create_table('vouchers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=True),
    sa.Column('gift_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=True),
    sa.Column('cap', sa.BigInteger(), nullable=True),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('refund_entry_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_by', sa.BigInteger(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("kind IN ('fixed', 'percent', 'item')", name=op.f('ck_vouchers_kind_known')),
    sa.CheckConstraint("status IN ('active', 'used', 'cancelled')", name=op.f('ck_vouchers_status_known')),
    sa.CheckConstraint('points >= 0', name=op.f('ck_vouchers_points_not_negative')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_vouchers_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['gift_id'], ['gifts.id'], name=op.f('fk_vouchers_gift_id_gifts')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_vouchers_member_id_members')),
    sa.ForeignKeyConstraint(['refund_entry_id'], ['ledger_entries.id'], name=op.f('fk_vouchers_refund_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_vouchers_reward_id_rewards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vouchers')),
    sa.UniqueConstraint('code', name=op.f('uq_vouchers_code')),
    sa.UniqueConstraint('gift_id', 'member_id', name=op.f('uq_vouchers_gift_member'))
    )
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.create_index(
            'ix_vouchers_active_expiry',
            ['expires_at'],
            unique=False,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.create_index(batch_op.f('ix_vouchers_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index('ix_vouchers_member', ['member_id', 'id'], unique=False)

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(
            'ix_audit_log_voucher_misses',
            ['actor_id', 'created_at'],
            unique=False,
            sqlite_where=sa.text("action = 'voucher.miss'"),
            postgresql_where=sa.text("action = 'voucher.miss'"),
        )



def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_voucher_misses')

    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.drop_index('ix_vouchers_member')
        batch_op.drop_index(batch_op.f('ix_vouchers_entry_id'))
        batch_op.drop_index('ix_vouchers_active_expiry')

    op.drop_table('vouchers')
    op.drop_table('gifts')
    op.drop_table('rewards')
