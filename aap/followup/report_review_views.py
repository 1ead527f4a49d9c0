"""Staff's review of the yearly reports: the list of reports to review, late or awaiting
complements (/suivi/comptes-rendus), and the actions of the review block that the report's page
includes for staff (templates/followup/_report_review.html). Thin: report_review.py decides."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import case
from sqlalchemy.orm import contains_eager

from .. import timeutil
from ..extensions import db
from ..models import Application, Call
from ..models.documents import Convention
from ..models.followup import RecoveryState, Report, ReportState
from ..permissions import staff_required
from ..transitions import TransitionError
from . import bp, report_review
from .review_forms import (
    AcceptForm,
    ComplementsForm,
    RecoveryForm,
    RecoveryStateForm,
    ReportFilterForm,
    show_refusal,
)

# The list's order: to review first, then late, awaiting complements, accepted, drafts to come.
GROUPS = (("review", "À examiner"), ("late", "En retard"), ("complements", "Compléments demandés"),
          ("accepted", "Acceptés"), ("upcoming", "À venir (brouillons)"))
ACCEPTED_SHOWN = 20


def review_context(report, forms=None):
    """What the review block shows for one report: its forms (those given keep their values and
    errors), the year's grant, the suggested amount to recover, the open request for complements."""
    forms = dict(forms or {})
    recovery = report.recovery
    suggested = report_review.suggested_recovery_cents(report)
    forms.setdefault("accept", AcceptForm(formdata=None))
    forms.setdefault("complements", ComplementsForm(formdata=None))
    forms.setdefault("recovery", RecoveryForm(formdata=None).prefill(recovery, suggested))
    forms.setdefault("recovery_state", RecoveryStateForm(formdata=None).for_recovery(recovery))
    return {"forms": forms, "grant_cents": report_review.year_grant_cents(report), "suggested_cents": suggested,
            "recovery": recovery, "complement_request": report_review.open_complement_request(report)
            if report.state == ReportState.INCOMPLETE else None,
            "late_reason": report_review.late_reason(report)}


@bp.app_context_processor
def _review_block():
    # The report's page (report_views.py) includes the block for staff; it reads its context here.
    return {"report_review_context": review_context}


def report_page(report):
    """The report's page (report_views.py), at the review block."""
    return url_for("followup.report", report_id=report.id, _anchor="examen")


def _load(report_id):
    return db.get_or_404(Report, report_id)


def _refused(report, forms, refusal, form_key):
    """The review page again, the refusal next to its field and the values typed kept (422)."""
    if not isinstance(refusal, report_review.ReviewError):  # TransitionError: a stale page
        refusal = report_review.ReviewError(refusal.message)
    if refusal.field:
        show_refusal(forms[form_key], refusal)
    db.session.rollback()
    report = db.session.get(Report, report.id)
    return _invalid(report, forms, None if refusal.field else refusal.message)


