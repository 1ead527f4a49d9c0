"""Open data of a call: the winners in the SCDL « subventions » 2.1.1 format (CSV), and an
anonymised SQLite file of the results (sqlite-utils, ready for Datasette).

SCDL: https://schema.data.gouv.fr/scdl/subventions/2.1.1/ — one row per grant, UTF-8, comma,
dates YYYY-MM-DD, amounts with a dot, pourcentageSubvention is the beneficiary's share of the
grant (1.00 for a single beneficiary).
"""
import csv
import io
import os
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Application, Association, Decision
from ..models.applications import DRAFT
from ..models.selection import OUTCOME_LABELS
from ..referentiel import DEPARTEMENT_BY_CODE
from ..timeutil import now, to_paris
from .data import amounts_per_year, application_scores_subquery, region_name, winners

SCDL_COLUMNS = [
    "nomAttribuant", "idAttribuant", "dateConvention", "referenceDecision", "nomBeneficiaire",
    "idBeneficiaire", "rnaBeneficiaire", "objet", "montant", "nature", "conditionsVersement",
    "datesPeriodeVersement", "idRAE", "notificationUE", "pourcentageSubvention", "dispositifAide",
]
DEFAULT_GRANTOR_NAME = "Direction de la jeunesse, de l'éducation populaire et de la vie associative (DJEPVA)"
DEFAULT_GRANTOR_SIRET = "11000007200014"


def grantor():
    config = current_app.config
    return (config.get("AAP_GRANTOR_NAME") or DEFAULT_GRANTOR_NAME,
            config.get("AAP_GRANTOR_SIRET") or DEFAULT_GRANTOR_SIRET)


def _day(value):
    return to_paris(value).date() if value is not None else None


def scdl_rows(call):
    """The SCDL rows (dicts with exactly SCDL_COLUMNS) of the call's winners."""
    name, siret = grantor()
    rows = []
    for application in winners(call.id):
        association, decision = application.association, application.decision
        per_year = amounts_per_year(decision, max(call.years, 1))
        amount = sum(per_year)
        convention_day = _day(decision.published_at)
        staggered = call.years > 1 or call.advance_percent < 100
        if staggered:
            # Advance at signature, balance after the last year's report (six months after its end).
            period = f"{convention_day.isoformat()}/{date(call.year + call.years, 6, 30).isoformat()}"
        else:
            period = convention_day.isoformat()
        objet = f"Plan « 1 jeune 1 mentor » : {application.title or 'projet de mentorat'}"
        rows.append({
            "nomAttribuant": name,
            "idAttribuant": siret,
            "dateConvention": convention_day.isoformat(),
            "referenceDecision": application.reference or "",
            "nomBeneficiaire": association.name,
            "idBeneficiaire": association.siret or "",
            "rnaBeneficiaire": association.rna or "",
            "objet": objet[:256],
            "montant": f"{amount // 100}.{amount % 100:02d}",
            "nature": "aide en numéraire",
            "conditionsVersement": "échelonné" if staggered else "unique",
            "datesPeriodeVersement": period,
            "idRAE": "",
            "notificationUE": "non",
            "pourcentageSubvention": "1.00",
            "dispositifAide": call.title,
        })
    return rows


