"""required documents reserved for instruction (never shown to reviewers)

Revision ID: c3d7e91a4b20
Revises: 85c8f2a1b2ff
Create Date: 2026-11-24 10:12:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3d7e91a4b20'
down_revision = '85c8f2a1b2ff'
branch_labels = None
depends_on = None

# The codes of the default template's pieces holding bank or personal data
# (aap/calls/template.py RESERVED_CODES, copied here: a migration must not change with the code).
RESERVED_CODES = ('rib', 'dirigeants')


def upgrade():
    with op.batch_alter_table('required_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reserved', sa.Boolean(), server_default=sa.false(), nullable=False))
    required_documents = sa.table('required_documents', sa.column('code', sa.String), sa.column('reserved', sa.Boolean))
    op.execute(required_documents.update().where(required_documents.c.code.in_(RESERVED_CODES))
               .values(reserved=True))


def downgrade():
    with op.batch_alter_table('required_documents', schema=None) as batch_op:
        batch_op.drop_column('reserved')
