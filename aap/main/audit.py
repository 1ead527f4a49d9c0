"""The administrators' journal: every recorded event, filtered and paged, in French.

Reads only. A page costs a fixed number of queries whatever its length: the count, the
events with their actors, then one query each for the files, the calls and the people the
events refer to.
"""
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.orm import joinedload
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from .. import timeutil
from ..calls.forms import FrDateField
from ..extensions import db
from ..forms import AppForm
from ..models import Application, Call, Event, User
from ..models.applications import STATUS_LABELS
from ..models.calls import CALL_CLOSED, CALL_DRAFT, CALL_PUBLISHED
from ..models.selection import OUTCOME_LABELS
from ..money import format_euros
from ..textrules import LIKE_ESCAPE, like_pattern

PER_PAGE = 50

# One French label per recorded action (grouped as on the filter).
ACTION_LABELS = {
    # accounts
    "account_created": "Compte créé",
    "email_confirmed": "Adresse e-mail confirmée",
    "login": "Connexion",
    "logout": "Déconnexion (toutes les sessions fermées)",
    "password_reset": "Mot de passe réinitialisé",
    "invitation_accepted": "Invitation acceptée",
    "user_invited": "Personne invitée dans l'équipe",
    "invitation_resent": "Invitation dans l'équipe renvoyée (nouveau lien)",
    "invitation_cancelled": "Invitation dans l'équipe annulée",
    "user_deactivated": "Compte désactivé (sessions fermées)",
    "user_reactivated": "Compte réactivé",
    "user_role_changed": "Rôle changé (sessions fermées)",
    # associations
    "association_updated": "Identité de l'association modifiée",
    "bank_details_changed": "Coordonnées bancaires modifiées",
    "bank_change_requested": "Modification des coordonnées bancaires demandée",
    "bank_change_validated": "Demande de coordonnées bancaires validée",
    "bank_change_refused": "Demande de coordonnées bancaires refusée",
    "bank_password_refused": "Mot de passe erroné à la modification des coordonnées bancaires",
    "bank_rib_downloaded": "RIB d'une demande de coordonnées bancaires téléchargé",
    "member_invited": "Membre de l'association invité",
    "member_joined": "Membre ayant rejoint l'association",
    "member_removed": "Membre retiré de l'association",
    "member_invitation_cancelled": "Invitation d'un membre de l'association annulée",
    "representative_changed": "Représentant légal de l'association transmis",
    # calls
    "call_created": "Appel à projets créé",
    "call_updated": "Appel à projets modifié",
    "call_criteria_updated": "Critères d'évaluation modifiés",
    "call_documents_updated": "Pièces demandées modifiées",
    "call_published": "Appel à projets publié",
    "call_closed": "Appel à projets clos",
    # applications
    "application_created": "Brouillon de candidature créé",
    "application_reused": "Brouillon repris d'une candidature précédente",
    "association_document_added": "Document de l'association envoyé (« Mes documents »)",
    "association_document_downloaded": "Document de l'association téléchargé",
    "message_attachment_downloaded": "Pièce jointe d'un message téléchargée",
    "draft_saved": "Brouillon enregistré",
    "attachment_added": "Pièce jointe ajoutée",
    "attachment_replaced": "Pièce jointe remplacée",
    "attachment_deleted": "Pièce jointe supprimée",
    "attachment_downloaded": "Pièce jointe téléchargée",
    "application_submitted": "Dossier déposé",
    "application_resubmitted": "Dossier complété et déposé à nouveau",
    "application_withdrawn": "Candidature retirée",
    "receipt_downloaded": "Récépissé de dépôt téléchargé",
    # instruction
    "admissibility": "Décision de recevabilité",
    "piece_request": "Demande de pièces complémentaires",
    "piece_request_widened": "Demande de pièces élargie",
    "piece_request_extended": "Délai de la demande de pièces prolongé",
    "piece_request_cancelled": "Demande de pièces annulée",
    "message": "Message échangé",
    # review
    "conflict_declared": "Lien d'intérêts déclaré",
    "conflict_removed": "Lien d'intérêts retiré",
    "no_conflict_confirmed": "Absence de lien d'intérêts confirmée",
    "reviewer_assigned": "Évaluateur affecté",
    "reviewer_unassigned": "Évaluateur retiré",
    "auto_assignment_applied": "Affectation automatique appliquée",
    "reviewers_notified": "Évaluateurs prévenus de leurs dossiers",
    "review_submitted": "Évaluation envoyée",
    "review_reopened": "Évaluation rouverte",
    "review_reminders_sent": "Rappels envoyés aux évaluateurs",
    "state_change": "Changement d'état du dossier",
    # selection and documents
    "decision_drafted": "Décision enregistrée en brouillon",
    "decision_draft_removed": "Brouillon de décision supprimé",
    "decision_published": "Décision publiée",
    "decision_promoted": "Dossier retenu sur la liste d'attente",
    "waitlist_closed": "Liste d'attente close : non retenu",
    "decision_amended": "Décision modifiée",
    "grant_renounced": "Renoncement de l'association à la subvention",
    "grant_withdrawn": "Subvention retirée",
    "decision_mail_edited": "Courrier de décision modifié",
    "decision_mail_held": "Courrier de décision mis de côté",
    "decision_mail_released": "Courrier de décision remis dans l'envoi",
    "decision_mail_sent": "Courrier de décision envoyé",
    "mail_templates_changed": "Modèles de courriers de l'appel modifiés",
    "conventions_bulk_started": "Génération des conventions lancée",
    "convention_downloaded": "Convention téléchargée",
    "convention_reissued": "Convention réémise avec les coordonnées bancaires actuelles",
    "export": "Export téléchargé",
}

