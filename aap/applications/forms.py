"""The WTForms of the application form, built from the section definitions.

A draft accepts empty fields but never invalid values: each typed value is kept as text,
checked with a French message next to the field, and turned into a Python value by cleaned().
"""
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from .. import money, numbers, referentiel
from ..forms import AppForm, MaxChars, select_choices
from ..models.applications import SCOPES
from ..validators import no_formula
from . import budget as B
from . import sections as S

TEXT_LIMITS = {"title": 255, "summary": 3000, "attestation_name": 200}
TEXTAREA_LIMIT = 10000


def _choice_values(field):
    return {c.value for c in field.choices}


def _normalise_text(value):
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


class NumberField(StringField):
    """A number typed as text (the typed text is shown back as is), read by aap/numbers.py.

    A whole number by default (« 25,5 » young people is refused, saying why); with `places`,
    a decimal with at most that many decimals, comma or dot (« 25,5 » %), cleaned to an int
    when whole and a float otherwise."""

    def __init__(self, label=None, minimum=None, maximum=None, range_message=None, places=0, unit=None,
                 **kwargs):
        # The phone's digit keypad; with decimals, the one that has the decimal comma.
        kwargs.setdefault("render_kw", {"inputmode": "decimal" if places else "numeric"})
        super().__init__(label, **kwargs)
        self.minimum, self.maximum = minimum, maximum
        self.range_message = range_message
        self.places, self.unit = places, unit
        self.value = None

    def pre_validate(self, form):
        self.value = None
        try:
            if self.places:
                value = numbers.plain(numbers.parse_decimal(self.data, places=self.places, unit=self.unit,
                                                            negative=True))
            else:
                value = numbers.parse_integer(self.data, unit=self.unit)
        except numbers.NumberError as error:
            raise ValidationError(self._message(error.reason)) from None
        if value is None:
            return
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise ValidationError(self.range_message)
        self.value = value

    def _message(self, reason):
        typed = (self.data or "").strip()
        if not self.places:
            if reason == "decimals":
                whole = typed.replace(".", ",").split(",")[0].strip() or "0"
                return f"Saisissez un nombre entier, sans virgule (par exemple {whole} et non {typed})."
            return "Saisissez un nombre entier, en chiffres, sans virgule ni lettre."
        if reason == "decimals":
            return (f"Saisissez un nombre avec {self.places} décimale{'s' if self.places > 1 else ''} au plus, "
                    "par exemple 25,5.")
        return "Saisissez un nombre en chiffres, par exemple 25 ou 25,5."


class MoneyField(StringField):
    """An amount in euros typed as text, cleaned to integer cents."""

    def __init__(self, label=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})  # digits and the decimal comma
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


def form_names(spec, call):
    """The form field names that carry one section field."""
    if spec.kind == "money":
        return [spec.name.removesuffix("_cents")]
    if spec.kind == "budget":
        return [B.field_name(year, code) for year in B.year_keys(call.years) for code in B.CODES]
    return [spec.name]


def anchor(spec, call):
    """The id of the first input of a field (links from the list of missing items)."""
    return form_names(spec, call)[0]


def form_values(spec, value, call):
    """A stored value as the text of its form fields: {form name: text}."""
    if spec.kind == "money":
        return {form_names(spec, call)[0]: money.cents_to_input(value)}
    if spec.kind == "budget":
        return {B.field_name(year, code): money.cents_to_input(((value or {}).get(year) or {}).get(code))
                for year in B.year_keys(call.years) for code in B.CODES}
    if spec.kind == "departements":
        return {spec.name: list(value or [])}
    if spec.kind in ("int", "share", "months", "age"):
        return {spec.name: numbers.format_decimal(value)}
    return {spec.name: value or ""}


