"""The call's workbook (.xlsx, openpyxl write-only mode): rows streamed from the database.

Typed cells (numbers with a euro format, dates, percentages), bold frozen header with
filters, totals written as values (a previewer that does not recalculate shows them), and no
text that a spreadsheet could run as a formula. Every sheet prints landscape, fitted to the
page's width, its header rows repeated on each page.

Two versions: the internal one (« Diffusion restreinte », in the header of each page and on the
« Synthèse »), with the reviewers' names and comments (« Notes détaillées »), the IBAN and the
contact e-mail of the winners; the cabinet's (`cabinet=True`), without any of them.
"""
import io
from datetime import date

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..associations import legal
from ..extensions import db
from ..models import Application, Association, Call, Convention, Criterion, Decision, Review, Score, User
from ..models.applications import DECIDED_STATES, DRAFT, INADMISSIBLE, STATUS_LABELS, WITHDRAWN
from ..models.associations import LEGAL_FORMS
from ..models.review import RECOMMENDATION_LABELS, REVIEW_SUBMITTED
from ..models.selection import OUTCOME_LABELS
from ..money import format_euros
from ..referentiel import DEPARTEMENT_BY_CODE
from ..selection import budget
from ..selection.scoring import competition_ranks
from ..textrules import looks_like_formula
from ..timeutil import now, to_paris
from ..validators import group_iban
from .data import (
    amounts_per_year,
    application_scores_subquery,
    departement_label,
    payment_plan,
    region_name,
    review_scores_subquery,
    winners_condition,
)
from .opendata import OUTCOME_ORDER
from .opendata import _outcome as outcome_label


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
TITLE_FONT = Font(bold=True, size=14)
MARKING_FONT = Font(bold=True, color="CE0500")


RESTRICTED = "Diffusion restreinte"
CABINET = "Version pour le cabinet"
NUMERIC_KINDS = ("euro", "int", "number")


