"""percentages of the young people with decimals (« 25,5 % »): the five share columns of an
application become NUMERIC(5, 2)

Revision ID: b8f3d2a6c415
Revises: d5a8e3c1f7b9
Create Date: 2026-11-25 11:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b8f3d2a6c415'
down_revision = 'd5a8e3c1f7b9'
branch_labels = None
depends_on = None

SHARES = ('share_qpv', 'share_zrr', 'share_ase', 'share_disability', 'share_dropout')


def upgrade():
    # SQLite: batch mode copies the table; PostgreSQL: ALTER COLUMN ... TYPE NUMERIC(5, 2)
    # (an integer converts to numeric without a USING clause).
    with op.batch_alter_table('applications', schema=None) as batch_op:
        for name in SHARES:
            batch_op.alter_column(name, existing_type=sa.Integer(), type_=sa.Numeric(5, 2),
                                  existing_nullable=True)


def downgrade():
    # Back to whole numbers: decimals are rounded.
    if op.get_bind().dialect.name == 'postgresql':
        for name in SHARES:
            op.alter_column('applications', name, existing_type=sa.Numeric(5, 2), type_=sa.Integer(),
                            existing_nullable=True, postgresql_using=f'round({name})::integer')
        return
    for name in SHARES:
        op.execute(f'UPDATE applications SET {name} = round({name}) WHERE {name} IS NOT NULL')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        for name in SHARES:
            batch_op.alter_column(name, existing_type=sa.Numeric(5, 2), type_=sa.Integer(),
                                  existing_nullable=True)
