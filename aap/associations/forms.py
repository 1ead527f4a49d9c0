"""Forms of the association's pages. French messages next to each field; what was typed stays."""
import re
from datetime import date, datetime

from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, Field, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError
from wtforms.widgets import DateInput, TextInput

from ..forms import AppForm, select_choices
from ..models.associations import LEGAL_FORMS
from ..money import AmountError, cents_to_input, parse_euros
from ..passwords import HINT as PASSWORD_HINT
from ..referentiel import DEPARTEMENT_BY_CODE, departement_choices, departement_for_postal_code
from ..validators import (
    IBAN_HINT,
    check_password_strength,
    clean_bic,
    clean_iban,
    clean_siret,
    group_iban,
    no_formula,
)
from . import bank, legal, services

DATE_INVALID = "Saisissez une date valide, par exemple 17/05/2010."


def rule(check):
    """A check or clean_* function as a WTForms validator. The field keeps what was typed
    (the services normalise it), so that a form shown again with errors elsewhere is unchanged."""
    def validator(form, field):
        if field.data in (None, ""):
            return
        try:
            check(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None
    return validator


def too_long(limit):
    return Length(max=limit, message=f"Ce champ ne peut pas dépasser {limit} caractères.")


class CountField(Field):
    """A whole number typed as text (so that a wrong value is shown back as typed)."""
    widget = TextInput()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = re.sub(r"[\s\u00a0\u202f]", "", valuelist[0] or "")
        if text == "":
            self.data = None
            return
        if not re.fullmatch(r"[+-]?\d{1,12}", text):
            self.data = None
            raise ValueError(services.COUNT_INVALID)
        self.data = int(text)


class FrenchDateField(Field):
    """A date from an <input type=date> (AAAA-MM-JJ) or typed as JJ/MM/AAAA."""
    widget = DateInput()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if isinstance(self.data, date) else ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").strip()
        if text == "":
            self.data = None
            return
        for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                self.data = datetime.strptime(text, pattern).date()
                return
            except ValueError:
                continue
        self.data = None
        raise ValueError(DATE_INVALID)


def _choice_of(allowed, message):
    def validator(form, field):
        if field.data not in allowed:
            raise ValidationError(message)
    return validator


def _budget(form, field):
    try:
        form.budget_cents = parse_euros(field.data)
    except AmountError as error:
        raise ValidationError(str(error)) from None


class IdentityForm(AppForm):
    name = StringField("Nom de l'association", validators=[DataRequired(services.NAME_REQUIRED), too_long(255),
                                                           no_formula])
    acronym = StringField("Sigle", validators=[too_long(50), no_formula])
    legal_form = SelectField("Forme juridique", choices=select_choices(LEGAL_FORMS.items()), validate_choice=False,
                             validators=[_choice_of(LEGAL_FORMS, services.LEGAL_FORM_UNKNOWN)],
                             render_kw={"data-legal-form": True})
    rna = StringField("Numéro RNA")  # checked when the legal form has one: validate()
    register_court = StringField("Tribunal judiciaire qui tient le registre", validators=[too_long(60), no_formula])
    register_volume = StringField("Volume", validators=[too_long(20), no_formula])
    register_folio = StringField("Folio", validators=[too_long(20), no_formula], render_kw={"inputmode": "numeric"})
    recognition_date = FrenchDateField("Date du décret de reconnaissance d'utilité publique ou de l'arrêté "
                                       "préfectoral d'autorisation")
    recognition_reference = StringField("Référence du décret au Journal officiel ou de l'arrêté préfectoral",
                                        validators=[too_long(160), no_formula])
    siret = StringField("Numéro SIRET", validators=[rule(clean_siret)])
    address = StringField("Adresse du siège", validators=[too_long(255), no_formula])
    postal_code = StringField("Code postal", validators=[rule(services.clean_postal_code)])
    commune = StringField("Commune", validators=[too_long(120), no_formula])
    departement_code = SelectField(
        "Département", choices=select_choices([("", "Déterminé par le code postal")] + departement_choices()),
        validate_choice=False,
        validators=[_choice_of(set(DEPARTEMENT_BY_CODE) | {""}, services.DEPARTEMENT_UNKNOWN)])
    representative_name = StringField("Nom du représentant légal", validators=[too_long(200), no_formula])
    representative_function = StringField("Fonction du représentant légal", validators=[too_long(120), no_formula])
    contact_email = EmailField("Adresse e-mail de contact", validators=[
        Optional(), too_long(254), Email(services.EMAIL_INVALID, check_deliverability=False)])
    phone = StringField("Téléphone", validators=[rule(services.check_phone)])
    creation_date = FrenchDateField("Date de création", validators=[rule(services.check_creation_date)])
    staff_count = CountField("Nombre de salariés", validators=[rule(services.check_count)],
                             render_kw={"inputmode": "numeric"})
    volunteer_count = CountField("Nombre de bénévoles", validators=[rule(services.check_count)],
                                 render_kw={"inputmode": "numeric"})
    annual_budget = StringField("Budget annuel du dernier exercice (en euros)", validators=[_budget],
                                render_kw={"inputmode": "decimal"})

    budget_cents = None

    def validate(self, extra_validators=None):
        """The fields, then the identifier of the legal form (aap/associations/legal.py), each
        message next to its field; the service checks the same again."""
        valid = super().validate(extra_validators)
        identity = {name: self[name].data for name in ("legal_form", *legal.FIELDS)}
        if self.recognition_date.errors:
            identity["recognition_date"] = None
        departement = self.departement_code.data or None
        if not departement:
            found = departement_for_postal_code((self.postal_code.data or "").strip())
            departement = found.code if found else None
        for name, message in legal.problems(identity, departement, services.today_paris()).items():
            if not self[name].errors:
                self[name].errors = list(self[name].errors) + [message]
                valid = False
        return valid

    @classmethod
    def initial(cls, association):
        """The form's values for an association (the département only when it was chosen by hand)."""
        data = {name: getattr(association, name) for name in services.IDENTITY_FIELDS
                if name not in ("annual_budget_cents", "departement_code")}
        derived = departement_for_postal_code(association.postal_code)
        explicit = association.departement_code
        data["departement_code"] = explicit if explicit and (derived is None or derived.code != explicit) else ""
        data["annual_budget"] = cents_to_input(association.annual_budget_cents)
        for key, value in data.items():
            if value is None and key not in ("creation_date", "recognition_date", "staff_count", "volunteer_count"):
                data[key] = ""
        return data

    def to_data(self):
        data = {name: self[name].data for name in services.IDENTITY_FIELDS if name in self}
        data["annual_budget_cents"] = self.budget_cents
        return data


class BankForm(AppForm):
    iban = StringField("IBAN", description=IBAN_HINT,
                       validators=[DataRequired(services.IBAN_REQUIRED), rule(clean_iban)])
    bic = StringField("BIC", validators=[DataRequired(services.BIC_REQUIRED), rule(clean_bic)])
    account_holder = StringField("Titulaire du compte", validators=[
        DataRequired(services.HOLDER_REQUIRED), too_long(200), no_formula])
    # Once a file of the association is selected: the RIB of the new account (checked by the service).
    rib = FileField("RIB du nouveau compte")
    password = PasswordField("Votre mot de passe", validators=[DataRequired(bank.PASSWORD_REQUIRED)])

    @classmethod
    def initial(cls, association):
        return {"iban": group_iban(association.iban), "bic": association.bic or "",
                "account_holder": association.account_holder or association.name}


class ValidateBankRequestForm(AppForm):
    checked = BooleanField("J'ai vérifié que le RIB joint correspond au titulaire, à l'IBAN et au BIC demandés",
                           validators=[DataRequired(bank.CHECK_REQUIRED)])


class RefuseBankRequestForm(AppForm):
    reason = TextAreaField("Motif du refus (communiqué à l'association)", validators=[
        DataRequired(bank.REASON_REQUIRED), Length(max=bank.REASON_MAX_LENGTH, message=bank.REASON_TOO_LONG)])


class InviteMemberForm(AppForm):
    email = EmailField("Adresse e-mail de votre collègue", validators=[
        DataRequired("Saisissez l'adresse e-mail de la personne à inviter."), too_long(254),
        Email(services.EMAIL_INVALID, check_deliverability=False)])


class ConfirmMemberActionForm(AppForm):
    """Removing a member or cancelling an invitation: the confirmation page's button (its page
    says what will happen)."""


class RepresentativeForm(AppForm):
    member = SelectField("Membre qui devient le représentant légal", choices=[], coerce=str,
                         validators=[DataRequired("Choisissez le membre qui devient le représentant légal.")])
    function = StringField("Sa fonction dans l'association", validators=[
        DataRequired(services.REPRESENTATIVE_FUNCTION_REQUIRED), too_long(120), no_formula])

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.member.choices = select_choices([("", "— Choisir un membre —")] + [
            (str(m.id), f"{m.full_name} ({m.email})") for m in members])


class JoinForm(AppForm):
    first_name = StringField("Prénom", validators=[DataRequired("Saisissez votre prénom."), too_long(100), no_formula])
    last_name = StringField("Nom", validators=[DataRequired("Saisissez votre nom."), too_long(100), no_formula])
    password = PasswordField("Mot de passe", description=PASSWORD_HINT,
                             validators=[DataRequired("Choisissez un mot de passe.")])
    password_confirm = PasswordField("Confirmation du mot de passe", validators=[
        DataRequired("Confirmez le mot de passe."),
        EqualTo("password", message="Les deux mots de passe ne sont pas identiques.")])

    def __init__(self, *args, email=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.invited_email = email  # the address of the invitation, for the password rule

    def validate_password(self, field):
        try:
            check_password_strength(field.data, email=self.invited_email,
                                    names=(self.first_name.data, self.last_name.data))
        except ValueError as error:
            raise ValidationError(str(error)) from None
