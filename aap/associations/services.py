"""Every change to an association: identity, bank details, members.

The only place that writes associations (and the accounts of invited members); records each
change in the history (events) and queues the e-mails; knows nothing of HTTP requests.
Each public function validates its input again (the forms do it first, with the same
messages) so that it is safe to call from anywhere, and commits.
"""
import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask import url_for
from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import timeutil
from ..auth import tokens
from ..auth.services import find_user, normalise_email
from ..events import record
from ..extensions import db
from ..mail import mail_limit_reached, queue_mail
from ..models import Association, Event, User
from ..models.associations import LEGAL_FORMS
from ..models.users import APPLICANT
from ..permissions import is_member
from ..referentiel import DEPARTEMENT_BY_CODE, departement_for_postal_code
from ..urls import absolute_url
from ..validators import PHONE_RE, check_password_strength, clean_rna, clean_siret
from . import legal

# French messages, shared with the forms.
NAME_REQUIRED = "Saisissez le nom de l'association."
POSTAL_FORMAT = "Le code postal comporte 5 chiffres, par exemple 69001."
POSTAL_UNKNOWN = ("Ce code postal ne correspond à aucun département français (métropole ou outre-mer). "
                  "Vérifiez-le.")
DEPARTEMENT_UNKNOWN = "Choisissez un département dans la liste."
LEGAL_FORM_UNKNOWN = "Choisissez une forme juridique dans la liste."
DATE_FUTURE = "La date de création ne peut pas être dans le futur."
DATE_TOO_OLD = "La date de création ne peut pas être antérieure à 1800."
COUNT_INVALID = "Saisissez un nombre entier positif ou nul, par exemple 12."
COUNT_TOO_LARGE = "Ce nombre est trop élevé."
PHONE_INVALID = "Saisissez un numéro de téléphone valide, par exemple 01 23 45 67 89."
EMAIL_INVALID = "Saisissez une adresse e-mail valide, par exemple contact@association.fr."
HOLDER_REQUIRED = "Saisissez le titulaire du compte, tel qu'il figure sur le RIB."
IBAN_REQUIRED = "Saisissez l'IBAN du compte de l'association."
BIC_REQUIRED = "Saisissez le BIC de la banque."
ALREADY_MEMBER = "{email} est déjà membre de votre association."
INVITED_RECENTLY = ("Une invitation a déjà été envoyée plusieurs fois à {email} dans l'heure : "
                    "pour éviter les envois répétés, réessayez plus tard.")
LINK_ACCOUNT_EXISTS = ("Un compte existe déjà avec l'adresse {email} : ce lien d'invitation ne peut plus "
                       "servir. Connectez-vous avec ce compte (ou utilisez « Mot de passe oublié »).")
LINK_EXPIRED = ("Ce lien d'invitation a expiré. Demandez à un membre de votre association de vous "
                "inviter à nouveau.")
LINK_CANCELLED = ("Cette invitation a été annulée par l'association. Demandez à l'un de ses membres de vous "
                  "inviter à nouveau si besoin.")
LAST_MEMBER = ("{name} est le seul membre de l'association : invitez d'abord un collègue, sans quoi plus "
               "personne ne pourrait gérer l'association et ses candidatures.")
REPRESENTATIVE_FUNCTION_REQUIRED = "Saisissez la fonction du représentant légal, par exemple Président."
LINK_INVALID = ("Ce lien d'invitation n'est pas valide. Vérifiez qu'il a été copié en entier, ou "
                "demandez une nouvelle invitation.")

MAX_COUNT = 1_000_000
MAX_INVITATIONS_PER_DAY = 20  # per association, against the use of the service to send spam
TOO_MANY_INVITATIONS = ("Votre association a déjà envoyé {n} invitations ces dernières 24 heures. "
                        "Réessayez demain.")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# The identity columns update_identity() may change, in the order of the form.
