"""jobs (issue 20): the document_jobs of the web process's threads become the jobs table, claimed
by worker processes with a lease (kind, payload, attempts, run_after, worker, lease_until). Past
jobs are kept; one that was still pending or running belonged to a thread that is gone: failed.

Revision ID: a8e5c2f7d4b1
Revises: c3f7a1d9e5b2
Create Date: 2026-12-12 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

import aap.models.base

# revision identifiers, used by Alembic.
revision = 'a8e5c2f7d4b1'
down_revision = 'c3f7a1d9e5b2'
branch_labels = None
depends_on = None

INTERRUPTED = "La génération a été interrompue ; relancez-la."


def _reset_sequence(table):
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) "
                   f"FROM {table}")


def upgrade():
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('run_after', aap.models.base.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=100), nullable=True),
    sa.Column('lease_until', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('started_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('finished_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('updated_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_jobs_call_id_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_jobs_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_call_id'), ['call_id'], unique=False)
        batch_op.create_index('ix_jobs_status_run_after', ['status', 'run_after'], unique=False)

    op.execute(sa.text(
        "INSERT INTO jobs (id, kind, payload, call_id, status, run_after, attempts, max_attempts, total, done, "
        "error, stored_name, created_by_id, created_at, started_at, finished_at, updated_at) "
        "SELECT id, kind, '{}', call_id, "
        "CASE WHEN status IN ('pending', 'running') THEN 'failed' ELSE status END, "
        "COALESCE(created_at, updated_at, started_at, finished_at), 1, 3, total, done, "
        "CASE WHEN status IN ('pending', 'running') THEN :interrupted ELSE error END, "
        "stored_name, created_by_id, created_at, started_at, finished_at, updated_at FROM document_jobs"
    ).bindparams(interrupted=INTERRUPTED))
    _reset_sequence('jobs')

    with op.batch_alter_table('document_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_jobs_call_id'))
    op.drop_table('document_jobs')


def downgrade():
    op.create_table('document_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('started_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('finished_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.Column('updated_at', aap.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_document_jobs_call_id_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_document_jobs_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_jobs'))
    )
    with op.batch_alter_table('document_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_jobs_call_id'), ['call_id'], unique=False)

    # Only the conventions jobs of a call had a place there (« queued » was « pending »).
    op.execute(
        "INSERT INTO document_jobs (id, call_id, kind, status, total, done, error, stored_name, created_by_id, "
        "created_at, started_at, finished_at, updated_at) "
        "SELECT id, call_id, kind, CASE WHEN status = 'queued' THEN 'pending' ELSE status END, total, done, error, "
        "stored_name, created_by_id, created_at, started_at, finished_at, updated_at FROM jobs "
        "WHERE kind = 'conventions' AND call_id IS NOT NULL")
    _reset_sequence('document_jobs')

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_status_run_after')
        batch_op.drop_index(batch_op.f('ix_jobs_call_id'))
    op.drop_table('jobs')
