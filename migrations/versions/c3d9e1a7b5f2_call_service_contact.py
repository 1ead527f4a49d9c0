"""the service in charge of a call (issue 17 §8, CRPA R112-5): name, postal address, e-mail and
telephone printed on the receipt and the decision letters (empty: the defaults of
aap/calls/contact.py)

Revision ID: c3d9e1a7b5f2
Revises: f5b8d3a1c6e9
Create Date: 2026-12-14 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3d9e1a7b5f2'
down_revision = 'f5b8d3a1c6e9'
branch_labels = None
depends_on = None

COLUMNS = (('service_name', 255), ('service_address', 500), ('service_email', 254), ('service_phone', 40))


def upgrade():
    # Plain ADD COLUMNs (no batch copy of `calls`, which other tables' rows reference).
    for name, length in COLUMNS:
        op.add_column('calls', sa.Column(name, sa.String(length=length), server_default='', nullable=False))


def downgrade():
    for name, _length in reversed(COLUMNS):
        op.drop_column('calls', name)
