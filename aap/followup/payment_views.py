"""Payments: the « Versements » section of a file's follow-up page (its association reads its
payment lines and what is awaited from it; staff act on each line) and the staff page of the
payments to make this month across calls (/suivi/versements, with its Excel download)."""
import io
import re

from flask import flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Optional, Regexp

from ..associations.forms import FrenchDateField
from ..extensions import db
from ..forms import AppForm, select_choices
from ..models import Application, Call, Convention
from ..models.followup import PaymentState, ReportState
from ..money import format_euros
from ..paging import paginate
from ..permissions import get_payment_line_or_404, staff_required
from ..timeutil import MONTHS
from ..transitions import TransitionError
from ..web import page_number
from . import bp, payments
from .page import section

# --- Forms ----------------------------------------------------------------------------------


class RequestPaymentForm(AppForm):
    """« Mise en paiement » of a line (payments.request_payment checks the date and the rules)."""
    day = FrenchDateField("Date de mise en paiement")
    chorus_reference = StringField("Référence Chorus (facultatif)")


class PaidForm(AppForm):
    day = FrenchDateField("Date du paiement")


class SuspendForm(AppForm):
    reason = TextAreaField("Motif de la suspension")


class ResumeForm(AppForm):
    """Resuming a suspended line: nothing to type (the CSRF token only)."""


# action in the address -> (form, prefix of its fields, button, message once done)
ACTIONS = {
    "mise-en-paiement": (RequestPaymentForm, "mise", "Mettre en paiement", "Le versement est mis en paiement ; "
                         "l'association en est informée par e-mail."),
    "paiement": (PaidForm, "paye", "Enregistrer le paiement", "Le paiement est enregistré ; l'association en est "
                 "informée par e-mail."),
    "suspension": (SuspendForm, "suspension", "Suspendre", "Le versement est suspendu ; l'association en est "
                   "informée par e-mail, avec le motif."),
    "reprise": (ResumeForm, "reprise", "Reprendre le versement", "Le versement est de nouveau prévu."),
}
# which actions a line in a state offers
OFFERED = {
    PaymentState.PLANNED: ("mise-en-paiement", "suspension"),
    PaymentState.REQUESTED: ("paiement", "suspension"),
    PaymentState.SUSPENDED: ("reprise",),
}


def _form(action, line_id, formdata=None):
    form_class, prefix, _button, _done = ACTIONS[action]
    if formdata is None:
        return form_class(prefix=f"{prefix}-{line_id}", formdata=None)
    return form_class(prefix=f"{prefix}-{line_id}")


def _perform(action, line, form):
    if action == "mise-en-paiement":
        payments.request_payment(line, current_user, day=form.day.data, chorus_reference=form.chorus_reference.data)
    elif action == "paiement":
        payments.mark_paid(line, current_user, day=form.day.data)
    elif action == "suspension":
        payments.suspend(line, current_user, form.reason.data)
    else:
        payments.resume(line, current_user)


def _act(line_id, action):
    """Staff put a line to payment, record it paid, suspend or resume it; a refusal is shown next
    to its field on the follow-up page, with what was typed (422)."""
    line = get_payment_line_or_404(line_id)
    application_id = line.convention.application_id
    form = _form(action, line.id, formdata=True)
    if form.validate_on_submit():
        try:
            _perform(action, line, form)
        except payments.PaymentError as refusal:
            field = form[refusal.field] if refusal.field and refusal.field in form else None
            if field is not None:
                field.errors = list(field.errors) + [refusal.message]
            else:
                form.refusal = refusal.message
        except TransitionError as refusal:
            form.refusal = refusal.message
        else:
            db.session.commit()
            flash(ACTIONS[action][3], "success")
            return redirect(url_for("followup.show", application_id=application_id, _anchor=f"versement-{line_id}"))
    db.session.rollback()
    g.payment_failed = (line_id, action, form)
    from .views import show
    return show(application_id), 422


@bp.route("/versements/<int:line_id>/mise-en-paiement", methods=["POST"])
@staff_required
def request_payment(line_id):
    return _act(line_id, "mise-en-paiement")


@bp.route("/versements/<int:line_id>/paiement", methods=["POST"])
@staff_required
def mark_paid(line_id):
    return _act(line_id, "paiement")


