"""Staff's side of the yearly reports: accepting a report, asking for complements (a request for
pieces of the instruction, tied to the report), recording the amount to recover when the year's
grant was not fully used (« reversement ») and following its recovery (titre de perception), the
reminders before and after a report's due date, and which reports are late.

Every function checks the state it starts from on the locked row, moves it through
events.change_state (aap/transitions.py REPORT, RECOVERY), queues its mail and flushes: the view
commits. send_report_reminders is a unit of work of its own (the CLI) and commits.
"""
from datetime import date

from sqlalchemy.orm import contains_eager

from .. import events, timeutil
from ..applications.budget import BY_CODE, GRANT, KIND_CHARGES, KIND_PRODUCTS
from ..database import lock
from ..extensions import db
from ..instruction import services as instruction
from ..mail import queue_mail
from ..models import Application, PieceRequest, User
from ..models.documents import Convention
from ..models.followup import (
    PAYMENT_BALANCE,
    ConventionState,
    PaymentLine,
    PaymentState,
    Recovery,
    RecoveryState,
    Report,
    ReportState,
)
from ..models.users import APPLICANT
from ..money import format_euros
from ..urls import absolute_url

REASON_MAX_LENGTH = 5000
TITLE_REFERENCE_MAX = 60


class ReviewError(ValueError):
    """A refused review action: the message is French; `field` names the form field it is about."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message, self.field = message, field


# --- the amount to recover -------------------------------------------------------------------

def _cents(values, excluded=()):
    """The sum of a {line code: cents} mapping, leaving out `excluded` codes and what is not a number."""
    total = 0
    for code, value in (values or {}).items():
        if code in excluded or isinstance(value, bool):
            continue
        if isinstance(value, int):
            total += value
        elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
            total += int(value)
    return total


# The voluntary contributions in kind (86 = 87) are outside both totals (Cerfa 15059 as 12156).
_IN_KIND = frozenset(code for code, line in BY_CODE.items() if line.side in (KIND_CHARGES, KIND_PRODUCTS))


def unused_grant_cents(grant_cents, charges, products):
    """The part of a year's grant to recover, a pure function of the compte rendu financier.

    Rule — the convention's control clause (templates/documents/pdf/_convention_general_articles.html,
    « Contrôle de l'administration », after the model CPO of the circulaire n° 5811-SG of
    29 September 2015): « Lorsque la contribution dépasse le coût du projet réalisé, l'administration
    peut exiger le remboursement de la part excédentaire. » The cost the State's contribution covers
    is the project's achieved charges less what its other products achieved paid for (other funders,
    sales, own resources — every product but this call's grant line, 74_aap); the excess of the grant
    over that cost is recovered, never more than the grant:

        recovery = min(grant, max(0, grant − max(0, achieved charges − other achieved products)))

    An underspent project gives back the grant it did not need; a project that cost more than
    budgeted gives back nothing; a project with no cost left to the State gives back the whole grant.
    Contributions in kind (86/87) count on neither side."""
    grant = max(int(grant_cents or 0), 0)
    achieved = _cents(charges, _IN_KIND)
    others = _cents(products, _IN_KIND | {GRANT})
    cost_to_cover = max(0, achieved - others)
    return min(grant, max(0, grant - cost_to_cover))


def year_grant_cents(report):
    """The grant of the report's year (reports.granted_amount: the decision's amount for that year)."""
    from .reports import granted_amount
    return granted_amount(report)


def suggested_recovery_cents(report):
    """What the service suggests to recover on this report (unused_grant_cents), or None while its
    financial part holds no achieved charges (nothing to compute from)."""
    financial = report.financial or {}
    if not _cents(financial.get("charges"), _IN_KIND):
        return None
    return unused_grant_cents(year_grant_cents(report), financial.get("charges"), financial.get("products"))


# --- links and mail ----------------------------------------------------------------------------

def followup_link(application, anchor="comptes-rendus"):
    """Absolute link to the file's follow-up page, for e-mails."""
    return absolute_url("followup.show", application_id=application.id, _anchor=anchor)


