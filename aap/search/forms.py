"""The search form (GET): what is typed, and the filters; unknown choices are ignored."""
from wtforms import BooleanField, SelectField, StringField

from ..forms import AppForm, select_choices
from ..models.applications import DRAFT, STATUS_LABELS
from ..referentiel import region_choices
from .queries import MAX_LENGTH


class SearchForm(AppForm):
    class Meta:
        csrf = False

    q = StringField("Rechercher dans les dossiers")
    appel = SelectField("Appel à projets", validate_choice=False)
    etat = SelectField("État", choices=select_choices([("", "Tous")] + [
        (code, label) for code, label in STATUS_LABELS.items() if code != DRAFT]), validate_choice=False)
    region = SelectField("Région", choices=select_choices([("", "Toutes")] + region_choices()), validate_choice=False)
    commentaires = BooleanField("Inclure les commentaires des évaluateurs")

    def __init__(self, calls, **kwargs):
        super().__init__(**kwargs)
        self.appel.choices = select_choices([("", "Tous")] + [(str(call.id), call.title) for call in calls])

    def value(self, name):
        """The field's value if it is one of its choices, else ''."""
        data = self[name].data or ""
        return data if data in {choice.value for choice in self[name].choices} else ""

    @property
    def text(self):
        return (self.q.data or "").strip()[:MAX_LENGTH]
