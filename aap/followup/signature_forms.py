"""The forms of a convention's (or an amendment's) signature; the service checks every value
(aap/followup/signature.py) and its refusals are shown next to the field."""
from flask_wtf.file import FileField
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

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


