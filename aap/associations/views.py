"""The association's pages (its members only) and the staff's view (bank change requests)."""
from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from .. import timeutil
from ..applications import files, reuse
from ..applications.attachments import size_label
from ..applications.errors import AttachmentError
from ..database import writing
from ..extensions import db
from ..instruction import notes
from ..models import Association, User
from ..models.users import APPLICANT
from ..permissions import applicant_required, get_association_document_or_404, get_bank_request_or_404, staff_required
from ..referentiel import DEPARTEMENT_BY_CODE, REGION_BY_CODE
from . import bank as bank_details
from . import bp, queries, services
from .forms import (
    BankForm,
    ConfirmMemberActionForm,
    IdentityForm,
    InviteMemberForm,
    JoinForm,
    RefuseBankRequestForm,
    RepresentativeForm,
    ValidateBankRequestForm,
)

# Service error keys that are not the name of a form field.
FIELD_OF = {"annual_budget_cents": "annual_budget", "region_code": "departement_code"}


@bp.context_processor
def _territory_helpers():
    def departement_label(code):
        departement = DEPARTEMENT_BY_CODE.get(code or "")
        return f"{departement.name} ({departement.code})" if departement else ""

    def region_label(code):
        region = REGION_BY_CODE.get(code or "")
        return region.name if region else ""
    return {"departement_label": departement_label, "region_label": region_label}


def _own_association():
    association = current_user.association
    if association is None:
        abort(404)
    return association


def _show_refusal(form, refusal, default_field):
    """Put a service's refusal next to the fields it names (or next to default_field)."""
    errors = refusal.errors or {default_field: str(refusal)}
    for key, message in errors.items():
        name = FIELD_OF.get(key, key)
        if name in form:
            form[name].errors = list(form[name].errors) + [message]


@bp.route("/association", methods=["GET", "POST"])
@applicant_required
def identity():
    association = _own_association()
    form = IdentityForm(data=IdentityForm.initial(association))
    if form.validate_on_submit():
        try:
            changed = services.update_identity(association, form.to_data(), current_user)
        except services.AssociationError as refusal:
            _show_refusal(form, refusal, "name")
        else:
            flash("L'identité de l'association est enregistrée." if changed else "Aucune modification à enregistrer.",
                  "success" if changed else "info")
            return redirect(url_for("associations.identity"))
    return render_template("associations/identity.html", form=form, association=association,
                           missing=services.identity_missing(association))


@bp.route("/association/banque", methods=["GET", "POST"])
@applicant_required
def bank():
    association = _own_association()
    gated = bank_details.requires_validation(association)
    form = BankForm(data=BankForm.initial(association))
    if form.validate_on_submit():
        rib = form.rib.data if gated and form.rib.data else None
        try:
            change = bank_details.change_bank_details(
                association, current_user, form.password.data, form.iban.data, form.bic.data,
                form.account_holder.data, rib.filename if rib else None, rib.stream if rib else None)
        except services.AssociationError as refusal:
            _show_refusal(form, refusal, "iban")
        else:
            if change.request is not None:
                flash("Votre demande de modification des coordonnées bancaires est transmise à la DJEPVA. Les "
                      "coordonnées actuelles restent celles des versements jusqu'à sa validation.", "success")
            elif change.applied:
                flash("Les coordonnées bancaires sont enregistrées.", "success")
            else:
                flash("Aucune modification à enregistrer.", "info")
            return redirect(url_for("associations.bank"))
    return render_template("associations/bank.html", form=form, association=association, gated=gated,
                           rib_limit=bank_details.rib_size_limit(),
                           bank_request=bank_details.latest_request(association),
                           history=bank_details.history(association, current_user))


@bp.route("/coordonnees-bancaires/demandes/<int:bank_request_id>/rib")
@login_required
def bank_request_rib(bank_request_id):
    """The RIB of a request: the association's members and staff only (404 for anyone else)."""
    request = get_bank_request_or_404(bank_request_id)
    path = bank_details.rib_path(request)
    if not path.exists():
        abort(404)
    with writing():
        bank_details.record_rib_download(request, current_user)
    return send_file(path, mimetype=request.rib_content_type, as_attachment=True,
                     download_name=bank_details.rib_download_name(request), max_age=0, etag=False,
                     last_modified=None)


# --- « Mes documents »: the pieces kept from one call to the next (aap/applications/reuse.py) ---

@bp.app_template_global()
def kept_piece_url(piece):
    """Where a kept piece is downloaded: its application's piece, or the file sent on « Mes documents »."""
    if piece.from_application:
        return url_for("applications.attachment", application_id=piece.source.application_id,
                       attachment_id=piece.source.id)
    return url_for("associations.document_file", association_document_id=piece.source.id)


