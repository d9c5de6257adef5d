"""members' birthday month-day for today's birthdays; daily job runs (the jobs' schedule and lock)

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence
from datetime import date

import jdatetime
import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000


def _month_day(birthday: date, calendar: str) -> int:
    """month * 100 + day in the member's calendar (as `loyalty.birthdays.birthday_md`, frozen here)."""
    if calendar == 'jalali':
        jalali = jdatetime.date.fromgregorian(date=birthday)
        return jalali.month * 100 + jalali.day
    return birthday.month * 100 + birthday.day


def _backfill() -> None:
    members = sa.table(
        'members',
        sa.column('id', sa.Integer),
        sa.column('birthday', sa.Date),
        sa.column('birthday_calendar', sa.String),
        sa.column('birthday_md', sa.SmallInteger),
    )
    connection = op.get_bind()
    after = 0
    while True:
        rows = connection.execute(
            sa.select(members.c.id, members.c.birthday, members.c.birthday_calendar)
            .where(members.c.id > after, members.c.birthday.is_not(None), members.c.birthday_calendar.is_not(None))
            .order_by(members.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            members.update().where(members.c.id == sa.bindparam('member')).values(birthday_md=sa.bindparam('md')),
            [{'member': row.id, 'md': _month_day(row.birthday, row.birthday_calendar)} for row in rows],
        )
        after = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birthday_md', sa.SmallInteger(), nullable=True))
        batch_op.create_index('ix_members_birthday', ['birthday_calendar', 'birthday_md'], unique=False)
    _backfill()
    op.create_table('job_runs',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=True),
    sa.Column('holder', sa.String(length=32), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_runs'))
    )


def downgrade() -> None:
    op.drop_table('job_runs')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index('ix_members_birthday')
        batch_op.drop_column('birthday_md')
