"""Gathering the data of the documents: plain dicts and grouped queries, no rendering here.

Every document (convention, workbook, CSV, SQLite) is a pure function of what these
functions return; the queries run a fixed number of statements whatever the number of files.
"""
import calendar
import hashlib
import json
from datetime import date

from num2words import num2words
from sqlalchemy import Float, and_, case, cast, func, select
from sqlalchemy.orm import joinedload

from ..applications.budget import as_granted
from ..associations.legal import party_text
from ..extensions import db
from ..models import Application, Call, Criterion, Decision, Review, Score
from ..models.applications import SELECTED
from ..models.review import FAVORABLE, RESERVED, REVIEW_SUBMITTED, UNFAVORABLE
from ..models.selection import OUTCOME_SELECTED
from ..referentiel import DEPARTEMENT_BY_CODE, REGION_BY_CODE
from ..timeutil import to_paris
from .convention_texts import convention_texts

PLACE = "Paris"  # where the State signs


# --- Scores -------------------------------------------------------------------------------

def review_scores_subquery():
    """One row per submitted review: application_id, review_id, score /20.

    score = Σ(weight × value / scale_max) / Σ weight × 20 over the criteria scored.
    """
    weight = cast(Criterion.weight, Float)
    return (
        select(
            Review.application_id.label("application_id"),
            Review.id.label("review_id"),
            (func.sum(weight * cast(Score.value, Float) / cast(Criterion.scale_max, Float))
             / func.sum(weight) * 20).label("score"),
        )
        .join(Score, Score.review_id == Review.id)
        .join(Criterion, Criterion.id == Score.criterion_id)
        .where(Review.status == REVIEW_SUBMITTED, Score.value.is_not(None), Criterion.scale_max > 0)
        .group_by(Review.application_id, Review.id)
        .subquery("review_scores")
    )


def application_scores_subquery():
    """One row per application with submitted reviews: mean score /20 and recommendation counts."""
    per_review = review_scores_subquery()
    scores = (
        select(per_review.c.application_id, func.avg(per_review.c.score).label("score"))
        .group_by(per_review.c.application_id)
        .subquery("app_scores")
    )
    counts = (
        select(
            Review.application_id.label("application_id"),
            func.count(Review.id).label("review_count"),
            func.sum(case((Review.recommendation == FAVORABLE, 1), else_=0)).label("favorable"),
            func.sum(case((Review.recommendation == RESERVED, 1), else_=0)).label("reserved"),
            func.sum(case((Review.recommendation == UNFAVORABLE, 1), else_=0)).label("unfavorable"),
        )
        .where(Review.status == REVIEW_SUBMITTED)
        .group_by(Review.application_id)
        .subquery("app_reviews")
    )
    return scores, counts


def scores_by_application(application_ids):
    """{application_id: score /20 rounded to 2 decimals} in one query."""
    if not application_ids:
        return {}
    scores, _ = application_scores_subquery()
    rows = db.session.execute(select(scores.c.application_id, scores.c.score)
                              .where(scores.c.application_id.in_(list(application_ids))))
    return {app_id: round(float(score), 2) for app_id, score in rows if score is not None}


# --- Winners ------------------------------------------------------------------------------

def winners_condition(call_id):
    """A winner: a published « selected » decision (its current version: a file promoted from the
    waiting list is one) on a file still « Retenu » (a winner who renounced, or whose grant was
    withdrawn, is « Retiré »: no convention, no export as a winner)."""
    return and_(Application.call_id == call_id, Application.status == SELECTED,
                Decision.outcome == OUTCOME_SELECTED, Decision.published_at.is_not(None))


def winners(call_id):
    """Applications of a call with a published « selected » decision, with association,
    call and decision loaded (three statements in all)."""
    return db.session.scalars(
        select(Application)
        .join(Decision, Decision.application_id == Application.id)
        .where(winners_condition(call_id))
        .options(joinedload(Application.association), joinedload(Application.call),
                 joinedload(Application.decision))
        .order_by(Application.reference, Application.id)
    ).unique().all()


def is_winner(application):
    decision = application.decision
    return (application.status == SELECTED and decision is not None and decision.outcome == OUTCOME_SELECTED
            and decision.published_at is not None)


