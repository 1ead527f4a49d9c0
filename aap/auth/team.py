"""Managing the team's accounts (reviewers, staff, administrators): deactivate and reactivate,
change a role, resend or cancel an invitation.

The only place that changes a team account after its invitation (aap/auth/services.invite).
Each action is shown first on a confirmation page that says what will happen; the page carries
a fingerprint of what it announced (`fingerprint`), and the action refuses to run if the
account or its pending reviews changed meanwhile (StaleConfirmation): the warning read is the
one acted upon. Every action is recorded (the audit journal, aap/main/audit.py).

Sessions: User's ORM listener ends every session of an account whose `active` or `role`
changes (aap/models/users.py); deactivation also voids its pending e-mailed links.
Pending reviews: an account that stops being an active reviewer (deactivated, or given another
role) leaves the files it had not reviewed yet; its assignments there are removed (with its
draft reviews) so that the files show again among those lacking reviewers (« À compléter »).
"""
import hashlib
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.orm import joinedload

from ..events import record
from ..extensions import db
from ..mail import mail_limit_reached, queue_mail
from ..models import Application, Assignment, Review, User
from ..models.review import REVIEW_SUBMITTED
from ..models.users import ADMIN, APPLICANT, REVIEWER, ROLE_LABELS, STAFF
from ..urls import absolute_url
from .tokens import make_token

TEAM_ROLES = (REVIEWER, STAFF, ADMIN)
LAST_ADMIN = ("{name} est le dernier administrateur actif : nommez d'abord un autre administrateur, "
              "sans quoi plus personne ne pourrait gérer l'équipe.")
STALE = ("La situation a changé depuis l'affichage de cette page (le compte ou ses évaluations en cours) : "
         "vérifiez ce qui va se passer avant de confirmer.")
INVITED_RECENTLY = ("Une invitation a déjà été envoyée plusieurs fois à {email} dans l'heure : "
                    "pour éviter les envois répétés, réessayez plus tard.")


class TeamError(Exception):
    """A refusal to show to the user (French message)."""


class StaleConfirmation(TeamError):
    def __init__(self):
        super().__init__(STALE)


@dataclass(frozen=True)
class PendingReview:
    """A file assigned to the account whose review it has not sent."""
    assignment: Assignment
    application: Application
    has_draft: bool


# --- reading ----------------------------------------------------------------------------------

def team_accounts():
    """Every account but the associations' members: pending invitations first, then by name."""
    return db.session.scalars(
        db.select(User).where(User.role != APPLICANT)
        .order_by(User.password_hash.is_not(None), User.active.desc(), User.last_name, User.first_name,
                  User.id)).all()


