"""private notes on files and associations (with their earlier texts), and the call's FAQ for
applicants (issue 19 §2 and §5)

Revision ID: f4a8c2e6b9d1
Revises: e9f3a7c1d5b8
Create Date: 2026-12-03 21:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

from aap.models.base import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'f4a8c2e6b9d1'
down_revision = 'e9f3a7c1d5b8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'private_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('association_id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=True),
        sa.Column('scope', sa.String(length=10), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=True),
        sa.Column('updated_at', UTCDateTime(), nullable=True),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['association_id'], ['associations.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['users.id']),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_private_notes_association_id', 'private_notes', ['association_id'])
    op.create_index('ix_private_notes_application_id', 'private_notes', ['application_id'])
    op.create_table(
        'private_note_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('note_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('written_at', UTCDateTime(), nullable=True),
        sa.Column('written_by_id', sa.Integer(), nullable=True),
        sa.Column('replaced_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['note_id'], ['private_notes.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['written_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_private_note_versions_note_id', 'private_note_versions', ['note_id'])
    op.add_column('calls', sa.Column('faq', sa.Text(), nullable=False, server_default=''))


def downgrade():
    op.drop_column('calls', 'faq')
    op.drop_index('ix_private_note_versions_note_id', table_name='private_note_versions')
    op.drop_table('private_note_versions')
    op.drop_index('ix_private_notes_application_id', table_name='private_notes')
    op.drop_index('ix_private_notes_association_id', table_name='private_notes')
    op.drop_table('private_notes')
