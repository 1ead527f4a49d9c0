"""The WTForms of the application form, built from the section definitions.

A draft accepts empty fields but never invalid values: each typed value is kept as text,
checked with a French message next to the field, and turned into a Python value by cleaned().
"""
import re

from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError

from .. import money, referentiel
from ..forms import AppForm
from ..models.applications import SCOPES
from ..validators import no_formula
from . import sections as S

TEXT_LIMITS = {"title": 255, "summary": 3000, "attestation_name": 200}
TEXTAREA_LIMIT = 10000


def _choices(pairs):
    return [SelectChoice(value, label) for value, label in pairs]


def _choice_values(field):
    return {getattr(c, "value", c[0] if isinstance(c, tuple) else c) for c in field.choices}


def _normalise_text(value):
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


class NumberField(StringField):
    """A whole number typed as text (the typed text is shown back as is)."""

    def __init__(self, label=None, minimum=None, maximum=None, range_message=None, **kwargs):
        super().__init__(label, **kwargs)
        self.minimum, self.maximum = minimum, maximum
        self.range_message = range_message
        self.value = None

    def pre_validate(self, form):
        self.value = None
        raw = re.sub(r"[\s\u00a0\u202f]", "", self.data or "")
        if raw == "":
            return
        if not re.fullmatch(r"[+-]?\d{1,9}", raw):
            raise ValidationError("Saisissez un nombre entier, en chiffres, sans virgule ni lettre.")
        value = int(raw)
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise ValidationError(self.range_message)
        self.value = value


class MoneyField(StringField):
    """An amount in euros typed as text, cleaned to integer cents."""

    def __init__(self, label=None, **kwargs):
        super().__init__(label, **kwargs)
        self.value = None

    def pre_validate(self, form):
        self.value = None
        try:
            self.value = money.parse_euros(self.data)
        except money.AmountError as error:
            raise ValidationError(str(error)) from None


class OptionalRadioField(RadioField):
    def pre_validate(self, form):
        if self.data in (None, ""):
            self.data = None
            return
        if self.data not in _choice_values(self):
            raise ValidationError("Choisissez une des options proposées.")


class OptionalSelectField(SelectField):
    def pre_validate(self, form):
        if self.data in (None, ""):
            self.data = ""
            return
        if self.data not in _choice_values(self):
            raise ValidationError("Choisissez une des options proposées.")


class DepartementsField(SelectMultipleField):
    def pre_validate(self, form):
        unknown = [code for code in (self.data or []) if code not in referentiel.DEPARTEMENT_BY_CODE]
        if unknown:
            raise ValidationError("Département inconnu : " + ", ".join(f"« {c} »" for c in unknown[:5]) + ".")


def cofunding_names(i):
    return f"cofunding_{i}_funder", f"cofunding_{i}_amount", f"cofunding_{i}_status"


def per_year_name(year):
    return f"requested_year_{year}"


def form_names(spec, call):
    """The form field names that carry one section field."""
    if spec.kind == "money":
        return [spec.name.removesuffix("_cents")]
    if spec.kind == "cofunding":
        return [name for i in range(S.COFUNDING_ROWS) for name in cofunding_names(i)]
    if spec.kind == "per_year":
        return [per_year_name(y) for y in range(1, call.years + 1)]
    return [spec.name]


def anchor(spec, call):
    """The id of the first input of a field (links from the list of missing items)."""
    return form_names(spec, call)[0]


def form_values(spec, value, call):
    """A stored value as the text of its form fields: {form name: text}."""
    if spec.kind == "money":
        return {form_names(spec, call)[0]: money.cents_to_input(value)}
    if spec.kind == "cofunding":
        out = {}
        lines = list(value or [])
        for i in range(S.COFUNDING_ROWS):
            line = lines[i] if i < len(lines) else {}
            funder, amount, status = cofunding_names(i)
            out[funder] = line.get("funder", "")
            out[amount] = money.cents_to_input(line.get("amount_cents"))
            out[status] = line.get("status") or ""
        return out
    if spec.kind == "per_year":
        values = list(value or [])
        return {per_year_name(y): money.cents_to_input(values[y - 1] if y - 1 < len(values) else None)
                for y in range(1, call.years + 1)}
    if spec.kind == "departements":
        return {spec.name: list(value or [])}
    if spec.kind in ("int", "share", "months", "age"):
        return {spec.name: "" if value is None else str(value)}
    return {spec.name: value or ""}


