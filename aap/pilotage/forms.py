"""The form of a reference figure of the plan (admins)."""
from wtforms import StringField
from wtforms.validators import InputRequired, Length, NumberRange

from ..calls.forms import FrIntegerField
from ..forms import AppForm


class PlanFigureForm(AppForm):
    year = FrIntegerField("Année", validators=[
        InputRequired("Saisissez l'année."), NumberRange(2000, 2100, "Saisissez une année entre 2000 et 2100.")])
    young_people = FrIntegerField("Jeunes accompagnés", validators=[
        InputRequired("Saisissez le nombre de jeunes."),
        NumberRange(0, 10_000_000, "Saisissez un nombre de jeunes entre 0 et 10 000 000.")])
    label = StringField("Source", validators=[
        InputRequired("Indiquez la source de ce chiffre."),
        Length(max=255, message="La source ne peut pas dépasser 255 caractères.")])


class DeleteFigureForm(AppForm):
    year = FrIntegerField("Année", validators=[InputRequired("Choisissez l'année.")])
