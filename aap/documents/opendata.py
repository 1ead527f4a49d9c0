"""Open data of a call: the winners in the SCDL « subventions » 2.1.1 format (CSV), the legal
publication of the grants, and an anonymised SQLite file of aggregated results (sqlite-utils,
ready for Datasette): both may be published.

SCDL: https://schema.data.gouv.fr/scdl/subventions/2.1.1/ — one row per grant whose convention
is signed, UTF-8, comma, dates YYYY-MM-DD, amounts with a dot, pourcentageSubvention is the
beneficiary's share of the grant (1.00 for a single beneficiary); idAttribuant is the setting
AAP_GRANTOR_SIRET, dispositifAide the call's aid-scheme identifier (else its title). The
constraints of the schema are checked in tests/test_opendata.py.
"""
import csv
import io
import os
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..associations import legal
from ..extensions import db
from ..models import Application, Association, Convention, Decision
from ..models.applications import DRAFT, INADMISSIBLE, WITHDRAWN
from ..models.selection import OUTCOME_LABELS, OUTCOME_REJECTED, OUTCOME_SELECTED, OUTCOME_WAITLISTED
from ..textrules import csv_text
from ..timeutil import now, to_paris
from .data import amounts_per_year, application_scores_subquery, last_payment_date, region_name, winners

SCDL_COLUMNS = [
    "nomAttribuant", "idAttribuant", "dateConvention", "referenceDecision", "nomBeneficiaire",
    "idBeneficiaire", "rnaBeneficiaire", "objet", "montant", "nature", "conditionsVersement",
    "datesPeriodeVersement", "idRAE", "notificationUE", "pourcentageSubvention", "dispositifAide",
]
def grantor():
    """(name, SIRET) of the grantor (AAP_GRANTOR_NAME, AAP_GRANTOR_SIRET in aap/config.py)."""
    return current_app.config["AAP_GRANTOR_NAME"], current_app.config["AAP_GRANTOR_SIRET"]


def _day(value):
    return to_paris(value).date() if value is not None else None


def signed_conventions(call):
    """{application_id: Convention} of the call's winners whose convention is signed."""
    return {c.application_id: c for c in db.session.scalars(
        select(Convention).join(Application, Application.id == Convention.application_id)
        .where(Application.call_id == call.id, Convention.signed_at.is_not(None)))}


def unsigned_count(call):
    """How many winners are left out of the SCDL file because their convention is not signed."""
    signed = signed_conventions(call)
    return sum(1 for application in winners(call.id) if application.id not in signed)


def scdl_rows(call):
    """The SCDL rows (dicts with exactly SCDL_COLUMNS) of the call's winners whose convention is
    signed: dateConvention is the day of signature (the State's countersignature, aap/followup/signature.py),
    referenceDecision the convention's number. A winner whose convention is not signed yet is
    left out (the exports page says how many)."""
    name, siret = grantor()
    signed = signed_conventions(call)
    rows = []
    for application in winners(call.id):
        convention = signed.get(application.id)
        if convention is None:
            continue
        association, decision = application.association, application.decision
        per_year = amounts_per_year(decision, max(call.years, 1))
        amount = sum(per_year)
        convention_day = convention.signed_at
        staggered = call.years > 1 or call.advance_percent < 100
        if staggered:
            # From the signature to the last payment, within the last year (data.payment_plan).
            last = last_payment_date([call.year + i for i in range(max(call.years, 1))])
            period = f"{convention_day.isoformat()}/{max(last, convention_day).isoformat()}"
        else:
            period = convention_day.isoformat()
        objet = f"Plan « 1 jeune 1 mentor » : {application.title or 'projet de mentorat'}"
        rows.append({
            "nomAttribuant": name,
            "idAttribuant": siret,
            "dateConvention": convention_day.isoformat(),
            "referenceDecision": convention.number,
            "nomBeneficiaire": association.name,
            "idBeneficiaire": association.siret or "",
            # Only the forms that have one: not an association of the local law, nor a foundation.
            "rnaBeneficiaire": legal.rna_of(legal.identity_of(association)) or "",
            "objet": objet[:256],
            "montant": f"{amount // 100}.{amount % 100:02d}",
            "nature": "aide en numéraire",
            "conditionsVersement": "échelonné" if staggered else "unique",
            "datesPeriodeVersement": period,
            "idRAE": "",
            "notificationUE": "non",
            "pourcentageSubvention": "1.00",
            "dispositifAide": call.aid_scheme_id or call.title,
        })
    return rows


