"""the legal and budgetary texts of a call's conventions (issue 17 §1, §4, §5: visas, imputation
budgétaire, signatory, State-aid basis, signature mode; empty: the defaults of
aap/documents/convention_texts.py) and the Chorus commitment number of a convention

Revision ID: b8f1d4e6a2c7
Revises: a7e2c4d9b1f3
Create Date: 2026-12-03 21:05:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b8f1d4e6a2c7'
down_revision = 'a7e2c4d9b1f3'
branch_labels = None
depends_on = None


def upgrade():
    # Plain add_column (SQLite: a batch copy of a table other rows reference would fail).
    op.add_column('calls', sa.Column('convention_texts', sa.JSON(), nullable=False, server_default='{}'))
    op.add_column('conventions', sa.Column('commitment_number', sa.String(length=40), nullable=False,
                                           server_default=''))


def downgrade():
    op.drop_column('conventions', 'commitment_number')
    op.drop_column('calls', 'convention_texts')
