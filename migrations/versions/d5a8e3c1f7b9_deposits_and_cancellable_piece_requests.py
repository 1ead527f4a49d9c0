"""deposits: one row per deposit of a file (the original one and each complement), each with its
own time, snapshot and fingerprint; piece requests: cancellable, with the state they started from

Revision ID: d5a8e3c1f7b9
Revises: a7c5e2d9f134
Create Date: 2026-11-25 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

import aap.models.base

# revision identifiers, used by Alembic.
revision = 'd5a8e3c1f7b9'
down_revision = 'a7c5e2d9f134'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('deposits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('submitted_at', aap.models.base.UTCDateTime(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('piece_request_id', sa.Integer(), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('stored_files', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_deposits_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['piece_request_id'], ['piece_requests.id'], name=op.f('fk_deposits_piece_request_id_piece_requests')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_deposits_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deposits')),
    sa.UniqueConstraint('application_id', 'number', name=op.f('uq_deposits_application_id'))
    )
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deposits_application_id'), ['application_id'], unique=False)

    with op.batch_alter_table('piece_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', aap.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('from_status', sa.String(length=20), server_default='submitted',
                                      nullable=False))

    # Every file already deposited gets its original deposit, from its current fields (its time,
    # snapshot and fingerprint), with the attachment rows that match the snapshot's pieces.
    connection = op.get_bind()
    applications = sa.table('applications', sa.column('id', sa.Integer), sa.column('submitted_at', aap.models.base.UTCDateTime),
                            sa.column('snapshot', sa.JSON), sa.column('fingerprint', sa.String))
    attachments = sa.table('attachments', sa.column('application_id', sa.Integer), sa.column('document_id', sa.Integer),
                           sa.column('original_name', sa.String), sa.column('stored_name', sa.String),
                           sa.column('kind', sa.String), sa.column('content_type', sa.String),
                           sa.column('size', sa.Integer), sa.column('sha256', sa.String),
                           sa.column('uploaded_by_id', sa.Integer),
                           sa.column('uploaded_at', aap.models.base.UTCDateTime))
    events = sa.table('events', sa.column('id', sa.Integer), sa.column('application_id', sa.Integer),
                      sa.column('action', sa.String), sa.column('actor_id', sa.Integer))
    deposits = sa.table('deposits', sa.column('application_id', sa.Integer), sa.column('number', sa.Integer),
                        sa.column('kind', sa.String), sa.column('submitted_at', aap.models.base.UTCDateTime),
                        sa.column('submitted_by_id', sa.Integer), sa.column('snapshot', sa.JSON),
                        sa.column('fingerprint', sa.String), sa.column('stored_files', sa.JSON))
    rows = connection.execute(sa.select(applications).where(
        applications.c.submitted_at.is_not(None), applications.c.snapshot.is_not(None),
        applications.c.fingerprint.is_not(None))).all()
    for application_id, submitted_at, snapshot, fingerprint in rows:
        wanted = {a.get('sha256') for a in (snapshot or {}).get('attachments', []) if isinstance(a, dict)}
        files = []
        for a in connection.execute(sa.select(attachments).where(attachments.c.application_id == application_id)):
            if a.sha256 in wanted:
                files.append({'document_id': a.document_id, 'original_name': a.original_name,
                              'stored_name': a.stored_name, 'kind': a.kind, 'content_type': a.content_type,
                              'size': a.size, 'sha256': a.sha256, 'uploaded_by_id': a.uploaded_by_id,
                              'uploaded_at': a.uploaded_at.isoformat() if a.uploaded_at else None})
        submitted_by = connection.execute(
            sa.select(events.c.actor_id).where(events.c.application_id == application_id,
                                               events.c.action == 'application_submitted')
            .order_by(events.c.id).limit(1)).scalar()
        connection.execute(deposits.insert().values(
            application_id=application_id, number=1, kind='original', submitted_at=submitted_at,
            submitted_by_id=submitted_by, snapshot=snapshot, fingerprint=fingerprint, stored_files=files))


def downgrade():
    with op.batch_alter_table('piece_requests', schema=None) as batch_op:
        batch_op.drop_column('from_status')
        batch_op.drop_column('cancelled_at')

    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deposits_application_id'))

    op.drop_table('deposits')
