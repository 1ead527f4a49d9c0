"""indexes of the audit journal

Revision ID: 85c8f2a1b2ff
Revises: 9b2535a5e10d
Create Date: 2026-11-23 12:41:11.796470

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '85c8f2a1b2ff'
down_revision = '9b2535a5e10d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_action_id', ['action', 'id'], unique=False)
        batch_op.create_index('ix_events_actor_id', ['actor_id', 'id'], unique=False)
        batch_op.create_index('ix_events_call_id', ['call_id', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_call_id')
        batch_op.drop_index('ix_events_actor_id')
        batch_op.drop_index('ix_events_action_id')

