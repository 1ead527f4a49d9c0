"""selection (issue 16): a call's minimum score (files under it are never proposed; 10/20 by
default) and its envelope per year (a 3-year call holds one envelope per year; existing calls
get their total split evenly, or the total for a one-year call)

Revision ID: c3f7a1d9e5b2
Revises: b6d2e8f4a1c7
Create Date: 2026-12-10 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3f7a1d9e5b2'
down_revision = 'b6d2e8f4a1c7'
branch_labels = None
depends_on = None


def _split(total, years):
    years = max(int(years or 1), 1)
    base, remainder = divmod(int(total or 0), years)
    return [base + (1 if i < remainder else 0) for i in range(years)]


def upgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_score', sa.Numeric(precision=5, scale=2), server_default='10',
                                      nullable=False))
        batch_op.add_column(sa.Column('budget_per_year', sa.JSON(), server_default='[]', nullable=False))
    calls = sa.table('calls', sa.column('id', sa.Integer), sa.column('budget_cents', sa.BigInteger),
                     sa.column('years', sa.Integer), sa.column('budget_per_year', sa.JSON))
    connection = op.get_bind()
    for call_id, budget, years in connection.execute(sa.select(calls.c.id, calls.c.budget_cents, calls.c.years)):
        connection.execute(calls.update().where(calls.c.id == call_id)
                           .values(budget_per_year=_split(budget, years)))


def downgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('budget_per_year')
        batch_op.drop_column('min_score')
