"""Forms of the review domain (French messages next to the fields)."""
from wtforms import HiddenField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from ..forms import AppForm
from ..models.review import RECOMMENDATION_LABELS
from ..money import AmountError, cents_to_input, parse_euros
from .services import ReviewError, parse_score

REASON_MAX = 2000
# Ids beyond the database's integer range would fail in the query (SQLite: OverflowError).
ID_RANGE = NumberRange(min=1, max=2**31 - 1, message="Cet élément n'existe pas.")


class DeclareConflictForm(AppForm):
    association_id = IntegerField(validators=[InputRequired("Choisissez une association."), ID_RANGE])
    reason = TextAreaField("Nature du lien", validators=[
        DataRequired("Précisez la nature du lien (membre du bureau, salarié, bénévole, proche…)."),
        Length(max=REASON_MAX, message="Le texte est trop long.")])


class RemoveConflictForm(AppForm):
    conflict_id = IntegerField(validators=[InputRequired(), ID_RANGE])
    reason = TextAreaField("Motif du retrait", validators=[
        DataRequired("Indiquez pourquoi ce lien n'existe plus."),
        Length(max=REASON_MAX, message="Le texte est trop long.")])


class FileConflictForm(AppForm):
    """On opening a file: « pas de lien » or declare one (a reason is then required)."""

    reason = TextAreaField("Nature du lien avec cette association", validators=[
        Length(max=REASON_MAX, message="Le texte est trop long.")])


class AssignForm(AppForm):
    application_id = IntegerField(validators=[InputRequired("Dossier manquant."), ID_RANGE])
    reviewer_id = IntegerField("Évaluateur", validators=[InputRequired("Choisissez un évaluateur."), ID_RANGE])


class ConfirmProposalForm(AppForm):
    signature = HiddenField(validators=[DataRequired()])


class ReopenForm(AppForm):
    reason = TextAreaField("Motif de la réouverture", validators=[
        DataRequired("Indiquez pourquoi l'évaluation est rouverte : le motif est envoyé à l'évaluateur."),
        Length(max=REASON_MAX, message="Le texte est trop long.")])


def _amount(form, field):
    try:
        field.parsed = parse_euros(field.data)
    except AmountError as error:
        raise ValidationError(str(error)) from None


class ReviewFormBase(AppForm):
    recommendation = RadioField("Avis global", choices=[SelectChoice(value, label) for value, label in RECOMMENDATION_LABELS.items()],
                                validate_choice=False)
    proposed_amount = StringField("Montant proposé (facultatif)", validators=[_amount])
    comment = TextAreaField("Appréciation générale (facultatif)", validators=[
        Length(max=10000, message="Le texte est trop long.")])

    criteria = ()

    def validate_recommendation(self, field):
        if field.data and field.data not in RECOMMENDATION_LABELS:
            raise ValidationError("Choisissez favorable, réservé ou défavorable.")

    def score_field(self, criterion):
        return self[f"score_{criterion.id}"]

    def comment_field(self, criterion):
        return self[f"comment_{criterion.id}"]

    def scores(self):
        """{criterion_id: (value or None, comment)} from validated data."""
        return {c.id: (parse_score(self.score_field(c).data, c), self.comment_field(c).data or "")
                for c in self.criteria}

    def recommendation_value(self):
        return self.recommendation.data or None

    def amount_cents(self):
        return parse_euros(self.proposed_amount.data)


def _score_validator(criterion):
    def check(form, field):
        try:
            parse_score(field.data, criterion)
        except ReviewError as error:
            raise ValidationError(str(error)) from None
    return check


def review_form(criteria, review=None, formdata=None):
    """A form with a score and a comment per criterion of the call, filled from the review."""
    fields = {"criteria": tuple(criteria)}
    for criterion in criteria:
        fields[f"score_{criterion.id}"] = StringField(
            f"Note « {criterion.label} » (0 à {criterion.scale_max})", validators=[_score_validator(criterion)])
        fields[f"comment_{criterion.id}"] = TextAreaField(
            f"Commentaire « {criterion.label} »",
            validators=[Length(max=5000, message="Le commentaire est trop long.")])
    form_class = type("ReviewForm", (ReviewFormBase,), fields)
    data = {}
    if review is not None:
        for score in review.scores:
            data[f"score_{score.criterion_id}"] = "" if score.value is None else str(score.value)
            data[f"comment_{score.criterion_id}"] = score.comment
        data["recommendation"] = review.recommendation
        data["proposed_amount"] = cents_to_input(review.proposed_amount_cents)
        data["comment"] = review.comment
    if formdata is None:
        return form_class(data=data)
    return form_class(formdata=formdata)
