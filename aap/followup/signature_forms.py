"""The forms of a convention's (or an amendment's) signature; the service checks every value
(aap/followup/signature.py) and its refusals are shown next to the field."""
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..associations.forms import FrenchDateField
from ..forms import AppForm
from .signature import REASON_MAX, SIGNATORY_MAX


class ReturnForm(AppForm):
    document = FileField("Convention signée (PDF)")


class CountersignForm(AppForm):
    document = FileField("Convention contresignée (PDF, facultatif)")
    day = FrenchDateField("Date de la signature de l'État")
    signatory = StringField("Signataire pour l'État (nom et qualité)",
                            validators=[Length(max=SIGNATORY_MAX, message=f"{SIGNATORY_MAX} caractères au plus.")])


class ReasonForm(AppForm):
    reason = TextAreaField("Motif", render_kw={"rows": 3},
                           validators=[Length(max=REASON_MAX, message=f"{REASON_MAX} caractères au plus.")])


class ConfirmForm(AppForm):
    """A button alone (the CSRF token)."""




class NotifyForm(AppForm):
    """Putting a convention (or an amendment) in force: mails the association, plans the payments
    and opens the reports, and is not undone — so staff tick what will happen first."""
    confirmed = BooleanField("Je confirme la notification : elle met le document en vigueur et ne peut pas être "
                             "annulée.",
                             validators=[DataRequired(message="Cochez la case pour confirmer la notification.")])
