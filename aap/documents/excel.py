"""The call's workbook (.xlsx, openpyxl write-only mode): rows streamed from the database.

Typed cells (numbers with a euro format, dates, percentages), bold frozen header with
filters, totals as formulas, and no text that a spreadsheet could run as a formula.
"""
import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Application, Association, Call, Criterion, Decision, Review, Score, User
from ..models.applications import DRAFT, STATUS_LABELS
from ..models.review import RECOMMENDATION_LABELS, REVIEW_SUBMITTED
from ..models.selection import OUTCOME_LABELS
from ..referentiel import DEPARTEMENT_BY_CODE
from ..textrules import looks_like_formula
from ..timeutil import now, to_paris
from .data import application_scores_subquery, departement_label, region_name, review_scores_subquery, winners_condition


def departement_region(code):
    departement = DEPARTEMENT_BY_CODE.get(code)
    return departement.region_code if departement else None

EURO = '#,##0.00 "€"'
PERCENT = "0 %"
SCORE = "0.00"
INTEGER = "0"
DATE = "DD/MM/YYYY"
DATETIME = "DD/MM/YYYY HH:MM"
BATCH = 500

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E3E3FD")
TOTAL_FONT = Font(bold=True)


class Sheet:
    """A write-only sheet with typed columns: [(title, kind, width)]."""

    def __init__(self, workbook, title, columns):
        self.ws = workbook.create_sheet(title)
        self.columns = columns
        for index, (_title, _kind, width) in enumerate(columns, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = width
        self.ws.freeze_panes = "A2"
        self.rows = 0
        header = []
        for title_, _kind, _width in columns:
            cell = self.text(title_)
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            header.append(cell)
        self.ws.append(header)

    def text(self, value):
        cell = WriteOnlyCell(self.ws, value=None if value is None else str(value))
        if looks_like_formula(cell.value):
            # A plain string, never a formula: stored as text and shown with a quote prefix
            # (the CSV writers use textrules.csv_text, on the same rule).
            cell.data_type = "s"
            cell.quotePrefix = True
        return cell

    def cell(self, value, kind):
        if kind == "text":
            if value is None:
                return None
            value = str(value)
            # A bare string needs no cell object (a tenth of the export's time at 10,000 files),
            # unless a spreadsheet could read it as a formula.
            return self.text(value) if looks_like_formula(value) else value
        cell = WriteOnlyCell(self.ws, value=value)
        cell.number_format = {"euro": EURO, "percent": PERCENT, "score": SCORE, "int": INTEGER,
                              "date": DATE, "datetime": DATETIME, "number": "0.00"}[kind]
        return cell

    def append(self, values):
        self.ws.append([self.cell(value, kind) for value, (_t, kind, _w) in zip(values, self.columns)])
        self.rows += 1

    def finish(self, totals=None, label="Total"):
        """Filters over header + data; then a total row with =SUM() on the given column kinds."""
        last_col = get_column_letter(len(self.columns))
        self.ws.auto_filter.ref = f"A1:{last_col}{self.rows + 1}"
        if totals is None:
            return
        row = []
        for index, (_title, kind, _width) in enumerate(self.columns, start=1):
            letter = get_column_letter(index)
            if index == 1:
                cell = self.text(label)
            elif index in totals:
                cell = WriteOnlyCell(self.ws, value=f"=SUM({letter}2:{letter}{self.rows + 1})")
                cell.number_format = EURO if kind == "euro" else INTEGER
            else:
                cell = WriteOnlyCell(self.ws, value=None)
            cell.font = TOTAL_FONT
            row.append(cell)
        self.ws.append(row)


def euros(cents):
    return None if cents is None else round(cents / 100, 2)


def share(percent):
    return None if percent is None else percent / 100


def local(value):
    """Aware UTC -> naive Europe/Paris (spreadsheets know no time zones)."""
    return None if value is None else to_paris(value).replace(tzinfo=None)


def stream(statement):
    return db.session.execute(statement.execution_options(yield_per=BATCH))


def _winners_sheet(workbook, call):
    years = [call.year + i for i in range(call.years)] if call.years > 1 else []
    columns = [("Référence", "text", 18), ("Association", "text", 40), ("SIRET", "text", 16),
               ("RNA", "text", 12), ("Région", "text", 26), ("Département", "text", 24),
               ("Montant demandé", "euro", 16), ("Montant accordé", "euro", 16)]
    columns += [(f"Accordé {y}", "euro", 14) for y in years]
    columns += [("Note /20", "score", 10), ("Jeunes accompagnés", "int", 12), ("Part QPV", "percent", 10),
                ("Part FRR", "percent", 10), ("Part ASE", "percent", 10), ("Mentors", "int", 10)]
    sheet = Sheet(workbook, "Lauréats", columns)
    scores, _counts = application_scores_subquery()
    statement = (
        select(Application.reference, Association.name, Association.siret, Association.rna,
               Association.region_code, Association.departement_code, Application.requested_cents,
               Decision.amount_cents, Decision.amount_per_year, scores.c.score, Application.young_count,
               Application.share_qpv, Application.share_zrr, Application.share_ase, Application.mentor_count)
        .join(Association, Association.id == Application.association_id)
        .join(Decision, Decision.application_id == Application.id)
        .outerjoin(scores, scores.c.application_id == Application.id)
        .where(winners_condition(call.id))
        .order_by(Application.reference, Application.id)
    )
    for row in stream(statement):
        per_year = list(row.amount_per_year or [])
        total = row.amount_cents if row.amount_cents is not None else sum(per_year)
        values = [row.reference, row.name, row.siret, row.rna, region_name(row.region_code),
                  departement_label(row.departement_code), euros(row.requested_cents), euros(total)]
        values += [euros(per_year[i]) if i < len(per_year) else None for i in range(len(years))]
        values += [None if row.score is None else round(float(row.score), 2), row.young_count,
                   share(row.share_qpv), share(row.share_zrr), share(row.share_ase), row.mentor_count]
        sheet.append(values)
    sums = {i for i, (title, kind, _w) in enumerate(columns, start=1)
            if kind == "euro" or title in ("Jeunes accompagnés", "Mentors")}
    sheet.finish(totals=sums)


def _applications_sheet(workbook, call):
    columns = [("Référence", "text", 18), ("Association", "text", 40), ("SIRET", "text", 16),
               ("Région", "text", 26), ("Département", "text", 24), ("État", "text", 16),
               ("Déposé le", "datetime", 17), ("Montant demandé", "euro", 16), ("Évaluations", "int", 11),
               ("Note /20", "score", 10), ("Favorable", "int", 10), ("Réservé", "int", 10),
               ("Défavorable", "int", 11), ("Décision", "text", 22), ("Montant accordé", "euro", 16)]
    sheet = Sheet(workbook, "Candidatures", columns)
    scores, counts = application_scores_subquery()
    statement = (
        select(Application.reference, Association.name, Association.siret, Association.region_code,
               Association.departement_code, Application.status, Application.submitted_at,
               Application.requested_cents, counts.c.review_count, scores.c.score, counts.c.favorable,
               counts.c.reserved, counts.c.unfavorable, Decision.outcome, Decision.published_at,
               Decision.amount_cents)
        .join(Association, Association.id == Application.association_id)
        .outerjoin(Decision, Decision.application_id == Application.id)
        .outerjoin(scores, scores.c.application_id == Application.id)
        .outerjoin(counts, counts.c.application_id == Application.id)
        .where(Application.call_id == call.id, Application.status != DRAFT)
        .order_by(Application.reference, Application.id)
    )
    for row in stream(statement):
        decision = ""
        if row.outcome:
            decision = OUTCOME_LABELS.get(row.outcome, row.outcome)
            if row.published_at is None:
                decision += " (non publiée)"
        sheet.append([row.reference, row.name, row.siret, region_name(row.region_code),
                      departement_label(row.departement_code), STATUS_LABELS.get(row.status, row.status),
                      local(row.submitted_at), euros(row.requested_cents), row.review_count or 0,
                      None if row.score is None else round(float(row.score), 2), row.favorable or 0,
                      row.reserved or 0, row.unfavorable or 0, decision,
                      euros(row.amount_cents) if row.outcome else None])
    sheet.finish(totals={8, 15})


def _scores_sheet(workbook, call):
    columns = [("Référence", "text", 18), ("Association", "text", 36), ("Évaluateur", "text", 24),
               ("Critère", "text", 40), ("Pondération", "number", 12), ("Note", "int", 8),
               ("Barème", "int", 8), ("Note /20 de l'évaluation", "score", 14), ("Commentaire", "text", 60),
               ("Recommandation", "text", 15), ("Soumise le", "datetime", 17)]
    sheet = Sheet(workbook, "Notes détaillées", columns)
    reviewer = aliased(User)
    per_review = review_scores_subquery()
    statement = (
        select(Application.reference, Association.name, reviewer.first_name, reviewer.last_name,
               reviewer.email, Criterion.label, Criterion.weight, Score.value, Criterion.scale_max,
               per_review.c.score, Score.comment, Review.recommendation, Review.submitted_at)
        .select_from(Score)
        .join(Review, Review.id == Score.review_id)
        .join(Criterion, Criterion.id == Score.criterion_id)
        .join(Application, Application.id == Review.application_id)
        .join(Association, Association.id == Application.association_id)
        .join(reviewer, reviewer.id == Review.reviewer_id)
        .outerjoin(per_review, per_review.c.review_id == Review.id)
        .where(Application.call_id == call.id, Review.status == REVIEW_SUBMITTED)
        .order_by(Application.reference, Review.id, Criterion.position, Criterion.id)
    )
    for row in stream(statement):
        name = f"{row.first_name} {row.last_name}".strip() or row.email
        sheet.append([row.reference, row.name, name, row.label, float(row.weight), row.value, row.scale_max,
                      None if row.score is None else round(float(row.score), 2), row.comment or "",
                      RECOMMENDATION_LABELS.get(row.recommendation, row.recommendation or ""),
                      local(row.submitted_at)])
    sheet.finish()


def _regions_sheet(workbook, call):
    """Per région, both meanings of coverage: the winners whose head office is there (with 0 for
    a région with candidates but no winner), and the winners acting there (action territories)."""
    columns = [("Région", "text", 30), ("Lauréats par siège", "int", 12), ("Montant accordé (par siège)", "euro", 18),
               ("Jeunes accompagnés par an (par siège)", "int", 16), ("Mentors (par siège)", "int", 12),
               ("Lauréats par territoires d'action", "int", 16)]
    sheet = Sheet(workbook, "Synthèse par région", columns)
    statement = (
        select(Association.region_code, Application.departements, Decision.amount_cents,
               Application.young_count, Application.mentor_count)
        .join(Association, Association.id == Application.association_id)
        .join(Decision, Decision.application_id == Application.id)
        .where(winners_condition(call.id))
    )
    lines = {}

    def line(code):
        return lines.setdefault(code, [0, 0, 0, 0, 0])

    for code, departements, amount, young, mentors in db.session.execute(statement):
        seat = line(code)
        seat[0] += 1
        seat[1] += amount or 0
        seat[2] += young or 0
        seat[3] += mentors or 0
        for region in {departement_region(d) for d in departements or []} - {None}:
            line(region)[4] += 1
    candidates = db.session.scalars(
        select(Association.region_code).join(Application, Application.association_id == Association.id)
        .where(Application.call_id == call.id, Application.status != DRAFT).distinct())
    for code in candidates:
        line(code)
    for code in sorted(lines, key=lambda c: region_name(c) or "~"):
        count, amount, young, mentors, acting = lines[code]
        sheet.append([region_name(code) or "Non renseignée", count, euros(amount), young, mentors, acting])
    sheet.finish(totals={2, 3, 4, 5})


def _parameters_sheet(workbook, call, author):
    columns = [("Paramètre", "text", 34), ("Valeur", "text", 60)]
    sheet = Sheet(workbook, "Paramètres", columns)
    ws = sheet.ws

    def pair(label, value, kind="text"):
        ws.append([sheet.text(label), sheet.cell(value, kind)])

    pair("Appel à projets", call.title)
    pair("Identifiant", call.slug)
    pair("Année", call.year, "int")
    pair("Durée de la convention (années)", call.years, "int")
    pair("Ouverture", local(call.opens_at), "datetime")
    pair("Clôture", local(call.closes_at), "datetime")
    pair("Budget", euros(call.budget_cents), "euro")
    pair("Montant minimal", euros(call.min_amount_cents), "euro")
    pair("Montant maximal", euros(call.max_amount_cents), "euro")
    pair("Avance à la signature", call.advance_percent / 100, "percent")
    pair("Évaluateurs par dossier", call.reviewers_per_file, "int")
    pair("Date de l'export", local(now()), "datetime")
    pair("Auteur de l'export", author or "")
    ws.append([])
    header = [sheet.text(t) for t in ("Critère", "Pondération", "Barème", "Description")]
    for cell in header:
        cell.font = HEADER_FONT
    ws.append(header)
    criteria = db.session.scalars(select(Criterion).where(Criterion.call_id == call.id)
                                  .order_by(Criterion.position, Criterion.id))
    for criterion in criteria:
        ws.append([sheet.text(criterion.label), sheet.cell(float(criterion.weight), "number"),
                   sheet.cell(criterion.scale_max, "int"), sheet.text(criterion.description)])


def build_workbook(call_id, author=None, path=None):
    """The call's workbook as bytes (or written to path, which is then returned)."""
    call = db.session.get(Call, call_id)
    if call is None:
        raise LookupError(f"no call {call_id}")
    workbook = Workbook(write_only=True)
    _winners_sheet(workbook, call)
    _applications_sheet(workbook, call)
    _scores_sheet(workbook, call)
    _regions_sheet(workbook, call)
    _parameters_sheet(workbook, call, author)
    if path is not None:
        workbook.save(str(path))
        return path
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def proposal_workbook(proposal):
    """The proposal of « Proposer une sélection » (aap.selection.proposal.Proposal), as bytes:
    each scored file in merit order, retained or not and why; then the envelope of each year."""
    call = proposal.call
    workbook = Workbook(write_only=True)
    years = call.year_list if call.years > 1 else []
    columns = [("Rang", "int", 8), ("Référence", "text", 18), ("Association", "text", 40),
               ("Région (siège)", "text", 26), ("Note /20", "score", 10), ("Montant", "euro", 16)]
    columns += [(f"Montant {y}", "euro", 14) for y in years]
    columns += [("Proposition", "text", 12), ("Raison", "text", 70), ("Probabilité d'être retenu", "percent", 14)]
    sheet = Sheet(workbook, "Proposition", columns)
    for line in proposal.lines:
        row = line.row
        values = [line.rank, row.reference, row.association.name, row.region_name,
                  None if line.score is None else round(line.score, 2), euros(row.granted_cents)]
        values += [euros(amount) for amount in row.granted_per_year] if years else []
        values += ["Retenu" if line.selected else "Écarté", line.reason, line.probability]
        sheet.append(values)
    sheet.finish()
    envelope = Sheet(workbook, "Enveloppes", [("Année", "int", 10), ("Enveloppe", "euro", 18),
                                              ("Accordé par la proposition", "euro", 22), ("Reste", "euro", 18)])
    for year in proposal.after.years:
        envelope.append([year.year, euros(year.envelope_cents), euros(year.granted_cents),
                         euros(year.remaining_cents)])
    envelope.finish(totals={2, 3, 4})
    parameters = Sheet(workbook, "Paramètres", [("Paramètre", "text", 34), ("Valeur", "text", 40)])
    for label, value in (("Appel à projets", call.title), ("Objectif", proposal.objective_label),
                         ("Note minimale (/20)", f"{proposal.min_score:g}"),
                         ("Notes", "calibrées" if proposal.settings.calibrated else "brutes"),
                         ("Garantie territoriale (lauréats par région)", str(proposal.settings.min_per_region)),
                         ("Date de l'export", to_paris(now()).strftime("%d/%m/%Y %H:%M"))):
        parameters.append([label, value])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_name(call, extension):
    return f"{call.slug}-{to_paris(now()).strftime('%Y%m%d')}.{extension}"