def _mail(application, text, template, **context):
    instruction.mail_members(application, instruction.mail_subject(application, text), template,
                             followup_link=followup_link(application), **context)


def _next_balance(report):
    """The balance this report's acceptance frees: the next year's balance still to put to payment."""
    return db.session.scalar(
        db.select(PaymentLine).where(PaymentLine.convention_id == report.convention_id,
                                     PaymentLine.kind == PAYMENT_BALANCE, PaymentLine.year == report.year + 1,
                                     PaymentLine.state.in_((PaymentState.PLANNED, PaymentState.SUSPENDED)))
        .order_by(PaymentLine.generation.desc()).limit(1))


# --- accepting, asking for complements ---------------------------------------------------------

def accept_report(report, actor):
    """The report is accepted: dated and signed by its reviewer; the members are told, with the
    balance that may now be put to payment."""
    report = lock(report)
    if report.state != ReportState.SUBMITTED:
        raise ReviewError(f"Ce compte rendu est « {report.state.label} » : seul un compte rendu déposé "
                          "peut être accepté.")
    report.reviewed_at = timeutil.now()
    report.reviewed_by_id = actor.id
    events.change_state(report, ReportState.ACCEPTED, actor, action="report_accepted", year=report.year)
    application = report.application
    _mail(application, f"Votre compte rendu {report.year} est accepté", "report_accepted",
          report=report, balance=_next_balance(report))
    db.session.flush()
    return report


def open_complement_request(report):
    """The request for complements this report waits for (neither answered nor cancelled), or None."""
    return db.session.scalar(
        db.select(PieceRequest).where(PieceRequest.report_id == report.id, PieceRequest.answered_at.is_(None),
                                      PieceRequest.cancelled_at.is_(None))
        .order_by(PieceRequest.created_at.desc(), PieceRequest.id.desc()).limit(1))


def request_complements(report, actor, *, message, due_on):
    """Send the report back to the association with a message and a due date (end of that day,
    Paris; in the future): a PieceRequest tied to the report, the members told."""
    report = lock(report)
    if report.state != ReportState.SUBMITTED:
        raise ReviewError(f"Ce compte rendu est « {report.state.label} » : des compléments ne peuvent être "
                          "demandés que sur un compte rendu déposé.")
    try:
        message = instruction.message_text(message)
    except instruction.InstructionError as refusal:
        raise ReviewError(str(refusal), "message") from None
    try:
        due_at = instruction.due_at_end_of_day(due_on)
    except instruction.InstructionError as refusal:
        raise ReviewError(str(refusal), "due_on") from None
    application = report.application
    request = PieceRequest(application_id=application.id, report_id=report.id, requested_by_id=actor.id,
                           message=message, sections=[], due_at=due_at, from_status=application.status)
    db.session.add(request)
    db.session.flush()
    report.reviewed_at = timeutil.now()
    report.reviewed_by_id = actor.id
    events.change_state(report, ReportState.INCOMPLETE, actor, reason=message,
                        action="report_complements_requested", year=report.year,
                        request_id=request.id, due_at=due_at.isoformat())
    _mail(application, f"Compte rendu {report.year} : des compléments sont demandés", "report_complements",
          report=report, message=message, due_label=timeutil.format_datetime(due_at))
    db.session.flush()
    return request


# --- the amount to recover and its recovery ------------------------------------------------------

