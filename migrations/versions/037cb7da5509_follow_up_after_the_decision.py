"""follow-up after the decision: convention signature, amendments, payments, yearly reports, recoveries, plan figures

Revision ID: 037cb7da5509
Revises: f4a8c2e6b9d1
Create Date: 2026-12-03 22:31:14.728750

One migration for the whole follow-up (issue 18); each part adds its columns here while the
issue is open.

"""
import sqlalchemy as sa
from alembic import op

import aap.models.base

# revision identifiers, used by Alembic.
revision = '037cb7da5509'
down_revision = 'f4a8c2e6b9d1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plan_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('young_people', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=255), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_plan_figures_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_figures')),
    sa.UniqueConstraint('year', name=op.f('uq_plan_figures_year'))
    )
    op.create_table('amendments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('convention_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('previous', sa.JSON(), nullable=False),
    sa.Column('data_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('association_signed_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('countersigned_on', sa.Date(), nullable=True),
    sa.Column('state_signatory', sa.String(length=200), nullable=False),
    sa.Column('in_force_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['convention_id'], ['conventions.id'], name=op.f('fk_amendments_convention_id_conventions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_amendments_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_amendments')),
    sa.UniqueConstraint('convention_id', 'number', name=op.f('uq_amendments_convention_id'))
    )
    with op.batch_alter_table('amendments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_amendments_convention_id'), ['convention_id'], unique=False)

    op.create_table('payment_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('convention_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('generation', sa.Integer(), server_default='0', nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=True),
    sa.Column('chorus_reference', sa.String(length=40), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('suspended_reason', sa.Text(), nullable=False),
    sa.Column('updated_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['convention_id'], ['conventions.id'], name=op.f('fk_payment_lines_convention_id_conventions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_payment_lines_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_lines')),
    sa.UniqueConstraint('convention_id', 'year', 'kind', 'generation', name=op.f('uq_payment_lines_convention_id'))
    )
    with op.batch_alter_table('payment_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_lines_convention_id'), ['convention_id'], unique=False)
        batch_op.create_index('ix_payment_lines_state_planned_on', ['state', 'planned_on'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('convention_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('young_count', sa.Integer(), nullable=True),
    sa.Column('young_qpv', sa.Integer(), nullable=True),
    sa.Column('young_frr', sa.Integer(), nullable=True),
    sa.Column('young_ase', sa.Integer(), nullable=True),
    sa.Column('young_disability', sa.Integer(), nullable=True),
    sa.Column('young_dropout', sa.Integer(), nullable=True),
    sa.Column('ages', sa.JSON(), nullable=False),
    sa.Column('mentor_count', sa.Integer(), nullable=True),
    sa.Column('pair_count', sa.Integer(), nullable=True),
    sa.Column('average_duration_months', sa.Numeric(precision=5, scale=1, asdecimal=False), nullable=True),
    sa.Column('departements', sa.JSON(), nullable=False),
    sa.Column('account', sa.Text(), nullable=False),
    sa.Column('financial', sa.JSON(), nullable=False),
    sa.Column('submitted_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('reviewed_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reminded_before_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('reminded_after_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('updated_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['convention_id'], ['conventions.id'], name=op.f('fk_reports_convention_id_conventions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_reports_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_reports_submitted_by_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_reports_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('convention_id', 'year', name=op.f('uq_reports_convention_id'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_convention_id'), ['convention_id'], unique=False)

    op.create_table('convention_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('convention_id', sa.Integer(), nullable=False),
    sa.Column('amendment_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.JSON(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('superseded_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['amendment_id'], ['amendments.id'], name=op.f('fk_convention_documents_amendment_id_amendments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['convention_id'], ['conventions.id'], name=op.f('fk_convention_documents_convention_id_conventions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_convention_documents_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_convention_documents')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_convention_documents_stored_name'))
    )
    with op.batch_alter_table('convention_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_convention_documents_amendment_id'), ['amendment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_convention_documents_convention_id'), ['convention_id'], unique=False)

    op.create_table('recoveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('title_reference', sa.String(length=60), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('recovered_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('updated_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_recoveries_created_by_id_users')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_recoveries_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recoveries')),
    sa.UniqueConstraint('report_id', name=op.f('uq_recoveries_report_id'))
    )
    op.create_table('report_pieces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_pieces_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_report_pieces_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_pieces')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_report_pieces_stored_name'))
    )
    with op.batch_alter_table('report_pieces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_pieces_report_id'), ['report_id'], unique=False)

    op.add_column('calls', sa.Column('convention_reminder_days', sa.Integer(), server_default='15', nullable=False))
    op.add_column('calls', sa.Column('report_due_months', sa.Integer(), server_default='6', nullable=False))
    op.add_column('calls', sa.Column('report_reminder_days', sa.Integer(), server_default='30', nullable=False))

    op.add_column('conventions', sa.Column('state', sa.String(length=20), server_default='issued',
                                           nullable=False))
    op.add_column('conventions', sa.Column('association_signed_at', aap.models.base.UTCDateTime(), nullable=True))
    op.add_column('conventions', sa.Column('countersigned_at', aap.models.base.UTCDateTime(), nullable=True))
    op.add_column('conventions', sa.Column('state_signatory', sa.String(length=200), server_default='', nullable=False))
    op.add_column('conventions', sa.Column('in_force_at', aap.models.base.UTCDateTime(), nullable=True))
    op.add_column('conventions', sa.Column('terminated_at', aap.models.base.UTCDateTime(), nullable=True))
    op.add_column('conventions', sa.Column('termination_reason', sa.Text(), server_default='', nullable=False))
    op.add_column('conventions', sa.Column('reminded_at', aap.models.base.UTCDateTime(), nullable=True))
    op.add_column('conventions', sa.Column('reminder_count', sa.Integer(), server_default='0', nullable=False))
    # A convention whose signature day staff had recorded was signed by both parties: in force.
    op.execute("UPDATE conventions SET state = 'in_force' WHERE signed_at IS NOT NULL")

    with op.batch_alter_table('piece_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_piece_requests_report_id'), ['report_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_piece_requests_report_id_reports'), 'reports', ['report_id'], ['id'], ondelete='CASCADE')



def downgrade():
    with op.batch_alter_table('piece_requests', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_piece_requests_report_id_reports'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_piece_requests_report_id'))
        batch_op.drop_column('report_id')

    for column in ('reminder_count', 'reminded_at', 'termination_reason', 'terminated_at', 'in_force_at',
                   'state_signatory', 'countersigned_at', 'association_signed_at', 'state'):
        op.drop_column('conventions', column)
    for column in ('report_reminder_days', 'report_due_months', 'convention_reminder_days'):
        op.drop_column('calls', column)

    with op.batch_alter_table('report_pieces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_pieces_report_id'))

    op.drop_table('report_pieces')
    op.drop_table('recoveries')
    with op.batch_alter_table('convention_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_convention_documents_convention_id'))
        batch_op.drop_index(batch_op.f('ix_convention_documents_amendment_id'))

    op.drop_table('convention_documents')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_convention_id'))

    op.drop_table('reports')
    with op.batch_alter_table('payment_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_lines_state_planned_on')
        batch_op.drop_index(batch_op.f('ix_payment_lines_convention_id'))

    op.drop_table('payment_lines')
    with op.batch_alter_table('amendments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_amendments_convention_id'))

    op.drop_table('amendments')
    op.drop_table('plan_figures')
