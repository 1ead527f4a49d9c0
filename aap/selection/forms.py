"""Forms of the selection pages (French messages next to the fields)."""
from wtforms import BooleanField, FieldList, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import AppForm, select_choices
from ..models.selection import OUTCOME_LABELS, OUTCOME_REJECTED, OUTCOME_SELECTED
from ..money import AmountError, cents_to_input, parse_euros

OUTCOME_CHOICES = select_choices(OUTCOME_LABELS.items())


def _amount(field):
    try:
        return parse_euros(field.data)
    except AmountError as error:
        raise ValidationError(str(error)) from None


def _parse_number(text, message, low, high):
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValidationError(message) from None
    if not low <= value <= high:
        raise ValidationError(message)
    return value


def _euros_text(cents):
    """Cents as shown back in a field, digits grouped as the call form shows them: « 60 000 »."""
    euros, comma, rest = cents_to_input(cents).partition(",")
    return (f"{int(euros):,}".replace(",", " ") + comma + rest) if euros else ""


class DecisionForm(AppForm):
    outcome = RadioField("Décision", choices=OUTCOME_CHOICES, validate_choice=False)
    amount = StringField("Montant accordé (total, en euros)", validators=[Optional()])
    amount_per_year = FieldList(StringField("Montant de l'année"), min_entries=0)
    reason = TextAreaField("Motif (communiqué à l'association)", validators=[Length(max=5000)])

    def __init__(self, *args, years=1, **kwargs):
        super().__init__(*args, **kwargs)
        self.years = years
        while len(self.amount_per_year) < (years if years > 1 else 0):
            self.amount_per_year.append_entry()
        self.amount_cents = None
        self.amount_per_year_cents = None

    def fill(self, decision, application):
        """Pre-fill from the current decision (or the amount requested)."""
        if decision is not None:
            self.outcome.data = decision.outcome
            self.reason.data = decision.reason
        amount = decision.amount_cents if decision is not None and decision.amount_cents \
            else application.requested_cents
        self.amount.data = _euros_text(amount)
        per_year = (decision.amount_per_year if decision is not None and decision.amount_cents
                    else application.requested_per_year) or []
        if self.years > 1:
            for entry, cents in zip(self.amount_per_year.entries, list(per_year) + [None] * self.years):
                entry.data = _euros_text(cents)

    def validate_outcome(self, field):
        if field.data not in OUTCOME_LABELS:
            raise ValidationError("Choisissez une décision.")

    def validate_amount(self, field):
        if self.outcome.data != OUTCOME_SELECTED:
            return
        cents = _amount(field)
        if not cents:
            raise ValidationError("Indiquez le montant accordé.")
        self.amount_cents = cents

    def validate_amount_per_year(self, field):
        if self.outcome.data != OUTCOME_SELECTED or self.years <= 1:
            return
        values = []
        for number, entry in enumerate(field.entries[:self.years], start=1):
            try:
                values.append(_amount(entry))
            except ValidationError as error:
                raise ValidationError(f"Année {number} : {error}") from None
        if all(v is None for v in values):
            return  # split evenly (or as requested) by the service
        if any(v is None for v in values):
            raise ValidationError("Indiquez le montant de chaque année, ou laissez-les tous vides.")
        total = self.amount_cents
        if total is not None and sum(values) != total:
            from ..money import format_euros
            raise ValidationError(f"La somme des montants annuels ({format_euros(sum(values))}) doit être "
                                  f"égale au montant accordé ({format_euros(total)}).")
        self.amount_per_year_cents = values

    def validate_reason(self, field):
        if self.outcome.data == OUTCOME_REJECTED and not (field.data or "").strip():
            raise ValidationError("Indiquez le motif de non-sélection : il sera communiqué à l'association.")


class BulkDecisionForm(AppForm):
    outcome = SelectField("Décision pour les dossiers cochés",
                          choices=select_choices([("", "— Choisir —")]) + OUTCOME_CHOICES)
    reason = StringField("Motif (obligatoire pour « Non retenu »)", validators=[Length(max=5000)])

    def validate_outcome(self, field):
        if field.data not in OUTCOME_LABELS:
            raise ValidationError("Choisissez une décision.")

    def validate_reason(self, field):
        if self.outcome.data == OUTCOME_REJECTED and not (field.data or "").strip():
            raise ValidationError("Indiquez le motif de non-sélection : il sera communiqué aux associations.")


