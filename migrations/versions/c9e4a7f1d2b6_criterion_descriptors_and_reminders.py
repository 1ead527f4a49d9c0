"""review (issue 15, points 7 and 9): what each score of a criterion means (descriptors, shown to
reviewers), and the date of the last reminder sent to a reviewer for a file

The criteria of the « 1 jeune 1 mentor » template (same label, scale of 0 to 5) get the template's
descriptors (a frozen copy below); other criteria get none until staff write them.

Revision ID: c9e4a7f1d2b6
Revises: a4e7c2b9d813
Create Date: 2026-11-26 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

import aap.models.base

# revision identifiers, used by Alembic.
revision = 'c9e4a7f1d2b6'
down_revision = 'a4e7c2b9d813'
branch_labels = None
depends_on = None

TEMPLATE_DESCRIPTORS = {
    "Solidité structurelle": {
        "0": "Absente : ni gouvernance active, ni comptes, ni équipe identifiée.",
        "1": "Très fragile : structure naissante, sans comptes approuvés ni expérience du mentorat.",
        "2": "Fragile : fonctionnement réel mais dépendant d'une personne ou d'un financeur unique.",
        "3": "Solide : gouvernance et comptes en ordre, équipe en place, premiers résultats mesurés.",
        "4": "Très solide : financements diversifiés, équipe stable, plusieurs années de résultats.",
        "5": "Exemplaire : structure reconnue, résultats évalués, capable de porter le projet à grande échelle."
    },
    "Capacité à toucher les jeunes les plus éloignés": {
        "0": "Absente : aucun jeune des publics prioritaires visé ni compté.",
        "1": "Marginale : publics prioritaires cités sans action ni chiffre.",
        "2": "Limitée : une part faible de jeunes de QPV, ZRR, ASE, en situation de handicap ou décrocheurs.",
        "3": "Solide : une part importante de jeunes éloignés, avec un repérage et des partenaires identifiés.",
        "4": "Forte : la majorité des jeunes vient des publics prioritaires, avec un accompagnement adapté.",
        "5": "Exemplaire : le projet est construit pour les jeunes les plus éloignés et le démontre chiffres à l'appui."
    },
    "Diversité territoriale": {
        "0": "Absente : aucun territoire précisé.",
        "1": "Très limitée : une seule commune ou un seul quartier.",
        "2": "Limitée : un département, sans territoire rural ni ultramarin.",
        "3": "Solide : plusieurs départements, dont des territoires ruraux ou ultramarins.",
        "4": "Large : plusieurs régions, avec des territoires ruraux et ultramarins.",
        "5": "Exemplaire : couverture nationale équilibrée, territoires ruraux et ultramarins compris."
    }
}


def upgrade():
    with op.batch_alter_table('criteria', schema=None) as batch_op:
        batch_op.add_column(sa.Column('descriptors', sa.JSON(), nullable=True))
    criteria = sa.table('criteria', sa.column('label', sa.String), sa.column('scale_max', sa.Integer),
                        sa.column('descriptors', sa.JSON))
    op.execute(criteria.update().values(descriptors={}))
    for label, descriptors in TEMPLATE_DESCRIPTORS.items():
        op.execute(criteria.update().where(criteria.c.label == label, criteria.c.scale_max == 5)
                   .values(descriptors=descriptors))
    with op.batch_alter_table('criteria', schema=None) as batch_op:
        batch_op.alter_column('descriptors', existing_type=sa.JSON(), nullable=False)

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', aap.models.base.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')
    with op.batch_alter_table('criteria', schema=None) as batch_op:
        batch_op.drop_column('descriptors')
