"""The figures of the steering page, read in a fixed number of grouped queries (never one per file).

Rules (also stated on the page):
- A winner is a file with a published « selected » decision still « Retenu » (a grant withdrawn
  or renounced is « Retiré »: left out), as documents.data.winners_condition says.
- The years of a winner are its call's years (a 2025-2027 convention: 2025, 2026 and 2027). The
  application's young_count is a number of young people PER YEAR of the project: a winner promises
  it every year of its call. Promised figures of a year add up the winners of the calls running that
  year; achieved figures are the young_count of the ACCEPTED reports of that year.
- Shares of QPV and rural (FRR, ex-ZRR) young people: promised, the applications' percentages
  weighted by their young_count; achieved, the reports' counts over their young_count.
- Granted: the decision's amount of that year (documents.data.amounts_per_year); paid: the PAID
  payment lines of that year. Cost per young person of a year: granted amount / young people.
- Per département: a winner counts once in each of its départements of action
  (Application.departements; a national or regional file lists the départements it covers); its
  young people and its amount are split evenly over them. A file that lists none counts in the
  département of its head office.
"""
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ..documents.data import amounts_per_year, winners_condition
from ..extensions import db
from ..models import Application, Association, Call, Convention, Decision
from ..models.applications import SELECTED
from ..models.followup import PaymentLine, PaymentState, PlanFigure, Report, ReportState
from ..models.selection import OUTCOME_SELECTED
from ..referentiel import DEPARTEMENT_BY_CODE, DEPARTEMENTS, departement_sort_key
from .services import ensure_reference_figures  # noqa: F401  (the demo sets the defaults through it)

MEASURES = {
    "young": "Jeunes prévus par an",
    "winners": "Lauréats",
    "amount": "Montant accordé",
}


@dataclass
class YearRow:
    year: int
    reference: PlanFigure | None = None
    winners: int = 0
    promised: int = 0
    promised_qpv: float = 0.0  # young people, weighted by the applications' shares
    promised_frr: float = 0.0
    promised_with_qpv: int = 0  # young people of the files that gave the share (the weights' sum)
    promised_with_frr: int = 0
    achieved: int = 0
    achieved_qpv: int = 0
    achieved_frr: int = 0
    achieved_with_qpv: int = 0
    achieved_with_frr: int = 0
    reports: int = 0
    granted_cents: int = 0
    paid_cents: int = 0

    @staticmethod
    def _share(part, whole):
        return None if not whole else 100.0 * part / whole

    @property
    def share_qpv_promised(self):
        return self._share(self.promised_qpv, self.promised_with_qpv)

    @property
    def share_frr_promised(self):
        return self._share(self.promised_frr, self.promised_with_frr)

    @property
    def share_qpv_achieved(self):
        return self._share(self.achieved_qpv, self.achieved_with_qpv)

    @property
    def share_frr_achieved(self):
        return self._share(self.achieved_frr, self.achieved_with_frr)

    @property
    def cost_promised_cents(self):
        return None if not self.promised else round(self.granted_cents / self.promised)

    @property
    def cost_achieved_cents(self):
        return None if not self.achieved else round(self.granted_cents / self.achieved)


@dataclass
class DepartementRow:
    code: str
    name: str
    winners: int = 0
    young: float = 0.0
    amount_cents: float = 0.0

    def value(self, measure):
        return {"young": self.young, "winners": self.winners, "amount": self.amount_cents}[measure]


@dataclass
class Figures:
    call_id: int | None
    year: int | None
    years: list = field(default_factory=list)  # YearRow, by year
    departements: list = field(default_factory=list)  # DepartementRow, every département
    totals: YearRow | None = None
    winner_count: int = 0  # distinct winners in the filter (a multi-year winner counts once)


def calls_with_winners():
    """The calls offered by the filter: every call that has a published decision, by year."""
    return db.session.scalars(
        select(Call).where(Call.id.in_(
            select(Application.call_id).join(Decision, Decision.application_id == Application.id)
            .where(Decision.published_at.is_not(None))))
        .order_by(Call.year.desc(), Call.id.desc())).all()


def _winner_rows(call_id):
    conditions = [Application.status == SELECTED, Decision.outcome == OUTCOME_SELECTED,
                  Decision.published_at.is_not(None)]
    if call_id is not None:
        conditions = [winners_condition(call_id)]
    return db.session.execute(
        select(Application.id, Application.young_count, Application.share_qpv, Application.share_zrr,
               Application.departements, Association.departement_code, Decision.amount_cents,
               Decision.amount_per_year, Call.year, Call.years)
        .join(Decision, Decision.application_id == Application.id)
        .join(Association, Association.id == Application.association_id)
        .join(Call, Call.id == Application.call_id)
        .where(*conditions)).all()