EXPORT_FORMATS = {"xlsx": "classeur Excel", "scdl": "données ouvertes SCDL (CSV)",
                  "opendata": "résultats anonymisés (SQLite)", "conventions.zip": "conventions (ZIP)",
                  "conventions": "conventions (PDF et ZIP)"}
CALL_STATES = {CALL_DRAFT: "brouillon", CALL_PUBLISHED: "publié", CALL_CLOSED: "clos"}
ROLE_LABELS = {"applicant": "association", "reviewer": "évaluateur", "staff": "instructeur",
               "admin": "administrateur"}
RECOMMENDATIONS = {"favorable": "favorable", "reserve": "réservé", "defavorable": "défavorable"}
VIA = {"manual": "sur le dossier", "bulk": "décision groupée", "proposal": "proposition de sélection appliquée"}

# Details shown in the journal: (key, French label); other keys are technical and not shown.
DETAIL_LABELS = {
    "format": "Format", "outcome": "Décision", "amount_cents": "Montant", "reference": "Dossier",
    "name": "Fichier", "document": "Pièce", "section": "Partie", "fields": "Champs", "email": "Adresse",
    "role": "Rôle", "reviewer_id": "Évaluateur", "reviewer_ids": "Évaluateurs", "invited_user_id": "Personne",
    "recommendation": "Avis", "slug": "Identifiant", "pairs": "Affectations", "source": "Origine",
    "old_iban": "Ancien IBAN", "new_iban": "Nouvel IBAN", "old_bic": "Ancien BIC", "new_bic": "Nouveau BIC",
    "old_holder": "Ancien titulaire", "new_holder": "Nouveau titulaire", "removed": "Retirés",
    "job_id": "Travail", "version": "Version", "due_at": "Date limite", "output": "Fichier écrit",
    "via": "Saisie", "number": "Convention",
    "user_id": "Compte", "member_id": "Membre", "previous_id": "Représentant précédent", "person": "Personne",
    "old_role": "Ancien rôle", "freed": "Dossiers libérés pour réaffectation",
}
USER_KEYS = ("reviewer_id", "reviewer_ids", "invited_user_id", "user_id", "member_id", "previous_id")


def _sort_key(label):
    """Alphabetical order as in a French dictionary (« Évaluation » with the E)."""
    return unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()


def action_label(action):
    return ACTION_LABELS.get(action, action.replace("_", " ").capitalize())


# --- filters ------------------------------------------------------------------------------------

