"""The ranking of a call's files: loaded in a fixed number of queries, built in Python.

Queries (whatever the number of files): the criteria; the files with their association and
decision; every submitted review of the call with its scores (one flat query); the files
reassigned after a declared conflict. Everything else is computed from those rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, union
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Application, Association, Conflict, Criterion, Decision, Event, Review, Score
from ..models.applications import (
    ADMISSIBLE,
    IN_REVIEW,
    REJECTED,
    REVIEWED,
    SELECTED,
    STATUS_LABELS,
    WAITLISTED,
    WITHDRAWN,
    Status,
)
from ..models.review import FAVORABLE, RECOMMENDATION_LABELS, RESERVED, REVIEW_SUBMITTED, UNFAVORABLE
from ..models.selection import OUTCOME_LABELS, OUTCOME_REJECTED, OUTCOME_SELECTED, OUTCOME_WAITLISTED
from ..referentiel import DEPARTEMENT_BY_CODE, REGION_BY_CODE
from . import budget, scoring

RANKED_STATES = (ADMISSIBLE, IN_REVIEW, REVIEWED, SELECTED, WAITLISTED, REJECTED)
FINAL_STATES = (SELECTED, WAITLISTED, REJECTED)
OUTCOME_OF_STATE = {SELECTED: OUTCOME_SELECTED, WAITLISTED: OUTCOME_WAITLISTED, REJECTED: OUTCOME_REJECTED}
RECOMMENDATION_ORDER = (FAVORABLE, RESERVED, UNFAVORABLE)
RECOMMENDATION_PLURALS = {FAVORABLE: ("favorable", "favorables"), RESERVED: ("réservé", "réservés"),
                          UNFAVORABLE: ("défavorable", "défavorables")}
DEFAULT_DISAGREEMENT = 6.0  # points on 20

SORTS = {
    "rang": "Rang",
    "rang_calibre": "Rang calibré",
    "ecart": "Écart entre évaluateurs",
    "montant": "Montant demandé",
    "region": "Région",
    "reference": "Référence",
}

APPLICATION_COLUMNS = (
    Application.id, Application.association_id, Application.reference, Application.status,
    Application.title, Application.young_count, Application.share_qpv, Application.share_zrr,
    Application.departements, Application.requested_cents, Application.requested_per_year,
)
ASSOCIATION_COLUMNS = (Association.name, Association.acronym, Association.region_code,
                       Association.departement_code)
DECISION_COLUMNS = (Decision.id, Decision.outcome, Decision.amount_cents, Decision.amount_per_year,
                    Decision.reason, Decision.published_at)


@dataclass(slots=True)
class FileInfo:
    """The columns of a file the ranking needs (plain data: cheap to load by the thousand)."""
    id: int
    association_id: int
    reference: str | None
    status: str
    title: str
    young_count: int | None
    share_qpv: int | None
    share_zrr: int | None
    departements: list
    requested_cents: int | None
    requested_per_year: list


@dataclass(slots=True)
class AssociationInfo:
    id: int
    name: str
    acronym: str
    region_code: str | None
    departement_code: str | None


@dataclass(slots=True)
class DecisionInfo:
    id: int
    outcome: str
    amount_cents: int | None
    amount_per_year: list
    reason: str
    published_at: object

    @property
    def outcome_label(self):
        return OUTCOME_LABELS[self.outcome]

    @property
    def outcome_status(self):
        """The state the outcome puts the file in (Status: its label and badge)."""
        return Status(self.outcome)


def recommendation_text(counts):
    """{favorable: 2, reserve: 1} -> « 2 favorables / 1 réservé »."""
    parts = []
    for key in RECOMMENDATION_ORDER:
        n = counts.get(key, 0)
        if n:
            singular, plural = RECOMMENDATION_PLURALS[key]
            parts.append(f"{n} {singular if n == 1 else plural}")
    return " / ".join(parts)


@dataclass
class Row:
    application: FileInfo
    association: AssociationInfo
    scores: scoring.FileScores
    decision: DecisionInfo | None
    expected_reviews: int
    conflict: bool = False
    disagreement_threshold: float = DEFAULT_DISAGREEMENT
    call_years: int = 1

    @property
    def id(self):
        return self.application.id

    @property
    def reference(self):
        return self.application.reference or f"#{self.application.id}"

    @property
    def state(self):
        return self.application.status

    @property
    def state_label(self):
        return STATUS_LABELS[self.application.status]

    @property
    def region_code(self):
        return self.association.region_code

    @property
    def region_name(self):
        region = REGION_BY_CODE.get(self.association.region_code or "")
        return region.name if region else ""

    @property
    def departement_code(self):
        return self.association.departement_code

    @property
    def departement_name(self):
        departement = DEPARTEMENT_BY_CODE.get(self.association.departement_code or "")
        return departement.name if departement else ""

    @property
    def requested_cents(self):
        return self.application.requested_cents

    @property
    def missing_reviews(self):
        return self.scores.review_count < self.expected_reviews

    @property
    def strong_disagreement(self):
        return self.scores.spread is not None and self.scores.spread > self.disagreement_threshold

    @property
    def recommendations_text(self):
        return recommendation_text(self.scores.recommendations)

    @property
    def decision_published(self):
        return self.decision is not None and self.decision.published_at is not None

    @property
    def locked(self):
        """A published decision (or a file already in a final state) cannot be changed."""
        return self.decision_published or (self.decision is None and self.state in FINAL_STATES)

    @property
    def current_outcome(self):
        """The outcome in force: the decision's (draft or published), or the final state's."""
        if self.decision is not None:
            return self.decision.outcome
        return OUTCOME_OF_STATE.get(self.state)

    @property
    def granted_cents(self):
        """Amount the file would receive as a winner: the decision's, else the amount requested."""
        if self.decision is not None and self.decision.amount_cents:
            return self.decision.amount_cents
        return self.application.requested_cents or 0

    @property
    def granted_per_year(self):
        """The granted amount per year of the call: the decision's split, else the requested one
        when it sums up, else an even split."""
        years = max(self.call_years, 1)
        if self.decision is not None and self.decision.amount_cents:
            return budget.split(self.decision.amount_cents, years, self.decision.amount_per_year)
        return budget.split(self.granted_cents, years, self.application.requested_per_year)

    def score(self, calibrated=False):
        return self.scores.calibrated_mean if calibrated else self.scores.mean

    def territories(self):
        return [d for d in (self.application.departements or []) if d in DEPARTEMENT_BY_CODE]

    def as_winner(self, amount_cents=None):
        app = self.application
        return budget.Winner(amount_cents=self.granted_cents if amount_cents is None else amount_cents,
                             region_code=self.region_code, departements=tuple(self.territories()),
                             young_count=app.young_count or 0, share_qpv=app.share_qpv,
                             share_zrr=app.share_zrr,
                             amount_per_year=self.granted_per_year if amount_cents is None else ())


