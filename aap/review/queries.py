"""Read-only queries of the review pages, each in a fixed number of grouped queries
(never one per file or per reviewer)."""
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func
from sqlalchemy.orm import joinedload

from .. import timeutil
from ..extensions import db
from ..models import Application, Assignment, Conflict, Event, Review, User
from ..models.applications import ADMISSIBLE, IN_REVIEW, REVIEWED, Status
from ..models.review import REVIEW_DRAFT, REVIEW_SUBMITTED
from ..paging import paginate
from .assignment import active_reviewers
from .reminders import last_reminders, next_reminder_at
from .states import ASSIGNABLE_STATES

BOARD_STATES = (ADMISSIBLE, IN_REVIEW, REVIEWED)
PROGRESS_STATES = (IN_REVIEW, REVIEWED)
PER_PAGE = 50  # files per page of the assignment board


@dataclass
class BoardRow:
    application: Application
    assigned: list = field(default_factory=list)  # [(User, review status or None, notified_at)]
    eligible: list = field(default_factory=list)  # [User] who may still be assigned

    @property
    def missing(self):
        return max(0, self.application.call.reviewers_per_file - len(self.assigned))

    @property
    def assignable(self):
        return self.application.status in ASSIGNABLE_STATES


def _board_filter(call, missing_only):
    """The files of the assignment board, or only those that still lack reviewers."""
    conditions = [Application.call_id == call.id, Application.status.in_(BOARD_STATES)]
    if missing_only:
        assigned = (db.select(func.count(Assignment.id)).where(Assignment.application_id == Application.id)
                    .scalar_subquery())
        conditions += [Application.status.in_(ASSIGNABLE_STATES), assigned < call.reviewers_per_file]
    return conditions


def assignment_board(call, page=1, missing_only=False):
    """One page of the call's assignment board (files by reference, PER_PAGE a page) with, for
    each file, who is assigned and who may still be; the load of every active reviewer over the
    whole call; the number of files in all and still lacking reviewers. A fixed number of
    queries, and a page whose size does not grow with the number of files."""
    total, missing = db.session.execute(db.select(
        db.select(func.count(Application.id)).where(*_board_filter(call, False)).scalar_subquery(),
        db.select(func.count(Application.id)).where(*_board_filter(call, True)).scalar_subquery())).one()
    pagination = paginate(
        db.select(Application).options(joinedload(Application.association), joinedload(Application.call))
        .where(*_board_filter(call, missing_only))
        .order_by(Application.reference, Application.id), page, PER_PAGE)
    applications = pagination.items
    ids = [a.id for a in applications]
    statuses = {(a, r): s for a, r, s in db.session.execute(
        db.select(Review.application_id, Review.reviewer_id, Review.status)
        .where(Review.application_id.in_(ids)))}
    assigned = defaultdict(list)
    for application_id, user, notified_at in db.session.execute(
            db.select(Assignment.application_id, User, Assignment.notified_at)
            .join(User, User.id == Assignment.reviewer_id)
            .where(Assignment.application_id.in_(ids))
            .order_by(User.last_name, User.first_name, User.id)):
        assigned[application_id].append((user, statuses.get((application_id, user.id)), notified_at))
    eligibility = Eligibility(call, applications)
    rows = []
    for application in applications:
        row = BoardRow(application, assigned[application.id])
        if row.assignable:
            row.eligible = eligibility.eligible(application, {user.id for user, _, _ in row.assigned})
        rows.append(row)
    return {"rows": rows, "reviewers": eligibility.reviewers, "loads": eligibility.loads, "total": total,
            "missing": missing, "pagination": pagination, "page": pagination.page}


class Eligibility:
    """Who may still review which of these files of the call, the least loaded first: active
    reviewers, without a declared link with the association, not of its région when the call
    excludes it. Three queries, whatever the number of files (the assignment board, the
    suggestions after a conflict)."""

    def __init__(self, call, applications):
        self.call = call
        self.reviewers = active_reviewers()
        self.conflicted = defaultdict(set)  # association_id -> reviewer ids
        for reviewer_id, association_id in db.session.execute(
                db.select(Conflict.reviewer_id, Conflict.association_id)
                .where(Conflict.association_id.in_({a.association_id for a in applications}))):
            self.conflicted[association_id].add(reviewer_id)
        # The load of a reviewer: their files of the call still on the board.
        self.loads = dict(db.session.execute(
            db.select(Assignment.reviewer_id, func.count(Assignment.id))
            .join(Application, Application.id == Assignment.application_id)
            .where(Application.call_id == call.id, Application.status.in_(BOARD_STATES))
            .group_by(Assignment.reviewer_id)).all())
        self.by_load = sorted(self.reviewers, key=lambda r: self.loads.get(r.id, 0))  # stable: then by name

    def eligible(self, application, taken):
        """The reviewers who may get this file (`taken`: ids already assigned), least loaded first."""
        return [r for r in self.by_load
                if r.id not in taken and r.id not in self.conflicted[application.association_id]
                and not (self.call.avoid_same_region and r.region_code
                         and r.region_code == application.region_code)]


def board_page_of(application):
    """The page of the (unfiltered) assignment board that shows this file."""
    before = db.session.scalar(
        db.select(func.count(Application.id)).where(
            *_board_filter(application.call, False),
            (Application.reference < application.reference)
            | ((Application.reference == application.reference) & (Application.id < application.id))))
    return before // PER_PAGE + 1


