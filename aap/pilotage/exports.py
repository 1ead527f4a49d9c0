"""The steering figures as CSV and as an Excel workbook (typed numbers): pure functions of a
figures.Figures (no database)."""
import csv
import io

from openpyxl import Workbook

from ..documents.excel import Sheet
from ..textrules import csv_text

YEAR_COLUMNS = [
    ("Année", "int", 9), ("Chiffre de référence du plan (jeunes)", "int", 16),
    ("Source du chiffre de référence", "text", 40),
    ("Lauréats", "int", 10), ("Jeunes prévus", "int", 12), ("Jeunes accompagnés (comptes rendus acceptés)", "int", 16),
    ("Part QPV prévue", "percent", 11), ("Part QPV atteinte", "percent", 11),
    ("Part rurale (FRR) prévue", "percent", 11), ("Part rurale (FRR) atteinte", "percent", 11),
    ("Montant accordé (€)", "euro", 16), ("Montant payé (€)", "euro", 16),
    ("Coût par jeune prévu (€)", "euro", 14), ("Coût par jeune accompagné (€)", "euro", 14),
]
DEPARTEMENT_COLUMNS = [
    ("Code", "text", 7), ("Département", "text", 28), ("Lauréats", "int", 10),
    ("Jeunes prévus par an", "int", 14), ("Montant accordé (€)", "euro", 16),
]


def _euros(cents):
    return None if cents is None else round(cents / 100, 2)


def _ratio(percent):
    return None if percent is None else round(percent / 100, 4)


def year_values(row):
    reference = row.reference
    return [row.year, reference.young_people if reference else None, reference.label if reference else None,
            row.winners, row.promised, row.achieved,
            _ratio(row.share_qpv_promised), _ratio(row.share_qpv_achieved),
            _ratio(row.share_frr_promised), _ratio(row.share_frr_achieved),
            _euros(row.granted_cents), _euros(row.paid_cents),
            _euros(row.cost_promised_cents), _euros(row.cost_achieved_cents)]


def departement_values(row):
    return [row.code, row.name, row.winners, round(row.young), _euros(round(row.amount_cents))]


def build_csv(figures):
    """UTF-8 with a BOM (spreadsheets read the accents), semicolons, decimal points; two tables
    one after the other (per year, then per département), each with its header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([title for title, _kind, _width in YEAR_COLUMNS])
    for row in figures.years:
        writer.writerow([csv_text(v) if isinstance(v, str) else ("" if v is None else v) for v in year_values(row)])
    writer.writerow([])
    writer.writerow([title for title, _kind, _width in DEPARTEMENT_COLUMNS])
    for row in figures.departements:
        writer.writerow([csv_text(v) if isinstance(v, str) else v for v in departement_values(row)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def build_workbook(figures, caption):
    """Two sheets, « Par année » and « Par département », typed (integers, € amounts, percentages)."""
    workbook = Workbook(write_only=True)
    years = Sheet(workbook, "Par année", YEAR_COLUMNS, marking=caption)
    for row in figures.years:
        years.append(year_values(row))
    years.finish()
    departements = Sheet(workbook, "Par département", DEPARTEMENT_COLUMNS, marking=caption)
    for row in figures.departements:
        departements.append(departement_values(row))
    departements.finish(totals={5})
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
