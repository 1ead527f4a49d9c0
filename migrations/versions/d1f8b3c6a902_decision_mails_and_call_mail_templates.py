"""selection (issue 15, points 2 and 5): decision mails as drafts (read, edited, held back, then
sent through the outbox), and the wording of decision mails editable per call

Revision ID: d1f8b3c6a902
Revises: c9e4a7f1d2b6
Create Date: 2026-11-26 11:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

import aap.models.base

# revision identifiers, used by Alembic.
revision = 'd1f8b3c6a902'
down_revision = 'c9e4a7f1d2b6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('decision_mails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('held', sa.Boolean(), nullable=False),
    sa.Column('created_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('edited_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('edited_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'],
                            name=op.f('fk_decision_mails_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'],
                            name=op.f('fk_decision_mails_decision_id_decisions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['edited_by_id'], ['users.id'], name=op.f('fk_decision_mails_edited_by_id_users')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_decision_mails_sent_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_mails'))
    )
    with op.batch_alter_table('decision_mails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_mails_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_mails_decision_id'), ['decision_id'], unique=False)

    op.create_table('call_mail_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_mail_templates_call_id_calls'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_call_mail_templates_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_mail_templates')),
    sa.UniqueConstraint('call_id', 'kind', name=op.f('uq_call_mail_templates_call_id'))
    )
    with op.batch_alter_table('call_mail_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_mail_templates_call_id'), ['call_id'], unique=False)


def downgrade():
    with op.batch_alter_table('call_mail_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_mail_templates_call_id'))
    op.drop_table('call_mail_templates')
    with op.batch_alter_table('decision_mails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_mails_decision_id'))
        batch_op.drop_index(batch_op.f('ix_decision_mails_application_id'))
    op.drop_table('decision_mails')
