"""The form of a yearly report: the application's section form (applications.forms.SectionForm:
typed text kept, French messages next to the fields, the bases and choices of the three-way merge
of drafts) over the report's fields (reports.REPORT_FIELDS)."""
from wtforms import BooleanField, TextAreaField

from .. import money, numbers, referentiel
from ..applications import sections as S
from ..applications.forms import DepartementsField, MoneyField, NumberField, SectionForm, _normalise_text
from ..forms import MaxChars, select_choices
from . import reports as R

REPORT_SECTION = S.Section("compte-rendu", "Compte rendu annuel", "Compte rendu", R.REPORT_FIELDS)


def _field(spec):
    if spec.kind == "int":
        return NumberField(spec.label, minimum=0, maximum=10_000_000, description=spec.hint,
                           range_message="Saisissez un nombre entier positif ou nul.")
    if spec.kind == "months":
        return NumberField(spec.label, minimum=0, maximum=R.MAX_DURATION_MONTHS, places=1, description=spec.hint,
                           range_message="La durée moyenne doit être comprise entre 0 et "
                                         f"{R.MAX_DURATION_MONTHS} mois.")
    if spec.kind == "money":
        return MoneyField(f"{spec.label} — réalisé (en euros)")
    if spec.kind == "departements":
        return DepartementsField(spec.label, choices=select_choices(referentiel.departement_choices()),
                                 description=spec.hint)
    if spec.kind == "checkbox":
        return BooleanField(spec.label)
    return TextAreaField(spec.label, description=spec.hint, validators=[MaxChars(10000)])


def form_values(spec, value):
    """A stored value as the text of its form field: {field: text}."""
    if spec.kind == "money":
        return {spec.name: money.cents_to_input(value)}
    if spec.kind in ("int", "months"):
        return {spec.name: numbers.format_decimal(value)}
    if spec.kind == "departements":
        return {spec.name: list(value or [])}
    if spec.kind == "checkbox":
        return {spec.name: bool(value)}
    return {spec.name: value or ""}


class ReportForm(SectionForm):
    section = REPORT_SECTION

    def cleaned(self):
        """{field: Python value} of the valid fields (an invalid one keeps its stored value)."""
        data = {}
        for spec in R.REPORT_FIELDS:
            field = self[spec.name]
            if field.errors:
                continue
            if spec.kind in ("int", "months", "money"):
                data[spec.name] = field.value
            elif spec.kind == "departements":
                data[spec.name] = sorted(dict.fromkeys(field.data or []), key=referentiel.departement_sort_key)
            elif spec.kind == "checkbox":
                data[spec.name] = bool(field.data)
            else:
                data[spec.name] = _normalise_text(field.data)
        return data

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        values = {spec.name: (None if self[spec.name].errors else self[spec.name].value)
                  for spec in R.ACTIVITY_FIELDS if spec.kind == "int"}
        for name, message in R.value_errors(values).items():
            ok = self._fail(self[name], message)
        return ok

    def merge(self, result, report):
        for name, value in {**result.stale, **result.kept_theirs}.items():
            spec = R.FIELD_BY_NAME[name]
            for form_name, text in form_values(spec, value).items():
                self[form_name].data = text
            self.page_bases[name] = S.digest(spec, value)
        self.page_bases.update(result.in_sync)
        self.version.data = str(result.version)


ReportForm = type("ReportForm", (ReportForm,), {spec.name: _field(spec) for spec in R.REPORT_FIELDS})


def build_report_form(report, formdata=None):
    initial = {"version": str(report.version)}
    for spec in R.REPORT_FIELDS:
        initial.update(form_values(spec, R.stored_value(report, spec)))
    form = ReportForm(formdata=formdata, data=initial)
    form.call = report.application.call
    form.posted = formdata
    loaded = {spec.name: S.digest(spec, R.stored_value(report, spec)) for spec in R.REPORT_FIELDS}
    form.page_bases = {**loaded, **form.bases()}
    return form