def build_scdl_csv(call):
    """The SCDL CSV as UTF-8 bytes (no BOM, comma-separated, header row)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SCDL_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(scdl_rows(call))
    return buffer.getvalue().encode("utf-8")


# --- Anonymised SQLite --------------------------------------------------------------------

def _euros(cents):
    return None if cents is None else round(cents / 100, 2)


def _dep_name(code):
    dep = DEPARTEMENT_BY_CODE.get(code or "")
    return dep.name if dep else None


def build_opendata_sqlite(call, path):
    """Write the anonymised results of the call to a new SQLite file at path.

    Tables: winners, applications, regions, about. Legal persons only: no names, e-mails,
    phones or addresses of people, no bank details. Full-text search on titles and summaries.
    """
    import sqlite_utils

    path = Path(path)
    if path.exists():
        path.unlink()
    database = sqlite_utils.Database(str(path))
    scores, counts = application_scores_subquery()
    statement = (
        select(Application.id, Application.reference, Application.title, Application.summary,
               Application.requested_cents, Application.total_cost_cents, Application.young_count,
               Application.mentor_count, Application.share_qpv, Application.share_zrr, Application.share_ase,
               Application.share_disability, Application.share_dropout, Application.departements,
               Association.name, Association.siret, Association.rna, Association.region_code,
               Association.departement_code, Decision.outcome, Decision.published_at, Decision.amount_cents,
               Decision.amount_per_year, scores.c.score, counts.c.review_count)
        .join(Association, Association.id == Application.association_id)
        .outerjoin(Decision, Decision.application_id == Application.id)
        .outerjoin(scores, scores.c.application_id == Application.id)
        .outerjoin(counts, counts.c.application_id == Application.id)
        .where(Application.call_id == call.id, Application.status != DRAFT)
        .order_by(Application.reference, Application.id)
    )
    applications, winners_rows = [], []
    for row in db.session.execute(statement.execution_options(yield_per=500)):
        published = row.outcome if row.published_at is not None else None
        common = {
            "reference": row.reference, "association": row.name, "siret": row.siret, "rna": row.rna,
            "region_code": row.region_code, "region": region_name(row.region_code) or None,
            "departement_code": row.departement_code, "departement": _dep_name(row.departement_code),
            "title": row.title, "summary": row.summary,
            "amount_requested": _euros(row.requested_cents),
            "score": None if row.score is None else round(float(row.score), 2),
            "young_count": row.young_count,
        }
        applications.append(dict(common, review_count=row.review_count or 0,
                                 outcome=OUTCOME_LABELS.get(published, "") if published else ""))
        if published == "selected":
            per_year = row.amount_per_year or []
            granted = row.amount_cents if row.amount_cents is not None else sum(per_year)
            winners_rows.append(dict(
                common, amount_granted=_euros(granted), total_cost=_euros(row.total_cost_cents),
                mentor_count=row.mentor_count, share_qpv=row.share_qpv, share_zrr=row.share_zrr,
                share_ase=row.share_ase, share_disability=row.share_disability,
                share_dropout=row.share_dropout, departements_covered=", ".join(row.departements or []),
                decision_date=_day(row.published_at).isoformat()))
    text_columns = {"reference": str, "association": str, "siret": str, "rna": str, "region_code": str,
                    "region": str, "departement_code": str, "departement": str, "title": str, "summary": str,
                    "amount_requested": float, "score": float, "young_count": int}
    database["applications"].insert_all(applications, pk="reference",
                                        columns=dict(text_columns, review_count=int, outcome=str))
    database["winners"].insert_all(winners_rows, pk="reference", columns=dict(
        text_columns, amount_granted=float, total_cost=float, mentor_count=int, share_qpv=int,
        share_zrr=int, share_ase=int, share_disability=int, share_dropout=int, departements_covered=str,
        decision_date=str))
    regions = {}
    for row in winners_rows:
        entry = regions.setdefault(row["region_code"] or "", {
            "region_code": row["region_code"] or "", "region": row["region"] or "Non renseignée",
            "winners": 0, "amount_granted": 0.0, "young_count": 0, "mentor_count": 0})
        entry["winners"] += 1
        entry["amount_granted"] = round(entry["amount_granted"] + (row["amount_granted"] or 0), 2)
        entry["young_count"] += row["young_count"] or 0
        entry["mentor_count"] += row["mentor_count"] or 0
    database["regions"].insert_all(sorted(regions.values(), key=lambda r: r["region"]), pk="region_code",
                                   columns={"region_code": str, "region": str, "winners": int,
                                            "amount_granted": float, "young_count": int, "mentor_count": int})
    database["about"].insert_all([
        {"key": "call", "value": call.title}, {"key": "year", "value": str(call.year)},
        {"key": "years", "value": str(call.years)},
        {"key": "generated_at", "value": to_paris(now()).isoformat(timespec="seconds")},
        {"key": "source", "value": "AAP 1 jeune 1 mentor — DJEPVA"},
    ], pk="key")
    for table in ("winners", "applications"):
        database[table].enable_fts(["title", "summary"], create_triggers=True)
    for table, column in (("winners", "region"), ("applications", "region"), ("applications", "outcome")):
        database[table].create_index([column], if_not_exists=True)
    database.conn.commit()
    database.close()
    return path


def write_bytes(path, content):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
    return path

