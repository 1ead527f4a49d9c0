"""decision versions (issue 15, points 3 and 4): a published decision replaced by a new version
(a file promoted from the waiting list, the waiting list closed, a winner's grant amended) keeps
its earlier versions in decision_versions; decisions get their version number and the change
that made the current version

Revision ID: b6d2e8f4a1c7
Revises: e7a2c4f9b1d3
Create Date: 2026-12-03 18:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

import aap.models.base

# revision identifiers, used by Alembic.
revision = 'b6d2e8f4a1c7'
down_revision = 'e7a2c4f9b1d3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('change', sa.String(length=20), nullable=True))

    op.create_table('decision_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('change', sa.String(length=20), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=True),
    sa.Column('amount_per_year', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('published_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('superseded_at', aap.models.base.UTCDateTime(), nullable=False),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_decision_versions_decision_id_decisions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_decision_versions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_decision_versions_published_by_id_users')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['users.id'], name=op.f('fk_decision_versions_superseded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_versions'))
    )
    with op.batch_alter_table('decision_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_versions_decision_id'), ['decision_id'], unique=False)


def downgrade():
    with op.batch_alter_table('decision_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_versions_decision_id'))
    op.drop_table('decision_versions')

    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_column('change')
        batch_op.drop_column('version')