def print_setup(ws, marking=None, title_rows="1:1"):
    """Landscape, fitted to the page's width (as many pages down as needed), `title_rows` repeated
    on every page; the marking in the header and the page number in the footer."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    if marking:
        ws.oddHeader.center.text = marking
        ws.oddHeader.center.font = "Arial,Bold"
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.right.text = "Page &P sur &N"


class Sheet:
    """A write-only sheet with typed columns: [(title, kind, width)]."""

    def __init__(self, workbook, title, columns, marking=None):
        self.ws = workbook.create_sheet(title)
        self.columns = columns
        for index, (_title, _kind, width) in enumerate(columns, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = width
        self.ws.freeze_panes = "A2"
        print_setup(self.ws, marking)
        self.rows = 0
        self.sums = {}
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
        for index, (value, (_t, kind, _w)) in enumerate(zip(values, self.columns), start=1):
            if kind in NUMERIC_KINDS and isinstance(value, (int, float)) and not isinstance(value, bool):
                self.sums[index] = self.sums.get(index, 0) + value
        self.rows += 1

    def finish(self, totals=None, label="Total"):
        """Filters over header + data; then a total row of the given columns, as values."""
        last_col = get_column_letter(len(self.columns))
        self.ws.auto_filter.ref = f"A1:{last_col}{self.rows + 1}"
        if totals is None:
            return
        row = []
        for index, (_title, kind, _width) in enumerate(self.columns, start=1):
            if index == 1:
                cell = self.text(label)
            elif index in totals:
                total = self.sums.get(index, 0)
                cell = WriteOnlyCell(self.ws, value=round(total, 2) if kind == "euro" else total)
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


def _ranks(call):
    """{application_id: rank by mean score /20 among the call's scored files} (ties share a rank)."""
    scores, _counts = application_scores_subquery()
    values = {app_id: float(score) for app_id, score in db.session.execute(
        select(scores.c.application_id, scores.c.score)
        .join(Application, Application.id == scores.c.application_id)
        .where(Application.call_id == call.id, Application.status != DRAFT))}
    return competition_ranks(values)


def _schedule_text(call, per_year):
    """The payments of a grant in words: « 2025 : 21 000,00 € à la signature, 21 000,00 € au plus
    tard le 30/11/2025 ; … » (data.payment_plan)."""
    parts = []
    for payment in payment_plan(call.year_list, per_year, call.advance_percent):
        when = ("à la signature" if payment["by"] is None
                else f"au plus tard le {date.fromisoformat(payment['by']).strftime('%d/%m/%Y')}")
        after = f", après les comptes rendus {payment['after_reports_of']}" if payment["after_reports_of"] else ""
        parts.append(f"{payment['year']} : {format_euros(payment['cents'])} {when}{after}")
    return " ; ".join(parts)


def _synthesis_sheet(workbook, call, cabinet):
    """« Synthèse », the first sheet: the call, its envelope granted and remaining (in total and
    per year), the files by outcome, the territorial coverage in both meanings (aap/selection/
    budget.py) and every région of the candidates with its winners (0 where none). Values only."""
    ws = workbook.create_sheet("Synthèse")
    for letter, width in zip("ABCDE", (52, 20, 20, 20, 20)):
        ws.column_dimensions[letter].width = width
    marking = (CABINET + " : sans noms d'évaluateurs, IBAN ni adresses électroniques" if cabinet
               else RESTRICTED + " : contient les noms et les avis des évaluateurs, les IBAN et les adresses de "
                                 "contact des lauréats")
    print_setup(ws, CABINET if cabinet else RESTRICTED, title_rows="1:2")

    def text(value, font=None):
        cell = WriteOnlyCell(ws, value=value)
        if looks_like_formula(value):
            cell.data_type, cell.quotePrefix = "s", True
        if font is not None:
            cell.font = font
        return cell

    def typed(value, kind, font=None):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = {"euro": EURO, "int": INTEGER, "datetime": DATETIME, "percent": PERCENT}[kind]
        if font is not None:
            cell.font = font
        return cell

    def header(*titles):
        cells = [text(title, HEADER_FONT) for title in titles]
        for cell in cells:
            cell.fill = HEADER_FILL
        ws.append(cells)

    ws.append([text(f"Synthèse de l'appel à projets « {call.title} »", TITLE_FONT)])
    ws.append([text(marking, MARKING_FONT)])
    ws.append([])
    ws.append([text("Date d'extraction"), typed(local(now()), "datetime")])
    ws.append([text("Statut de l'appel"), text(call.status_label)])

    winners_rows = db.session.execute(
        select(Association.region_code, Application.departements, Decision.amount_cents, Decision.amount_per_year,
               Application.young_count, Application.share_qpv, Application.share_zrr)
        .join(Association, Association.id == Application.association_id)
        .join(Decision, Decision.application_id == Application.id)
        .where(winners_condition(call.id))).all()
    candidate_regions = sorted(set(db.session.scalars(
        select(Association.region_code).join(Application, Application.association_id == Association.id)
        .where(Application.call_id == call.id, Application.status != DRAFT).distinct())) - {None})
    winners = [budget.Winner(amount_cents=int(r.amount_cents or sum(r.amount_per_year or [])),
                             region_code=r.region_code, departements=tuple(r.departements or ()),
                             young_count=r.young_count or 0, share_qpv=r.share_qpv, share_zrr=r.share_zrr,
                             amount_per_year=tuple(r.amount_per_year or ())) for r in winners_rows]
    summary = budget.summarise(call.budget_cents or 0, winners, envelopes=call.envelopes, first_year=call.year,
                               candidate_regions=candidate_regions)
    ws.append([text("Enveloppe"), typed(euros(summary.envelope_cents), "euro")])
    ws.append([text("Accordé aux lauréats"), typed(euros(summary.granted_cents), "euro")])
    ws.append([text("Reste"), typed(euros(summary.remaining_cents), "euro")])
    ws.append([])
    header("Année", "Enveloppe", "Accordé", "Reste")
    for line in summary.years:
        ws.append([typed(line.year, "int"), typed(euros(line.envelope_cents), "euro"),
                   typed(euros(line.granted_cents), "euro"), typed(euros(line.remaining_cents), "euro")])
    ws.append([])

    header("Issue", "Dossiers", "Montant accordé")
    statement = (select(Application.status, Decision.outcome, Decision.published_at)
                 .outerjoin(Decision, Decision.application_id == Application.id)
                 .where(Application.call_id == call.id, Application.status != DRAFT))
    counts = {}
    for row in db.session.execute(statement):
        outcome = outcome_label(row)
        counts[outcome] = counts.get(outcome, 0) + 1
    for outcome in OUTCOME_ORDER:
        granted = typed(euros(summary.granted_cents), "euro") if outcome == OUTCOME_ORDER[0] else None
        ws.append([text(outcome), typed(counts.get(outcome, 0), "int"), granted])
    ws.append([text("Total des dossiers déposés", TOTAL_FONT), typed(sum(counts.values()), "int", TOTAL_FONT)])
    ws.append([])

    header("Couverture territoriale", "Couvertes", "Sur")
    ws.append([text("Régions, par siège (région du siège des lauréats)"),
               typed(len(summary.regions_by_seat), "int"), typed(summary.region_total, "int")])
    ws.append([text("Régions, par territoires d'action (où les jeunes sont accompagnés)"),
               typed(len(summary.regions_covered), "int"), typed(summary.region_total, "int")])
    ws.append([text("Départements, par territoires d'action"),
               typed(len(summary.departements_covered), "int"), typed(summary.departement_total, "int")])
    ws.append([])

    acting = {}
    for winner in winners:
        for region in {departement_region(d) for d in winner.departements} - {None}:
            acting[region] = acting.get(region, 0) + 1
    header("Région", "Lauréats (par siège)", "Montant accordé (par siège)", "Lauréats (par territoires d'action)")
    listed = {line.code for line in summary.regions}
    lines = list(summary.regions) + [budget.RegionLine(code=code, name=region_name(code))
                                     for code in acting if code not in listed]
    lines.sort(key=lambda line: (line.code is None, line.name))
    for line in lines:
        ws.append([text(line.name), typed(line.winners, "int"), typed(euros(line.amount_cents), "euro"),
                   typed(acting.get(line.code, 0), "int")])
    ws.append([text("Total", TOTAL_FONT), typed(summary.winners, "int", TOTAL_FONT),
               typed(euros(summary.granted_cents), "euro", TOTAL_FONT)])


def _winners_sheet(workbook, call, cabinet, marking):
    years = [call.year + i for i in range(call.years)] if call.years > 1 else []
    columns = [("Référence", "text", 18), ("Convention", "text", 22), ("Rang", "int", 8),
               ("Association", "text", 40), ("Forme juridique", "text", 24), ("SIRET", "text", 16),
               ("Identifiant (RNA, registre, décret)", "text", 30), ("Région", "text", 26),
               ("Département", "text", 24), ("Montant demandé", "euro", 16), ("Montant accordé", "euro", 16)]
    columns += [(f"Accordé {y}", "euro", 14) for y in years]
    columns += [("Échéancier des versements", "text", 60), ("Motif de la décision", "text", 50),
                ("Note /20", "score", 10), ("Jeunes accompagnés", "int", 12), ("Part QPV", "percent", 10),
                ("Part FRR", "percent", 10), ("Part ASE", "percent", 10), ("Mentors", "int", 10)]
    if not cabinet:
        columns += [("IBAN", "text", 34), ("E-mail de contact", "text", 32)]
    sheet = Sheet(workbook, "Lauréats", columns, marking)
    ranks = _ranks(call)
    scores, _counts = application_scores_subquery()
    statement = (
        select(Application.id, Application.reference, Convention.number, Association.name, Association.legal_form,
               Association.siret, *[getattr(Association, name) for name in legal.FIELDS],
               Association.region_code, Association.departement_code, Application.requested_cents,
               Decision.amount_cents, Decision.amount_per_year, Decision.reason, scores.c.score,
               Application.young_count, Application.share_qpv, Application.share_zrr, Application.share_ase,
               Application.mentor_count, Association.iban, Association.contact_email)
        .join(Association, Association.id == Application.association_id)
        .join(Decision, Decision.application_id == Application.id)
        .outerjoin(Convention, Convention.application_id == Application.id)
        .outerjoin(scores, scores.c.application_id == Application.id)
        .where(winners_condition(call.id))
        .order_by(Application.reference, Application.id)
    )
    for row in stream(statement):
        per_year = amounts_per_year(row, max(call.years, 1))
        total = sum(per_year)
        identity = {"legal_form": row.legal_form, **{name: getattr(row, name) for name in legal.FIELDS}}
        values = [row.reference, row.number or "", ranks.get(row.id), row.name, LEGAL_FORMS.get(row.legal_form, ""),
                  row.siret, legal.identifier_text(identity), region_name(row.region_code),
                  departement_label(row.departement_code), euros(row.requested_cents), euros(total)]
        values += [euros(per_year[i]) if i < len(per_year) else None for i in range(len(years))]
        values += [_schedule_text(call, per_year), row.reason or "",
                   None if row.score is None else round(float(row.score), 2), row.young_count,
                   share(row.share_qpv), share(row.share_zrr), share(row.share_ase), row.mentor_count]
        if not cabinet:
            values += [group_iban(row.iban) if row.iban else "", row.contact_email or ""]
        sheet.append(values)
    sums = {i for i, (title, kind, _w) in enumerate(columns, start=1)
            if kind == "euro" or title in ("Jeunes accompagnés", "Mentors")}
    sheet.finish(totals=sums)


def _payments_sheet(workbook, call, marking):
    """« Versements », for the finance office: one row per payment line of the call's conventions
    (aap/followup/payments.py), amounts in euros and dates typed."""
    from ..models.followup import PAYMENT_KINDS, PaymentLine
    columns = [("Appel", "text", 14), ("Référence", "text", 18), ("Association", "text", 40), ("SIRET", "text", 16),
               ("Convention", "text", 22), ("Année", "int", 8), ("Versement", "text", 10), ("Montant", "euro", 14),
               ("Date prévue", "date", 12), ("Mis en paiement le", "date", 12), ("Payé le", "date", 12),
               ("État", "text", 16), ("Référence Chorus", "text", 18)]
    sheet = Sheet(workbook, "Versements", columns, marking)
    statement = (
        select(Application.reference, Association.name, Association.siret, Convention.number, PaymentLine.year,
               PaymentLine.kind, PaymentLine.amount_cents, PaymentLine.planned_on, PaymentLine.requested_on,
               PaymentLine.paid_on, PaymentLine.state, PaymentLine.chorus_reference)
        .join(Convention, Convention.id == PaymentLine.convention_id)
        .join(Application, Application.id == Convention.application_id)
        .join(Association, Association.id == Application.association_id)
        .where(Application.call_id == call.id)
        .order_by(Application.reference, PaymentLine.year, PaymentLine.planned_on, PaymentLine.id))
    for row in stream(statement):
        sheet.append([call.slug, row.reference, row.name, row.siret, row.number, row.year,
                      PAYMENT_KINDS.get(row.kind, row.kind), euros(row.amount_cents), row.planned_on,
                      row.requested_on, row.paid_on, row.state.label, row.chorus_reference or ""])
    sheet.finish(totals={8})


def _stage(status, published_at):
    """Where the file is in the instruction, without repeating the decision (its own column)."""
    if status in DECIDED_STATES and published_at is not None:
        return "Décision publiée"
    if status == WITHDRAWN and published_at is not None:
        return "Retiré après la décision"
    return STATUS_LABELS.get(status, status)


def _applications_sheet(workbook, call, marking):
    columns = [("Référence", "text", 18), ("Association", "text", 40), ("SIRET", "text", 16),
               ("Région", "text", 26), ("Département", "text", 24), ("Étape de l'instruction", "text", 20),
               ("Déposé le", "datetime", 17), ("Montant demandé", "euro", 16), ("Évaluations", "int", 11),
               ("Note /20", "score", 10), ("Favorable", "int", 10), ("Réservé", "int", 10),
               ("Défavorable", "int", 11), ("Décision", "text", 22), ("Montant accordé", "euro", 16)]
    sheet = Sheet(workbook, "Candidatures", columns, marking)
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
        elif row.status == INADMISSIBLE:
            decision = "Irrecevable"
        sheet.append([row.reference, row.name, row.siret, region_name(row.region_code),
                      departement_label(row.departement_code), _stage(row.status, row.published_at),
                      local(row.submitted_at), euros(row.requested_cents), row.review_count or 0,
                      None if row.score is None else round(float(row.score), 2), row.favorable or 0,
                      row.reserved or 0, row.unfavorable or 0, decision,
                      euros(row.amount_cents) if row.outcome else None])
    sheet.finish(totals={8, 15})


def _scores_sheet(workbook, call, marking):
    columns = [("Référence", "text", 18), ("Association", "text", 36), ("Évaluateur", "text", 24),
               ("Critère", "text", 40), ("Pondération", "number", 12), ("Note", "int", 8),
               ("Barème", "int", 8), ("Note /20 de l'évaluation", "score", 14), ("Commentaire", "text", 60),
               ("Recommandation", "text", 15), ("Soumise le", "datetime", 17)]
    sheet = Sheet(workbook, "Notes détaillées", columns, marking)
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


def _regions_sheet(workbook, call, marking):
    """Per région, both meanings of coverage: the winners whose head office is there (with 0 for
    a région with candidates but no winner), and the winners acting there (action territories)."""
    columns = [("Région", "text", 30), ("Lauréats par siège", "int", 12), ("Montant accordé (par siège)", "euro", 18),
               ("Jeunes accompagnés par an (par siège)", "int", 16), ("Mentors (par siège)", "int", 12),
               ("Lauréats par territoires d'action", "int", 16)]
    sheet = Sheet(workbook, "Synthèse par région", columns, marking)
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


def _parameters_sheet(workbook, call, author, marking):
    columns = [("Paramètre", "text", 34), ("Valeur", "text", 60)]
    sheet = Sheet(workbook, "Paramètres", columns, marking)
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


def build_workbook(call_id, author=None, path=None, cabinet=False):
    """The call's workbook as bytes (or written to path, which is then returned). `cabinet`: the
    version for the minister's cabinet, without the reviewers' names and comments, the IBAN and
    the e-mail addresses (the caller gives an `author` without e-mail)."""
    call = db.session.get(Call, call_id)
    if call is None:
        raise LookupError(f"no call {call_id}")
    marking = CABINET if cabinet else RESTRICTED
    workbook = Workbook(write_only=True)
    _synthesis_sheet(workbook, call, cabinet)
    _winners_sheet(workbook, call, cabinet, marking)
    _applications_sheet(workbook, call, marking)
    _payments_sheet(workbook, call, marking)
    if not cabinet:
        _scores_sheet(workbook, call, marking)
    _regions_sheet(workbook, call, marking)
    _parameters_sheet(workbook, call, author, marking)
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
