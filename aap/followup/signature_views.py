"""The signature of a convention and of its amendments: the association returns the signed PDF,
staff countersign (PDF, or day and signatory), send a returned copy back, notify, terminate; the
signed documents downloaded by the association's members and staff; the staff list of the
conventions (/suivi/conventions) with the reminders. The section « Convention » of the follow-up
page, and the macro templates/followup/_signature.html that draws a convention or an amendment."""
from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import timeutil
from ..applications import files
from ..database import writing
from ..documents.data import is_winner
from ..extensions import db
from ..models import Application, Call, Convention
from ..models.followup import Amendment, ConventionDocument, ConventionState
from ..paging import paginate
from ..permissions import can_follow_application, is_application_member, staff_required
from ..web import page_number
from . import bp, pades, signature
from .page import section
from .page import sections as page_sections
from .signature_forms import ConfirmForm, CountersignForm, NotifyForm, ReasonForm, ReturnForm
from .views import load_convention

C = ConventionState
MODELS = {"convention": Convention, "amendment": Amendment}
PER_PAGE = 50


@bp.record_once
def _setup(state):
    from .cli import followup_reminders
    state.app.cli.add_command(followup_reminders)
    state.app.jinja_env.globals["signature_view"] = signature_view


def _subject_or_404(kind, subject_id):
    """The convention or amendment of a winning file the current user may follow, else 404."""
    subject = db.session.get(MODELS[kind], subject_id)
    if subject is None:
        abort(404)
    application = subject.application
    if not can_follow_application(current_user, application) or not is_winner(application):
        abort(404)
    return subject, application


# ---------------------------------------------------------------------------------------------
# What the macro shows

def _prefix(subject, action):
    return f"{signature.kind_of(subject)}-{subject.id}-{action}"


def _form(subject, action, cls):
    failed = getattr(g, "signature_failed", None)
    if failed and failed[0] == (signature.kind_of(subject), subject.id, action):
        return failed[1]
    return cls(formdata=None, prefix=_prefix(subject, action))


def signature_view(subject, user):
    """Everything templates/followup/_signature.html shows of a convention or an amendment for
    `user`: state, steps with their dates, documents with their signature check, what is awaited,
    the forms of what `user` may do now (and the routes they post to)."""
    kind = signature.kind_of(subject)
    member = is_application_member(user, subject.application)
    staff = user.is_authenticated and user.is_staff
    forms = {}
    state = subject.state
    if state == C.ISSUED and signature.is_issued(subject) and (member or staff):
        forms["return"] = _form(subject, "return", ReturnForm)
    if staff and state == C.ASSOCIATION_SIGNED:
        forms["countersign"] = _form(subject, "countersign", CountersignForm)
        forms["refuse"] = _form(subject, "refuse", ReasonForm)
    if staff and state == C.COUNTERSIGNED:
        forms["notify"] = _form(subject, "notify", NotifyForm)
    if staff and kind == "convention" and state in signature.TERMINABLE:
        forms["terminate"] = _form(subject, "terminate", ReasonForm)
    base = "followup.convention_" if kind == "convention" else "followup.amendment_"
    ids = {f"{kind}_id": subject.id}
    documents = [{"document": d, "checks": pades.summary(d.signature),
                  "url": url_for(base + "document", signed_document_id=d.id, **ids)}
                 for d in signature.subject_documents(subject)]
    return {"kind": kind, "subject": subject, "steps": signature.steps(subject), "documents": documents,
            "awaited": signature.awaited(subject), "forms": forms, "member": member, "staff": staff,
            "served": signature.served_document(subject),
            "actions": {name: url_for(base + name, **ids) for name in forms}}


@section(10, "followup/_convention.html")
def convention_section(application, convention, user):
    if convention is None:
        return None
    return {"view": signature_view(convention, user)}


# ---------------------------------------------------------------------------------------------
# The moves

def _page_again(application, status=422):
    """The follow-up page again, the failed form shown with its error and what was typed."""
    convention = load_convention(application.id)
    return render_template("followup/show.html", application=application, call=application.call,
                           convention=convention, is_member=is_application_member(current_user, application),
                           sections=page_sections(application, convention, current_user)), status


def _done(application, message):
    flash(message, "success")
    return redirect(url_for("followup.show", application_id=application.id, _anchor="convention"))


def _run(kind, subject_id, action, cls, call, message, staff_only=True):
    subject, application = _subject_or_404(kind, subject_id)
    if staff_only and not current_user.is_staff:
        abort(403)
    form = cls(prefix=_prefix(subject, action))
    if form.validate_on_submit():
        try:
            call(subject, form)
        except signature.SignatureError as refusal:
            db.session.rollback()
            target = form[refusal.field] if refusal.field and refusal.field in form else None
            if target is not None:
                target.errors = list(target.errors) + [refusal.message]
            else:
                flash(refusal.message, "error")
                return redirect(url_for("followup.show", application_id=application.id, _anchor="convention"))
        else:
            db.session.commit()
            return _done(application, message(subject))
    g.signature_failed = ((kind, subject.id, action), form)
    return _page_again(application)


def _return(kind, subject_id):
    subject, application = _subject_or_404(kind, subject_id)
    if not (current_user.is_staff or is_application_member(current_user, application)):
        abort(404)
    return _run(kind, subject_id, "return", ReturnForm,
                lambda s, f: signature.return_signed(s, f.document.data, current_user),
                lambda s: f"{signature.title_of(s)[0].upper()}{signature.title_of(s)[1:]} est renvoyée signée : "
                          "la DJEPVA va la contresigner.", staff_only=False)


