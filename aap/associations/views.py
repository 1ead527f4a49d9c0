"""The association's pages (its members only) and the staff's read-only view."""
from flask import abort, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_user, logout_user

from ..extensions import db
from ..models import Association
from ..permissions import applicant_required, staff_required
from ..referentiel import DEPARTEMENT_BY_CODE, REGION_BY_CODE
from . import bp, services
from .forms import BankForm, IdentityForm, InviteMemberForm, JoinForm

# Service error keys that are not the name of a form field.
FIELD_OF = {"annual_budget_cents": "annual_budget", "region_code": "departement_code"}


@bp.app_template_filter("iban")
def iban_filter(value):
    return services.group_iban(value)


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
    form = BankForm(data=BankForm.initial(association))
    if form.validate_on_submit():
        try:
            changed = services.update_bank(association, form.iban.data, form.bic.data,
                                           form.account_holder.data, current_user)
        except services.AssociationError as refusal:
            _show_refusal(form, refusal, "iban")
        else:
            flash("Les coordonnées bancaires sont enregistrées." if changed else "Aucune modification à enregistrer.",
                  "success" if changed else "info")
            return redirect(url_for("associations.bank"))
    return render_template("associations/bank.html", form=form, association=association,
                           history=services.bank_history(association))


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
                           pending=services.pending_invitations(association, people))


@bp.route("/association/rejoindre/<token>", methods=["GET", "POST"])
def join(token):
    try:
        association, email = services.check_member_token(token)
    except services.AssociationError as refusal:
        return render_template("associations/join_refused.html", message=str(refusal)), 400
    form = JoinForm()
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


@bp.route("/instruction/associations/<int:association_id>")
@staff_required
def staff_view(association_id):
    association = db.get_or_404(Association, association_id)
    return render_template("associations/staff_view.html", association=association,
                           members=services.members_of(association),
                           history=services.bank_history(association))