def call_by_slug(slug):
    return db.session.scalar(select(Call).where(Call.slug == slug))


# --- Amounts ------------------------------------------------------------------------------

def amount_in_words(cents):
    """4250050 -> « quarante-deux mille cinq cents euros et cinquante centimes »."""
    cents = int(cents or 0)
    euros, rest = divmod(cents, 100)
    words = num2words(euros, lang="fr")
    if euros in (0, 1):
        text = f"{words} euro"
    elif words.endswith(("million", "millions", "milliard", "milliards")):
        text = f"{words} d'euros"
    else:
        text = f"{words} euros"
    if rest:
        text += f" et {num2words(rest, lang='fr')} centime" + ("s" if rest > 1 else "")
    return text


def amounts_per_year(decision, years):
    """The grant per year: the decision's list when it has one entry per year, else an even split
    of the total (the remainder on the first year)."""
    per_year = [int(x) for x in (decision.amount_per_year or []) if x is not None]
    if years <= 1:
        return [int(decision.amount_cents or sum(per_year))]
    if len(per_year) == years:
        return per_year
    total = int(decision.amount_cents or 0)
    base, rest = divmod(total, years)
    return [base + (rest if i == 0 else 0) for i in range(years)]


def split_advance(amount_cents, advance_percent):
    advance = amount_cents * int(advance_percent) // 100
    return advance, amount_cents - advance


# The State's usual calendar for a grant over one or more years (circulaire du 29 septembre 2015,
# model of the convention pluriannuelle d'objectifs, article on payments): each year's grant is
# paid within that year — the first year's advance at signature, each later year's advance by the
# end of March; each year's balance by the end of November, and from the second year on only once
# the previous year's reports are accepted (due within the call's report_due_months of the year's
# end: by 30 June by default; aap/followup/payments.balance_refusal enforces it). The last year's
# reports come after the term: the convention stays in force until they are checked
# (the clause of article 2), but no payment falls after its end.
LATER_ADVANCE_BY = (3, 31)
BALANCE_BY = (11, 30)


def report_due_on(year, months=6):
    """The day a year's reports are due (article 7 of the convention): the last day of the month
    `months` months after the end of `year` (the call's report_due_months; 6: 30 June of year + 1)."""
    months = max(int(months or 0), 0)
    if months == 0:
        return date(year, 12, 31)
    due_year, due_month = year + 1 + (months - 1) // 12, (months - 1) % 12 + 1
    return date(due_year, due_month, calendar.monthrange(due_year, due_month)[1])


def payment_plan(year_list, amounts, advance_percent):
    """The payments of a grant, in order: [{year, kind ("advance", "balance" or "single"), cents,
    by (the latest date, ISO; None: at signature), after_reports_of (the year whose reports it
    waits for, or None)}]. Every date falls within its own year, hence within the convention's term."""
    payments = []
    for rank, (year, amount) in enumerate(zip(year_list, amounts)):
        advance, balance = split_advance(int(amount), advance_percent)
        previous = year - 1 if rank else None
        if balance == 0 or advance == 0:
            payments.append({"year": year, "kind": "single", "cents": int(amount), "after_reports_of": previous,
                             "by": None if rank == 0 and advance else date(year, *BALANCE_BY).isoformat()})
            continue
        payments.append({"year": year, "kind": "advance", "cents": advance, "after_reports_of": None,
                         "by": date(year, *LATER_ADVANCE_BY).isoformat() if rank else None})
        payments.append({"year": year, "kind": "balance", "cents": balance, "after_reports_of": previous,
                         "by": date(year, *BALANCE_BY).isoformat()})
    return payments


def last_payment_date(year_list):
    """The latest date a payment of the grant can be made (the end of November of its last year)."""
    return date(year_list[-1], *BALANCE_BY)


# --- Convention ---------------------------------------------------------------------------

def convention_kind(call):
    return "CPO" if call.years > 1 else "CA"


def convention_number(call, n):
    return f"{call.reference_prefix}-{call.year}-{convention_kind(call)}-{n:04d}"