@bp.route("/versements/<int:line_id>/suspension", methods=["POST"])
@staff_required
def suspend_payment(line_id):
    return _act(line_id, "suspension")


@bp.route("/versements/<int:line_id>/reprise", methods=["POST"])
@staff_required
def resume_payment(line_id):
    return _act(line_id, "reprise")


ENDPOINTS = {"mise-en-paiement": "followup.request_payment", "paiement": "followup.mark_paid",
             "suspension": "followup.suspend_payment", "reprise": "followup.resume_payment"}


# --- The section of the follow-up page --------------------------------------------------------

def _awaited(rows, reports, convention, is_member, today):
    """(awaited, waiting): what the association has to do next — each report of a year already
    begun that is still to file or to complete, earliest due first, with the balance it unlocks —
    and the balances waiting for a report it filed that staff are examining (nothing awaited from
    it). Both empty when nothing is awaited."""
    blocked = {}  # report's year -> the live balance line waiting for it
    for row in rows:
        line = row["line"]
        year = payments.awaits_report(line)
        if year is not None and line.state in (PaymentState.PLANNED, PaymentState.SUSPENDED):
            blocked[year] = line
    years = {year for year, report in reports.items() if report.state in (ReportState.DRAFT, ReportState.INCOMPLETE)}
    years |= {year for year in blocked if year not in reports}  # (a balance waits for a report not opened)
    due = {year: reports[year].due_on if year in reports else payments.report_due_on(convention, year)
           for year in years}
    awaited = []
    for year in sorted((year for year in years if year <= today.year), key=lambda year: (due[year], year)):
        report = reports.get(year)
        if report is not None and report.state == ReportState.INCOMPLETE:
            text = f"Les compléments demandés sur {'votre' if is_member else 'le'} compte rendu {year}"
        else:
            text = (f"{'Votre' if is_member else 'Le'} compte rendu {year}, à déposer au plus tard le "
                    f"{due[year].strftime('%d/%m/%Y')}")
        line = blocked.get(year)
        if line is not None:
            text += (f" : le solde {line.year} ({format_euros(line.amount_cents)}) est versé après son "
                     f"acceptation.")
        awaited.append(text + ("" if line is not None else "."))
    waiting = [f"Solde {line.year} : versé après l'acceptation du compte rendu {year}, déposé et en cours "
               f"d'examen." for year, line in sorted(blocked.items())
               if year in reports and reports[year].state == ReportState.SUBMITTED]
    return awaited, waiting


@section(20, "followup/_payments.html")
def payments_section(application, convention, user):
    """The payment lines (cancelled ones for staff only), their totals, what is awaited from the
    association, and for staff the forms of each line."""
    if convention is None:
        return None
    staff = user.is_staff
    lines = [line for line in convention.payments if staff or line.state != PaymentState.CANCELLED]
    reports = {report.year: report for report in convention.reports}
    failed = g.get("payment_failed")
    rows = []
    for line in lines:
        row = {"line": line, "deadline": payments.deadline_of(line), "refusal": None, "forms": [],
               "blocked_by": None, "past_deadline": payments.past_deadline(line)}
        if line.state in (PaymentState.PLANNED, PaymentState.SUSPENDED):
            row["refusal"] = payments.balance_refusal(line, reports.get(line.year - 1))
            if row["refusal"]:  # the accordion's title says which report it waits for, and how
                year = payments.awaits_report(line)
                report = reports.get(year)
                examined = report is not None and report.state == ReportState.SUBMITTED
                row["blocked_by"] = f"compte rendu {year} " + ("en cours d'examen" if examined else "attendu")
        if staff:
            for action in OFFERED.get(line.state, ()):
                if action == "mise-en-paiement" and row["refusal"]:
                    continue
                if failed and failed[0] == line.id and failed[1] == action:
                    form = failed[2]
                else:
                    form = _form(action, line.id)
                    if "day" in form:
                        form.day.data = payments.today()
                row["forms"].append((action, form, ACTIONS[action][2], ENDPOINTS[action]))
        row["open"] = bool(failed and failed[0] == line.id)
        rows.append(row)
    awaited, waiting = _awaited(rows, reports, convention, not staff, payments.today())
    return {"rows": rows, "totals": payments.totals(lines), "staff": staff,
            "in_force": convention.state in payments.IN_FORCE_STATES, "awaited": awaited, "waiting": waiting}


