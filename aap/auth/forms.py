from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from ..referentiel import region_choices
from ..validators import check_password_strength

EMAIL_REQUIRED = "Saisissez votre adresse e-mail."
EMAIL_INVALID = "Saisissez une adresse e-mail valide, par exemple nom@domaine.fr."


def _strong(form, field):
    try:
        check_password_strength(field.data)
    except ValueError as error:
        raise ValidationError(str(error)) from None


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class EmailMixin:
    email = EmailField("Adresse e-mail", filters=[_strip], validators=[
        DataRequired(EMAIL_REQUIRED), Length(max=254, message="L'adresse est trop longue."),
        Email(EMAIL_INVALID, check_deliverability=False)])


class LoginForm(EmailMixin, FlaskForm):
    password = PasswordField("Mot de passe", validators=[DataRequired("Saisissez votre mot de passe.")])


class PasswordMixin:
    password = PasswordField("Mot de passe", validators=[DataRequired("Choisissez un mot de passe."), _strong])
    password_confirm = PasswordField("Confirmation du mot de passe", validators=[
        DataRequired("Confirmez le mot de passe."),
        EqualTo("password", message="Les deux mots de passe ne sont pas identiques.")])


class SignupForm(EmailMixin, PasswordMixin, FlaskForm):
    first_name = StringField("Prénom", validators=[DataRequired("Saisissez votre prénom."), Length(max=100)])
    last_name = StringField("Nom", validators=[DataRequired("Saisissez votre nom."), Length(max=100)])
    association_name = StringField("Nom de l'association", validators=[
        DataRequired("Saisissez le nom de votre association."), Length(max=255)])
    accept = BooleanField("J'accepte que mes données soient traitées pour l'instruction des candidatures.",
                          validators=[DataRequired("Vous devez accepter le traitement de vos données pour créer un compte.")])


class EmailOnlyForm(EmailMixin, FlaskForm):
    pass


class NewPasswordForm(PasswordMixin, FlaskForm):
    pass


class InvitationAcceptForm(PasswordMixin, FlaskForm):
    pass


class InviteForm(EmailMixin, FlaskForm):
    first_name = StringField("Prénom", validators=[DataRequired("Saisissez le prénom."), Length(max=100)])
    last_name = StringField("Nom", validators=[DataRequired("Saisissez le nom."), Length(max=100)])
    role = SelectField("Rôle", choices=[("reviewer", "Évaluateur"), ("staff", "Instructeur DJEPVA")])
    region_code = SelectField("Région de rattachement (évaluateurs)", choices=[], default="")

    def __init__(self, *args, allow_admin=False, **kwargs):
        super().__init__(*args, **kwargs)
        if allow_admin:
            self.role.choices = self.role.choices + [("admin", "Administrateur")]
        self.region_code.choices = [("", "— Aucune —")] + region_choices()