def _iso(value):
    if value is None:
        return None
    if hasattr(value, "tzinfo"):
        return to_paris(value).date().isoformat()
    return value.isoformat()


def call_data(call):
    """What the conventions of a call (and their general conditions) say of the call, with its
    legal and budgetary texts (convention_texts.py)."""
    years = max(int(call.years or 1), 1)
    return {
        "title": call.title, "slug": call.slug, "year": call.year, "years": years,
        "advance_percent": int(call.advance_percent),
        "report_due_months": int(call.report_due_months or 6),
        # « dans les six mois suivant la fin de chaque année » (article 7), from the call's setting
        "report_delay": ("le mois" if int(call.report_due_months or 6) == 1
                         else f"les {num2words(int(call.report_due_months or 6), lang='fr')} mois"),
        "year_list": [call.year + i for i in range(years)],
        "texts": convention_texts(call.convention_texts, call.year),
    }


def bank_details_of(association):
    """The association's current (validated) bank details, as a convention records them."""
    return {"iban": association.iban or "", "bic": association.bic or "",
            "account_holder": association.account_holder or association.name}


def budget_as_granted(application, per_year):
    """The convention's annex II: the project's budget as granted ({year rank: {line code: cents}},
    aap/applications/budget.py), the association's adjusted budget or the deposited one when it fits
    the grant (applications.adjustment); None while it is still to adjust (no convention then)."""
    return as_granted(application.budget or {}, application.decision.adjusted_budget, per_year,
                      max(int(application.call.years or 1), 1))


def convention_data(application, number=None, bank=None, commitment_number=None):
    """Everything the convention shows, as a plain JSON-serialisable dict (no ORM object).

    The PDF is a pure function of this dict; its fingerprint decides whether to regenerate.
    `bank`: the bank details the convention was issued with (Convention.bank_details, see
    services.issued_convention_data); the association's current ones when not given.
    `commitment_number`: the Chorus commitment number staff recorded on the convention, if any.
    """
    call = application.call
    association = application.association
    decision = application.decision
    years = max(int(call.years or 1), 1)
    per_year = amounts_per_year(decision, years)
    return {
        "number": number,
        "kind": convention_kind(call),
        "multi_year": years > 1,
        "place": PLACE,
        "commitment_number": commitment_number or "",
        "call": call_data(call),
        "decision": {
            "published_on": _iso(decision.published_at),
            "amount_cents": sum(per_year),
            "amount_per_year": per_year,
        },
        "association": {
            "name": association.name, "acronym": association.acronym or "",
            "legal_form": association.legal_form_label, "legal_form_text": party_text(association.legal_form),
            "siret": association.siret or "", "identifier": association.legal_identifier,
            "address": association.address or "",
            "postal_code": association.postal_code or "", "commune": association.commune or "",
            "representative_name": association.representative_name or "",
            "representative_function": association.representative_function or "",
        },
        "bank": dict(bank) if bank else bank_details_of(association),
        "budget": budget_as_granted(application, per_year),
        "application": {
            "id": application.id, "reference": application.reference or "",
            "title": application.title or "", "summary": application.summary or "",
            "objectives": application.objectives or "",
            "young_count": application.young_count, "mentor_count": application.mentor_count,
            "share_qpv": application.share_qpv, "share_zrr": application.share_zrr,
            "share_ase": application.share_ase,
            "departements": [
                {"code": code, "name": DEPARTEMENT_BY_CODE[code].name if code in DEPARTEMENT_BY_CODE else code}
                for code in (application.departements or [])
            ],
            "total_cost_cents": application.total_cost_cents,
            "requested_cents": application.requested_cents,
            "cofunding": [
                {"funder": str(line.get("funder", "")), "amount_cents": int(line.get("amount_cents") or 0),
                 "status": str(line.get("status", ""))}
                for line in (application.cofunding or [])
            ],
        },
    }


def fingerprint(data):
    """SHA-256 of the canonical JSON of a document's data."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def region_name(code):
    region = REGION_BY_CODE.get(code or "")
    return region.name if region else ""


def departement_label(code):
    dep = DEPARTEMENT_BY_CODE.get(code or "")
    return f"{dep.code} – {dep.name}" if dep else (code or "")