def _euros(cents):
    return money.format_euros(cents)


class SectionForm(AppForm):
    """Base of every section form: the version the user started from."""

    version = HiddenField()

    section = None
    call = None

    def base_version(self):
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return 0

    def cleaned(self):
        """{model attribute: Python value} of the section's fields."""
        data = {}
        for spec in S.applicable_fields(self.section, self.call):
            kind = spec.kind
            if kind in ("text", "textarea"):
                data[spec.name] = _normalise_text(self[spec.name].data)
            elif kind in ("int", "share", "months", "age"):
                data[spec.name] = self[spec.name].value
            elif kind == "money":
                data[spec.name] = self[form_names(spec, self.call)[0]].value
            elif kind == "scope":
                data[spec.name] = self[spec.name].data or None
            elif kind == "departements":
                seen = []
                for code in self[spec.name].data or []:
                    if code not in seen:
                        seen.append(code)
                data[spec.name] = sorted(seen, key=referentiel.departement_sort_key)
            elif kind == "cofunding":
                lines = []
                for i in range(S.COFUNDING_ROWS):
                    funder, amount, status = (self[n] for n in cofunding_names(i))
                    line = {"funder": _normalise_text(funder.data), "amount_cents": amount.value,
                            "status": status.data or None}
                    if line["funder"] or line["amount_cents"] is not None or line["status"]:
                        lines.append(line)
                data[spec.name] = lines
            elif kind == "per_year":
                values = [self[per_year_name(y)].value for y in range(1, self.call.years + 1)]
                data[spec.name] = [] if all(v is None for v in values) else values
        if self.section.code == "attestation":
            name = data["attestation_name"]
            data["attestation_name"] = name if (name and self.attest.data) else None
        return data

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        checker = getattr(self, f"_check_{self.section.code}", None)
        if checker is not None:
            ok = checker() and ok
        return ok

    def _fail(self, field, message):
        field.errors = list(field.errors) + [message]
        return False

    # Cross-field checks (run only on values that are present and valid).
    def _check_jeunes(self):
        low, high = self.age_min.value, self.age_max.value
        if low is not None and high is not None and low > high:
            return self._fail(self.age_max, "L'âge maximum doit être supérieur ou égal à l'âge minimum.")
        return True

    def _check_budget(self):
        ok = True
        call = self.call
        total, requested = self.total_cost.value, self.requested.value
        if requested is not None and not self.requested.errors:
            if call.min_amount_cents and requested < call.min_amount_cents:
                ok = self._fail(self.requested, f"Le montant demandé doit être d'au moins {_euros(call.min_amount_cents)} "
                                                f"(montant minimum de l'appel).")
            elif call.max_amount_cents and requested > call.max_amount_cents:
                ok = self._fail(self.requested, f"Le montant demandé ne peut pas dépasser {_euros(call.max_amount_cents)} "
                                                f"(montant maximum de l'appel).")
            elif total is not None and requested > total:
                ok = self._fail(self.requested, "Le montant demandé ne peut pas dépasser le coût total du projet.")
        for i in range(S.COFUNDING_ROWS):
            funder, amount, status = (self[n] for n in cofunding_names(i))
            if not _normalise_text(funder.data) and (amount.value is not None or status.data):
                ok = self._fail(funder, "Indiquez le nom du cofinanceur.")
        if call.years > 1:
            fields = [self[per_year_name(y)] for y in range(1, call.years + 1)]
            values = [f.value for f in fields]
            if requested is not None and all(v is not None for v in values) and not any(f.errors for f in fields):
                total_years = sum(values)
                if total_years != requested:
                    ok = self._fail(fields[0], f"La somme des montants annuels ({_euros(total_years)}) doit être égale "
                                               f"au montant demandé ({_euros(requested)}).")
        return ok

    def _check_attestation(self):
        if _normalise_text(self.attestation_name.data) and not self.attest.data:
            return self._fail(self.attest, "Cochez la case pour attester sur l'honneur, ou effacez le nom.")
        return True


