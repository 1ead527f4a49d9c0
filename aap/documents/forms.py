"""Forms of the documents' pages (staff)."""
from wtforms import StringField

from ..associations.forms import FrenchDateField
from ..forms import AppForm


class CommitmentForm(AppForm):
    """The Chorus commitment number of a convention (services.record_commitment_number checks it)."""
    commitment_number = StringField("N° d'engagement juridique (Chorus)")


class SignatureForm(AppForm):
    """The day a convention was signed (aap/documents/signature.py checks it)."""
    signed_at = FrenchDateField("Date de signature de la convention")