def team_account(user_id):
    """A team account, or None (an association's member is not one)."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.role in TEAM_ROLES else None


def is_pending(user):
    """An invitation not accepted yet: an account without a password."""
    return user.password_hash is None


def may_manage_invitation(actor, user):
    """Who may resend or cancel an invitation: whoever may send it (services.invite)."""
    return actor.role == ADMIN or (actor.role == STAFF and user.role in (REVIEWER, STAFF))


def pending_reviews(user):
    """The files assigned to the account that can still be reassigned (admissible or in review)
    and whose review it has not sent, by reference (two queries)."""
    from ..review.states import ASSIGNABLE_STATES
    rows = db.session.execute(
        db.select(Assignment, Application)
        .join(Application, Application.id == Assignment.application_id)
        .options(joinedload(Application.association))
        .where(Assignment.reviewer_id == user.id, Application.status.in_(ASSIGNABLE_STATES))
        .order_by(Application.reference, Application.id)).all()
    if not rows:
        return []
    reviews = dict(db.session.execute(
        db.select(Review.application_id, Review.status)
        .where(Review.reviewer_id == user.id, Review.application_id.in_([a.id for _, a in rows]))).all())
    return [PendingReview(assignment, application, application.id in reviews)
            for assignment, application in rows if reviews.get(application.id) != REVIEW_SUBMITTED]


def fingerprint(user, pending=None):
    """What a confirmation page announced about the account: its role, state, links, pending
    reviews. Posted back with the confirmation and compared (check_fingerprint)."""
    pending = pending_reviews(user) if pending is None else pending
    text = "|".join([str(user.id), user.role, str(user.active), str(user.auth_version),
                     str(bool(user.password_hash)), ",".join(str(p.assignment.id) for p in pending)])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def check_fingerprint(user, given):
    if not given or given != fingerprint(user):
        raise StaleConfirmation()


def active_admins(excluding=None):
    statement = db.select(func.count(User.id)).where(User.role == ADMIN, User.active.is_(True),
                                                     User.password_hash.is_not(None))
    if excluding is not None:
        statement = statement.where(User.id != excluding.id)
    return db.session.scalar(statement)


def last_admin(user):
    """True when the account is the last active administrator."""
    return user.role == ADMIN and user.active and not is_pending(user) and active_admins(excluding=user) == 0


def refusal(user, action, actor):
    """Why `action` cannot be done on this account now (French), or None; shown on the
    confirmation page instead of its button, and checked again by the action itself."""
    if action == "deactivate":
        if not user.active:
            return f"Le compte de {user.full_name} est déjà désactivé."
        if is_pending(user):
            return f"{user.full_name} n'a pas encore activé son compte : annulez plutôt son invitation."
        if last_admin(user):
            return LAST_ADMIN.format(name=user.full_name)
    elif action == "reactivate":
        if user.active:
            return f"Le compte de {user.full_name} est actif."
    elif action == "role":
        if last_admin(user):
            return LAST_ADMIN.format(name=user.full_name)
    elif action in ("resend", "cancel"):
        if not is_pending(user) or not user.active:
            return f"{user.full_name} a déjà activé son compte : il n'y a pas d'invitation en attente."
        if not may_manage_invitation(actor, user):
            return "Seul un administrateur peut gérer l'invitation d'un administrateur."
    return None


def _check(user, action, actor, confirmation):
    check_fingerprint(user, confirmation)
    problem = refusal(user, action, actor)
    if problem:
        raise TeamError(problem)


# --- acting -----------------------------------------------------------------------------------

def _free_pending_reviews(user, actor, reason):
    """Remove the account's assignments on the files it has not reviewed (its draft reviews
    with them), record each removal on its file, and put each file back in line with its
    reviews (in review → admissible when nobody is left). Returns the freed references."""
    from ..review.states import refresh_state
    freed = []
    for item in pending_reviews(user):
        review = db.session.scalar(db.select(Review).where(
            Review.application_id == item.application.id, Review.reviewer_id == user.id))
        if review is not None:
            db.session.delete(review)
        db.session.delete(item.assignment)
        db.session.flush()
        record("reviewer_unassigned", actor=actor, application=item.application, reviewer_id=user.id,
               draft_deleted=review is not None, reason=reason)
        refresh_state(item.application, actor)
        freed.append(item.application.reference)
    return freed


def deactivate(user, actor, confirmation):
    """Close a team account: its sessions end at once, its e-mailed links stop working, its files
    not reviewed yet are freed for reassignment; its history stays. Returns the freed references."""
    _check(user, "deactivate", actor, confirmation)
    freed = _free_pending_reviews(user, actor, "Compte de l'évaluateur désactivé.")
    user.active = False  # (the listener ends the sessions and voids the links)
    record("user_deactivated", actor=actor, user_id=user.id, email=user.email, role=user.role, freed=freed)
    db.session.commit()
    return freed


def reactivate(user, actor, confirmation):
    """Open a deactivated account again: its owner signs in with their password (or asks for a
    reset link); a reviewer gets files again only when staff assign them."""
    _check(user, "reactivate", actor, confirmation)
    user.active = True
    record("user_reactivated", actor=actor, user_id=user.id, email=user.email, role=user.role)
    db.session.commit()


def change_role(user, actor, role, confirmation):
    """Give the account another role: its sessions end (it signs in again with its new rights);
    leaving the reviewer role frees its files not reviewed yet. Returns the freed references."""
    _check(user, "role", actor, confirmation)
    if role not in TEAM_ROLES:
        raise TeamError("Choisissez un rôle de la liste.")
    if role == user.role:
        raise TeamError(f"{user.full_name} a déjà le rôle « {ROLE_LABELS[role]} ».")
    freed = []
    if user.role == REVIEWER:
        freed = _free_pending_reviews(user, actor, "Évaluateur devenu « " + ROLE_LABELS[role] + " ».")
    old_role = user.role
    user.role = role  # (the listener ends the sessions)
    record("user_role_changed", actor=actor, user_id=user.id, email=user.email, old_role=old_role, role=role,
           freed=freed)
    db.session.commit()
    return freed


def resend_invitation(user, actor, confirmation):
    """A fresh invitation link, valid TOKEN_MAX_AGE["invite"]; the links sent before stop
    working (tokens carry auth_version). Counted with the invitations (MAIL_LIMITS["invite"])."""
    _check(user, "resend", actor, confirmation)
    if mail_limit_reached(user.email, "invite"):
        raise TeamError(INVITED_RECENTLY.format(email=user.email))
    user.auth_version = (user.auth_version or 0) + 1
    link = absolute_url("auth.accept_invitation", token=make_token(user, "invite"))
    queue_mail(user.email, "Invitation à rejoindre AAP « 1 jeune 1 mentor »", "invite", kind="invite",
               user=user, inviter=actor, link=link)
    record("invitation_resent", actor=actor, invited_user_id=user.id, email=user.email, role=user.role)
    db.session.commit()


def cancel_invitation(user, actor, confirmation):
    """Delete the account of an invitation never accepted (it has no history of its own: it never
    signed in); its link stops working and the address may be invited again. Recorded."""
    _check(user, "cancel", actor, confirmation)
    record("invitation_cancelled", actor=actor, email=user.email, role=user.role, person=user.full_name)
    db.session.delete(user)
    db.session.commit()

