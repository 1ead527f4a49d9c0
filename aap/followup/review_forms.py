"""Forms of staff's review of the yearly reports (report_review.py): accepting, asking for
complements, the amount to recover and the state of its recovery, and the staff list's filters."""
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import AppForm, select_choices
from ..instruction.forms import _future  # the due date of a request for pieces: in the future
from ..instruction.services import MESSAGE_MAX_LENGTH
from ..models.followup import RecoveryState, ReportState
from ..money import AmountError, cents_to_input, parse_euros
from .report_review import REASON_MAX_LENGTH, TITLE_REFERENCE_MAX

DATE_MESSAGE = "Indiquez une date valide, par exemple 15/06/2026."


def _amount(form, field):
    try:
        field.cents = parse_euros(field.data)
    except AmountError as error:
        field.cents = None
        raise ValidationError(str(error)) from None
    if field.cents is None:
        raise ValidationError("Indiquez le montant à reverser, par exemple 4 250 ou 4 250,50.")
    if field.cents <= 0:
        raise ValidationError("Indiquez un montant à reverser supérieur à 0 €.")


class AcceptForm(AppForm):
    """Accepting a report: it tells the association, frees the balance that waited for it and is
    not undone — so staff tick what will happen first."""
    confirmed = BooleanField("Je confirme l'acceptation : elle ne peut pas être annulée.",
                             validators=[DataRequired(message="Cochez la case pour confirmer l'acceptation.")])


class ComplementsForm(AppForm):
    complements_message = TextAreaField("Message à l'association", validators=[
        DataRequired("Rédigez un message expliquant ce que l'association doit compléter."),
        Length(max=MESSAGE_MAX_LENGTH, message=f"Le message ne doit pas dépasser {MESSAGE_MAX_LENGTH} caractères.")])
    complements_due_on = DateField("Date limite de réponse", format="%Y-%m-%d", validators=[
        DataRequired(DATE_MESSAGE), _future])

    FIELDS = {"message": "complements_message", "due_on": "complements_due_on"}


class RecoveryForm(AppForm):
    recovery_amount = StringField("Montant à reverser (€)", validators=[_amount])
    recovery_reason = TextAreaField("Motif (communiqué à l'association)", validators=[
        DataRequired("Indiquez le motif du reversement : il est communiqué à l'association."),
        Length(max=REASON_MAX_LENGTH, message=f"Le motif ne doit pas dépasser {REASON_MAX_LENGTH} caractères.")])

    FIELDS = {"amount": "recovery_amount", "reason": "recovery_reason"}

    def prefill(self, recovery, suggested):
        """The recorded amount and reason, else the suggested amount."""
        if recovery is not None:
            self.recovery_amount.data = cents_to_input(recovery.amount_cents)
            self.recovery_reason.data = recovery.reason
        elif suggested:
            self.recovery_amount.data = cents_to_input(suggested)
        return self


# What a recovery may become from each state (aap/transitions.py RECOVERY), for the form's choices.
NEXT_STATES = {
    RecoveryState.TO_ISSUE: (RecoveryState.ISSUED, RecoveryState.WAIVED),
    RecoveryState.ISSUED: (RecoveryState.RECOVERED, RecoveryState.WAIVED),
}


class RecoveryStateForm(AppForm):
    recovery_state = SelectField("Nouvel état", choices=select_choices(
        (state.value, state.label) for state in (RecoveryState.ISSUED, RecoveryState.RECOVERED, RecoveryState.WAIVED)),
        validate_choice=False)
    title_reference = StringField("Référence du titre de perception", validators=[
        Optional(), Length(max=TITLE_REFERENCE_MAX,
                           message=f"La référence ne doit pas dépasser {TITLE_REFERENCE_MAX} caractères.")])
    state_day = DateField("Date", format="%Y-%m-%d",
                          validators=[Optional()])
    waive_reason = TextAreaField("Motif de l'abandon (interne)", validators=[
        Optional(), Length(max=REASON_MAX_LENGTH,
                           message=f"Le motif ne doit pas dépasser {REASON_MAX_LENGTH} caractères.")])

    FIELDS = {"to_state": "recovery_state", "title_reference": "title_reference", "day": "state_day",
              "reason": "waive_reason"}

    def for_recovery(self, recovery):
        """Only the states the recovery may move to are offered."""
        allowed = NEXT_STATES.get(recovery.state, ()) if recovery is not None else ()
        self.recovery_state.choices = select_choices((state.value, state.label) for state in allowed)
        return self

    def validate_state_day(self, field):
        if field.raw_data and field.raw_data[0] and field.data is None:
            raise ValidationError(DATE_MESSAGE)


def show_refusal(form, refusal):
    """A service's refusal (ReviewError) next to its field, the first field when it names none."""
    name = form.FIELDS.get(refusal.field) if hasattr(form, "FIELDS") else None
    target = form[name] if name else next(iter(f for f in form if f.name != "csrf_token"), None)
    if target is None:
        return
    target.errors = list(target.errors or []) + [refusal.message]
    form._errors = None


# The staff list's filters (GET; unknown values are ignored).
STATE_FILTERS = {"": "Tous les états", **{state.value: state.label for state in ReportState}}


class ReportFilterForm(AppForm):
    class Meta:
        csrf = False

    appel = SelectField("Appel à projets", validate_choice=False)
    annee = SelectField("Année", validate_choice=False)
    etat = SelectField("État", choices=select_choices(STATE_FILTERS.items()), validate_choice=False)
    retard = SelectField("Retard", choices=select_choices([("", "Tous"), ("1", "En retard seulement")]),
                         validate_choice=False)

    def __init__(self, *args, calls=(), years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.appel.choices = select_choices([("", "Tous")] + [(str(call.id), call.title) for call in calls])
        self.annee.choices = select_choices([("", "Toutes")] + [(str(year), str(year)) for year in years])
