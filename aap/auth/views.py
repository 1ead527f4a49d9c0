from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, login_manager
from ..models import User
from ..models.users import ADMIN, ROLE_LABELS
from ..permissions import admin_required, staff_required
from . import bp, services, team
from .forms import (
    EmailOnlyForm,
    InvitationAcceptForm,
    InviteForm,
    LoginForm,
    NewPasswordForm,
    RoleForm,
    SignupForm,
    TeamActionForm,
)
from .tokens import read_token


@login_manager.user_loader
def load_user(session_id):
    """The account of a session id "id:auth_version:session_version" (User.get_id), or None
    when it was ended (User.end_sessions, a password change) or the account is deactivated."""
    parts = session_id.split(":")
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() and len(part) <= 18 for part in parts):
        return None
    user_id, auth_version, session_version = map(int, parts)
    user = db.session.get(User, user_id)
    if (user is None or user.auth_version != auth_version or user.session_version != session_version
            or not user.active):
        return None
    return user


def safe_next(target):
    """Only a local path is accepted as a destination after login.

    Browsers ignore tabs and newlines in URLs and read a backslash as a slash, so a
    path such as slash-tab-slash-host or slash-backslash-host would lead to another
    site: any whitespace, control character or backslash is refused.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data,
                                         request.remote_addr or "unknown", current_app.config)
        except services.AuthError as refusal:
            error = str(refusal)
        else:
            target = safe_next(request.args.get("next"))
            session.clear()  # a fresh session at login
            login_user(user)
            flash(f"Bienvenue, {user.full_name}.", "success")
            return redirect(target or url_for("main.dashboard"))
    return render_template("auth/login.html", form=form, error=error)


@bp.route("/deconnexion", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        services.log_out(current_user._get_current_object())  # every copy of the session cookie too
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("main.index"))


@bp.route("/inscription", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = SignupForm()
    if form.validate_on_submit():
        services.sign_up(form.email.data, form.password.data, form.first_name.data,
                         form.last_name.data, form.association_name.data)
        return render_template("auth/check_email.html", email=services.normalise_email(form.email.data))
    return render_template("auth/signup.html", form=form)


@bp.route("/inscription/confirmer/<token>")
def confirm(token):
    user = read_token(token, "confirm")
    if user is None:
        flash("Ce lien de confirmation n'est pas valide ou a expiré. Demandez-en un nouveau.", "error")
        return redirect(url_for("auth.resend"))
    services.confirm_email(user)
    flash("Votre adresse e-mail est confirmée. Vous pouvez vous connecter.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/inscription/nouveau-lien", methods=["GET", "POST"])
def resend():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        services.resend_confirmation(form.email.data)
        flash("Si un compte non confirmé existe pour cette adresse, un nouveau lien vient d'y être envoyé.", "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/email_form.html", form=form, title="Recevoir un nouveau lien de confirmation",
                           button="Envoyer le lien")


@bp.route("/mot-de-passe/oublie", methods=["GET", "POST"])
def forgot():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        flash("Si un compte existe pour cette adresse, un lien de réinitialisation valable une heure "
              "vient d'y être envoyé.", "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/email_form.html", form=form, title="Mot de passe oublié",
                           button="Recevoir un lien de réinitialisation")


@bp.route("/mot-de-passe/reinitialiser/<token>", methods=["GET", "POST"])
def reset(token):
    user = read_token(token, "reset")
    if user is None:
        flash("Ce lien de réinitialisation n'est pas valide, a expiré ou a déjà servi. Demandez-en un nouveau.",
              "error")
        return redirect(url_for("auth.forgot"))
    form = NewPasswordForm(owner=user)
    if form.validate_on_submit():
        services.set_password(user, form.password.data)
        logout_user()
        session.clear()
        flash("Votre mot de passe a été modifié. Connectez-vous avec le nouveau mot de passe.", "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/password_form.html", form=form, title="Choisir un nouveau mot de passe")


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    user = read_token(token, "invite")
    if user is None or user.password_hash:
        flash("Ce lien d'invitation n'est pas valide, a expiré ou a déjà servi.", "error")
        return redirect(url_for("auth.login"))
    form = InvitationAcceptForm(owner=user)
    if form.validate_on_submit():
        services.set_password(user, form.password.data, action="invitation_accepted")
        session.clear()
        login_user(user)
        flash("Votre compte est activé. Bienvenue sur AAP.", "success")
        return redirect(url_for("main.dashboard"))
    return render_template("auth/password_form.html", form=form, invited=user,
                           title="Activer votre compte")


@bp.route("/equipe/inviter", methods=["GET", "POST"])
@staff_required
def invite():
    form = InviteForm(allow_admin=current_user.role == ADMIN)
    error = None
    if form.validate_on_submit():
        try:
            services.invite(current_user, form.email.data, form.first_name.data, form.last_name.data,
                            form.role.data, form.region_code.data)
        except services.AuthError as refusal:
            error = str(refusal)
            form.email.errors = [error]
        else:
            # The same answer when the address already has an account (its owner is told by e-mail).
            flash(f"Invitation envoyée à {services.normalise_email(form.email.data)}.", "success")
            return redirect(url_for("auth.invite"))
    return render_template("auth/invite.html", form=form, accounts=team.team_accounts(), error=error,
                           may_manage_invitation=team.may_manage_invitation)


# --- managing the team's accounts (aap/auth/team.py): a confirmation page, then a POST -----------

TEAM_ACTIONS = {
    "deactivate": ("Désactiver le compte", "Désactiver le compte", team.deactivate),
    "reactivate": ("Réactiver le compte", "Réactiver le compte", team.reactivate),
    "role": ("Changer le rôle", "Changer le rôle", team.change_role),
    "resend": ("Renvoyer l'invitation", "Renvoyer l'invitation", team.resend_invitation),
    "cancel": ("Annuler l'invitation", "Annuler l'invitation", team.cancel_invitation),
}


def _team_action(user_id, action):
    user = team.team_account(user_id)
    if user is None:
        abort(404)
    if action in ("resend", "cancel"):
        if not team.may_manage_invitation(current_user, user):
            abort(404)
        form = TeamActionForm()
    elif action == "role":
        form = RoleForm()
    else:
        form = TeamActionForm()
    title, button, service = TEAM_ACTIONS[action]
    error, status = None, 200
    if form.validate_on_submit():
        name, email = user.full_name, user.email  # (a cancelled invitation's account is deleted)
        try:
            if action == "role":
                freed = service(user, current_user, form.role.data, form.confirmation.data)
            else:
                freed = service(user, current_user, form.confirmation.data)
        except team.TeamError as refusal:
            error, status = str(refusal), 409 if isinstance(refusal, team.StaleConfirmation) else 422
        else:
            flash(_done_message(action, name, email, freed, form), "success")
            return redirect(url_for("auth.invite", _anchor="equipe"))
    elif request.method == "POST":
        status = 422
    pending = team.pending_reviews(user)
    form.confirmation.data = team.fingerprint(user, pending)
    if action == "role" and request.method == "GET":
        form.role.data = user.role
    return render_template("auth/team_action.html", form=form, user=user, action=action, title=title, button=button,
                           pending=pending, error=error, blocked=team.refusal(user, action, current_user),
                           pending_invitation=team.is_pending(user),
                           invite_days=current_app.config["TOKEN_MAX_AGE"]["invite"] // 86400), status


def _done_message(action, name, email, freed, form):
    freed_text = (f" {len(freed)} dossier{'s' if len(freed) > 1 else ''} sans son évaluation "
                  f"{'sont' if len(freed) > 1 else 'est'} à réaffecter : {', '.join(freed)}." if freed else "")
    return {
        "deactivate": f"Le compte de {name} est désactivé : ses sessions sont fermées.{freed_text}",
        "reactivate": f"Le compte de {name} est réactivé : {name} peut de nouveau se connecter.",
        "role": (f"{name} a désormais le rôle « "
                 f"{ROLE_LABELS.get(getattr(form, 'role', None) and form.role.data, '')} » : "
                 f"ses sessions sont fermées.{freed_text}"),
        "resend": f"Une nouvelle invitation est envoyée à {email} ; le lien précédent ne fonctionne plus.",
        "cancel": f"L'invitation de {name} ({email}) est annulée : son lien ne fonctionne plus.",
    }[action]


@bp.route("/equipe/comptes/<int:user_id>/desactiver", methods=["GET", "POST"])
@admin_required
def deactivate_user(user_id):
    return _team_action(user_id, "deactivate")


@bp.route("/equipe/comptes/<int:user_id>/reactiver", methods=["GET", "POST"])
@admin_required
def reactivate_user(user_id):
    return _team_action(user_id, "reactivate")


@bp.route("/equipe/comptes/<int:user_id>/role", methods=["GET", "POST"])
@admin_required
def change_role(user_id):
    return _team_action(user_id, "role")


@bp.route("/equipe/comptes/<int:user_id>/invitation/renvoyer", methods=["GET", "POST"])
@staff_required
def resend_invitation(user_id):
    return _team_action(user_id, "resend")


@bp.route("/equipe/comptes/<int:user_id>/invitation/annuler", methods=["GET", "POST"])
@staff_required
def cancel_invitation(user_id):
    return _team_action(user_id, "cancel")


@bp.route("/compte")
@login_required
def account():
    return render_template("auth/account.html")
