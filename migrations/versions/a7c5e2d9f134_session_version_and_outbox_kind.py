"""accounts: a session version to end sessions on the server; outbox: the kind of each message,
for the limits per recipient

Revision ID: a7c5e2d9f134
Revises: e4b19c7d2f60
Create Date: 2026-11-24 16:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c5e2d9f134'
down_revision = 'e4b19c7d2f60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=40), server_default='', nullable=False))
        batch_op.create_index('ix_outbox_to_kind_created_at', ['to', 'kind', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_to_kind_created_at')
        batch_op.drop_column('kind')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
