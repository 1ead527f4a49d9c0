from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from ..forms import AppForm, select_choices
from ..passwords import HINT as PASSWORD_HINT
from ..referentiel import region_choices
from ..validators import check_password_strength, no_formula

EMAIL_REQUIRED = "Saisissez votre adresse e-mail."
EMAIL_INVALID = "Saisissez une adresse e-mail valide, par exemple nom@domaine.fr."


def _strong(form, field):
    email, names = form.password_owner()
    try:
        check_password_strength(field.data, email=email, names=names)
    except ValueError as error:
        raise ValidationError(str(error)) from None


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class EmailMixin:
    email = EmailField("Adresse e-mail", filters=[_strip], validators=[
        DataRequired(EMAIL_REQUIRED), Length(max=254, message="L'adresse est trop longue."),
        Email(EMAIL_INVALID, check_deliverability=False)])


class LoginForm(EmailMixin, AppForm):
    password = PasswordField("Mot de passe", validators=[DataRequired("Saisissez votre mot de passe.")])


class PasswordMixin:
    """A new password and its confirmation. `owner`: the account the password is for (reset,
    invitation); without it (sign-up) the form's own e-mail and name fields say who it is for."""
    password = PasswordField("Mot de passe", description=PASSWORD_HINT,
                             validators=[DataRequired("Choisissez un mot de passe."), _strong])
    password_confirm = PasswordField("Confirmation du mot de passe", validators=[
        DataRequired("Confirmez le mot de passe."),
        EqualTo("password", message="Les deux mots de passe ne sont pas identiques.")])

    def __init__(self, *args, owner=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.password_owner_account = owner

    def password_owner(self):
        """(e-mail address, names) of the person choosing the password."""
        owner = self.password_owner_account
        if owner is not None:
            return owner.email, (owner.first_name, owner.last_name)
        data = {name: self[name].data for name in ("email", "first_name", "last_name") if name in self}
        return data.get("email"), (data.get("first_name"), data.get("last_name"))


class SignupForm(EmailMixin, PasswordMixin, AppForm):
    first_name = StringField("Prénom", validators=[DataRequired("Saisissez votre prénom."), Length(max=100),
                                                   no_formula])
    last_name = StringField("Nom", validators=[DataRequired("Saisissez votre nom."), Length(max=100), no_formula])
    association_name = StringField("Nom de l'association", validators=[
        DataRequired("Saisissez le nom de votre association."), Length(max=255), no_formula])
    accept = BooleanField("J'accepte que mes données soient traitées pour l'instruction des candidatures.",
                          validators=[DataRequired(
                              "Vous devez accepter le traitement de vos données pour créer un compte.")])


class EmailOnlyForm(EmailMixin, AppForm):
    pass


class NewPasswordForm(PasswordMixin, AppForm):
    pass


class InvitationAcceptForm(PasswordMixin, AppForm):
    pass


class InviteForm(EmailMixin, AppForm):
    first_name = StringField("Prénom", validators=[DataRequired("Saisissez le prénom."), Length(max=100), no_formula])
    last_name = StringField("Nom", validators=[DataRequired("Saisissez le nom."), Length(max=100), no_formula])
    role = SelectField("Rôle", choices=select_choices([("reviewer", "Évaluateur"), ("staff", "Instructeur DJEPVA")]))
    region_code = SelectField("Région de rattachement (évaluateurs)", choices=[], default="")

    def __init__(self, *args, allow_admin=False, **kwargs):
        super().__init__(*args, **kwargs)
        if allow_admin:
            self.role.choices = self.role.choices + [SelectChoice("admin", "Administrateur")]
        self.region_code.choices = select_choices([("", "— Aucune —")] + region_choices())


class TeamActionForm(AppForm):
    """The confirmation of an action on a team account: `confirmation` is the fingerprint of what
    the page announced (aap/auth/team.fingerprint)."""
    confirmation = HiddenField()


class RoleForm(TeamActionForm):
    role = SelectField("Nouveau rôle", choices=[SelectChoice("reviewer", "Évaluateur"),
                                                SelectChoice("staff", "Instructeur DJEPVA"),
                                                SelectChoice("admin", "Administrateur")],
                       validators=[DataRequired("Choisissez le nouveau rôle.")])