@dataclass
class CallData:
    call: object
    criteria: list
    rows: list = field(default_factory=list)
    # Winners who renounced their grant or whose grant was withdrawn (selection.amendments): not
    # ranked any more; their amounts, freed, are shown apart in the budget.
    withdrawn: list = field(default_factory=list)

    def row(self, application_id):
        for row in self.rows:
            if row.id == application_id:
                return row
        return None

    def winners(self):
        """Rows whose outcome in force is « retenu » (draft or published)."""
        return [row for row in self.rows if row.current_outcome == OUTCOME_SELECTED]

    def budget(self):
        summary = budget.summarise(self.call.budget_cents, [row.as_winner() for row in self.winners()],
                                   envelopes=self.call.envelopes, first_year=self.call.year,
                                   candidate_regions=self.candidate_regions)
        summary.freed_files = len(self.withdrawn)
        summary.freed_cents = sum(row.decision.amount_cents or 0 for row in self.withdrawn)
        return summary

    @property
    def candidate_regions(self):
        """Régions (head office) with a ranked file: a région without a winner shows with 0."""
        return sorted({row.region_code for row in self.rows if row.region_code})

    @property
    def waitlisted(self):
        """Rows still on the waiting list (published), best ranked first."""
        return sorted((row for row in self.rows if row.state == WAITLISTED and row.decision_published),
                      key=lambda row: (row.scores.rank is None, row.scores.rank or 0, row.reference))

    @property
    def draft_count(self):
        return sum(1 for row in self.rows if row.decision is not None and row.decision.published_at is None)


