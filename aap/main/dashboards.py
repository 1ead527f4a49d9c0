"""One dashboard per role: each returns (template, context) with a bounded number of queries."""
from sqlalchemy import func
from sqlalchemy.orm import joinedload

from .. import timeutil
from ..calls import services as call_services
from ..extensions import db
from ..models import Application, Assignment, Call, Review
from ..models.calls import CALL_PUBLISHED
from ..models.review import REVIEW_SUBMITTED


def applicant(user):
    applications = db.session.scalars(
        db.select(Application).options(joinedload(Application.call))
        .where(Application.association_id == user.association_id)
        .order_by(Application.created_at.desc())).all()
    applied = {a.call_id for a in applications}
    now = timeutil.now()
    open_calls = [c for c in db.session.scalars(
        db.select(Call).where(Call.status == CALL_PUBLISHED, Call.opens_at <= now, Call.closes_at >= now)
        .order_by(Call.closes_at)).all() if c.id not in applied]
    from ..applications.reuse import pick_source
    from ..followup.report_review import association_reports_due
    return "main/dashboard_applicant.html", {
        "reports_due": association_reports_due(user.association_id, now) if user.association_id else [],
        "association": user.association, "applications": applications, "open_calls": open_calls,
        "reuse_sources": {call.id: pick_source(applications, call) for call in open_calls},
        "call_phases": call_services.phases({a.call for a in applications}, now=now)}


def reviewer(user):
    assignments = db.session.scalars(
        db.select(Assignment)
        .options(joinedload(Assignment.application).joinedload(Application.association),
                 joinedload(Assignment.application).joinedload(Application.call))
        .where(Assignment.reviewer_id == user.id)
        .order_by(Assignment.assigned_at)).all()
    reviews = {r.application_id: r for r in db.session.scalars(
        db.select(Review).where(Review.reviewer_id == user.id)).all()}
    rows = [(a, reviews.get(a.application_id)) for a in assignments]

    def sent(row):
        return row[1] is not None and row[1].status == REVIEW_SUBMITTED
    # To do: the nearest deadline first (none: last); sent: the latest first.
    far = timeutil.now().replace(year=9999)
    todo = sorted((r for r in rows if not sent(r)),
                  key=lambda r: (r[0].application.call.review_deadline or far, r[0].application.reference))
    done = sorted(filter(sent, rows), key=lambda r: (r[1].submitted_at, r[0].application.reference), reverse=True)
    return "main/dashboard_reviewer.html", {"todo": todo, "done": done}


def staff(user):
    calls = db.session.scalars(db.select(Call).order_by(Call.opens_at.desc())).all()
    counts = {}
    for call_id, status, n in db.session.execute(
            db.select(Application.call_id, Application.status, func.count())
            .group_by(Application.call_id, Application.status)):
        counts.setdefault(call_id, {})[status] = n
    # Reviews still expected per call: assignments without a sent review.
    sent = db.select(Review.id).where(Review.application_id == Assignment.application_id,
                                      Review.reviewer_id == Assignment.reviewer_id, Review.status == REVIEW_SUBMITTED)
    awaited = dict(db.session.execute(
        db.select(Application.call_id, func.count(Assignment.id))
        .join(Application, Application.id == Assignment.application_id)
        .where(~sent.exists()).group_by(Application.call_id)).all())
    # Changes of bank details asked by selected associations, waiting for staff (one query).
    from ..associations.bank import pending_requests
    from ..followup.report_review import report_counts  # yearly reports to review and late (two queries)
    reports_to_review, reports_late = report_counts()
    return "main/dashboard_staff.html", {"calls": calls, "counts": counts, "awaited": awaited,
                                         "phases": call_services.phases(calls, counts),
                                         "bank_requests": pending_requests(),
                                         "reports_to_review": reports_to_review, "reports_late": reports_late}


BUILDERS = {"applicant": applicant, "reviewer": reviewer, "staff": staff, "admin": staff}