def build_scdl_csv(call):
    """The SCDL CSV as UTF-8 bytes (no BOM, comma-separated, header row)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SCDL_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in scdl_rows(call):
        # Names and titles come from users: a cell a spreadsheet would run gets an apostrophe.
        writer.writerow({column: csv_text(value) for column, value in row.items()})
    return buffer.getvalue().encode("utf-8")


# --- Anonymised SQLite --------------------------------------------------------------------

# Statistical secrecy (the « règle des 3 unités »): no figure is published about fewer than
# MIN_GROUP files that were not retained, so that nobody who knows an association applied can
# read its outcome, amount or score.
MIN_GROUP = 3
WINNERS = OUTCOME_LABELS[OUTCOME_SELECTED]
INADMISSIBLE_LABEL = "Irrecevable"
UNDECIDED_LABEL = "Sans décision publiée"
# A winner who renounced its grant, or whose grant was withdrawn (selection.amendments): no grant.
WITHDRAWN_LABEL = "Subvention abandonnée après la décision"
OUTCOME_ORDER = [WINNERS, OUTCOME_LABELS[OUTCOME_WAITLISTED], OUTCOME_LABELS[OUTCOME_REJECTED],
                 WITHDRAWN_LABEL, INADMISSIBLE_LABEL, UNDECIDED_LABEL]
OTHER_REGIONS_CODE = "autres"
OTHER_REGIONS = f"Autres régions (moins de {MIN_GROUP} dossiers : secret statistique)"
UNKNOWN_REGION_CODE = "nr"
METHOD = (
    "Chiffres agrégés de l'appel à projets, sans aucune ligne par dossier : ni nom, ni SIRET, ni RNA, "
    "ni référence de dossier, ni texte saisi par une association. Table « outcomes » : par issue, le "
    "nombre de dossiers, le montant accordé (lauréats) et, pour les groupes d'au moins {n} dossiers, le "
    "montant demandé, les jeunes et mentors prévus et la note moyenne sur 20. Table « regions » : par "
    "région et par issue, le nombre de dossiers et le montant accordé aux lauréats ; les dossiers non "
    "retenus d'une région qui en compte moins de {n} pour une issue sont comptés dans « {other} ». Une "
    "décision non encore publiée est comptée dans « {undecided} ». La liste nominative des lauréats est "
    "publiée à part, au format SCDL « subventions »."
).format(n=MIN_GROUP, other=OTHER_REGIONS, undecided=UNDECIDED_LABEL)


def _euros(cents):
    return None if cents is None else round(cents / 100, 2)


def _outcome(row):
    """The published outcome of a file, in words; « sans décision publiée » while unpublished."""
    if row.published_at is not None and row.status == WITHDRAWN:
        return WITHDRAWN_LABEL
    if row.published_at is not None and row.outcome in OUTCOME_LABELS:
        return OUTCOME_LABELS[row.outcome]
    if row.status == INADMISSIBLE:
        return INADMISSIBLE_LABEL
    return UNDECIDED_LABEL


def _files(call):
    """One small record per submitted file: outcome, région and the figures that are summed."""
    scores, _counts = application_scores_subquery()
    statement = (
        select(Application.status, Application.requested_cents, Application.young_count,
               Application.mentor_count, Association.region_code, Decision.outcome, Decision.published_at,
               Decision.amount_cents, Decision.amount_per_year, scores.c.score)
        .join(Association, Association.id == Application.association_id)
        .outerjoin(Decision, Decision.application_id == Application.id)
        .outerjoin(scores, scores.c.application_id == Application.id)
        .where(Application.call_id == call.id, Application.status != DRAFT)
    )
    for row in db.session.execute(statement.execution_options(yield_per=500)):
        outcome = _outcome(row)
        granted = None
        if outcome == WINNERS:
            granted = row.amount_cents if row.amount_cents is not None else sum(row.amount_per_year or [])
        yield {"outcome": outcome, "region_code": row.region_code or UNKNOWN_REGION_CODE,
               "requested": row.requested_cents, "granted": granted, "young": row.young_count,
               "mentors": row.mentor_count, "score": None if row.score is None else float(row.score)}


def _sum(values):
    return sum(v for v in values if v is not None)


def outcome_rows(files):
    """National figures per outcome; below MIN_GROUP files only the count (and, for winners, the
    amount granted, published anyway in the SCDL file)."""
    rows = []
    for order, outcome in enumerate(OUTCOME_ORDER, start=1):
        group = [f for f in files if f["outcome"] == outcome]
        if not group:
            continue
        enough = len(group) >= MIN_GROUP
        scored = [f["score"] for f in group if f["score"] is not None]
        rows.append({
            "outcome": outcome, "sort_order": order, "files": len(group),
            "amount_granted": _euros(_sum(f["granted"] for f in group)) if outcome == WINNERS else None,
            "amount_requested": _euros(_sum(f["requested"] for f in group)) if enough else None,
            "young_count": _sum(f["young"] for f in group) if enough else None,
            "mentor_count": _sum(f["mentors"] for f in group) if enough else None,
            "mean_score": round(sum(scored) / len(scored), 2) if len(scored) >= MIN_GROUP else None,
        })
    return rows


def region_rows(files):
    """Files per région and outcome. Winners are public (SCDL): each région's count and amount.
    A région with fewer than MIN_GROUP files of another outcome does not show them: they are
    counted in « Autres régions » for that outcome."""
    groups = {}
    for f in files:
        groups.setdefault((f["region_code"], f["outcome"]), []).append(f)
    rows, pooled = [], {}
    for (code, outcome), group in groups.items():
        if outcome != WINNERS and len(group) < MIN_GROUP:
            pooled[outcome] = pooled.get(outcome, 0) + len(group)
            continue
        name = region_name(code) if code != UNKNOWN_REGION_CODE else ""
        rows.append({"region_code": code, "region": name or "Non renseignée", "outcome": outcome,
                     "files": len(group),
                     "amount_granted": _euros(_sum(f["granted"] for f in group)) if outcome == WINNERS else None})
    for outcome, count in pooled.items():
        rows.append({"region_code": OTHER_REGIONS_CODE, "region": OTHER_REGIONS, "outcome": outcome,
                     "files": count, "amount_granted": None})
    order = {outcome: i for i, outcome in enumerate(OUTCOME_ORDER)}
    rows.sort(key=lambda r: (r["region_code"] == OTHER_REGIONS_CODE, r["region"], order[r["outcome"]]))
    return rows


def build_opendata_sqlite(call, path):
    """Write the anonymised results of the call to a new SQLite file at path (for Datasette).

    Aggregates only (tables outcomes, regions, about; see METHOD): nothing in it names, numbers
    or describes one file, and no group of fewer than MIN_GROUP files that were not retained is
    shown by région. The winners, with their names, go out in the SCDL file (build_scdl_csv).
    """
    import sqlite_utils

    path = Path(path)
    if path.exists():
        path.unlink()
    files = list(_files(call))
    database = sqlite_utils.Database(str(path))
    database["outcomes"].insert_all(outcome_rows(files), pk="outcome", columns={
        "outcome": str, "sort_order": int, "files": int, "amount_granted": float, "amount_requested": float,
        "young_count": int, "mentor_count": int, "mean_score": float})
    database["regions"].insert_all(region_rows(files), pk=("region_code", "outcome"), columns={
        "region_code": str, "region": str, "outcome": str, "files": int, "amount_granted": float})
    database["about"].insert_all([
        {"key": "call", "value": call.title}, {"key": "year", "value": str(call.year)},
        {"key": "years", "value": str(call.years)},
        {"key": "generated_at", "value": to_paris(now()).isoformat(timespec="seconds")},
        {"key": "source", "value": "AAP 1 jeune 1 mentor — DJEPVA"},
        {"key": "method", "value": METHOD},
        {"key": "min_group", "value": str(MIN_GROUP)},
    ], pk="key")
    for column in ("region", "outcome"):
        database["regions"].create_index([column], if_not_exists=True)
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