def criterion_specs(criteria):
    return [scoring.CriterionSpec(id=c.id, weight=float(c.weight), scale_max=c.scale_max, label=c.label)
            for c in criteria]


def load_reviews(call_id, criterion_ids):
    """Every submitted review of the call with its scores, in one query (one column per criterion)."""
    query = (db.select(Review.id, Review.application_id, Review.reviewer_id, Review.recommendation,
                       Review.proposed_amount_cents)
             .join(Application, Application.id == Review.application_id)
             .where(Application.call_id == call_id, Review.status == REVIEW_SUBMITTED)
             .order_by(Review.id))
    for criterion_id in criterion_ids:
        score = aliased(Score)
        query = query.outerjoin(score, and_(score.review_id == Review.id, score.criterion_id == criterion_id)) \
            .add_columns(score.value)
    reviews = []
    for review_id, app_id, reviewer_id, recommendation, proposed, *values in db.session.execute(query):
        reviews.append(scoring.ReviewData(
            id=review_id, application_id=app_id, reviewer_id=reviewer_id, recommendation=recommendation,
            proposed_amount_cents=proposed,
            scores={cid: value for cid, value in zip(criterion_ids, values) if value is not None}))
    return reviews


def conflict_application_ids(call_id):
    """Files of the call with a declared conflict (an event, or a conflict naming the file)."""
    by_event = (db.select(Event.application_id.label("id"))
                .join(Application, Application.id == Event.application_id)
                .where(Application.call_id == call_id, Event.action == "conflict_declared"))
    by_conflict = (db.select(Conflict.application_id.label("id"))
                   .join(Application, Application.id == Conflict.application_id)
                   .where(Application.call_id == call_id))
    return {row[0] for row in db.session.execute(union(by_event, by_conflict)) if row[0] is not None}


def load(call, disagreement_threshold=DEFAULT_DISAGREEMENT, application_ids=None):
    """The call's ranking data: every file in a ranked state, scored, with its decision (and,
    apart, the winners withdrawn after their decision, for the budget)."""
    criteria = db.session.scalars(
        db.select(Criterion).where(Criterion.call_id == call.id).order_by(Criterion.position, Criterion.id)).all()
    query = (db.select(*APPLICATION_COLUMNS, *ASSOCIATION_COLUMNS, *DECISION_COLUMNS)
             .join(Association, Association.id == Application.association_id)
             .outerjoin(Decision, Decision.application_id == Application.id)
             .where(Application.call_id == call.id,
                    Application.status.in_(RANKED_STATES)
                    | ((Application.status == WITHDRAWN) & (Decision.outcome == OUTCOME_SELECTED)
                       & Decision.published_at.is_not(None)))
             .order_by(Application.id))
    if application_ids is not None:
        query = query.where(Application.id.in_(list(application_ids)))
    n_app, n_assoc = len(APPLICATION_COLUMNS), len(ASSOCIATION_COLUMNS)
    loaded = []
    for values in db.session.execute(query):
        file = FileInfo(*values[:n_app])
        association = AssociationInfo(file.association_id, *values[n_app:n_app + n_assoc])
        decision_values = values[n_app + n_assoc:]
        decision = DecisionInfo(*decision_values) if decision_values[0] is not None else None
        loaded.append((file, association, decision))
    specs = criterion_specs(criteria)
    reviews = load_reviews(call.id, [c.id for c in criteria])
    files = scoring.score_files(specs, reviews, [file.id for file, _, _ in loaded if file.status != WITHDRAWN])
    # (the withdrawn winners take no rank among the others: they count in the budget only)
    files.update({file.id: scoring.FileScores(application_id=file.id) for file, _, _ in loaded
                  if file.status == WITHDRAWN})
    conflicts = conflict_application_ids(call.id)
    data = CallData(call=call, criteria=criteria)
    for file, association, decision in loaded:
        row = Row(application=file, association=association, scores=files[file.id], decision=decision,
                  expected_reviews=call.reviewers_per_file, conflict=file.id in conflicts,
                  disagreement_threshold=disagreement_threshold, call_years=call.years or 1)
        (data.withdrawn if file.status == WITHDRAWN else data.rows).append(row)
    return data