@dataclass
class ReviewerProgress:
    reviewer: User
    assigned: int
    drafted: int
    submitted: int
    late: bool
    last_reminded: object = None  # when staff last reminded them (of any call), or None

    @property
    def outstanding(self):
        return self.assigned - self.submitted

    @property
    def next_reminder(self):
        """When they may be reminded again (None: now), see services.REMINDER_INTERVAL."""
        return next_reminder_at(self.last_reminded)


def progress(call):
    now = timeutil.now()
    deadline_passed = call.review_deadline is not None and call.review_deadline < now
    review_join = and_(Review.application_id == Assignment.application_id,
                       Review.reviewer_id == Assignment.reviewer_id)
    stats = db.session.execute(
        db.select(Assignment.reviewer_id, func.count(Assignment.id),
                  func.sum(case((Review.status == REVIEW_DRAFT, 1), else_=0)),
                  func.sum(case((Review.status == REVIEW_SUBMITTED, 1), else_=0)))
        .join(Application, Application.id == Assignment.application_id)
        .outerjoin(Review, review_join)
        .where(Application.call_id == call.id, Application.status.in_(PROGRESS_STATES))
        .group_by(Assignment.reviewer_id)).all()
    users = {u.id: u for u in db.session.scalars(
        db.select(User).where(User.id.in_([s[0] for s in stats]))).all()} if stats else {}
    reminders = last_reminders(list(users))
    reviewers = []
    for reviewer_id, assigned, drafted, submitted in stats:
        submitted = int(submitted or 0)
        reviewers.append(ReviewerProgress(users[reviewer_id], assigned, int(drafted or 0), submitted,
                                          late=deadline_passed and submitted < assigned,
                                          last_reminded=reminders.get(reviewer_id)))
    reviewers.sort(key=lambda p: (-p.outstanding, p.reviewer.last_name, p.reviewer.first_name, p.reviewer.id))

    applications = db.session.scalars(
        db.select(Application).options(joinedload(Application.association))
        .where(Application.call_id == call.id, Application.status.in_(PROGRESS_STATES))
        .order_by(Application.reference, Application.id)).all()
    per_file = {application_id: (assigned, int(submitted or 0)) for application_id, assigned, submitted in
                db.session.execute(
                    db.select(Assignment.application_id, func.count(Assignment.id),
                              func.sum(case((Review.status == REVIEW_SUBMITTED, 1), else_=0)))
                    .join(Application, Application.id == Assignment.application_id)
                    .outerjoin(Review, review_join)
                    .where(Application.call_id == call.id, Application.status.in_(PROGRESS_STATES))
                    .group_by(Assignment.application_id))}
    files = [(a, max(call.reviewers_per_file, per_file.get(a.id, (0, 0))[0]), per_file.get(a.id, (0, 0))[1])
             for a in applications]
    return {"reviewers": reviewers, "files": files, "deadline_passed": deadline_passed,
            "outstanding": sum(1 for p in reviewers if p.outstanding > 0),
            "remindable": sum(1 for p in reviewers if p.outstanding > 0 and p.next_reminder is None),
            "conflicts": conflict_alerts(call)}


@dataclass
class ConflictAlert:
    application: Application
    reviewer: User  # who declared the link
    declared_at: object
    missing: int  # reviewers still to find
    suggestion: User | None  # the least loaded eligible reviewer
    load: int = 0  # the suggested reviewer's files of the call


def conflict_alerts(call):
    """The files of the call a reviewer left by declaring a conflict and that now lack reviewers
    (admissible or in review, fewer reviewers than the call asks), newest first, each with the
    least loaded reviewer who may take it. Gone once staff have assigned enough reviewers."""
    rows = db.session.execute(
        db.select(Event, Application).join(Application, Application.id == Event.application_id)
        .options(joinedload(Application.association), joinedload(Event.actor))
        .where(Event.action == "conflict_declared", Application.call_id == call.id,
               Application.status.in_(ASSIGNABLE_STATES))
        .order_by(Event.id.desc())).all()
    latest = {}
    for event, application in rows:
        if (event.details or {}).get("assignment_removed") and application.id not in latest:
            latest[application.id] = (event, application)
    if not latest:
        return []
    taken = defaultdict(set)
    for application_id, reviewer_id in db.session.execute(
            db.select(Assignment.application_id, Assignment.reviewer_id)
            .where(Assignment.application_id.in_(list(latest)))):
        taken[application_id].add(reviewer_id)
    lacking = [(e, a) for e, a in latest.values() if len(taken[a.id]) < call.reviewers_per_file]
    if not lacking:
        return []
    eligibility = Eligibility(call, [a for _, a in lacking])
    alerts = []
    for event, application in lacking:
        eligible = eligibility.eligible(application, taken[application.id])
        alerts.append(ConflictAlert(application, event.actor, event.at,
                                    call.reviewers_per_file - len(taken[application.id]),
                                    eligible[0] if eligible else None,
                                    eligibility.loads.get(eligible[0].id, 0) if eligible else 0))
    return alerts


def call_conflicts(call):
    """Every conflict declared with an association that applied to the call, with its file."""
    return db.session.execute(
        db.select(Conflict, Application)
        .options(joinedload(Conflict.reviewer), joinedload(Conflict.association))
        .join(Application, and_(Application.association_id == Conflict.association_id,
                                Application.call_id == call.id))
        .where(Application.status != Status.DRAFT)
        .order_by(Conflict.created_at.desc(), Conflict.id.desc())).all()
