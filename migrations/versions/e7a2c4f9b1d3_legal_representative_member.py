"""team management (issue 15, point 11): the member of an association marked as its legal
representative (handed over from one member to another on the members page)

Revision ID: e7a2c4f9b1d3
Revises: d1f8b3c6a902
Create Date: 2026-12-03 18:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e7a2c4f9b1d3'
down_revision = 'd1f8b3c6a902'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_representative', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('legal_representative')