def _field_for(spec):
    hint = spec.hint
    if spec.kind == "text":
        limit = TEXT_LIMITS.get(spec.name, 255)
        # Titles and names (project title, the signatory's name) never start like a formula.
        return {spec.name: StringField(spec.label, description=hint, validators=[
            Length(max=limit, message=f"{limit} caractères au plus."), no_formula])}
    if spec.kind == "textarea":
        limit = TEXT_LIMITS.get(spec.name, TEXTAREA_LIMIT)
        return {spec.name: TextAreaField(spec.label, description=hint, validators=[
            Length(max=limit, message=f"{limit} caractères au plus.")])}
    if spec.kind == "int":
        return {spec.name: NumberField(spec.label, minimum=1, maximum=10_000_000, description=hint,
                                       range_message="Saisissez un nombre entier positif (au moins 1).")}
    if spec.kind == "share":
        return {spec.name: NumberField(spec.label, minimum=0, maximum=100, description=hint,
                                       range_message="Une part doit être comprise entre 0 et 100 %.")}
    if spec.kind == "months":
        return {spec.name: NumberField(spec.label, minimum=6, maximum=120, description=hint,
                                       range_message="La durée de l'accompagnement doit être d'au moins 6 mois "
                                                     "(et de 120 mois au plus).")}
    if spec.kind == "age":
        return {spec.name: NumberField(spec.label, minimum=0, maximum=99, description=hint,
                                       range_message="Saisissez un âge entre 0 et 99 ans.")}
    if spec.kind == "money":
        return {spec.name.removesuffix("_cents"): MoneyField(spec.label, description=hint)}
    if spec.kind == "scope":
        return {spec.name: OptionalRadioField(spec.label, choices=_choices(SCOPES.items()), description=hint)}
    if spec.kind == "departements":
        return {spec.name: DepartementsField(spec.label, choices=_choices(referentiel.departement_choices()), description=hint)}
    if spec.kind == "cofunding":
        fields = {}
        for i in range(S.COFUNDING_ROWS):
            funder, amount, status = cofunding_names(i)
            fields[funder] = StringField(f"Cofinanceur n° {i + 1}", validators=[
                Length(max=200, message="200 caractères au plus."), no_formula])
            fields[amount] = MoneyField(f"Montant du cofinancement n° {i + 1} (en euros)")
            fields[status] = OptionalSelectField(f"État du cofinancement n° {i + 1}",
                                                 choices=_choices([("", "— Choisir —")] + list(S.COFUNDING_STATUSES.items())))
        return fields
    raise ValueError(spec.kind)


def form_class(section, call):
    """The form class of one section for one call (budget fields depend on the call)."""
    attrs = {"section": section, "call": call}
    for spec in S.applicable_fields(section, call):
        if spec.kind == "per_year":
            for year in range(1, call.years + 1):
                attrs[per_year_name(year)] = MoneyField(f"Montant demandé pour l'année {year} (en euros)")
        else:
            attrs.update(_field_for(spec))
    if section.code == "attestation":
        attrs["attest"] = BooleanField(
            "J'atteste sur l'honneur l'exactitude des informations fournies, que l'association est à jour "
            "de ses obligations sociales et fiscales et qu'elle respecte le contrat d'engagement républicain.")
    return type(f"{section.code.capitalize()}Form", (SectionForm,), attrs)


def build_form(section, application, formdata=None):
    """The section's form, filled from the application (or from the posted data)."""
    call = application.call
    initial = {"version": str(application.version)}
    for spec in S.applicable_fields(section, call):
        initial.update(form_values(spec, S.value_of(application, spec), call))
    if section.code == "attestation":
        initial["attest"] = bool(application.attestation_name)
    cls = form_class(section, call)
    if formdata is None:
        return cls(formdata=None, data=initial)
    return cls(formdata=formdata, data=initial)


class UploadForm(AppForm):
    file = FileField("Fichier")


class ConfirmForm(AppForm):
    """A form with only the CSRF token (submit, withdraw, delete)."""

    reason = TextAreaField("Motif (facultatif)", validators=[Length(max=2000, message="2000 caractères au plus.")])