class JournalFilterForm(AppForm):
    """GET filters; a wrong value is shown next to its field, never a server error."""

    class Meta:
        csrf = False

    action = SelectField("Action", choices=[("", "Toutes les actions")] + sorted(
        ACTION_LABELS.items(), key=lambda item: _sort_key(item[1])), validate_choice=False)
    appel = SelectField("Appel à projets", choices=[("", "Tous les appels")], validate_choice=False)
    acteur = StringField("Adresse e-mail de l'auteur", validators=[
        Optional(), Length(max=254, message="L'adresse ne peut pas dépasser 254 caractères.")])
    du = FrDateField("Du", validators=[Optional()])
    au = FrDateField("Au", validators=[Optional()])

    def __init__(self, *args, calls=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.appel.choices = [("", "Tous les appels")] + [(str(c.id), c.title) for c in calls]

    def validate_appel(self, field):
        if field.data and field.data not in {value for value, _ in field.choices}:
            raise ValidationError("Choisissez un appel à projets de la liste.")

    def validate_action(self, field):
        if field.data and field.data not in ACTION_LABELS:
            raise ValidationError("Choisissez une action de la liste.")

    def validate_au(self, field):
        if field.data and self.du.data and field.data < self.du.data:
            raise ValidationError("La date de fin doit être postérieure ou égale à la date de début.")


@dataclass
class Filters:
    action: str = ""
    call_id: int | None = None
    actor_email: str = ""
    since: datetime | None = None     # UTC, inclusive
    before: datetime | None = None    # UTC, exclusive

    @classmethod
    def from_form(cls, form):
        """The valid filters of the form (an invalid one is left out, its error shown)."""
        filters = cls()
        if form.action.data and not form.action.errors:
            filters.action = form.action.data
        if form.appel.data and not form.appel.errors:
            filters.call_id = int(form.appel.data)
        if form.acteur.data and not form.acteur.errors:
            filters.actor_email = form.acteur.data.strip().lower()
        if form.du.data and not form.du.errors:
            filters.since = timeutil.paris_to_utc(datetime.combine(form.du.data, time()))
        if form.au.data and not form.au.errors:
            filters.before = timeutil.paris_to_utc(datetime.combine(form.au.data + timedelta(days=1), time()))
        return filters


def _filtered(statement, filters):
    if filters.action:
        statement = statement.where(Event.action == filters.action)
    if filters.call_id is not None:
        statement = statement.where(Event.call_id == filters.call_id)
    if filters.actor_email:
        statement = statement.where(Event.actor_id.in_(
            db.select(User.id).where(db.func.lower(User.email).like(like_pattern(filters.actor_email),
                                                                     escape=LIKE_ESCAPE))))
    if filters.since is not None:
        statement = statement.where(Event.at >= filters.since)
    if filters.before is not None:
        statement = statement.where(Event.at < filters.before)
    return statement


# --- the page -----------------------------------------------------------------------------------

@dataclass
class Row:
    event: Event
    label: str
    application: Application | None
    call: Call | None
    details: list


def journal_page(filters, page, calls):
    """(rows, total, page, pages): a fixed number of queries whatever the page."""
    total = db.session.scalar(_filtered(db.select(db.func.count(Event.id)), filters))
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    events = db.session.scalars(
        _filtered(db.select(Event).options(joinedload(Event.actor)), filters)
        .order_by(Event.at.desc(), Event.id.desc())
        .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()

    application_ids = {e.application_id for e in events if e.application_id}
    application_ids |= {e.details.get("application_id") for e in events
                        if isinstance(e.details, dict) and isinstance(e.details.get("application_id"), int)}
    applications = {}
    if application_ids:
        applications = {a.id: a for a in db.session.scalars(
            db.select(Application).where(Application.id.in_(application_ids)))}
    user_ids = set()
    for e in events:
        for key in USER_KEYS:
            value = (e.details or {}).get(key) if isinstance(e.details, dict) else None
            if isinstance(value, int):
                user_ids.add(value)
            elif isinstance(value, list):
                user_ids |= {v for v in value if isinstance(v, int)}
    people = {}
    if user_ids:
        people = {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(user_ids)))}
    calls_by_id = {c.id: c for c in calls}

    rows = []
    for event in events:
        details = event.details if isinstance(event.details, dict) else {}
        application = applications.get(event.application_id or details.get("application_id"))
        call = calls_by_id.get(event.call_id or (application.call_id if application else None))
        rows.append(Row(event=event, label=action_label(event.action), application=application, call=call,
                        details=describe(event, details, people)))
    return rows, total, page, pages


def _person(people, user_id):
    user = people.get(user_id)
    return f"{user.full_name} ({user.email})" if user else f"compte n° {user_id}"


def _value(key, value, people):
    if key == "amount_cents":
        return format_euros(value) if isinstance(value, int) else str(value)
    if key == "format":
        return EXPORT_FORMATS.get(value, str(value))
    if key == "outcome":
        return OUTCOME_LABELS.get(value, str(value))
    if key in ("role", "old_role"):
        return ROLE_LABELS.get(value, str(value))
    if key == "recommendation":
        return RECOMMENDATIONS.get(value, str(value or "—"))
    if key in USER_KEYS:
        values = value if isinstance(value, list) else [value]
        return ", ".join(_person(people, v) for v in values)
    if key == "via":
        return VIA.get(value, str(value))
    if key == "source":
        return "ligne de commande" if value == "cli" else str(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)


def describe(event, details, people):
    """[(label, text)]: the states, the reason and the readable details of an event."""
    lines = []
    if event.from_state or event.to_state:
        states = CALL_STATES if event.action.startswith("call_") else STATUS_LABELS
        lines.append(("État", f"{states.get(event.from_state, event.from_state or '—')} → "
                              f"{states.get(event.to_state, event.to_state or '—')}"))
    if event.reason:
        lines.append(("Motif", event.reason))
    for key, label in DETAIL_LABELS.items():
        if key in details and details[key] not in (None, "", []):
            if key == "reference" and (event.application_id or details.get("application_id")):
                continue  # (shown in the file column)
            lines.append((label, _value(key, details[key], people)))
    return lines


def all_calls():
    return db.session.scalars(db.select(Call).order_by(Call.opens_at.desc(), Call.id.desc())).all()
