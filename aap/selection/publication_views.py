"""Publishing decisions through a confirmation page, then their mails: drafts read, edited or held
back, and sent in a second explicit step (staff only). The rules live in selection.mails."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db
from ..models import Call, DecisionMail
from ..permissions import staff_required
from . import bp, mails, services
from .forms import ConfirmForm, MailForm, PublishForm, SendMailsForm


@bp.route("/appels/<int:call_id>/publier", methods=["GET", "POST"])
@staff_required
def publish(call_id):
    """GET: what publishing would do, with a checkbox per warning. POST: publish, after the
    service has checked it all again (nothing is published nor sent before)."""
    call = db.get_or_404(Call, call_id)
    form = PublishForm()
    error, acknowledged = None, set()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        acknowledged = set(request.form.getlist("ack"))
        try:
            count = services.publish_decisions(call, current_user, acknowledged=acknowledged,
                                               fingerprint=form.fingerprint.data or "-")
        except services.DecisionError as refusal:
            error = str(refusal)
        else:
            if not count:
                flash("Aucune décision en brouillon à publier.", "info")
                return redirect(url_for("selection.ranking", call_id=call.id))
            flash(f"{count} décision(s) publiée(s). Les courriers sont prêts en brouillon : relisez-les, "
                  f"puis envoyez-les.", "success")
            return redirect(url_for("selection.mails", call_id=call.id))
    publication = mails.publication(call)
    form.fingerprint.data = publication.fingerprint
    return render_template("selection/publish.html", call=call, form=form, publication=publication,
                           error=error, acknowledged=acknowledged), 422 if error else 200


@bp.route("/appels/<int:call_id>/courriers", endpoint="mails")
@staff_required
def mails_page(call_id):
    call = db.get_or_404(Call, call_id)
    to_send, held, sent = mails.call_mails(call)
    return render_template("selection/mails.html", call=call, to_send=to_send, held=held, sent=sent,
                           message_count=mails.message_count(to_send), hold_form=ConfirmForm())


def _mail_or_404(call, mail_id):
    mail = db.session.get(DecisionMail, mail_id)
    if mail is None or mail.application.call_id != call.id:
        abort(404)
    return mail


@bp.route("/appels/<int:call_id>/courriers/<int:mail_id>", methods=["GET", "POST"])
@staff_required
def edit_mail(call_id, mail_id):
    """Read and rewrite one draft; « Mettre de côté » / « Remettre dans l'envoi » (action)."""
    call = db.get_or_404(Call, call_id)
    mail = _mail_or_404(call, mail_id)
    action = request.form.get("action", "")
    if request.method == "POST" and action in ("hold", "release"):
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            mails.set_held(mail, current_user, action == "hold")
        except services.DecisionError as refusal:
            flash(str(refusal), "error")
        else:
            flash(f"Le courrier du dossier {mail.application.reference} est "
                  + ("mis de côté : il ne partira pas avec les autres." if action == "hold"
                     else "remis dans l'envoi."), "success")
        if request.form.get("back") == "list":
            return redirect(url_for("selection.mails", call_id=call.id))
        return redirect(url_for("selection.edit_mail", call_id=call.id, mail_id=mail.id))
    form = MailForm(obj=mail if request.method == "GET" else None)
    if request.method == "POST" and form.validate_on_submit():
        try:
            mails.update_mail(mail, current_user, form.subject.data, form.body.data)
        except services.DecisionError as refusal:
            flash(str(refusal), "error")
        else:
            flash(f"Le courrier du dossier {mail.application.reference} est enregistré.", "success")
            return redirect(url_for("selection.mails", call_id=call.id))
    recipients = mails.recipients_by_association([mail.application.association]).get(
        mail.application.association_id, []) if mail.sent_at is None else mail.recipients
    return render_template("selection/mail.html", call=call, mail=mail, form=form, recipients=recipients,
                           hold_form=ConfirmForm())


@bp.route("/appels/<int:call_id>/courriers/envoyer", methods=["GET", "POST"])
@staff_required
def send_mails(call_id):
    """GET: the confirmation (which mails, how many messages, to whom); POST: send them."""
    call = db.get_or_404(Call, call_id)
    form = SendMailsForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            sent, messages = mails.send_mails(call, current_user, form.fingerprint.data or "-")
        except services.DecisionError as refusal:
            flash(str(refusal), "error")
            return redirect(url_for("selection.send_mails", call_id=call.id))
        flash(f"{sent} courrier(s) envoyé(s) : {messages} message(s) partent vers les associations.", "success")
        return redirect(url_for("selection.mails", call_id=call.id))
    to_send, held, _ = mails.call_mails(call)
    form.fingerprint.data = mails.mails_fingerprint(to_send)
    recipients = mails.recipients_by_association({m.application.association for m in to_send})
    return render_template("selection/send_mails.html", call=call, form=form, to_send=to_send, held=held,
                           recipients=recipients, message_count=mails.message_count(to_send))
