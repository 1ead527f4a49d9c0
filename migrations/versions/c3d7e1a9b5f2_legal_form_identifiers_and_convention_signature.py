"""legal forms (issue 17 §7): the identifier of each legal form of an association (register of the
tribunal judiciaire for the local law of Alsace-Moselle; decree or prefectural authorisation for
the recognised associations and the foundations); the date a convention was signed (§10: the
open data publishes signed conventions only); a call's aid-scheme identifier (SCDL dispositifAide)

Revision ID: c3d7e1a9b5f2
Revises: b8f1d4e6a2c7
Create Date: 2026-12-03 21:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3d7e1a9b5f2'
down_revision = 'b8f1d4e6a2c7'
branch_labels = None
depends_on = None

ASSOCIATION_COLUMNS = (
    ('register_court', sa.String(length=40)),
    ('register_volume', sa.String(length=20)),
    ('register_folio', sa.String(length=20)),
    ('recognition_date', sa.Date()),
    ('recognition_reference', sa.String(length=160)),
)


def upgrade():
    # Plain add_column (SQLite: a batch copy of a table other rows reference would fail).
    for name, type_ in ASSOCIATION_COLUMNS:
        op.add_column('associations', sa.Column(name, type_, nullable=True))
    op.add_column('conventions', sa.Column('signed_at', sa.Date(), nullable=True))
    op.add_column('calls', sa.Column('aid_scheme_id', sa.String(length=120), nullable=False, server_default=''))


def downgrade():
    # Plain drop_column as well (SQLite 3.35+ drops a column in place).
    op.drop_column('calls', 'aid_scheme_id')
    op.drop_column('conventions', 'signed_at')
    for name, _type in reversed(ASSOCIATION_COLUMNS):
        op.drop_column('associations', name)