def record_recovery(report, actor, *, amount_cents, reason):
    """Record (or correct, while its titre is not issued) the amount to recover on a deposited or
    accepted report: more than 0, at most the year's grant, with its reason (told to the association)."""
    report = lock(report)
    if report.state not in (ReportState.SUBMITTED, ReportState.ACCEPTED):
        raise ReviewError(f"Ce compte rendu est « {report.state.label} » : un reversement s'enregistre sur un "
                          "compte rendu déposé ou accepté.")
    grant = year_grant_cents(report)
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise ReviewError("Indiquez un montant à reverser supérieur à 0 €.", "amount")
    if amount_cents > grant:
        raise ReviewError(f"Le montant à reverser ne peut dépasser la subvention de l'année {report.year} "
                          f"({format_euros(grant)}).", "amount")
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("Indiquez le motif du reversement : il est communiqué à l'association.", "reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise ReviewError(f"Le motif ne doit pas dépasser {REASON_MAX_LENGTH} caractères.", "reason")
    recovery = db.session.scalar(db.select(Recovery).where(Recovery.report_id == report.id).with_for_update())
    previous = None
    if recovery is None:
        recovery = Recovery(report_id=report.id, amount_cents=amount_cents, reason=reason,
                            state=RecoveryState.TO_ISSUE, created_by_id=actor.id)
        db.session.add(recovery)
        report.recovery = recovery
    elif recovery.state != RecoveryState.TO_ISSUE:
        raise ReviewError(f"Le reversement est « {recovery.state.label} » : son montant ne peut plus être "
                          "modifié.", "amount")
    else:
        previous = recovery.amount_cents
        recovery.amount_cents, recovery.reason = amount_cents, reason
    db.session.flush()
    details = {"previous_amount_cents": previous} if previous is not None else {}
    events.record("recovery_recorded", actor=actor, application=report.application, reason=reason,
                  subject="recovery", subject_id=recovery.id, year=report.year, amount_cents=amount_cents,
                  suggested_cents=suggested_recovery_cents(report), **details)
    return recovery


RECOVERY_ACTIONS = {RecoveryState.ISSUED: "recovery_issued", RecoveryState.RECOVERED: "recovery_recovered",
                    RecoveryState.WAIVED: "recovery_waived"}


def update_recovery(recovery, actor, *, to_state, title_reference="", day=None, reason=""):
    """Follow a recovery: TO_ISSUE → ISSUED (the titre de perception's reference and date; the
    association is told), ISSUED → RECOVERED (the date), → WAIVED (the reason, internal)."""
    recovery = lock(recovery)
    try:
        to_state = RecoveryState(to_state)
    except ValueError:
        raise ReviewError("Choisissez l'état du reversement.", "to_state") from None
    today = timeutil.to_paris(timeutil.now()).date()
    title_reference, reason = (title_reference or "").strip(), (reason or "").strip()
    details = {}
    if to_state in (RecoveryState.ISSUED, RecoveryState.RECOVERED):
        if not isinstance(day, date):
            raise ReviewError("Indiquez la date.", "day")
        if day > today:
            raise ReviewError("La date ne peut pas être dans le futur.", "day")
        details["day"] = day.isoformat()
    if to_state == RecoveryState.ISSUED:
        if not title_reference:
            raise ReviewError("Indiquez la référence du titre de perception.", "title_reference")
        if len(title_reference) > TITLE_REFERENCE_MAX:
            raise ReviewError(f"La référence ne doit pas dépasser {TITLE_REFERENCE_MAX} caractères.",
                              "title_reference")
        details["title_reference"] = title_reference
    if to_state == RecoveryState.RECOVERED and recovery.issued_on and day < recovery.issued_on:
        raise ReviewError(f"Le recouvrement ne peut précéder l'émission du titre "
                          f"({timeutil.format_date(recovery.issued_on)}).", "day")
    if to_state == RecoveryState.WAIVED:
        if not reason:
            raise ReviewError("Indiquez le motif de l'abandon du reversement.", "reason")
        if len(reason) > REASON_MAX_LENGTH:
            raise ReviewError(f"Le motif ne doit pas dépasser {REASON_MAX_LENGTH} caractères.", "reason")
    report = recovery.report
    events.change_state(recovery, to_state, actor, reason=reason, action=RECOVERY_ACTIONS[to_state],
                        year=report.year, amount_cents=recovery.amount_cents, **details)
    if to_state == RecoveryState.ISSUED:
        recovery.title_reference, recovery.issued_on = title_reference, day
        _mail(report.application, f"Reversement sur le compte rendu {report.year} : titre de perception émis",
              "recovery_issued", report=report, recovery=recovery)
    elif to_state == RecoveryState.RECOVERED:
        recovery.recovered_on = day
    db.session.flush()
    return recovery


# --- late reports and reminders ------------------------------------------------------------------

def paris_today(now=None):
    return timeutil.to_paris(now or timeutil.now()).date()


def complement_due_dates(report_ids):
    """{report id: due time of its open request for complements} (one query)."""
    if not report_ids:
        return {}
    due = {}
    for report_id, due_at in db.session.execute(
            db.select(PieceRequest.report_id, PieceRequest.due_at)
            .where(PieceRequest.report_id.in_(list(report_ids)), PieceRequest.answered_at.is_(None),
                   PieceRequest.cancelled_at.is_(None))
            .order_by(PieceRequest.created_at, PieceRequest.id)):
        due[report_id] = due_at  # the latest open request wins
    return due


_UNREAD = object()


def late_reason(report, complement_due=_UNREAD, now=None):
    """Why the report is late, in French, or "": a draft past its due date (Paris), or a report
    sent back for complements past the request's due date. `complement_due`: the open request's
    due time (complement_due_dates: None when there is none), read here when not given."""
    now = now or timeutil.now()
    if report.state == ReportState.DRAFT and report.due_on < paris_today(now):
        return f"Attendu le {timeutil.format_date(report.due_on)}"
    if report.state == ReportState.INCOMPLETE:
        if complement_due is _UNREAD:
            request = open_complement_request(report)
            complement_due = request.due_at if request is not None else None
        if complement_due is not None and complement_due < now:
            return f"Compléments attendus le {timeutil.format_datetime(complement_due)}"
    return ""


def is_late(report, now=None):
    return bool(late_reason(report, now=now))


def _open_request_due():
    return (db.select(PieceRequest.id).where(PieceRequest.report_id == Report.id,
                                             PieceRequest.answered_at.is_(None),
                                             PieceRequest.cancelled_at.is_(None)))


def late_condition(now=None):
    """The SQL condition of a late report (as late_reason), for a query on Report."""
    now = now or timeutil.now()
    return db.or_(
        db.and_(Report.state == ReportState.DRAFT, Report.due_on < paris_today(now)),
        db.and_(Report.state == ReportState.INCOMPLETE,
                _open_request_due().where(PieceRequest.due_at < now).exists(),
                ~_open_request_due().where(PieceRequest.due_at >= now).exists()))


def live_reports():
    """A query of the reports of conventions still running (not terminated), with their file."""
    return (db.select(Report).join(Report.convention).join(Convention.application)
            .where(Convention.state != ConventionState.TERMINATED))


def late_reports(now=None, call_id=None):
    """The late reports, the oldest due first (one query, files and associations loaded)."""
    query = (live_reports().join(Application.association)
             .options(contains_eager(Report.convention).contains_eager(Convention.application)
                      .contains_eager(Application.association))
             .where(late_condition(now)))
    if call_id is not None:
        query = query.where(Application.call_id == call_id)
    return db.session.scalars(query.order_by(Report.due_on, Report.id)).unique().all()


def report_counts(now=None):
    """(to review, late) counts over every call: the staff dashboard's (two queries)."""
    base = db.select(db.func.count(Report.id)).join(Report.convention).where(
        Convention.state != ConventionState.TERMINATED)
    submitted = db.session.scalar(base.where(Report.state == ReportState.SUBMITTED))
    late = db.session.scalar(base.where(late_condition(now)))
    return submitted or 0, late or 0


def association_reports_due(association_id, now=None, soon_days=None):
    """The association's reports to file that are late or due soon (within each call's reminder
    window): [(report, late reason or "")] (one query, and one for open requests)."""
    now = now or timeutil.now()
    today = paris_today(now)
    reports = db.session.scalars(
        live_reports().join(Application.call)
        .options(contains_eager(Report.convention).contains_eager(Convention.application)
                 .contains_eager(Application.call))
        .where(Application.association_id == association_id,
               Report.state.in_((ReportState.DRAFT, ReportState.INCOMPLETE)))
        .order_by(Report.due_on, Report.id)).unique().all()
    dues = complement_due_dates({r.id for r in reports if r.state == ReportState.INCOMPLETE})
    shown = []
    for report in reports:
        reason = late_reason(report, dues.get(report.id), now)
        window = soon_days if soon_days is not None else report.convention.application.call.report_reminder_days
        soon = report.state == ReportState.INCOMPLETE or (report.due_on - today).days <= int(window or 0)
        if reason or soon:
            shown.append((report, reason))
    return shown


def send_report_reminders(now=None):
    """Remind the members of every running convention whose report is not filed yet: once before its
    due date (within call.report_reminder_days of it), once after it (« en retard »). Returns the
    number of reminders sent; committed."""
    now = now or timeutil.now()
    today = paris_today(now)
    reports = db.session.scalars(
        live_reports().join(Application.association).join(Application.call)
        .options(contains_eager(Report.convention).contains_eager(Convention.application)
                 .contains_eager(Application.association),
                 contains_eager(Report.convention).contains_eager(Convention.application)
                 .contains_eager(Application.call))
        .where(Report.state == ReportState.DRAFT,
               db.or_(Report.reminded_before_at.is_(None), Report.reminded_after_at.is_(None)))
        .order_by(Report.due_on, Report.id)).unique().all()
    due = []
    for report in reports:
        call = report.convention.application.call
        if report.due_on < today:
            if report.reminded_after_at is None:
                due.append((report, True))
        elif report.reminded_before_at is None and (report.due_on - today).days <= int(call.report_reminder_days or 0):
            due.append((report, False))
    if not due:
        return 0
    members = {}
    for user in db.session.scalars(
            db.select(User).where(User.association_id.in_({r.convention.application.association_id for r, _ in due}),
                                  User.role == APPLICANT, User.active.is_(True)).order_by(User.id)):
        members.setdefault(user.association_id, []).append(user)
    for report, late in due:
        application = report.convention.application
        subject = (f"Compte rendu {report.year} en retard" if late
                   else f"Rappel : compte rendu {report.year} à déposer avant le {timeutil.format_date(report.due_on)}")
        for member in members.get(application.association_id, []):
            queue_mail(member.email, instruction.mail_subject(application, subject), "report_reminder",
                       user=member, application=application, report=report, late=late,
                       followup_link=followup_link(application))
        if late:
            report.reminded_after_at = now
        else:
            report.reminded_before_at = now
        events.record("report_reminder_sent", application=application, subject="report", subject_id=report.id,
                      year=report.year, late=late, due_on=report.due_on.isoformat())
    db.session.commit()
    return len(due)


def winners_awaiting_report(call_id, year, late_only=False, now=None):
    """A select of the ids of the files of `call_id` whose report of `year` is not submitted yet (a draft, or
    sent back for complements), or only the late ones: the « rapport attendu » filter of the
    messages to many (aap/instruction/bulk.py)."""
    query = (db.select(Convention.application_id).join(Report, Report.convention_id == Convention.id)
             .join(Application, Application.id == Convention.application_id)
             .where(Application.call_id == call_id, Report.year == year,
                    Convention.state != ConventionState.TERMINATED,
                    Report.state.in_((ReportState.DRAFT, ReportState.INCOMPLETE))))
    if late_only:
        query = query.where(late_condition(now))
    return query