def _documents_page(association, errors=None, status=200):
    html = render_template("associations/documents.html", association=association,
                           pieces=reuse.kept_pieces(association.id), labels=reuse.REUSABLE_DOCUMENTS,
                           kinds=files.KINDS, errors=errors or {}, now=timeutil.now(),
                           max_file_label=size_label(current_app.config["MAX_FILE_SIZE"]))
    return make_response(html, status)


@bp.route("/association/documents", endpoint="documents")
@applicant_required
def documents_page():
    return _documents_page(_own_association())


@bp.route("/association/documents/envoyer", methods=["POST"])
@applicant_required
def upload_document():
    association = _own_association()
    code = request.form.get("code", "")
    if code not in reuse.REUSABLE_DOCUMENTS:
        flash("Choisissez le type de pièce à envoyer.", "error")
        return redirect(url_for("associations.documents"), 303)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _documents_page(association, {code: "Choisissez un fichier à envoyer."}, 400)
    try:
        reuse.add_document(association, code, upload.filename, upload.stream, current_user)
    except AttachmentError as refusal:
        return _documents_page(association, {code: refusal.message}, 400)
    flash(f"Pièce « {reuse.REUSABLE_DOCUMENTS[code]} » enregistrée dans vos documents.", "success")
    return redirect(url_for("associations.documents", _anchor=f"document-{code}"), 303)


@bp.route("/association/documents/<int:association_document_id>")
@login_required
def document_file(association_document_id):
    """A file sent on « Mes documents »: the association's members and staff only (404 for anyone else)."""
    document = get_association_document_or_404(association_document_id)
    path = files.path_of(document.stored_name)
    if not path.exists():
        abort(404)
    reuse.record_document_download(document, current_user)
    return send_file(path, mimetype=document.content_type, as_attachment=True, download_name=document.download_name,
                     max_age=0, etag=False, last_modified=None)


@bp.route("/association/membres", methods=["GET", "POST"])
@applicant_required
def members():
    association = _own_association()
    form = InviteMemberForm()
    if form.validate_on_submit():
        try:
            email = services.invite_member(association, current_user, form.email.data)
        except services.AssociationError as refusal:
            _show_refusal(form, refusal, "email")
        else:
            flash(f"Invitation envoyée à {email}. Le lien reçu par e-mail permet de créer son compte.", "success")
            return redirect(url_for("associations.members"))
    people = services.members_of(association)
    return render_template("associations/members.html", form=form, association=association, members=people,
                           pending=services.pending_invitations(association, people),
                           history=services.member_history(association))


def _member_of_own(member_id):
    """A member of the user's own association (404 for anyone else: another association's
    member, a member already removed)."""
    association = _own_association()
    member = db.session.get(User, member_id)
    if (member is None or member.role != APPLICANT or member.association_id != association.id
            or not member.active):
        abort(404)
    return association, member


@bp.route("/association/membres/<int:member_id>/retirer", methods=["GET", "POST"])
@applicant_required
def remove_member(member_id):
    association, member = _member_of_own(member_id)
    form = ConfirmMemberActionForm()
    error, status = None, 200
    if form.validate_on_submit():
        himself = member.id == current_user.id
        try:
            services.remove_member(association, current_user, member)
        except services.AssociationError as refusal:
            error, status = str(refusal), 422
        else:
            if himself:  # (the session is already ended: User.end_sessions)
                logout_user()
                session.clear()
                flash(f"Vous avez quitté l'association {association.name} : votre compte est fermé.", "info")
                return redirect(url_for("main.index"))
            flash(f"{member.full_name} n'est plus membre de l'association : son compte est fermé.", "success")
            return redirect(url_for("associations.members"))
    elif request.method == "POST":
        status = 422
    return render_template("associations/member_action.html", form=form, association=association, member=member,
                           kind="remove", error=error, blocked=services.removal_refusal(association, member),
                           representative=member.legal_representative), status