@bp.route("/comptes-rendus/<int:report_id>/accepter", methods=["POST"])
@staff_required
def accept_report(report_id):
    report = _load(report_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        expired = "csrf_token" in form.errors
        return _invalid(report, {"accept": form},
                        "La demande a expiré : rechargez la page et recommencez." if expired else None)
    try:
        report_review.accept_report(report, current_user)
    except (report_review.ReviewError, TransitionError) as refusal:
        return _refused(report, {"accept": form}, refusal, "accept")
    db.session.commit()
    flash(f"Compte rendu {report.year} accepté : l'association en est informée.", "success")
    return redirect(report_page(report))


@bp.route("/comptes-rendus/<int:report_id>/complements", methods=["POST"])
@staff_required
def request_report_complements(report_id):
    report = _load(report_id)
    form = ComplementsForm()
    if not form.validate_on_submit():
        return _invalid(report, {"complements": form})
    try:
        report_review.request_complements(report, current_user, message=form.complements_message.data,
                                          due_on=form.complements_due_on.data)
    except (report_review.ReviewError, TransitionError) as refusal:
        return _refused(report, {"complements": form}, refusal, "complements")
    db.session.commit()
    flash(f"Compléments demandés sur le compte rendu {report.year} : l'association en est informée.", "success")
    return redirect(report_page(report))


@bp.route("/comptes-rendus/<int:report_id>/reversement", methods=["POST"])
@staff_required
def record_recovery(report_id):
    report = _load(report_id)
    form = RecoveryForm()
    if not form.validate_on_submit():
        return _invalid(report, {"recovery": form})
    try:
        report_review.record_recovery(report, current_user, amount_cents=form.recovery_amount.cents,
                                      reason=form.recovery_reason.data)
    except (report_review.ReviewError, TransitionError) as refusal:
        return _refused(report, {"recovery": form}, refusal, "recovery")
    db.session.commit()
    flash(f"Reversement enregistré sur le compte rendu {report.year} : titre de perception à émettre.", "success")
    return redirect(report_page(report))


@bp.route("/comptes-rendus/<int:report_id>/reversement/etat", methods=["POST"])
@staff_required
def update_recovery(report_id):
    report = _load(report_id)
    form = RecoveryStateForm().for_recovery(report.recovery)
    if report.recovery is None:
        return _refused(report, {"recovery_state": form},
                        report_review.ReviewError("Aucun reversement n'est enregistré sur ce compte rendu."),
                        "recovery_state")
    if not form.validate_on_submit():
        return _invalid(report, {"recovery_state": form})
    try:
        recovery = report_review.update_recovery(
            report.recovery, current_user, to_state=form.recovery_state.data,
            title_reference=form.title_reference.data or "", day=form.state_day.data,
            reason=form.waive_reason.data or "")
    except (report_review.ReviewError, TransitionError) as refusal:
        return _refused(report, {"recovery_state": form}, refusal, "recovery_state")
    db.session.commit()
    flash(f"Reversement : {recovery.state.label.lower()}.", "success")
    return redirect(report_page(report))


def _invalid(report, forms, message=None):
    """The review page with the errors next to their fields and the values typed kept (422);
    `message`: a refusal about no field in particular (a report no longer deposited...)."""
    return render_template("followup/report_review_page.html", report=report, application=report.application,
                           review=review_context(report, forms), report_page_url=report_page(report),
                           message=message), 422


# --- the staff list ----------------------------------------------------------------------------

def _group(report, late):
    if report.state == ReportState.SUBMITTED:
        return "review"
    if late:
        return "late"
    if report.state == ReportState.INCOMPLETE:
        return "complements"
    if report.state == ReportState.ACCEPTED:
        return "accepted"
    return "upcoming"


def _accepted_order(row):
    report = row[0]
    recovering = report.recovery is not None and report.recovery.state in (RecoveryState.TO_ISSUE, RecoveryState.ISSUED)
    return (not recovering, -(report.reviewed_at.timestamp() if report.reviewed_at else 0), report.id)


@bp.route("/comptes-rendus")
@staff_required
def reports():
    """« Comptes rendus annuels »: the reports to review first, then the late ones, those awaiting
    complements and those accepted, with any amount to recover and its state; filters by call,
    year, state and lateness. Four queries whatever the number of reports."""
    calls = db.session.scalars(db.select(Call).order_by(Call.year.desc(), Call.id.desc())).all()
    years = db.session.scalars(db.select(Report.year).distinct().order_by(Report.year.desc())).all()
    form = ReportFilterForm(request.args, calls=calls, years=years)
    now = timeutil.now()
    query = (report_review.live_reports().join(Application.association).join(Application.call)
             .outerjoin(Report.recovery)
             .options(contains_eager(Report.convention).contains_eager(Convention.application)
                      .contains_eager(Application.association),
                      contains_eager(Report.convention).contains_eager(Convention.application)
                      .contains_eager(Application.call),
                      contains_eager(Report.recovery)))
    call_id = form.appel.data if (form.appel.data or "").isdigit() else ""
    if call_id:
        query = query.where(Application.call_id == int(call_id))
    year = form.annee.data if (form.annee.data or "").isdigit() else ""
    if year:
        query = query.where(Report.year == int(year))
    state = form.etat.data if form.etat.data in {s.value for s in ReportState} else ""
    if state:
        query = query.where(Report.state == ReportState(state))
    late_only = form.retard.data == "1"
    if late_only:
        query = query.where(report_review.late_condition(now))
    rank = case((Report.state == ReportState.SUBMITTED, 0), (Report.state == ReportState.INCOMPLETE, 1),
                (Report.state == ReportState.DRAFT, 2), else_=3)
    rows = db.session.scalars(query.order_by(rank, Report.due_on, Application.reference, Report.id)).unique().all()
    dues = report_review.complement_due_dates({r.id for r in rows if r.state == ReportState.INCOMPLETE})
    groups = {key: [] for key, _ in GROUPS}
    for report in rows:
        late = report_review.late_reason(report, dues.get(report.id), now)
        groups[_group(report, late)].append((report, late, dues.get(report.id)))
    if not state and not late_only:
        # Drafts not due yet are shown only when asked for (« Brouillon »): the list is about work.
        groups["upcoming"] = []
    # Accepted reports are history: those with a recovery under way first, then the latest
    # reviewed; only ACCEPTED_SHOWN of them unless asked for (« Accepté »).
    groups["accepted"].sort(key=_accepted_order)
    cut = {}
    if state != ReportState.ACCEPTED.value and len(groups["accepted"]) > ACCEPTED_SHOWN:
        cut["accepted"] = ACCEPTED_SHOWN
    totals = {"recovery": sum(r.recovery.amount_cents for r in rows if r.recovery is not None
                              and r.recovery.state != RecoveryState.WAIVED)}
    return render_template("followup/reports.html", form=form, groups=groups, group_labels=GROUPS,
                           count=sum(len(v) for v in groups.values()), totals=totals, cut=cut,
                           filtered=bool(call_id or year or state or late_only))

