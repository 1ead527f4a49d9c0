"""Forms of the review domain (French messages next to the fields)."""
from wtforms import HiddenField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from ..forms import AppForm, select_choices
from ..models.review import RECOMMENDATION_LABELS
from ..money import AmountError, cents_to_input, parse_euros
from .errors import ReviewError
from .reviews import parse_score, submission_problems

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


class ConfirmSubmissionForm(AppForm):
    """« Confirmer l'envoi » of a review (its CSRF token only)."""


class RemindForm(AppForm):
    """The reviewers staff chose to remind (check boxes of the progress page)."""

    reviewer_ids = SelectMultipleField("Évaluateurs à relancer", coerce=int, validate_choice=False)

    def validate_reviewer_ids(self, field):
        if not field.data:
            raise ValidationError("Cochez au moins un évaluateur à relancer.")
        if any(not 1 <= value <= 2**31 - 1 for value in field.data):
            raise ValidationError("Cet évaluateur n'existe pas.")


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
    """The fields are made by review_form(): a score and a comment per criterion, then the
    recommendation, the amount and the general comment (in the page's order, which is also the
    order of the error summary)."""

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

    def draft_values(self, review):
        """What an autosave keeps, after validate(): each valid field as typed, each invalid one as
        stored in the draft (nothing when there is no draft). Returns the arguments of
        services.save_review: (scores, recommendation, amount in cents, comment)."""
        stored = {s.criterion_id: s for s in review.scores} if review is not None else {}
        scores = {}
        for c in self.criteria:
            kept = stored.get(c.id)
            value = (kept.value if kept else None) if self.score_field(c).errors \
                else parse_score(self.score_field(c).data, c)
            text = (kept.comment if kept else "") if self.comment_field(c).errors else self.comment_field(c).data or ""
            scores[c.id] = (value, text)
        recommendation = (review.recommendation if review else None) if self.recommendation.errors \
            else self.recommendation_value()
        amount = (review.proposed_amount_cents if review else None) if self.proposed_amount.errors \
            else self.amount_cents()
        comment = (review.comment if review else "") if self.comment.errors else self.comment.data or ""
        return scores, recommendation, amount, comment

    def add_submission_problems(self):
        """Add what is missing to send the review (a score, a comment for an extreme score, the
        recommendation) beside the fields, with the fields' own errors: every error at once.
        Returns True when there was none."""
        scores = {c.id: (parse_score(self.score_field(c).data, c), self.comment_field(c).data or "")
                  for c in self.criteria if not self.score_field(c).errors}
        problems = submission_problems(self.criteria, scores, self.recommendation_value())
        for name, message in problems.items():
            if not self[name].errors:
                self[name].errors = list(self[name].errors) + [message]
        self._errors = None
        return not self.errors


def _score_validator(criterion):
    def check(form, field):
        try:
            parse_score(field.data, criterion)
        except ReviewError as error:
            raise ValidationError(str(error)) from None
    return check


RADIO_SCALE_MAX = 10  # up to this maximum the scores are radio buttons, beyond a select


def score_choices(criterion):
    """(value, label) of every score of the criterion's scale, with what it means when staff said it."""
    descriptors = criterion.descriptors or {}
    return [SelectChoice(str(level), f"{level} — {descriptors[str(level)]}" if descriptors.get(str(level))
                         else str(level)) for level in range(criterion.scale_max + 1)]


def review_form(criteria, review=None, formdata=None):
    """A form with a score (chosen from the scale) and a comment per criterion of the call,
    filled from the review."""
    fields = {"criteria": tuple(criteria)}
    for criterion in criteria:
        label = f"Note « {criterion.label} » (0 à {criterion.scale_max})"
        validators = [_score_validator(criterion)]
        if criterion.scale_max <= RADIO_SCALE_MAX:
            fields[f"score_{criterion.id}"] = RadioField(label, choices=score_choices(criterion),
                                                         validate_choice=False, validators=validators)
        else:
            fields[f"score_{criterion.id}"] = SelectField(label, choices=[SelectChoice("", "Choisir une note")]
                                                          + score_choices(criterion),
                                                          validate_choice=False, validators=validators)
        fields[f"comment_{criterion.id}"] = TextAreaField(
            f"Commentaire « {criterion.label} »",
            validators=[Length(max=5000, message="Le commentaire est trop long.")])
    fields["recommendation"] = RadioField(
        "Avis global", choices=select_choices(RECOMMENDATION_LABELS.items()),
        validate_choice=False)
    fields["proposed_amount"] = StringField("Montant proposé (facultatif)", validators=[_amount])
    fields["comment"] = TextAreaField("Appréciation générale (facultatif)", validators=[
        Length(max=10000, message="Le texte est trop long.")])
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