# --- The staff page of the payments to make ---------------------------------------------------

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class PaymentFilterForm(AppForm):
    """GET filters of the payments to make; an unknown call or state is ignored."""

    class Meta:
        csrf = False

    appel = SelectField("Appel à projets", validate_choice=False)
    mois = StringField("Mois", validators=[Optional(),
                                           Regexp(MONTH_RE, message="Indiquez un mois au format AAAA-MM, par "
                                                                    "exemple 2026-03.")])
    etat = SelectField("État", choices=select_choices(payments.LIST_STATES.items()), validate_choice=False)


def _filters():
    calls = db.session.execute(
        select(Call.id, Call.title).where(Call.id.in_(
            select(Application.call_id).join(Convention, Convention.application_id == Application.id)))
        .order_by(Call.year.desc(), Call.id.desc())).all()
    form = PaymentFilterForm(formdata=request.args)
    form.appel.choices = select_choices([("", "Tous les appels")] + [(str(i), title) for i, title in calls])
    valid = form.validate()
    today = payments.today()
    year, month = today.year, today.month
    if valid and form.mois.data:
        year, month = int(form.mois.data[:4]), int(form.mois.data[5:])
    call_id = int(form.appel.data) if (form.appel.data or "").isdigit() and int(form.appel.data) in \
        {i for i, _t in calls} else None
    state = form.etat.data if form.etat.data in payments.LIST_STATES else ""
    if not (valid and form.mois.data):
        form.mois.data = f"{year:04d}-{month:02d}" if valid else form.mois.data
    return form, call_id, state, year, month


@bp.route("/versements", endpoint="payments")
@staff_required
def payments_to_make():
    """The payments to make this month (or the month chosen) across calls: planned by the end of
    the month, and those put to payment waiting to be paid; a balance blocked by a report not yet
    accepted is flagged."""
    form, call_id, state, year, month = _filters()
    last_day = payments.month_end(year, month)
    pager = paginate(payments.to_make_statement(last_day, call_id, state), page_number(), 50)
    totals = payments.to_make_totals(last_day, call_id, state)
    args = {key: value for key, value in request.args.items() if key in ("appel", "mois", "etat") and value}
    return render_template(
        "followup/payments.html", form=form, pager=pager, totals=totals, refusals=payments.refusals(pager.items),
        deadline_of=payments.deadline_of, past_deadline=payments.past_deadline,
        month_label=f"{MONTHS[month - 1]} {year}", last_day=last_day, args=args, states=PaymentState,
        blocked_keys=(payments.BLOCKED_REPORT, payments.BLOCKED_CONVENTION),
        list_url=lambda **kw: url_for("followup.payments", **{**args, **kw}))



@bp.route("/versements.xlsx")
@staff_required
def payments_xlsx():
    """The same list (every page) as a workbook: amounts in euros and dates typed."""
    from openpyxl import Workbook

    from ..documents.excel import RESTRICTED, Sheet
    form, call_id, state, year, month = _filters()
    last_day = payments.month_end(year, month)
    lines = db.session.scalars(payments.to_make_statement(last_day, call_id, state)).all()
    blocked = payments.refusals(lines)
    workbook = Workbook(write_only=True)
    sheet = Sheet(workbook, "Versements à effectuer", [
        ("Appel", "text", 14), ("Référence", "text", 18), ("Association", "text", 40), ("SIRET", "text", 16),
        ("Convention", "text", 22), ("Année", "int", 8), ("Versement", "text", 10), ("Montant", "euro", 14),
        ("Date prévue", "date", 12), ("Mis en paiement le", "date", 12), ("État", "text", 16),
        ("Référence Chorus", "text", 18), ("Blocage", "text", 60)], RESTRICTED)
    for line in lines:
        application = line.convention.application
        sheet.append([application.call.slug, application.reference, application.association.name,
                      application.association.siret, line.convention.number, line.year, line.kind_label,
                      round(line.amount_cents / 100, 2), line.planned_on, line.requested_on, line.state.label,
                      line.chorus_reference or "", blocked.get(line.id, "")])
    sheet.finish(totals={8})
    buffer = io.BytesIO()
    workbook.save(buffer)
    return send_file(io.BytesIO(buffer.getvalue()), as_attachment=True, max_age=0,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     download_name=f"versements-{year:04d}-{month:02d}.xlsx")

