"""Forms of the documents' pages (staff)."""
from wtforms import StringField

from ..forms import AppForm


class CommitmentForm(AppForm):
    """The Chorus commitment number of a convention (services.record_commitment_number checks it)."""
    commitment_number = StringField("N° d'engagement juridique (Chorus)")
