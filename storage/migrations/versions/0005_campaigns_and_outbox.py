"""campaigns and the broadcast outbox; members can be unreachable

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


GIFT_AUDIENCES = "audience IN ('member', 'tier', 'all', 'campaign')"
OLD_GIFT_AUDIENCES = "audience IN ('member', 'tier', 'all')"


def _gift_audiences(condition: str) -> None:
    with op.batch_alter_table('gifts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_gifts_audience_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_gifts_audience_known'), condition)


def upgrade() -> None:
    _gift_audiences(GIFT_AUDIENCES)
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('audience', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('photo_file_id', sa.String(length=255), nullable=True),
    sa.Column('gift', sa.Text(), nullable=True),
    sa.Column('send_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('gift_id', sa.Integer(), nullable=True),
    sa.Column('multiplier_id', sa.Integer(), nullable=True),
    sa.Column('report_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('report_message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('draft', 'scheduled', 'running', 'paused', 'done', 'cancelled')", name=op.f('ck_campaigns_state_known')),
    sa.ForeignKeyConstraint(['gift_id'], ['gifts.id'], name=op.f('fk_campaigns_gift_id_gifts')),
    sa.ForeignKeyConstraint(['multiplier_id'], ['multipliers.id'], name=op.f('fk_campaigns_multiplier_id_multipliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index('ix_campaigns_state_send_at', ['state', 'send_at'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claim', sa.String(length=32), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'cancelled')", name=op.f('ck_outbox_state_known')),
    sa.CheckConstraint('key IS NOT NULL OR campaign_id IS NOT NULL', name=op.f('ck_outbox_identified')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('campaign_id', 'member_id', name='uq_outbox_campaign_member')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(
            'uq_outbox_key',
            ['key'],
            unique=True,
            sqlite_where=sa.text('key IS NOT NULL'),
            postgresql_where=sa.text('key IS NOT NULL'),
        )
        batch_op.create_index(
            'ix_outbox_waiting',
            ['campaign_id', 'id'],
            unique=False,
            sqlite_where=sa.text("state IN ('pending', 'sending')"),
            postgresql_where=sa.text("state IN ('pending', 'sending')"),
        )

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unreachable', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('unreachable')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_waiting')
        batch_op.drop_index('uq_outbox_key')

    op.drop_table('outbox')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index('ix_campaigns_state_send_at')

    op.drop_table('campaigns')
    _gift_audiences(OLD_GIFT_AUDIENCES)