class SectionForm(AppForm):
    """Base of every section form: the version the user started from."""

    version = HiddenField()

    section = None
    call = None
    posted = None
    page_bases = None

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
            if self._invalid(spec):
                continue
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
            elif kind == "budget":
                data[spec.name] = self.budget_value()
        if self.section.code == "attestation" and "attestation_name" in data:
            name = data["attestation_name"]
            data["attestation_name"] = name if (name and self.attest.data) else None
            if self.attest.errors:
                data.pop("attestation_name")
        return data

    def _invalid(self, spec):
        """An invalid field is left out of cleaned() (it keeps its stored value): the valid ones are
        saved, the invalid ones are shown with their message and the text typed. The budget keeps
        its valid cells; an invalid cell keeps its stored amount (budget_value)."""
        if spec.kind == "budget":
            return False
        return any(self[name].errors for name in form_names(spec, self.call) if name in self)

    stored_budget = None  # the budget as stored when the form was built (for its invalid cells)

    def budget_value(self):
        """The budget typed in the form ({year: {line: cents}}): the valid cells as typed, an
        invalid one as stored."""
        value = {}
        for year in B.year_keys(self.call.years):
            cells = {}
            for code in B.CODES:
                try:
                    amount = money.parse_euros(self[B.field_name(year, code)].data)
                except money.AmountError:
                    amount = ((self.stored_budget or {}).get(year) or {}).get(code)
                if amount is not None:
                    cells[code] = amount
            value[year] = cells
        return value

    # The three-way merge of drafts (services.save_section): next to its fields the page carries,
    # per field, the digest of the value it loaded (base-<field>) and, on a conflict, the user's
    # choice (choix-<field>) with the digest of the stored version shown (vu-<field>).

    def _posted(self, prefix, name):
        value = (self.posted or {}).get(prefix + name) if self.posted is not None else None
        return value if value and len(value) <= 64 else None

    def bases(self):
        """{field: digest of the value the page loaded}, as posted."""
        bases = {}
        for spec in S.applicable_fields(self.section, self.call):
            base = self._posted("base-", spec.name)
            if base:
                bases[spec.name] = base
        return bases

    def choices(self):
        """{field: (choice, digest of the stored version shown)}, as posted."""
        choices = {}
        for spec in S.applicable_fields(self.section, self.call):
            choice, seen = self._posted("choix-", spec.name), self._posted("vu-", spec.name)
            if choice and seen:
                choices[spec.name] = (choice, seen)
        return choices

    def merge(self, result, application):
        """After a save shown again on the page (errors or conflicts): the page's bases follow what
        it now shows; a field settled for the stored version, or changed by someone else only,
        shows the stored value."""
        for name, value in {**result.stale, **result.kept_theirs}.items():
            spec = S.FIELD_BY_NAME[name]
            for form_name, text in form_values(spec, value, self.call).items():
                self[form_name].data = text
            self.page_bases[name] = S.digest(spec, value)
        self.page_bases.update(result.in_sync)
        self.version.data = str(result.version)

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
        ok = True
        low, high = self.age_min.value, self.age_max.value
        if low is not None and high is not None and low > high:
            ok = self._fail(self.age_max, "L'âge maximum doit être supérieur ou égal à l'âge minimum.")
        if S.shares_over_100(self.share_qpv.value, self.share_zrr.value):
            ok = self._fail(self.share_zrr, S.SHARES_OVER_100)
        return ok

    # The budget's coherence (balance, amount requested within the call's bounds and the cost)
    # does not stop a draft from being saved: it is shown next to the table and checked at
    # deposit (budget.problems, services.missing_items).

    offered_name = ""  # the legal representative's name, offered in an empty attestation

    def _check_attestation(self):
        name = _normalise_text(self.attestation_name.data)
        if name and name != _normalise_text(self.offered_name) and not self.attest.data:
            return self._fail(self.attest, "Cochez la case pour attester sur l'honneur, ou effacez le nom.")
        return True


