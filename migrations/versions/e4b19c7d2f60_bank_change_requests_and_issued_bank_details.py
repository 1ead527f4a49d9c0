"""bank change requests (validated by staff) and the bank details each convention was issued with

Revision ID: e4b19c7d2f60
Revises: c3d7e91a4b20
Create Date: 2026-11-24 14:05:00.000000

"""
import sqlalchemy as sa
from alembic import op

import aap.models.base

# revision identifiers, used by Alembic.
revision = 'e4b19c7d2f60'
down_revision = 'c3d7e91a4b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bank_change_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=False),
    sa.Column('account_holder', sa.String(length=200), nullable=False),
    sa.Column('rib_original_name', sa.String(length=255), nullable=False),
    sa.Column('rib_stored_name', sa.String(length=64), nullable=False),
    sa.Column('rib_kind', sa.String(length=10), nullable=False),
    sa.Column('rib_content_type', sa.String(length=100), nullable=False),
    sa.Column('rib_size', sa.Integer(), nullable=False),
    sa.Column('rib_sha256', sa.String(length=64), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('refusal_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_bank_change_requests_association_id_associations')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_bank_change_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_bank_change_requests_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_change_requests')),
    sa.UniqueConstraint('rib_stored_name', name=op.f('uq_bank_change_requests_rib_stored_name'))
    )
    with op.batch_alter_table('bank_change_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_change_requests_association_id'), ['association_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_change_requests_status'), ['status'], unique=False)

    with op.batch_alter_table('conventions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bank_details', sa.JSON(), nullable=True))

    # The conventions already issued were rendered with the association's account as it is now:
    # record it as the details they were issued with, so that a later change leaves them as they are.
    connection = op.get_bind()
    associations = sa.table('associations', sa.column('id', sa.Integer), sa.column('name', sa.String),
                            sa.column('iban', sa.String), sa.column('bic', sa.String),
                            sa.column('account_holder', sa.String))
    applications = sa.table('applications', sa.column('id', sa.Integer), sa.column('association_id', sa.Integer))
    conventions = sa.table('conventions', sa.column('id', sa.Integer), sa.column('application_id', sa.Integer),
                           sa.column('bank_details', sa.JSON))
    rows = connection.execute(
        sa.select(conventions.c.id, associations.c.name, associations.c.iban, associations.c.bic,
                  associations.c.account_holder)
        .select_from(conventions.join(applications, applications.c.id == conventions.c.application_id)
                     .join(associations, associations.c.id == applications.c.association_id))
        .where(associations.c.iban.is_not(None), associations.c.iban != '')).all()
    for convention_id, name, iban, bic, holder in rows:
        connection.execute(conventions.update().where(conventions.c.id == convention_id).values(
            bank_details={'iban': iban, 'bic': bic or '', 'account_holder': holder or name or ''}))


def downgrade():
    with op.batch_alter_table('conventions', schema=None) as batch_op:
        batch_op.drop_column('bank_details')

    with op.batch_alter_table('bank_change_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_change_requests_status'))
        batch_op.drop_index(batch_op.f('ix_bank_change_requests_association_id'))

    op.drop_table('bank_change_requests')
