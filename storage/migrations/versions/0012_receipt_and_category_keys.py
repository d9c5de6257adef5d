"""receipts and categories already stored become their keys (Persian digits, case, invisible marks folded)

Revision ID: 0012_ledger
Revises: 0011_ledger
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012_ledger'
down_revision: str | None = '0011_ledger'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000
_INVISIBLE = '\u200b\u200c\u200d\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069'
_FOLD = str.maketrans(
    {
        **dict.fromkeys(_INVISIBLE, None),
        **dict(zip('۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩', '01234567890123456789', strict=True)),
        '\u064a': '\u06cc',
        '\u0649': '\u06cc',
        '\u0643': '\u06a9',
    }
)


def _key(text: str | None) -> str | None:
    """The key of a receipt or category (as `loyalty.text_keys.text_key`, frozen here); None stays None."""
    if text is None:
        return None
    return ''.join(text.translate(_FOLD).casefold().split()) or None


def upgrade() -> None:
    """Fold each purchase's receipt and category to its key; a receipt whose key another purchase holds already
    (two receipts that differed only in case or digits) is left as it was. Idempotency keys are left alone."""
    purchases = sa.table(
        'purchases', sa.column('id', sa.Integer), sa.column('receipt', sa.String), sa.column('category', sa.String)
    )
    connection = op.get_bind()
    taken = set(connection.scalars(sa.select(purchases.c.receipt).where(purchases.c.receipt.is_not(None))))
    after = 0
    while True:
        rows = connection.execute(
            sa.select(purchases.c.id, purchases.c.receipt, purchases.c.category)
            .where(purchases.c.id > after, sa.or_(purchases.c.receipt.is_not(None), purchases.c.category.is_not(None)))
            .order_by(purchases.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        changes = []
        for row in rows:
            receipt, category = _key(row.receipt), _key(row.category)
            if receipt != row.receipt and (receipt is None or receipt in taken):
                receipt = row.receipt
            elif receipt != row.receipt:
                taken.add(receipt)
            if (receipt, category) != (row.receipt, row.category):
                changes.append({'purchase': row.id, 'receipt': receipt, 'category': category})
        if changes:
            connection.execute(
                purchases.update()
                .where(purchases.c.id == sa.bindparam('purchase'))
                .values(receipt=sa.bindparam('receipt'), category=sa.bindparam('category')),
                changes,
            )
        after = rows[-1].id


def downgrade() -> None:
    """The spellings as typed are gone; the keys stay."""