def _refuse(kind, subject_id):
    return _run(kind, subject_id, "refuse", ReasonForm,
                lambda s, f: signature.refuse_return(s, current_user, f.reason.data),
                lambda s: "L'exemplaire signé est renvoyé à l'association avec le motif.")


def _countersign(kind, subject_id):
    return _run(kind, subject_id, "countersign", CountersignForm,
                lambda s, f: signature.countersign(s, current_user, day=f.day.data, signatory=f.signatory.data,
                                                   upload=f.document.data),
                lambda s: f"La signature de l'État est enregistrée ({signature.title_of(s)}).")


def _notify(kind, subject_id):
    return _run(kind, subject_id, "notify", NotifyForm,
                lambda s, f: signature.notify(s, current_user),
                lambda s: f"{signature.title_of(s)[0].upper()}{signature.title_of(s)[1:]} est notifiée : elle est en "
                          "vigueur.")


def _document(kind, subject_id, document_id):
    subject, application = _subject_or_404(kind, subject_id)
    document = db.session.get(ConventionDocument, document_id)
    if document is None or document not in signature.subject_documents(subject):
        abort(404)
    with writing():
        signature.record_download(document, current_user)
        db.session.commit()
    return send_file(files.path_of(document.stored_name), mimetype="application/pdf", as_attachment=True,
                     download_name=document.original_name, max_age=0)


# The same routes for a convention and for an amendment.
# The same routes for a convention (/suivi/conventions/<convention_id>/...) and for an amendment
# (/suivi/avenants/<amendment_id>/...).
for _kind, _path in (("convention", "conventions"), ("amendment", "avenants")):
    for _name, _view, _suffix in (("return", _return, "retour"), ("refuse", _refuse, "refus"),
                                  ("countersign", _countersign, "contreseing"), ("notify", _notify, "notification")):
        bp.add_url_rule(f"/{_path}/<int:{_kind}_id>/{_suffix}", f"{_kind}_{_name}",
                        login_required(lambda _v=_view, _k=_kind, **ids: _v(_k, ids[f"{_k}_id"])), methods=["POST"])
    bp.add_url_rule(f"/{_path}/<int:{_kind}_id>/documents/<int:signed_document_id>", f"{_kind}_document",
                    login_required(lambda signed_document_id, _k=_kind, **ids: _document(
                        _k, ids[f"{_k}_id"], signed_document_id)))


@bp.route("/conventions/<int:convention_id>/resiliation", methods=["POST"])
@staff_required
def convention_terminate(convention_id):
    subject_id = convention_id
    return _run("convention", subject_id, "terminate", ReasonForm,
                lambda s, f: signature.terminate(s, current_user, f.reason.data),
                lambda s: f"La convention {s.number} est résiliée ; l'association est prévenue.")


# ---------------------------------------------------------------------------------------------
# The staff list

def _late_cutoffs(calls, now):
    return {call.id: signature.reminder_cutoff(call, now) for call in calls}


@bp.route("/conventions")
@staff_required
def conventions():
    """The conventions of the winners by state: those to countersign first, the ones not returned
    after their call's reminder delay flagged; the reminders sent from here."""
    calls = db.session.scalars(select(Call).order_by(Call.opens_at.desc())).all()
    call_id = request.args.get("appel", type=int)
    state = request.args.get("etat", "")
    state = state if state in {s.value for s in C} else ""
    order = func.coalesce(Convention.association_signed_at, Convention.generated_at)
    statement = (select(Convention).join(Application, Application.id == Convention.application_id)
                 .options(joinedload(Convention.application).joinedload(Application.association))
                 .where(Convention.stored_name.is_not(None)))
    if call_id:
        statement = statement.where(Application.call_id == call_id)
    if state:
        statement = statement.where(Convention.state == state)
    priority = db.case((Convention.state == C.ASSOCIATION_SIGNED, 0), (Convention.state == C.COUNTERSIGNED, 1),
                       (Convention.state == C.ISSUED, 2), else_=3)
    pager = paginate(statement.order_by(priority, order, Convention.id), page_number(), PER_PAGE)
    counts = dict(db.session.execute(
        select(Convention.state, func.count()).join(Application, Application.id == Convention.application_id)
        .where(Convention.stored_name.is_not(None), *([Application.call_id == call_id] if call_id else []))
        .group_by(Convention.state)).all())
    cutoffs = _late_cutoffs(calls, timeutil.now())
    due = len(signature.due_reminders(call_id=call_id))

    def link(**changes):
        return url_for("followup.conventions", **{"appel": call_id or None, "etat": state or None, **changes})

    return render_template("followup/conventions.html", calls=calls, call_id=call_id, state=state, pager=pager,
                           counts=counts, states=list(C), cutoffs=cutoffs, due=due, form=ConfirmForm(), link=link)


@bp.route("/conventions/relances", methods=["POST"])
@staff_required
def convention_reminders():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    call_id = request.form.get("appel", type=int)
    count = signature.send_convention_reminders(call_id=call_id)
    db.session.commit()
    flash(f"{count} relance{'s' if count > 1 else ''} envoyée{'s' if count > 1 else ''} aux associations qui n'ont "
          "pas renvoyé leur convention signée." if count else "Aucune relance à envoyer aujourd'hui.",
          "success" if count else "info")
    return redirect(url_for("followup.conventions", appel=call_id or None))