class ProposalForm(AppForm):
    """Settings of « Proposer une sélection » (a GET form: it changes nothing)."""

    class Meta:
        csrf = False

    objective = RadioField("Objectif", default="merit", validate_choice=False, choices=select_choices([
        ("merit", "Ordre de mérite : les dossiers sont retenus dans l'ordre de leur note tant que les "
                  "contraintes le permettent"),
        ("sum", "Maximiser la somme des notes (favorise les dossiers peu coûteux)")]))
    calibrated = BooleanField("Utiliser les notes calibrées")
    min_per_region = StringField("Garantie territoriale : lauréats au moins par région", default="1")
    min_per_overseas = StringField("Garantie propre à chaque région d'outre-mer (facultatif)")
    cap_percent = StringField("Plafond par région (en % de l'enveloppe, facultatif)")
    min_score = StringField("Note minimale sur 20")
    keep_drafts = BooleanField("Conserver les décisions en brouillon", default=True)

    def __init__(self, *args, call=None, **kwargs):
        super().__init__(*args, **kwargs)
        if call is not None and not self.min_score.data:
            self.min_score.data = f"{float(call.min_score):g}".replace(".", ",")

    def validate_objective(self, field):
        from .optimizer import OBJECTIVE_LABELS
        if field.data not in OBJECTIVE_LABELS:
            raise ValidationError("Choisissez un objectif.")

    def validate_min_per_overseas(self, field):
        value = _parse_number(field.data, "Saisissez un nombre entier entre 0 et 20.", 0, 20)
        if value is not None and value != int(value):
            raise ValidationError("Saisissez un nombre entier entre 0 et 20.")
        self.min_per_overseas_value = None if value is None else int(value)

    def validate_min_per_region(self, field):
        value = _parse_number(field.data or "0", "Saisissez un nombre entier entre 0 et 20.", 0, 20)
        if value is None or value != int(value):
            raise ValidationError("Saisissez un nombre entier entre 0 et 20.")
        self.min_per_region_value = int(value)

    def validate_cap_percent(self, field):
        self.cap_percent_value = _parse_number(field.data, "Saisissez un pourcentage entre 1 et 100.", 1, 100)

    def validate_min_score(self, field):
        self.min_score_value = _parse_number(field.data, "Saisissez une note entre 0 et 20.", 0, 20)

    def settings(self):
        from .proposal import ProposalSettings
        return ProposalSettings(calibrated=bool(self.calibrated.data), min_per_region=self.min_per_region_value,
                                min_per_overseas=self.min_per_overseas_value, cap_percent=self.cap_percent_value,
                                min_score=self.min_score_value, objective=self.objective.data,
                                keep_drafts=bool(self.keep_drafts.data))


class ConfirmForm(AppForm):
    """A POST with nothing but its CSRF token (publish, apply, cancel a draft)."""


class RobustnessForm(AppForm):
    """« Calculer la robustesse » (the proposal's settings come with the page's query string)."""
    toggle_calibration = BooleanField("Alterner notes brutes et notes calibrées (une fois sur deux)")


class DrawForm(AppForm):
    """« Tirer au sort dans la zone grise »: recorded in the call's journal, so confirmed first."""
    confirm = BooleanField("Je confirme le tirage au sort : sa graine et son résultat sont enregistrés dans le "
                           "journal de l'appel, et les dossiers deviennent des décisions en brouillon.")

    def validate_confirm(self, field):
        if not field.data:
            raise ValidationError("Cochez la case pour confirmer le tirage au sort.")


class GrantForm(DecisionForm):
    """A winner's grant set after publication (selection.amendments): a file promoted from the
    waiting list, or a grant amended. The decision form with « Retenu » fixed (whatever is posted);
    the reason is required for an amendment."""

    def __init__(self, *args, reason_required=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome.data = OUTCOME_SELECTED
        self.reason_required = reason_required

    def fill(self, decision, application):
        super().fill(decision, application)
        self.reason.data = ""  # (the new version's reason is written for it)

    def validate_reason(self, field):
        if self.reason_required and not (field.data or "").strip():
            raise ValidationError("Indiquez le motif de la modification : il sera communiqué à l'association.")

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not (self.amount.data or "").strip():  # (Optional() stops the field's own checks)
            self.amount.errors = [*self.amount.errors, "Indiquez le montant accordé."]
            self._errors = None
            valid = False
        return valid


class ReasonForm(AppForm):
    """A change that cannot be undone, with its reason and an explicit confirmation (the waiting
    list closed, a grant renounced or withdrawn). The labels are set per use."""

    reason = TextAreaField("Motif", validators=[Length(max=5000)])
    confirm = BooleanField("Je confirme")

    def __init__(self, *args, reason_label="Motif", confirm_label="Je confirme", reason_message="Indiquez le motif.",
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.reason.label.text = reason_label
        self.confirm.label.text = confirm_label
        self.reason_message = reason_message

    def validate_reason(self, field):
        if not (field.data or "").strip():
            raise ValidationError(self.reason_message)

    def validate_confirm(self, field):
        if not field.data:
            raise ValidationError("Cochez la case pour confirmer.")


class PublishForm(AppForm):
    """The confirmation of a publication: the fingerprint of the drafts the page showed; the
    warnings acknowledged are the checked values of `ack` (read by the view, checked by the service)."""
    fingerprint = HiddenField()


class MailForm(AppForm):
    """One decision mail, as staff rewrite it (plain text, sent as written)."""
    subject = StringField("Objet", validators=[
        DataRequired("Indiquez l'objet du courrier."),
        Length(max=200, message="L'objet ne doit pas dépasser 200 caractères.")])
    body = TextAreaField("Texte du courrier", render_kw={"rows": 24}, validators=[
        DataRequired("Rédigez le texte du courrier."),
        Length(max=20_000, message="Le texte ne doit pas dépasser 20 000 caractères.")])


class SendMailsForm(AppForm):
    """« Envoyer les N messages »: the fingerprint of the drafts the confirmation listed."""
    fingerprint = HiddenField()
