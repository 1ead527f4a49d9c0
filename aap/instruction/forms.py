"""Forms of the instruction: list filters, admissibility, requests for pieces, messages."""
from wtforms import (
    DateField,
    HiddenField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .. import timeutil
from ..forms import AppForm, select_choices
from ..models.applications import DRAFT, STATUS_LABELS
from ..money import AmountError, parse_euros
from ..referentiel import departement_choices, region_choices
from .bulk import SUBJECT_MAX, TARGETS, targets
from .notes import NOTE_MAX_LENGTH
from .services import MESSAGE_MAX_LENGTH, REASON_MAX_LENGTH

SORTS = {"reference": "Référence", "association": "Association", "montant": "Montant demandé",
         "depot": "Date de dépôt"}
ORDERS = {"asc": "Croissant", "desc": "Décroissant"}


def _amount(form, field):
    try:
        field.cents = parse_euros(field.data)
    except AmountError as error:
        field.cents = None
        raise ValidationError(str(error)) from None


class FilterForm(AppForm):
    """GET filters of the list of submitted files; unknown choices are ignored, not errors."""

    class Meta:
        csrf = False

    etat = SelectField("État", choices=select_choices([("", "Tous")] + [
        (code, label) for code, label in STATUS_LABELS.items() if code != DRAFT]), validate_choice=False)
    region = SelectField("Région", choices=select_choices([("", "Toutes")] + region_choices()), validate_choice=False)
    departement = SelectField("Département", choices=select_choices([("", "Tous")] + departement_choices()),
                              validate_choice=False)
    montant_min = StringField("Montant demandé minimum (€)", validators=[Optional(), _amount])
    montant_max = StringField("Montant demandé maximum (€)", validators=[Optional(), _amount])
    tri = SelectField("Trier par", choices=select_choices(SORTS.items()), validate_choice=False)
    ordre = SelectField("Ordre", choices=select_choices(ORDERS.items()), validate_choice=False)

    def validate_montant_max(self, field):
        low, high = getattr(self.montant_min, "cents", None), getattr(field, "cents", None)
        if low is not None and high is not None and high < low:
            raise ValidationError("Le montant maximum doit être supérieur ou égal au montant minimum.")

    def value(self, name, allowed):
        """The field's value if it is one of the allowed codes, else ''."""
        data = self[name].data or ""
        return data if data in allowed else ""


class InadmissibleForm(AppForm):
    """Two steps: the reason, then its confirmation (`inadmissible_confirmed`, set by the page that
    shows what will happen)."""
    inadmissible_reason = TextAreaField("Motif d'irrecevabilité", validators=[
        DataRequired("Indiquez le motif d'irrecevabilité : il est transmis à l'association."),
        Length(max=REASON_MAX_LENGTH, message=f"Le motif ne doit pas dépasser {REASON_MAX_LENGTH} caractères.")])
    inadmissible_confirmed = HiddenField()

    @property
    def confirmed(self):
        return self.inadmissible_confirmed.data == "1"


class AdmissibleForm(AppForm):
    """The staff's confirmation of the admissibility checklist: a reason for each failing
    condition (`failing`: the conditions of aap/instruction/admissibility.py not met), internal."""
    _limit = [Length(max=REASON_MAX_LENGTH, message=f"Le motif ne doit pas dépasser {REASON_MAX_LENGTH} caractères.")]
    override_pieces = TextAreaField(validators=_limit)
    override_identity = TextAreaField(validators=_limit)
    override_legal_form = TextAreaField(validators=_limit)
    override_amount = TextAreaField(validators=_limit)
    override_on_time = TextAreaField(validators=_limit)

    def __init__(self, *args, failing=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.failing = list(failing)
        for condition in self.failing:
            field = self["override_" + condition.code]
            field.label.text = f"Motif pour passer outre : {condition.label}"
            field.flags.required = True

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        for condition in self.failing:
            field = self["override_" + condition.code]
            if not (field.data or "").strip() and not field.errors:
                field.errors = list(field.errors) + ["Indiquez pourquoi vous passez outre à cette condition."]
                self._errors = None
                ok = False
        return ok

    def overrides(self):
        return {condition.code: self["override_" + condition.code].data for condition in self.failing}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        allowed = {choice.value for choice in self.choices}
        if any(value not in allowed for value in self.data or []):
            raise ValidationError("Un des éléments cochés n'existe pas pour cet appel à projets.")


def _at_least_one(form, field):
    # Not DataRequired: its "required" flag would be put on every checkbox of the group.
    if not field.data:
        raise StopValidation("Cochez au moins une partie du dossier ou une pièce à compléter.")


def _future(form, field):
    if field.data is not None and timeutil.end_of_day_paris(field.data) <= timeutil.now():
        raise ValidationError("La date limite de réponse doit être dans le futur.")


class PieceRequestForm(AppForm):
    piece_items = MultiCheckboxField("Éléments à compléter", validators=[_at_least_one])
    piece_message = TextAreaField("Message à l'association", validators=[
        DataRequired("Rédigez un message expliquant ce que l'association doit compléter."),
        Length(max=MESSAGE_MAX_LENGTH, message=f"Le message ne doit pas dépasser {MESSAGE_MAX_LENGTH} caractères.")])
    piece_due_date = DateField("Date limite de réponse", format="%Y-%m-%d", validators=[
        DataRequired("Indiquez une date limite valide, par exemple 15/06/2026."), _future])

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.piece_items.choices = select_choices(choices)


class MessageForm(AppForm):
    message_body = TextAreaField("Votre message", validators=[
        DataRequired("Écrivez votre message."),
        Length(max=MESSAGE_MAX_LENGTH, message=f"Le message ne doit pas dépasser {MESSAGE_MAX_LENGTH} caractères.")])
    # Checked by the service as the pieces of a file are (aap.instruction.services._message_files).
    message_files = MultipleFileField("Pièces jointes (facultatif)")

    def uploads(self):
        """[(file name, stream)] of the files chosen (an empty file input sends none)."""
        return [(f.filename, f.stream) for f in self.message_files.data or [] if getattr(f, "filename", "")]


# --- changing an open request for pieces (widen, extend, cancel) --------------------------------

def _at_least_one_new(form, field):
    if not field.data:
        raise StopValidation("Cochez au moins un nouvel élément à demander.")


class WidenRequestForm(AppForm):
    widen_items = MultiCheckboxField("Éléments à ajouter à la demande", validators=[_at_least_one_new])
    widen_message = TextAreaField("Message à l'association", validators=[
        DataRequired("Rédigez un message expliquant ce que l'association doit compléter."),
        Length(max=MESSAGE_MAX_LENGTH, message=f"Le message ne doit pas dépasser {MESSAGE_MAX_LENGTH} caractères.")])

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.widen_items.choices = select_choices(choices)


class ExtendRequestForm(AppForm):
    extend_due_date = DateField("Nouvelle date limite de réponse", format="%Y-%m-%d", validators=[
        DataRequired("Indiquez une date limite valide, par exemple 15/06/2026."), _future])
    extend_message = TextAreaField("Message à l'association (facultatif)", validators=[
        Length(max=MESSAGE_MAX_LENGTH, message=f"Le message ne doit pas dépasser {MESSAGE_MAX_LENGTH} caractères.")])


class CancelRequestForm(AppForm):
    cancel_reason = TextAreaField("Message à l'association (facultatif)", validators=[
        Length(max=MESSAGE_MAX_LENGTH, message=f"Le message ne doit pas dépasser {MESSAGE_MAX_LENGTH} caractères.")])


class NoteForm(AppForm):
    """A private note (aap/instruction/notes.py), added or edited."""

    note_body = TextAreaField("Note", validators=[
        DataRequired("Écrivez le texte de la note."),
        Length(max=NOTE_MAX_LENGTH, message=f"La note ne doit pas dépasser {NOTE_MAX_LENGTH} caractères.")])


class BulkMessageForm(AppForm):
    """A message to many files (aap/instruction/bulk.py): the filter, the subject and the text with
    their {placeholders}; the fingerprint of the drafts previewed, on confirmation."""

    cible = SelectField("Dossiers destinataires", choices=select_choices(TARGETS.items()), validate_choice=False)
    objet = StringField("Objet", validators=[DataRequired("Indiquez l'objet du message."),
                                             Length(max=SUBJECT_MAX, message=f"L'objet ne doit pas dépasser "
                                                                             f"{SUBJECT_MAX} caractères.")])
    texte = TextAreaField("Texte du message", validators=[
        DataRequired("Rédigez le texte du message."),
        Length(max=MESSAGE_MAX_LENGTH, message=f"Le texte ne doit pas dépasser {MESSAGE_MAX_LENGTH} caractères.")])
    empreinte = HiddenField()

    FIELDS = {"target": "cible", "subject": "objet", "body": "texte", "fingerprint": "cible"}

    def for_call(self, call):
        """The call's filters, its « rapport attendu » ones included (bulk.targets)."""
        self.cible.choices = select_choices(targets(call).items())
        return self

    def show_refusal(self, refusal):
        for key, message in refusal.errors.items():
            self[self.FIELDS.get(key, "cible")].errors = [message]