def _report_rows(call_id, year):
    query = (select(Report.year, Report.young_count, Report.young_qpv, Report.young_frr)
             .join(Convention, Convention.id == Report.convention_id)
             .join(Application, Application.id == Convention.application_id)
             .where(Report.state == ReportState.ACCEPTED))
    if call_id is not None:
        query = query.where(Application.call_id == call_id)
    if year is not None:
        query = query.where(Report.year == year)
    return db.session.execute(query).all()


def _paid_by_year(call_id, year):
    query = (select(PaymentLine.year, func.sum(PaymentLine.amount_cents))
             .join(Convention, Convention.id == PaymentLine.convention_id)
             .join(Application, Application.id == Convention.application_id)
             .where(PaymentLine.state == PaymentState.PAID).group_by(PaymentLine.year))
    if call_id is not None:
        query = query.where(Application.call_id == call_id)
    if year is not None:
        query = query.where(PaymentLine.year == year)
    return {row_year: int(total or 0) for row_year, total in db.session.execute(query)}


def departements_of(row):
    """The département codes a winner counts in: its départements of action, else its head office's."""
    codes = [code for code in dict.fromkeys(row.departements or []) if code in DEPARTEMENT_BY_CODE]
    if not codes and row.departement_code in DEPARTEMENT_BY_CODE:
        codes = [row.departement_code]
    return codes


def compute(call_id=None, year=None):
    """The steering figures for a call (None: all) and a year (None: every year): four queries."""
    references = {figure.year: figure for figure in db.session.scalars(select(PlanFigure))}
    rows = {}

    def row_for(y):
        if y not in rows:
            rows[y] = YearRow(year=y, reference=references.get(y))
        return rows[y]

    departements = {d.code: DepartementRow(d.code, d.name) for d in DEPARTEMENTS}
    winner_ids = set()
    for winner in _winner_rows(call_id):
        span = max(winner.years or 1, 1)
        amounts = amounts_per_year(_DecisionAmounts(winner.amount_cents, winner.amount_per_year), span)
        young = winner.young_count or 0
        active = False
        for rank in range(span):
            y = winner.year + rank
            if year is not None and y != year:
                continue
            active = True
            row = row_for(y)
            row.winners += 1
            row.promised += young
            row.granted_cents += amounts[rank]
            if winner.share_qpv is not None:
                row.promised_qpv += young * float(winner.share_qpv) / 100
                row.promised_with_qpv += young
            if winner.share_zrr is not None:
                row.promised_frr += young * float(winner.share_zrr) / 100
                row.promised_with_frr += young
        if not active:
            continue
        winner_ids.add(winner.id)
        # On the map: young people per year; the amount of the year, or of the whole convention.
        amount = amounts[year - winner.year] if year is not None else sum(amounts)
        codes = departements_of(winner)
        for code in codes:
            target = departements[code]
            target.winners += 1
            target.young += young / len(codes)
            target.amount_cents += amount / len(codes)

    for report in _report_rows(call_id, year):
        row = row_for(report.year)
        count = report.young_count or 0
        row.reports += 1
        row.achieved += count
        if report.young_qpv is not None:
            row.achieved_qpv += report.young_qpv
            row.achieved_with_qpv += count
        if report.young_frr is not None:
            row.achieved_frr += report.young_frr
            row.achieved_with_frr += count

    for y, paid in _paid_by_year(call_id, year).items():
        row_for(y).paid_cents += paid

    # The plan's history: a reference year shows even without files of its own (all calls only).
    if call_id is None:
        for y in references:
            if year is None or y == year:
                row_for(y)

    years = [rows[y] for y in sorted(rows)]
    totals = YearRow(year=0)
    for row in years:
        for name in ("winners", "promised", "promised_qpv", "promised_frr", "promised_with_qpv",
                     "promised_with_frr", "achieved", "achieved_qpv", "achieved_frr", "achieved_with_qpv",
                     "achieved_with_frr", "reports", "granted_cents", "paid_cents"):
            setattr(totals, name, getattr(totals, name) + getattr(row, name))
    ordered = sorted(departements.values(), key=lambda d: departement_sort_key(d.code))
    return Figures(call_id=call_id, year=year, years=years, departements=ordered, totals=totals,
                   winner_count=len(winner_ids))


@dataclass
class _DecisionAmounts:
    """What documents.data.amounts_per_year reads of a decision, from a row."""
    amount_cents: int | None
    amount_per_year: list | None


def years_offered(call_id=None):
    """The years of the year filter: those of the calls (a call's year to its last year) and of
    the reference figures."""
    query = select(Call.year, Call.years)
    if call_id is not None:
        query = query.where(Call.id == call_id)
    years = set()
    for start, span in db.session.execute(query):
        years.update(range(start, start + max(span or 1, 1)))
    if call_id is None:
        years.update(db.session.scalars(select(PlanFigure.year)))
    return sorted(years)