@dataclass
class Filters:
    calibration: bool = False
    threshold: float = DEFAULT_DISAGREEMENT
    region: str = ""
    departement: str = ""
    state: str = ""
    recommendation: str = ""
    min_score: float | None = None
    flag: str = ""
    sort: str = "rang"

    @classmethod
    def from_args(cls, args):
        def number(name, low, high):
            text = (args.get(name) or "").strip().replace(",", ".")
            if not text:
                return None
            try:
                value = float(text)
            except ValueError:
                return None
            return value if low <= value <= high else None

        threshold = number("seuil", 0, 20)
        sort = args.get("tri", "rang")
        return cls(
            calibration=args.get("calibration") in ("1", "on", "oui"),
            threshold=DEFAULT_DISAGREEMENT if threshold is None else threshold,
            region=args.get("region", "") if args.get("region", "") in REGION_BY_CODE else "",
            departement=args.get("departement", "") if args.get("departement", "") in DEPARTEMENT_BY_CODE else "",
            state=args.get("etat", "") if args.get("etat", "") in RANKED_STATES else "",
            recommendation=args.get("avis", "") if args.get("avis", "") in RECOMMENDATION_LABELS else "",
            min_score=number("note_min", 0, 20),
            flag=args.get("signal", "") if args.get("signal", "") in ("desaccord", "manquants", "conflit") else "",
            sort=sort if sort in SORTS else "rang",
        )

    def args(self, **overrides):
        """The filters as GET parameters (to build links that keep them)."""
        values = {"calibration": "1" if self.calibration else "", "seuil": f"{self.threshold:g}",
                  "region": self.region, "departement": self.departement, "etat": self.state,
                  "avis": self.recommendation,
                  "note_min": "" if self.min_score is None else f"{self.min_score:g}",
                  "signal": self.flag, "tri": self.sort}
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in ("", None)}


def _keep(row, filters):
    if filters.region and row.region_code != filters.region:
        return False
    if filters.departement and row.departement_code != filters.departement \
            and filters.departement not in (row.application.departements or []):
        return False
    if filters.state and row.state != filters.state:
        return False
    if filters.recommendation and not row.scores.recommendations.get(filters.recommendation):
        return False
    if filters.min_score is not None:
        score = row.score(filters.calibration)
        if score is None or score < filters.min_score - 1e-9:
            return False
    if filters.flag == "desaccord" and not row.strong_disagreement:
        return False
    if filters.flag == "manquants" and not row.missing_reviews:
        return False
    if filters.flag == "conflit" and not row.conflict:
        return False
    return True


def _sort_key(filters):
    def rank_key(rank):
        return (rank is None, rank or 0)

    if filters.sort == "rang_calibre":
        return lambda r: (rank_key(r.scores.calibrated_rank), r.reference)
    if filters.sort == "ecart":
        return lambda r: (r.scores.spread is None, -(r.scores.spread or 0), r.reference)
    if filters.sort == "montant":
        return lambda r: (-(r.requested_cents or 0), r.reference)
    if filters.sort == "region":
        return lambda r: (r.region_name or "~", rank_key(r.scores.rank), r.reference)
    if filters.sort == "reference":
        return lambda r: r.reference
    if filters.calibration:
        return lambda r: (rank_key(r.scores.calibrated_rank), r.reference)
    return lambda r: (rank_key(r.scores.rank), r.reference)


def apply_filters(rows, filters):
    for row in rows:
        row.disagreement_threshold = filters.threshold
    return sorted((row for row in rows if _keep(row, filters)), key=_sort_key(filters))
