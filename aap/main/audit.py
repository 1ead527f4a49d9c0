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
from ..events import ACTION_LABELS, action_label
from ..extensions import db
from ..forms import AppForm, select_choices
from ..models import Application, Call, Event, User
from ..models.applications import STATUS_LABELS
from ..models.calls import CALL_CLOSED, CALL_DRAFT, CALL_PUBLISHED
from ..models.selection import OUTCOME_LABELS
from ..money import format_euros
from ..paging import paginate
from ..textrules import LIKE_ESCAPE, like_pattern

PER_PAGE = 50

EXPORT_FORMATS = {"xlsx": "classeur Excel", "xlsx-cabinet": "classeur Excel, version pour le cabinet",
                  "scdl": "données ouvertes SCDL (CSV)",
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


# --- filters ------------------------------------------------------------------------------------

class JournalFilterForm(AppForm):
    """GET filters; a wrong value is shown next to its field, never a server error."""

    class Meta:
        csrf = False

    action = SelectField("Action", choices=select_choices([("", "Toutes les actions")] + sorted(
        ACTION_LABELS.items(), key=lambda item: _sort_key(item[1]))), validate_choice=False)
    appel = SelectField("Appel à projets", choices=select_choices([("", "Tous les appels")]), validate_choice=False)
    acteur = StringField("Adresse e-mail de l'auteur", validators=[
        Optional(), Length(max=254, message="L'adresse ne peut pas dépasser 254 caractères.")])
    du = FrDateField("Du", validators=[Optional()])
    au = FrDateField("Au", validators=[Optional()])

    def __init__(self, *args, calls=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.appel.choices = select_choices([("", "Tous les appels")] + [(str(c.id), c.title) for c in calls])

    def validate_appel(self, field):
        if field.data and field.data not in {choice.value for choice in field.choices}:
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
    """(rows, pagination): a fixed number of queries whatever the page."""
    pagination = paginate(_filtered(db.select(Event).options(joinedload(Event.actor)), filters)
                          .order_by(Event.at.desc(), Event.id.desc()), page, PER_PAGE)
    events = pagination.items

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
    return rows, pagination


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