IDENTITY_FIELDS = (
    "name", "acronym", "legal_form", "rna", "register_court", "register_volume", "register_folio",
    "recognition_date", "recognition_reference", "siret", "address", "postal_code", "commune",
    "departement_code", "representative_name", "representative_function", "contact_email",
    "phone", "creation_date", "staff_count", "volunteer_count", "annual_budget_cents",
)
TEXT_LIMITS = {
    "name": 255, "acronym": 50, "address": 255, "commune": 120, "representative_name": 200,
    "representative_function": 120, "contact_email": 254, "phone": 30,
}


class AssociationError(ValueError):
    """A refusal to show to the user: a French message, and one message per field when known."""

    def __init__(self, message, errors=None):
        super().__init__(message)
        self.errors = errors or {}


# ---------------------------------------------------------------------------------------------
# Rules shared with the forms

def today_paris():
    return timeutil.to_paris(timeutil.now()).date()


def clean_postal_code(value):
    """A 5-digit postal code that maps to one of the 101 départements: (code, Departement)."""
    code = (value or "").strip().replace(" ", "")
    if not re.fullmatch(r"\d{5}", code):
        raise ValueError(POSTAL_FORMAT)
    departement = departement_for_postal_code(code)
    if departement is None:
        raise ValueError(POSTAL_UNKNOWN)
    return code, departement


def check_creation_date(value):
    if value is None:
        return None
    if value > today_paris():
        raise ValueError(DATE_FUTURE)
    if value < date(1800, 1, 1):
        raise ValueError(DATE_TOO_OLD)
    return value


