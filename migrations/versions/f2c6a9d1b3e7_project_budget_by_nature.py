"""the project budget in the layout of Cerfa 12156*06 (charges and products by nature, per year):
applications.budget ({year rank: {line code: cents}}) and applications.budget_comment; the former
total cost, amount requested and co-funders of every application are carried into it

Revision ID: f2c6a9d1b3e7
Revises: b8f3d2a6c415
Create Date: 2026-11-25 12:00:00.000000

How the former fields are carried over (the old form never asked for the nature of the costs):
- the amount requested goes to the State line of this call (« 74_aap »), year by year from the
  former split per year when it was complete, otherwise split evenly (the remainder in year 1);
- the total cost goes to line 64 (charges de personnel: the bulk of a mentoring project's costs,
  salaried coordinators), split evenly over the years;
- each co-funder goes to the line of 74 its name designates (région, département, EPCI, commune,
  organismes sociaux, fonds européens, ASP, État, aides privées; « autres établissements publics »
  when the name says nothing), split evenly over the years;
- a remark (budget_comment) says so and keeps the co-funders' names and statuses as typed.
Nothing is invented to balance a budget: a draft whose former figures did not add up shows its gap
and must be corrected before its deposit. Deposited files keep their frozen snapshot untouched;
total_cost_cents, requested_cents, requested_per_year and cofunding stay as they were.
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f2c6a9d1b3e7'
down_revision = 'b8f3d2a6c415'
branch_labels = None
depends_on = None

# (line code, beginnings of words of a funder's name that designate it; a trailing space: the whole
# word), the first match wins.
FUNDER_LINES = (
    ('74_europe', ('europ', 'fse', 'feder ', 'fead ', 'erasmus')),
    ('74_social', ('caf ', 'allocations familiales', 'cpam ', 'msa ', 'urssaf ', 'carsat ', 'organisme social',
                   'organismes sociaux')),
    ('74_asp', ('asp ', 'agence de services et de paiement', 'emplois aides', 'emploi aide')),
    ('74_departement', ('departement',)),
    ('74_region', ('region',)),
    ('74_epci', ('metropole', 'communaute', 'agglomeration', 'epci ', 'intercommunal')),
    ('74_commune', ('ville ', 'commune', 'mairie', 'municipal')),
    ('74_etat', ('etat ', 'ministere', 'prefecture', 'drajes ', 'dreets ', 'ddets ', 'sdjes ', 'anct ', 'fdva ',
                 'politique de la ville')),
    ('74_prive', ('fondation', 'mecenat', 'entreprise', 'prive', 'fonds de dotation')),
)
STATUSES = {'obtenu': 'obtenu', 'demande': 'demandé'}


def _plain(text):
    text = unicodedata.normalize('NFKD', text or '').encode('ascii', 'ignore').decode('ascii').lower()
    return ' ' + ' '.join(''.join(c if c.isalnum() else ' ' for c in text).split()) + ' '


def funder_line(name):
    plain = _plain(name)
    for code, words in FUNDER_LINES:
        if any((' ' + word) in plain for word in words):
            return code
    return '74_public'


def _split(amount, years):
    base, rest = divmod(int(amount), years)
    return [base + (rest if i == 0 else 0) for i in range(years)]


def _euros(cents):
    euros, rest = divmod(int(cents), 100)
    text = f'{euros:,}'.replace(',', '\u202f')
    return (f'{text},{rest:02d}' if rest else text) + '\u00a0€'


def legacy_budget(total, requested, per_year, cofunding, years):
    """(budget, remark) of an application from its former budget fields."""
    years = max(int(years or 1), 1)
    keys = [str(k) for k in range(1, years + 1)]
    budget = {key: {} for key in keys}
    per_year = list(per_year or [])
    if requested is not None:
        if years > 1 and len(per_year) == years and all(v is not None for v in per_year):
            grants = [int(v) for v in per_year]
        else:
            grants = _split(requested, years)
        for key, amount in zip(keys, grants):
            budget[key]['74_aap'] = amount
    if total is not None:
        for key, amount in zip(keys, _split(total, years)):
            budget[key]['64'] = amount
    named = []
    for line in cofunding or []:
        amount = line.get('amount_cents')
        funder = (line.get('funder') or '').strip()
        if amount is None:
            continue
        code = funder_line(funder)
        for key, part in zip(keys, _split(amount, years)):
            budget[key][code] = budget[key].get(code, 0) + part
        status = STATUSES.get(line.get('status') or '', '')
        named.append(f"{funder or 'financeur sans nom'} : {_euros(amount)}" + (f' ({status})' if status else ''))
    if total is None and requested is None and not named:
        return {}, ''
    remark = ['Budget repris de l\'ancien formulaire (coût total, montant demandé, cofinancements).']
    if total is not None:
        remark.append(f'Le coût total ({_euros(total)}) a été porté en charges de personnel (ligne 64), '
                      'faute de détail par nature : répartissez-le entre les lignes 60 à 68.')
    if named:
        remark.append('Cofinancements déclarés : ' + ' ; '.join(named) + '.')
    return budget, '\n'.join(remark)


def upgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('budget', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('budget_comment', sa.Text(), server_default='', nullable=False))

    connection = op.get_bind()
    applications = sa.table('applications', sa.column('id', sa.Integer), sa.column('call_id', sa.Integer),
                            sa.column('total_cost_cents', sa.BigInteger), sa.column('requested_cents', sa.BigInteger),
                            sa.column('requested_per_year', sa.JSON), sa.column('cofunding', sa.JSON),
                            sa.column('budget', sa.JSON), sa.column('budget_comment', sa.Text))
    calls = sa.table('calls', sa.column('id', sa.Integer), sa.column('years', sa.Integer))
    years_of = dict(connection.execute(sa.select(calls.c.id, calls.c.years)).all())
    rows = connection.execute(sa.select(
        applications.c.id, applications.c.call_id, applications.c.total_cost_cents, applications.c.requested_cents,
        applications.c.requested_per_year, applications.c.cofunding)).all()
    for row in rows:
        budget, remark = legacy_budget(row.total_cost_cents, row.requested_cents, row.requested_per_year,
                                       row.cofunding, years_of.get(row.call_id, 1))
        connection.execute(applications.update().where(applications.c.id == row.id)
                           .values(budget=budget, budget_comment=remark))

    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.alter_column('budget', existing_type=sa.JSON(), nullable=False)


def downgrade():
    # The former fields were kept up to date at every save (aap/applications/budget.derived).
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('budget_comment')
        batch_op.drop_column('budget')
