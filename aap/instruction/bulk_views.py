"""Messages to many files, as drafts first: thin; aap/instruction/bulk.py prepares and sends."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db
from ..models import Call
from ..models.applications import SELECTED
from ..permissions import staff_required
from . import bp, bulk
from .forms import BulkMessageForm


@bp.route("/instruction/appels/<int:call_id>/messages", methods=["GET", "POST"])
@staff_required
def bulk_messages(call_id):
    """GET: the form. POST « apercu »: the drafts, one per file, with their count and the
    confirmation. POST « envoyer »: sent if the drafts are those previewed."""
    call = db.get_or_404(Call, call_id)
    form = BulkMessageForm().for_call(call)
    if request.method == "GET":
        asked = request.args.get("cible")
        form.cible.data = asked if asked in bulk.targets(call) else str(SELECTED)
        return _page(call, form)
    if not form.validate_on_submit():
        return _page(call, form, status=400)
    target, subject, body = form.cible.data, form.objet.data, form.texte.data
    if request.form.get("action") == "envoyer":
        try:
            sent = bulk.send(call, current_user, target, subject, body, form.empreinte.data)
        except bulk.BulkMessageError as refusal:
            form.show_refusal(refusal)
            if "fingerprint" not in refusal.errors:
                return _page(call, form, status=400)
        else:
            flash(_sent_message(sent), "success")
            return redirect(url_for("instruction.applications", call_id=call.id))
    try:
        drafts = bulk.drafts(call, target, subject, body)
    except bulk.BulkMessageError as refusal:
        form.show_refusal(refusal)
        return _page(call, form, status=400)
    form.empreinte.data = bulk.fingerprint(drafts)
    return _page(call, form, drafts=drafts, status=409 if form.errors else 200)


def _page(call, form, drafts=None, status=200):
    return render_template("instruction/bulk_messages.html", call=call, form=form, drafts=drafts,
                           placeholders=bulk.PLACEHOLDERS), status


def _plural(count, word):
    return f"{count} {word}{'s' if count > 1 else ''}"


def _sent_message(sent):
    held = (f", {_plural(sent.held, 'e-mail')} non envoyé{'s' if sent.held > 1 else ''} (limite de messages "
            "atteinte pour ce destinataire)") if sent.held else ""
    return (f"{_plural(sent.messages, 'message')} envoyé{'s' if sent.messages > 1 else ''} : chacun figure dans la "
            f"messagerie de son dossier ; {_plural(sent.mails, 'e-mail')} mis en file d'envoi{held}.")