@bp.route("/association/membres/invitations/<int:invitation_id>/annuler", methods=["GET", "POST"])
@applicant_required
def cancel_member_invitation(invitation_id):
    association = _own_association()
    invitation = next((p for p in services.pending_invitations(association, services.members_of(association))
                       if p.id == invitation_id), None)
    if invitation is None:
        abort(404)
    form = ConfirmMemberActionForm()
    if form.validate_on_submit():
        email = services.cancel_member_invitation(association, current_user, invitation.id)
        flash(f"L'invitation de {email} est annulée : son lien ne fonctionne plus.", "success")
        return redirect(url_for("associations.members"))
    return render_template("associations/member_action.html", form=form, association=association,
                           invitation=invitation, kind="cancel", error=None, blocked=None,
                           days=current_app.config["TOKEN_MAX_AGE"]["member"] // 86400), \
        422 if request.method == "POST" else 200


@bp.route("/association/membres/representant", methods=["GET", "POST"])
@applicant_required
def representative():
    association = _own_association()
    people = services.members_of(association)
    current = services.representative_of(association)
    form = RepresentativeForm(members=people)
    if request.method == "GET":
        form.function.data = association.representative_function
    if form.validate_on_submit():
        member = next((m for m in people if str(m.id) == form.member.data), None)
        try:
            services.hand_over_representative(association, current_user, member, form.function.data)
        except services.AssociationError as refusal:
            _show_refusal(form, refusal, "member")
        else:
            told = (f"{member.full_name} et {current.full_name} en sont prévenus"
                    if current is not None and current.id != member.id else f"{member.full_name} en est prévenu")
            flash(f"{member.full_name} est désormais le représentant légal de l'association "
                  f"({form.function.data.strip()}) ; {told} par e-mail.", "success")
            return redirect(url_for("associations.members"))
    return render_template("associations/representative.html", form=form, association=association,
                           current=current), 422 if form.errors else 200


@bp.route("/association/rejoindre/<token>", methods=["GET", "POST"])
def join(token):
    try:
        association, email = services.check_member_token(token)
    except services.AssociationError as refusal:
        return render_template("associations/join_refused.html", message=str(refusal)), 400
    form = JoinForm(email=email)
    if form.validate_on_submit():
        try:
            user = services.accept_member_invitation(token, form.first_name.data, form.last_name.data,
                                                     form.password.data)
        except services.AssociationError as refusal:
            if not refusal.errors:
                return render_template("associations/join_refused.html", message=str(refusal)), 400
            _show_refusal(form, refusal, "first_name")
        else:
            logout_user()
            session.clear()  # a fresh session for the new account
            login_user(user)
            flash(f"Bienvenue, {user.full_name} : votre compte est rattaché à l'association {association.name}.",
                  "success")
            return redirect(url_for("associations.identity"))
    return render_template("associations/join.html", form=form, association=association, email=email)


def _staff_page(association, validate_form=None, refuse_form=None, status=200):
    # Imported here: the documents' services import the applications' package, which imports this one.
    from ..documents.services import association_conventions
    return render_template(
        "associations/staff_view.html", association=association, members=services.members_of(association),
        requests=bank_details.requests_of(association), history=bank_details.history(association, current_user),
        conventions=association_conventions(association.id),
        kept_pieces=reuse.kept_pieces(association.id), now=timeutil.now(),
        file_lines=queries.files_across_calls(association.id),
        association_notes=notes.notes_on_association(association.id),
        validate_form=validate_form or ValidateBankRequestForm(),
        refuse_form=refuse_form or RefuseBankRequestForm()), status


@bp.route("/instruction/associations/<int:association_id>")
@staff_required
def staff_view(association_id):
    association = db.get_or_404(Association, association_id)
    return _staff_page(association)


def _request_of(association_id, bank_request_id):
    association = db.get_or_404(Association, association_id)
    request = bank_details.get_request(association.id, bank_request_id)
    if request is None:
        abort(404)
    return association, request


@bp.route("/instruction/associations/<int:association_id>/banque/demandes/<int:bank_request_id>/valider",
          methods=["POST"])
@staff_required
def validate_bank_request(association_id, bank_request_id):
    association, request = _request_of(association_id, bank_request_id)
    form = ValidateBankRequestForm()
    if form.validate_on_submit():
        try:
            bank_details.validate_request(request, current_user, form.checked.data)
        except services.AssociationError as refusal:
            _show_refusal(form, refusal, "checked")
        else:
            flash("Demande validée : les nouvelles coordonnées bancaires s'appliquent aux prochaines conventions "
                  "et aux versements. L'association et l'équipe sont prévenues.", "success")
            return redirect(url_for("associations.staff_view", association_id=association.id, _anchor="demandes"))
    return _staff_page(association, validate_form=form, status=422)


@bp.route("/instruction/associations/<int:association_id>/banque/demandes/<int:bank_request_id>/refuser",
          methods=["POST"])
@staff_required
def refuse_bank_request(association_id, bank_request_id):
    association, request = _request_of(association_id, bank_request_id)
    form = RefuseBankRequestForm()
    if form.validate_on_submit():
        try:
            bank_details.refuse_request(request, current_user, form.reason.data)
        except services.AssociationError as refusal:
            _show_refusal(form, refusal, "reason")
        else:
            flash("Demande refusée : l'association est prévenue, avec le motif. Ses coordonnées bancaires restent "
                  "inchangées.", "success")
            return redirect(url_for("associations.staff_view", association_id=association.id, _anchor="demandes"))
    return _staff_page(association, refuse_form=form, status=422)