def check_count(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(COUNT_INVALID)
    if value > MAX_COUNT:
        raise ValueError(COUNT_TOO_LARGE)
    return value


def check_phone(value):
    value = (value or "").strip()
    if value and not PHONE_RE.match(value):
        raise ValueError(PHONE_INVALID)
    return value


def check_email(value):
    value = (value or "").strip()
    if value and not EMAIL_RE.match(value):
        raise ValueError(EMAIL_INVALID)
    return value.lower()


def locate(postal_code, departement_code=None):
    """(département code, région code) of an address.

    The département chosen explicitly wins (for postal codes shared across a border);
    otherwise it is derived from the postal code. The région always follows the département.
    """
    departement = None
    if departement_code:
        departement = DEPARTEMENT_BY_CODE.get(departement_code)
        if departement is None:
            raise ValueError(DEPARTEMENT_UNKNOWN)
    elif postal_code:
        departement = departement_for_postal_code(postal_code)
    if departement is None:
        return None, None
    return departement.code, departement.region_code


def mask_iban(iban):
    """Everything but the last 4 characters hidden, for the history: never the full IBAN."""
    if not iban:
        return None
    compact = iban.replace(" ", "")
    return "*" * max(len(compact) - 4, 0) + compact[-4:]


# ---------------------------------------------------------------------------------------------
# Identity

def _clean_identity(association, data):
    unknown = set(data) - set(IDENTITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown identity fields: {sorted(unknown)}")
    errors, clean = {}, {}

    def attempt(key, function, *args):
        try:
            return function(*args)
        except ValueError as error:
            errors[key] = str(error)
            return None

    for key in TEXT_LIMITS:
        if key in data:
            value = (data[key] or "").strip()
            if len(value) > TEXT_LIMITS[key]:
                errors[key] = f"Ce champ ne peut pas dépasser {TEXT_LIMITS[key]} caractères."
            clean[key] = value
    if "name" in clean and not clean["name"]:
        errors["name"] = NAME_REQUIRED
    if "contact_email" in data:
        clean["contact_email"] = attempt("contact_email", check_email, data["contact_email"])
    if "phone" in data:
        clean["phone"] = attempt("phone", check_phone, data["phone"])
    if "legal_form" in data:
        if data["legal_form"] not in LEGAL_FORMS:
            errors["legal_form"] = LEGAL_FORM_UNKNOWN
        clean["legal_form"] = data["legal_form"]
    for key, cleaner in (("rna", clean_rna), ("siret", clean_siret)):
        if key in data:
            clean[key] = attempt(key, cleaner, data[key]) if data[key] else None
    for key in ("register_court", "register_volume", "register_folio", "recognition_reference"):
        if key in data:
            value = (data[key] or "").strip()
            clean[key] = (value.upper() if key == "register_volume" else value) or None
    if "recognition_date" in data:
        clean["recognition_date"] = data["recognition_date"]
    if "creation_date" in data:
        clean["creation_date"] = attempt("creation_date", check_creation_date, data["creation_date"])
    for key in ("staff_count", "volunteer_count", "annual_budget_cents"):
        if key in data:
            clean[key] = attempt(key, check_count if key != "annual_budget_cents" else _check_cents, data[key])
    if "postal_code" in data or "departement_code" in data:
        postal_code = data.get("postal_code", association.postal_code) or ""
        postal_code = postal_code.strip()
        if postal_code:
            result = attempt("postal_code", clean_postal_code, postal_code)
            postal_code = result[0] if result else postal_code
        clean["postal_code"] = postal_code
        location = attempt("departement_code", locate, postal_code if "postal_code" not in errors else "",
                           data.get("departement_code") or None)
        clean["departement_code"], clean["region_code"] = location or (None, None)
    if set(data) & {"legal_form", *legal.FIELDS, "postal_code", "departement_code"}:
        # The identifier of the legal form, on the identity as it will be (rna already checked);
        # the identifiers of another form are emptied.
        identity = legal.identity_of(association) | {k: v for k, v in clean.items() if k in legal.FIELDS}
        identity["legal_form"] = clean.get("legal_form", association.legal_form)
        for key in set(legal.FIELDS) - legal.relevant_fields(identity["legal_form"]):
            errors.pop(key, None)
            identity[key] = clean[key] = None
        departement = clean["departement_code"] if "departement_code" in clean else association.departement_code
        for key, message in legal.problems(identity, departement, today_paris()).items():
            errors.setdefault(key, message)
    if errors:
        raise AssociationError("L'identité de l'association contient des erreurs.", errors)
    return clean


def _check_cents(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("Le montant ne peut pas être négatif.")
    return value


def update_identity(association, data, actor):
    """Change the identity fields given in `data` (keys of IDENTITY_FIELDS; `departement_code`
    empty means « derived from the postal code »). Returns the names of the changed fields."""
    clean = _clean_identity(association, data)
    changed = []
    for key, value in clean.items():
        if getattr(association, key) != value:
            setattr(association, key, value)
            changed.append(key)
    if "representative_name" in changed:
        # Someone else is named: the member marked as the representative no longer is.
        for member in members_of(association):
            if member.legal_representative and member.full_name != association.representative_name:
                member.legal_representative = False
    if changed:
        record("association_updated", actor=actor, association_id=association.id, fields=changed)
    db.session.commit()
    return changed


def identity_missing(association):
    """What must be filled before an application can be submitted: [(label, url)]."""
    identity = lambda anchor: url_for("associations.identity", _anchor=anchor)  # noqa: E731
    bank = lambda anchor: url_for("associations.bank", _anchor=anchor)  # noqa: E731
    checks = [
        (association.name, "Nom de l'association", identity("name")),
        (association.siret, "Numéro SIRET", identity("siret")),
        *((None, label, identity(anchor)) for anchor, label in legal.missing(legal.identity_of(association))),
        (association.address, "Adresse du siège", identity("address")),
        (association.postal_code, "Code postal", identity("postal_code")),
        (association.commune, "Commune", identity("commune")),
        (association.representative_name and association.representative_function,
         "Représentant légal (nom et fonction)", identity("representative_name")),
        (association.contact_email, "Adresse e-mail de contact", identity("contact_email")),
        (association.iban, "IBAN", bank("iban")),
        (association.bic, "BIC", bank("bic")),
        (association.account_holder, "Titulaire du compte bancaire", bank("account_holder")),
    ]
    return [(label, url) for value, label, url in checks if not value]


# ---------------------------------------------------------------------------------------------
# Bank details: see bank.py (password, notices, requests validated by staff once selected).

# ---------------------------------------------------------------------------------------------
# Members

def make_member_token(association, email, invitation_id=0):
    """The link of an invitation; `invitation_id`, the id of its « member_invited » event, lets a
    later cancellation (or the removal of the member) void it."""
    return tokens.sign("member", {"a": association.id, "e": normalise_email(email), "i": invitation_id})


def _ended_since(association, email, event_id):
    """True when an invitation of `email` to the association was cancelled, or that member
    removed, after the event `event_id`: the links sent before no longer work."""
    return db.session.scalar(
        db.select(func.count(Event.id)).where(
            Event.association_id == association.id, Event.id > event_id,
            Event.action.in_(("member_invitation_cancelled", "member_removed")),
            Event.details["email"].as_string() == email)) > 0


def _rejoining(user, association):
    """A member removed from this association, whom it invited again: the link reopens the account."""
    return (user is not None and user.role == APPLICANT and user.association_id == association.id
            and not user.active)


def check_member_token(token):
    """(association, email) of a valid invitation link for an address without an account yet
    (or of a member removed earlier and invited again). Raises AssociationError (expired,
    tampered, already used, cancelled)."""
    try:
        data = tokens.unsign("member", token)
    except SignatureExpired:
        raise AssociationError(LINK_EXPIRED) from None
    except BadSignature:
        raise AssociationError(LINK_INVALID) from None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int) or not isinstance(data.get("e"), str):
        raise AssociationError(LINK_INVALID)
    association = db.session.get(Association, data["a"])
    if association is None:
        raise AssociationError(LINK_INVALID)
    email = data["e"]
    invitation_id = data.get("i") if isinstance(data.get("i"), int) else 0
    if _ended_since(association, email, invitation_id):
        raise AssociationError(LINK_CANCELLED)
    user = find_user(email)
    if user is not None and not _rejoining(user, association):
        raise AssociationError(LINK_ACCOUNT_EXISTS.format(email=email))
    return association, email


def members_of(association):
    """The association's members (a member removed keeps its account, closed, and its history)."""
    return db.session.scalars(
        db.select(User).where(User.association_id == association.id, User.role == APPLICANT,
                              User.active.is_(True))
        .order_by(User.last_name, User.first_name, User.id)).all()


@dataclass(frozen=True)
class PendingInvitation:
    id: int  # its « member_invited » event
    email: str
    at: object
    inviter: object


def pending_invitations(association, members):
    """Invitations still valid whose invitee has not joined, nor were cancelled: newest first."""
    since = timeutil.now() - timedelta(seconds=tokens.max_age("member"))
    events = db.session.scalars(
        db.select(Event).options(joinedload(Event.actor))
        .where(Event.association_id == association.id, Event.at >= since,
               Event.action.in_(("member_invited", "member_invitation_cancelled", "member_removed")))
        .order_by(Event.id.desc())).all()
    joined = {member.email for member in members}
    seen, pending = set(), []
    for event in events:  # the newest event of each address says whether its invitation is pending
        email = (event.details or {}).get("email")
        if email and email not in seen:
            seen.add(email)
            if event.action == "member_invited" and email not in joined:
                pending.append(PendingInvitation(event.id, email, event.at, event.actor))
    return pending


def invite_member(association, inviter, email):
    """A member invites a colleague: an e-mail with a signed link valid TOKEN_MAX_AGE["member"].

    The answer does not tell whether the address already has an account: the association's
    quota and the limit per recipient come first and count both cases; an address with an
    account gets no link, its owner is told by e-mail instead (the same kind of e-mail for the
    limits), and the invitation shows as pending like any other.
    """
    if not is_member(inviter, association.id):
        raise AssociationError("Seuls les membres de l'association peuvent inviter un collègue.")
    email = normalise_email(email)
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise AssociationError(EMAIL_INVALID, {"email": EMAIL_INVALID})
    recent = db.session.scalar(
        db.select(func.count(Event.id)).where(
            Event.association_id == association.id, Event.action == "member_invited",
            Event.at >= timeutil.now() - timedelta(days=1)))
    if recent >= MAX_INVITATIONS_PER_DAY:
        message = TOO_MANY_INVITATIONS.format(n=recent)
        raise AssociationError(message, {"email": message})
    existing = find_user(email)
    rejoining = _rejoining(existing, association)
    if (existing is not None and existing.association_id == association.id and existing.role == APPLICANT
            and not rejoining):
        message = ALREADY_MEMBER.format(email=email)  # the members are listed on the same page
        raise AssociationError(message, {"email": message})
    if mail_limit_reached(email, "member_invite"):
        message = INVITED_RECENTLY.format(email=email)
        raise AssociationError(message, {"email": message})
    subject = f"Invitation à rejoindre {association.name} sur AAP « 1 jeune 1 mentor »"
    invitation = record("member_invited", actor=inviter, association_id=association.id, email=email)
    db.session.flush()
    if existing is not None and not rejoining:
        queue_mail(email, subject, "member_invite_existing", kind="member_invite", user=existing,
                   association=association, inviter=inviter,
                   login_link=absolute_url("auth.login"),
                   reset_link=absolute_url("auth.forgot"))
    else:
        link = absolute_url("associations.join", token=make_member_token(association, email, invitation.id))
        queue_mail(email, subject, "member_invite", association=association, inviter=inviter, link=link,
                   days=tokens.max_age("member") // 86400)
    db.session.commit()
    return email


def accept_member_invitation(token, first_name, last_name, password):
    """Create the invitee's applicant account, attached to the association, address confirmed."""
    association, email = check_member_token(token)
    errors = {}
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    if not first_name:
        errors["first_name"] = "Saisissez votre prénom."
    if not last_name:
        errors["last_name"] = "Saisissez votre nom."
    try:
        check_password_strength(password, email=email, names=(first_name, last_name))
    except ValueError as error:
        errors["password"] = str(error)
    if errors:
        raise AssociationError("Le formulaire contient des erreurs.", errors)
    user = find_user(email)
    if _rejoining(user, association):  # a member removed earlier, invited again: its account reopens
        user.first_name, user.last_name, user.active = first_name[:100], last_name[:100], True
        user.email_confirmed_at = user.email_confirmed_at or timeutil.now()
    else:
        user = User(email=email, role=APPLICANT, first_name=first_name[:100], last_name=last_name[:100],
                    association_id=association.id, email_confirmed_at=timeutil.now())
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the same link used twice at the same moment
        db.session.rollback()
        raise AssociationError(LINK_ACCOUNT_EXISTS.format(email=email)) from None
    record("member_joined", actor=user, association_id=association.id, email=email)
    db.session.commit()
    return user


def _member_of(association, member):
    if member is None or member.role != APPLICANT or member.association_id != association.id or not member.active:
        raise AssociationError("Cette personne n'est pas membre de votre association.")


def _check_actor(association, actor):
    if not is_member(actor, association.id) or not actor.active:
        raise AssociationError("Seuls les membres de l'association peuvent gérer ses membres.")


def removal_refusal(association, member):
    """Why this member cannot be removed (French), or None: the last member stays."""
    if len(members_of(association)) <= 1:
        return LAST_MEMBER.format(name=member.full_name)
    return None


def remove_member(association, actor, member):
    """Remove a member (oneself included, unless the last one): the account is closed at once
    (its sessions end, its links stop working: the User listener), keeps its history, no longer
    receives the association's e-mails; it may be invited again. The person is told by e-mail."""
    _check_actor(association, actor)
    _member_of(association, member)
    problem = removal_refusal(association, member)
    if problem:
        raise AssociationError(problem)
    was_representative = member.legal_representative
    member.active = False
    member.legal_representative = False
    record("member_removed", actor=actor, association_id=association.id, member_id=member.id, email=member.email,
           was_representative=was_representative)
    queue_mail(member.email, f"Vous n'êtes plus membre de {association.name} sur AAP", "member_removed",
               member=member, association=association, actor=actor, by_self=actor.id == member.id)
    db.session.commit()


def cancel_member_invitation(association, actor, invitation_id):
    """Cancel a pending invitation: its link stops working (check_member_token). Returns the address."""
    _check_actor(association, actor)
    invitation = next((p for p in pending_invitations(association, members_of(association))
                       if p.id == invitation_id), None)
    if invitation is None:
        raise AssociationError("Cette invitation n'est plus en attente.")
    record("member_invitation_cancelled", actor=actor, association_id=association.id, email=invitation.email)
    db.session.commit()
    return invitation.email


def representative_of(association):
    return next((m for m in members_of(association) if m.legal_representative), None)


def hand_over_representative(association, actor, member, function):
    """Mark `member` as the legal representative: the association's identity takes its name and
    the function given; the previous one (if a member) is no longer marked. Recorded, and both
    are told by e-mail."""
    _check_actor(association, actor)
    _member_of(association, member)
    function = (function or "").strip()
    if not function:
        raise AssociationError(REPRESENTATIVE_FUNCTION_REQUIRED, {"function": REPRESENTATIVE_FUNCTION_REQUIRED})
    if len(function) > TEXT_LIMITS["representative_function"]:
        message = f"Ce champ ne peut pas dépasser {TEXT_LIMITS['representative_function']} caractères."
        raise AssociationError(message, {"function": message})
    previous = representative_of(association)
    if previous is not None and previous.id == member.id and association.representative_function == function:
        raise AssociationError(f"{member.full_name} est déjà le représentant légal, avec cette fonction.",
                               {"member": f"{member.full_name} est déjà le représentant légal."})
    if previous is not None:
        previous.legal_representative = False
    member.legal_representative = True
    old_name = association.representative_name
    association.representative_name = member.full_name[:TEXT_LIMITS["representative_name"]]
    association.representative_function = function
    record("representative_changed", actor=actor, association_id=association.id, member_id=member.id,
           previous_id=previous.id if previous is not None else None, person=member.full_name,
           old_name=old_name, function=function)
    subject = f"Représentant légal de {association.name} sur AAP"
    for person in {member.id: member, **({previous.id: previous} if previous is not None else {})}.values():
        queue_mail(person.email, subject, "representative_changed", person=person, member=member,
                   previous=previous, old_name=old_name, association=association, actor=actor, function=function)
    db.session.commit()


MEMBER_EVENTS = {
    "member_invited": "Invitation envoyée à {email}",
    "member_invitation_cancelled": "Invitation de {email} annulée",
    "member_joined": "{email} a rejoint l'association",
    "member_removed": "{email} a été retiré de l'association",
    "representative_changed": "{person} est désormais le représentant légal ({function})",
}


def member_history(association, limit=20):
    """The latest changes of the association's members, worded for its members: [(at, text, actor)]."""
    events = db.session.scalars(
        db.select(Event).options(joinedload(Event.actor))
        .where(Event.association_id == association.id, Event.action.in_(tuple(MEMBER_EVENTS)))
        .order_by(Event.id.desc()).limit(limit)).all()
    rows = []
    for event in events:
        details = {key: "" for key in ("email", "person", "function")}
        details.update({k: v for k, v in (event.details or {}).items() if isinstance(v, str)})
        actor = event.actor.full_name if event.actor is not None and event.actor.association_id == association.id \
            else ""
        rows.append((event.at, MEMBER_EVENTS[event.action].format(**details), actor))
    return rows
