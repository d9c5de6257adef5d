"""points, balances, costs, stock and multipliers are 64-bit (BIGINT) on PostgreSQL

Ten billion rials is an ordinary purchase, and a shop earning a point per rial passes 2**31 points; the money
columns were BIGINT already, these (`storage.models.Wide`) were 32-bit INTEGER on PostgreSQL.

PostgreSQL: ALTER COLUMN ... TYPE BIGINT, keeping every row (an int4 always fits an int8).
SQLite: nothing to do. Every SQLite INTEGER column already stores 64-bit integers, and the models declare these
columns INTEGER on SQLite (`Wide` is a variant type), so the schema already matches. Rebuilding the tables in
batch mode would only change the declared name, and dropping `members` or `ledger_entries` while other tables
refer to them needs foreign keys off, which SQLite does not allow inside the migration's transaction.
Telegram ids (members.telegram_id, staff, actors, chats, messages) were BIGINT from the start; no change.

Revision ID: 0009_wide
Revises: 0008_counter
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_wide'
down_revision: str | None = '0008_counter'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WIDENED = {
    'members': ('balance',),
    'ledger_entries': ('points',),
    'point_lots': ('points', 'remaining'),
    'lot_draws': ('points',),
    'purchases': ('points',),
    'multipliers': ('percent',),
    'rewards': ('cost', 'stock'),
    'vouchers': ('points',),
    'referrals': ('referrer_points', 'friend_points'),
}


def _retype(wide: type[sa.types.TypeEngine[int]], narrow: type[sa.types.TypeEngine[int]]) -> None:
    """Change every listed column from `narrow` to `wide` on PostgreSQL; SQLite's INTEGER is 64-bit already."""
    if op.get_bind().dialect.name == 'sqlite':
        return
    for table, columns in WIDENED.items():
        for column in columns:
            op.alter_column(table, column, type_=wide(), existing_type=narrow())


def upgrade() -> None:
    _retype(sa.BigInteger, sa.Integer)


def downgrade() -> None:
    _retype(sa.Integer, sa.BigInteger)
