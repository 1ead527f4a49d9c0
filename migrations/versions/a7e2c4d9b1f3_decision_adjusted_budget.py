"""the budget as granted (issue 17 §2): when a winner's grant is below its request, the
association (or staff) adjusts the project's budget before the convention is issued; kept on the
decision apart from the deposited budget, which stays frozen

Revision ID: a7e2c4d9b1f3
Revises: c3d9e1a7b5f2
Create Date: 2026-12-14 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7e2c4d9b1f3'
down_revision = 'c3d9e1a7b5f2'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs (no batch copy of `decisions`, which other tables' rows reference).
    op.add_column('decisions', sa.Column('adjusted_budget', sa.JSON(), nullable=True))
    op.add_column('decisions', sa.Column('adjusted_at', sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column('decisions', 'adjusted_at')
    op.drop_column('decisions', 'adjusted_budget')
