"""robustness (issue 16 §2): each computation of a call's robustness (the probability of each file
of being retained under re-sampled reviews, with its seed and the inputs' digest), and the call's
option « Tirage au sort dans la zone grise » (off for existing calls)

Revision ID: f5b8d3a1c6e9
Revises: a8e5c2f7d4b1
Create Date: 2026-12-13 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

import aap.models.base

# revision identifiers, used by Alembic.
revision = 'f5b8d3a1c6e9'
down_revision = 'a8e5c2f7d4b1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('robustness_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('computed_at', aap.models.base.UTCDateTime(), nullable=False),
    sa.Column('computed_by_id', sa.Integer(), nullable=True),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('n_resamples', sa.Integer(), nullable=False),
    sa.Column('toggle_calibration', sa.Boolean(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('probabilities', sa.JSON(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('infeasible', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_robustness_runs_call_id_calls'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['computed_by_id'], ['users.id'], name=op.f('fk_robustness_runs_computed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_robustness_runs'))
    )
    with op.batch_alter_table('robustness_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_robustness_runs_call_id'), ['call_id'], unique=False)
    # A plain ADD COLUMN (no batch copy of `calls`, which other tables' rows reference).
    op.add_column('calls', sa.Column('grey_zone_draw', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    op.drop_column('calls', 'grey_zone_draw')
    with op.batch_alter_table('robustness_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_robustness_runs_call_id'))
    op.drop_table('robustness_runs')