def _field_for(spec):
    hint = spec.hint
    if spec.kind == "text":
        limit = TEXT_LIMITS.get(spec.name, 255)
        # Titles and names (project title, the signatory's name) never start like a formula.
        return {spec.name: StringField(spec.label, description=hint, validators=[MaxChars(limit), no_formula])}
    if spec.kind == "textarea":
        limit = TEXT_LIMITS.get(spec.name, TEXTAREA_LIMIT)
        return {spec.name: TextAreaField(spec.label, description=hint, validators=[MaxChars(limit)])}
    if spec.kind == "int":
        return {spec.name: NumberField(spec.label, minimum=1, maximum=10_000_000, description=hint,
                                       range_message="Saisissez un nombre entier positif (au moins 1).")}
    if spec.kind == "share":
        return {spec.name: NumberField(spec.label, minimum=0, maximum=100, description=hint, places=2, unit="%",
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
        return {spec.name: OptionalRadioField(spec.label, choices=select_choices(SCOPES.items()), description=hint)}
    if spec.kind == "departements":
        return {spec.name: DepartementsField(spec.label, choices=select_choices(referentiel.departement_choices()),
                                             description=hint)}
    raise ValueError(spec.kind)


def _budget_fields(call):
    """One amount per year and line of the budget table."""
    fields = {}
    for year in B.year_keys(call.years):
        label = B.year_label(call.year, call.years, year)
        for line in B.LINES:
            text = f"{line.label}, {label}" if call.years > 1 else line.label
            fields[B.field_name(year, line.code)] = MoneyField(text + " (en euros)")
    return fields


def form_class(section, call):
    """The form class of one section for one call (budget fields depend on the call)."""
    attrs = {"section": section, "call": call}
    for spec in S.applicable_fields(section, call):
        if spec.kind == "budget":
            attrs.update(_budget_fields(call))
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
        if not application.attestation_name:
            # Offered, not given: the name counts only once the box is ticked (cleaned()).
            initial["attestation_name"] = application.association.representative_name or ""
    cls = form_class(section, call)
    form = cls(formdata=None if formdata is None else formdata, data=initial)
    form.posted = formdata
    if section.code == "budget":
        form.stored_budget = S.value_of(application, S.FIELD_BY_NAME["budget"])
    # What the page loaded, field by field (hidden base-<field> inputs): on a page shown again
    # after a post, what that page had loaded, not what is stored now.
    loaded = {spec.name: S.digest(spec, S.value_of(application, spec)) for spec in S.applicable_fields(section, call)}
    form.page_bases = {**loaded, **form.bases()}
    if section.code == "attestation" and not application.attestation_name:
        form.offered_name = initial["attestation_name"]
    return form


class UploadForm(AppForm):
    file = FileField("Fichier")


class ConfirmForm(AppForm):
    """A form with only the CSRF token (submit, withdraw, delete)."""

    reason = TextAreaField("Motif (facultatif)", validators=[Length(max=2000, message="2000 caractères au plus.")])


class AdjustedBudgetForm(AppForm):
    """« Ajuster votre budget » (applications.adjustment): the budget table of the deposit, one
    amount per year and line, the State's grant line read-only (the amount granted)."""

    call = None
    amounts = ()
    stored_budget = None   # the budget the form started from (for its invalid cells)

    def budget_value(self):
        """The budget typed ({year: {line: cents}}): the valid cells as typed, an invalid one as it
        was, each year's grant line the amount granted."""
        value = {}
        for year, amount in zip(B.year_keys(self.call.years), self.amounts):
            cells = {}
            for code in B.CODES:
                try:
                    cents = money.parse_euros(self[B.field_name(year, code)].data)
                except money.AmountError:
                    cents = ((self.stored_budget or {}).get(year) or {}).get(code)
                if cents is not None:
                    cells[code] = cents
            cells[B.GRANT] = int(amount)
            value[year] = cells
        return value


def adjusted_budget_form(call, amounts, start, formdata=None):
    """The form of the budget as granted, filled from `start` ({year: {line: cents}}) or the post."""
    fields = _budget_fields(call)
    for year in B.year_keys(call.years):
        fields[B.field_name(year, B.GRANT)].kwargs["render_kw"] = {"inputmode": "decimal", "readonly": True}
    cls = type("AdjustedBudgetForm", (AdjustedBudgetForm,), fields)
    initial = form_values(S.FIELD_BY_NAME["budget"], start, call)
    form = cls(formdata=formdata, data=initial)
    form.call, form.amounts, form.stored_budget = call, list(amounts), start
    if formdata is not None:  # the grant line is not the association's to change
        for year, amount in zip(B.year_keys(call.years), amounts):
            form[B.field_name(year, B.GRANT)].data = money.cents_to_input(amount)
    return form
