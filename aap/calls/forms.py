"""Forms of the staff pages of a call. Business rules live in services.check_call_values,
so that forms and services refuse the same things with the same French messages."""
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .. import timeutil
from ..documents import convention_texts as ct
from ..forms import AppForm, select_choices
from ..models.calls import VISIBILITY_LABELS
from ..money import AmountError, cents_to_input, parse_euros
from ..validators import no_formula
from . import services
from .contact import SERVICE_DEFAULTS, SERVICE_FIELDS, SERVICE_MAX, service_contact
from .help import DEFAULT_FAQ, FAQ_MAX, faq_text

# ---------------------------------------------------------------- fields with French messages

class FrDateField(DateField):
    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        for parse in (date.fromisoformat, lambda t: datetime.strptime(t, "%d/%m/%Y").date()):
            try:
                self.data = parse(text)
                return
            except ValueError:
                continue
        raise ValueError("Saisissez une date valide, par exemple 31/01/2027.")


class FrTimeField(TimeField):
    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip().replace("h", ":").replace("H", ":")
        self.data = None
        if not text:
            return
        for pattern in ("%H:%M", "%H:%M:%S"):
            try:
                self.data = datetime.strptime(text, pattern).time()
                return
            except ValueError:
                continue
        raise ValueError("Saisissez une heure valide, par exemple 12:00.")


class FrIntegerField(IntegerField):
    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        try:
            self.data = int(text)
        except ValueError:
            raise ValueError("Saisissez un nombre entier.") from None


class FrDecimalField(DecimalField):
    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip().replace(",", ".").replace(" ", "")
        self.data = None
        if not text:
            return
        try:
            self.data = Decimal(text)
        except InvalidOperation:
            raise ValueError("Saisissez un nombre, par exemple 1 ou 1,5.") from None
        if not self.data.is_finite():
            self.data = None
            raise ValueError("Saisissez un nombre, par exemple 1 ou 1,5.")

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return format(self.data.normalize(), "f").replace(".", ",")


class EurosField(StringField):
    """An amount typed in euros (« 42 500,50 »); `data` is in cents, the typed text is kept."""

    def process_data(self, value):
        self.data = value
        text = cents_to_input(value)
        euros, comma, rest = text.partition(",")
        self.text = (f"{int(euros):,}".replace(",", " ") + comma + rest) if euros else ""

    def process_formdata(self, valuelist):
        self.text = valuelist[0] if valuelist else ""
        self.data = None
        try:
            self.data = parse_euros(self.text)
        except AmountError as error:
            raise ValueError(str(error)) from None

    def _value(self):
        return self.text


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# ---------------------------------------------------------------- call settings

# Field of the form that shows the error of each value checked by the service.
ERROR_FIELDS = {"title": "title", "slug": "slug", "opens_at": "opens_date", "closes_at": "closes_date",
                "review_deadline": "review_deadline", "budget_cents": "budget",
                "min_amount_cents": "min_amount", "max_amount_cents": "max_amount", "years": "years",
                "reviewers_per_file": "reviewers_per_file", "advance_percent": "advance_percent",
                "budget_per_year": "envelope_year_1", "min_score": "min_score",
                **{key: key for key in SERVICE_FIELDS}, "aid_scheme_id": "aid_scheme_id",
                **{f"convention_texts.{key}": f"convention_{key}" for key in ct.CONVENTION_TEXT_FIELDS},
                **{key: key for key in services.FOLLOWUP_SETTINGS}}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _id(text):
    """The id posted for an existing row (None for a new one; -1, never found, for a forged one)."""
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else -1


def _lower(value):
    return value.lower() if isinstance(value, str) else value


class CallForm(AppForm):
    title = StringField("Titre de l'appel à projets", filters=[_strip],
                        validators=[InputRequired("Saisissez le titre de l'appel à projets."), Length(max=255),
                                    no_formula])
    slug = StringField("Adresse courte", filters=[_strip, _lower],
                       validators=[InputRequired("Saisissez l'adresse courte de l'appel, par exemple aap-2027.")])
    description = TextAreaField("Présentation de l'appel (Markdown)", render_kw={"rows": 14}, validators=[
        Length(max=50_000, message="La présentation ne peut pas dépasser 50 000 caractères.")])
    opens_date = FrDateField("Date d'ouverture", validators=[InputRequired("Saisissez la date d'ouverture.")])
    opens_time = FrTimeField("Heure d'ouverture", default=time(0, 0),
                             validators=[InputRequired("Saisissez l'heure d'ouverture.")])
    closes_date = FrDateField("Date de clôture", validators=[InputRequired("Saisissez la date de clôture.")])
    closes_time = FrTimeField("Heure de clôture", default=time(23, 59),
                              validators=[InputRequired("Saisissez l'heure de clôture.")])
    review_deadline = FrDateField("Date limite des évaluations", validators=[Optional()])
    budget = EurosField("Enveloppe budgétaire (€)")
    min_amount = EurosField("Montant minimum par dossier (€)")
    max_amount = EurosField("Montant maximum par dossier (€)")
    years = RadioField("Durée de la convention", coerce=int, validate_choice=False,
                       choices=select_choices(services.YEARS_CHOICES.items()), default=1,
                       validators=[InputRequired("Choisissez la durée de la convention.")])
    reviewers_per_file = FrIntegerField("Nombre d'évaluateurs par dossier", default=2,
                                        validators=[InputRequired("Indiquez le nombre d'évaluateurs par dossier.")])
    avoid_same_region = BooleanField("Ne jamais confier un dossier à un évaluateur de la même région",
                                     default=True)
    hide_other_reviews = BooleanField("Un évaluateur ne voit les autres évaluations qu'après avoir envoyé la sienne",
                                      default=True)
    advance_percent = FrIntegerField("Avance versée à la signature (% de la première année)", default=50,
                                     validators=[InputRequired("Indiquez le pourcentage de l'avance.")])
    # The envelope of each year of a 3-year call (all empty: the envelope split evenly).
    envelope_year_1 = EurosField("Enveloppe de la 1re année (€)")
    envelope_year_2 = EurosField("Enveloppe de la 2e année (€)")
    envelope_year_3 = EurosField("Enveloppe de la 3e année (€)")
    min_score = FrDecimalField("Note minimale pour être proposé (sur 20)", default=Decimal(10),
                               validators=[Optional()])  # (empty: unchanged, 10 for a new call)
    grey_zone_draw = BooleanField("Tirage au sort dans la zone grise")
    # The service in charge (CRPA R112-5: printed on the receipt and the decision letters).
    service_name = StringField("Nom du service chargé des dossiers", default=SERVICE_DEFAULTS["service_name"],
                               filters=[_strip], validators=[Length(max=SERVICE_MAX["service_name"]), no_formula])
    service_address = TextAreaField("Adresse postale du service", default=SERVICE_DEFAULTS["service_address"],
                                    filters=[_strip], render_kw={"rows": 3},
                                    validators=[Length(max=SERVICE_MAX["service_address"])])
    service_email = StringField("Adresse électronique du service", default=SERVICE_DEFAULTS["service_email"],
                                filters=[_strip], validators=[Length(max=SERVICE_MAX["service_email"])])
    service_phone = StringField("Téléphone du service", default=SERVICE_DEFAULTS["service_phone"],
                                filters=[_strip], validators=[Length(max=SERVICE_MAX["service_phone"])])
    # The call's help page for applicants (aap/calls/help.py).
    faq = TextAreaField("Questions fréquentes (Markdown)", default=DEFAULT_FAQ, render_kw={"rows": 14}, validators=[
        Length(max=FAQ_MAX, message=f"Les questions fréquentes ne peuvent pas dépasser {FAQ_MAX} caractères.")])
    # The open data (SCDL dispositifAide): empty means the call's title.
    aid_scheme_id = StringField("Identifiant du dispositif d'aide", filters=[_strip], validators=[
        Length(max=120, message="L'identifiant ne peut pas dépasser 120 caractères."), no_formula])
    # The conventions' legal and budgetary texts (aap/documents/convention_texts.py: defaults, checks).
    convention_visas = TextAreaField("Visas", filters=[_strip], render_kw={"rows": 10})
    convention_budget_programme = StringField("Programme", filters=[_strip])
    convention_budget_action = StringField("Action", filters=[_strip])
    convention_budget_centre = StringField("Centre financier", filters=[_strip])
    convention_budget_activity = StringField("Activité", filters=[_strip])
    convention_signatory_name = StringField("Nom du signataire pour l'État", filters=[_strip])
    convention_signatory_title = StringField("Qualité du signataire", filters=[_strip])
    convention_state_aid = RadioField("Régime d'aide d'État", validate_choice=False,
                                      choices=select_choices((k, v["label"]) for k, v in ct.STATE_AID.items()))
    convention_signature_mode = RadioField("Signature de la convention", validate_choice=False,
                                           choices=select_choices(ct.SIGNATURE_MODES.items()))
    convention_originals = FrIntegerField("Nombre d'exemplaires originaux (signature sur papier)")
    # The follow-up after the decision (services.FOLLOWUP_SETTINGS: bounds, defaults, messages; empty:
    # unchanged, the default for a new call).
    convention_reminder_days = FrIntegerField("Relance des conventions non renvoyées signées (jours)",
                                              default=services.FOLLOWUP_SETTINGS["convention_reminder_days"][2])
    report_due_months = FrIntegerField("Remise du compte rendu annuel (mois après la fin de l'année)",
                                       default=services.FOLLOWUP_SETTINGS["report_due_months"][2])
    report_reminder_days = FrIntegerField("Rappel avant l'échéance du compte rendu (jours)",
                                          default=services.FOLLOWUP_SETTINGS["report_reminder_days"][2])

    def __init__(self, *args, call=None, **kwargs):
        self.call = call
        super().__init__(*args, **kwargs)
        if call is not None and call.year:  # « Enveloppe 2025 (€) » rather than « de la 1re année »
            for index in range(3):
                self[f"envelope_year_{index + 1}"].label.text = f"Enveloppe {call.year + index} (€)"

    def fill_from(self, call):
        """Show a call's values (times in Paris)."""
        self.title.data, self.slug.data, self.description.data = call.title, call.slug, call.description
        opens, closes = timeutil.to_paris(call.opens_at), timeutil.to_paris(call.closes_at)
        self.opens_date.data, self.opens_time.data = opens.date(), opens.time().replace(second=0)
        self.closes_date.data, self.closes_time.data = closes.date(), closes.time().replace(second=0)
        self.review_deadline.data = timeutil.to_paris(call.review_deadline).date() if call.review_deadline else None
        for name, cents in (("budget", call.budget_cents), ("min_amount", call.min_amount_cents),
                            ("max_amount", call.max_amount_cents)):
            self[name].process_data(cents)
        self.years.data = call.years
        envelopes = call.envelopes
        even = services.split_evenly(call.budget_cents or 0, call.years)
        for index in range(3):  # (an even split shows as empty fields)
            value = envelopes[index] if call.years == 3 and envelopes != even else None
            self[f"envelope_year_{index + 1}"].process_data(value)
        self.min_score.data = call.min_score
        self.grey_zone_draw.data = call.grey_zone_draw
        self.reviewers_per_file.data = call.reviewers_per_file
        self.avoid_same_region.data = call.avoid_same_region
        self.hide_other_reviews.data = call.hide_other_reviews
        self.advance_percent.data = call.advance_percent
        contact = service_contact(call)
        self.service_name.data, self.service_address.data = contact.name, contact.address
        self.service_email.data, self.service_phone.data = contact.email, contact.phone
        self.aid_scheme_id.data = call.aid_scheme_id
        self.faq.data = faq_text(call)
        for key, value in ct.convention_texts(call.convention_texts, call.year).items():
            self[f"convention_{key}"].data = value
        for key in services.FOLLOWUP_SETTINGS:
            self[key].data = getattr(call, key)

    def values(self):
        """The typed values as the service expects them (UTC datetimes, cents)."""
        def moment(day, at, end=False):
            if day is None or at is None:
                return None
            if end and at.minute == 59 and at.second == 0:
                at = at.replace(second=59)  # « 23:59 » means until the end of that minute
            return timeutil.paris_to_utc(datetime.combine(day, at))

        return dict(
            title=self.title.data, slug=self.slug.data, description=self.description.data or "",
            opens_at=moment(self.opens_date.data, self.opens_time.data),
            closes_at=moment(self.closes_date.data, self.closes_time.data, end=True),
            review_deadline=(timeutil.end_of_day_paris(self.review_deadline.data)
                             if self.review_deadline.data else None),
            budget_cents=self.budget.data or 0, min_amount_cents=self.min_amount.data or 0,
            max_amount_cents=self.max_amount.data or 0, years=self.years.data,
            reviewers_per_file=self.reviewers_per_file.data, avoid_same_region=self.avoid_same_region.data,
            hide_other_reviews=self.hide_other_reviews.data, advance_percent=self.advance_percent.data,
            min_score=(self.min_score.data if self.min_score.data is not None
                       else self.call.min_score if self.call is not None else Decimal(10)),
            grey_zone_draw=bool(self.grey_zone_draw.data),
            **{key: self[key].data or "" for key in SERVICE_FIELDS},
            aid_scheme_id=self.aid_scheme_id.data or "",
            faq=self.faq.data or "",
            convention_texts={key: (self[f"convention_{key}"].data if key == "originals"
                                    else self[f"convention_{key}"].data or "")
                              for key in ct.CONVENTION_TEXT_FIELDS},
            budget_per_year=[self[f"envelope_year_{i}"].data for i in (1, 2, 3)
                             if self[f"envelope_year_{i}"].data is not None],
            **{key: self[key].data for key in services.FOLLOWUP_SETTINGS if self[key].data is not None})

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        errors = services.check_call_values(self.values(), call=self.call)
        self.add_errors(errors)
        return not errors

    def add_errors(self, errors):
        for key, message in errors.items():
            field = self[ERROR_FIELDS.get(key, "title")]
            if message not in field.errors:
                field.errors.append(message)
        # The summary at the top of the page lists the fields in error.
        self._errors = None


# ---------------------------------------------------------------- criteria

class CriterionForm(Form):
    id = HiddenField()
    label = StringField("Intitulé", filters=[_strip], validators=[no_formula])
    description = TextAreaField("Description", filters=[_strip], render_kw={"rows": 3}, validators=[
        Length(max=5_000, message="La description ne peut pas dépasser 5 000 caractères.")])
    weight = FrDecimalField("Poids", default=Decimal("1"))
    scale_max = FrIntegerField("Note maximale", default=5)
    descriptors = TextAreaField("Signification des notes", filters=[_strip], render_kw={"rows": 6}, validators=[
        Length(max=5_000, message="Le texte ne peut pas dépasser 5 000 caractères.")])
    remove = BooleanField("Supprimer ce critère")

    @property
    def is_blank_new(self):
        return not self.id.data and not self.label.data

    def validate(self, extra_validators=None):
        if self.remove.data or self.is_blank_new:
            return True  # a removed criterion or the empty row for a new one is not checked
        ok = super().validate(extra_validators)
        if not self.label.data:
            self.label.errors.append("Saisissez l'intitulé du critère.")
            ok = False
        if self.weight.data is not None and self.weight.data <= 0:
            self.weight.errors.append("Le poids doit être supérieur à 0.")
            ok = False
        elif self.weight.data is not None and self.weight.data > services.MAX_WEIGHT:
            self.weight.errors.append("Le poids ne peut pas dépasser 100.")
            ok = False
        elif self.weight.data is None and not self.weight.errors:
            self.weight.errors.append("Indiquez le poids du critère.")
            ok = False
        scale = self.scale_max.data
        if scale is None and not self.scale_max.errors:
            self.scale_max.errors.append("Indiquez la note maximale.")
            ok = False
        elif scale is not None and not services.SCALE_MIN <= scale <= services.SCALE_MAX:
            self.scale_max.errors.append(
                f"La note maximale va de {services.SCALE_MIN} à {services.SCALE_MAX}.")
            ok = False
        try:
            self.parsed_descriptors = services.parse_descriptors(self.descriptors.data, scale)
        except services.CallError as error:
            self.descriptors.errors.append(str(error))
            ok = False
        self._errors = None
        return ok


class CriteriaForm(AppForm):
    criteria = FieldList(FormField(CriterionForm), min_entries=0)

    def items(self):
        """The criteria to keep, as service items."""
        items = []
        for entry in self.criteria:
            sub = entry.form
            if sub.remove.data or sub.is_blank_new:
                continue
            items.append({"id": _id(sub.id.data),
                          "label": sub.label.data, "description": sub.description.data,
                          "weight": sub.weight.data, "scale_max": sub.scale_max.data,
                          "descriptors": sub.parsed_descriptors})
        return items


def criteria_form(call, formdata=None):
    if formdata is not None:
        return CriteriaForm(formdata=formdata)
    form = CriteriaForm(formdata=None)
    for criterion in call.criteria:
        form.criteria.append_entry({"id": str(criterion.id), "label": criterion.label,
                                    "description": criterion.description, "weight": criterion.weight,
                                    "scale_max": criterion.scale_max,
                                    "descriptors": services.format_descriptors(criterion.descriptors)})
    form.criteria.append_entry({"weight": Decimal("1"), "scale_max": 5})
    return form


# ---------------------------------------------------------------- required documents

# The visibility of a required document as posted (RequiredPiece.reserved).
VISIBLE, RESERVED = "evaluateurs", "instruction"
VISIBILITY_CHOICES = select_choices([(VISIBLE, VISIBILITY_LABELS[False]), (RESERVED, VISIBILITY_LABELS[True])])


class DocumentForm(Form):
    id = HiddenField()
    label = StringField("Intitulé", filters=[_strip])
    mandatory = BooleanField("Pièce obligatoire")
    formats = MultiCheckboxField("Formats acceptés", choices=select_choices(services.FORMAT_LABELS.items()))
    visibility = RadioField("Qui lit cette pièce ?", choices=VISIBILITY_CHOICES, validate_choice=False)
    remove = BooleanField("Supprimer cette pièce")

    @property
    def reserved(self):
        """True or False as chosen; None when nothing was posted (the document keeps its own)."""
        return {VISIBLE: False, RESERVED: True}.get(self.visibility.data)

    @property
    def is_blank_new(self):
        return not self.id.data and not self.label.data

    def validate(self, extra_validators=None):
        if self.remove.data or self.is_blank_new:
            return True
        ok = True
        if not self.label.data:
            self.label.errors = ["Saisissez l'intitulé de la pièce."]
            ok = False
        elif len(self.label.data) > 200:
            self.label.errors = ["L'intitulé ne peut pas dépasser 200 caractères."]
            ok = False
        else:
            try:
                no_formula(self, self.label)
            except ValidationError as error:
                self.label.errors = [str(error)]
                ok = False
        chosen = self.formats.data or []
        if not chosen or any(f not in services.FORMATS for f in chosen):
            self.formats.errors = ["Cochez au moins un format accepté."]
            ok = False
        if self.visibility.data not in (None, "", VISIBLE, RESERVED):
            self.visibility.errors = ["Choisissez qui lit cette pièce : les évaluateurs ou l'instruction seulement."]
            ok = False
        self._errors = None
        return ok


class DocumentsForm(AppForm):
    documents = FieldList(FormField(DocumentForm), min_entries=0)

    def items(self):
        items = []
        for entry in self.documents:
            sub = entry.form
            if sub.remove.data or sub.is_blank_new:
                continue
            items.append({"id": _id(sub.id.data),
                          "label": sub.label.data, "mandatory": sub.mandatory.data,
                          "formats": sub.formats.data or [], "reserved": sub.reserved})
        return items


def pieces_form(call, formdata=None):
    if formdata is not None:
        return DocumentsForm(formdata=formdata)
    form = DocumentsForm(formdata=None)
    for document in call.pieces:
        form.documents.append_entry({"id": str(document.id), "label": document.label,
                                     "mandatory": document.mandatory,
                                     "formats": [f for f in document.formats.split(",") if f],
                                     "visibility": RESERVED if document.reserved else VISIBLE})
    form.documents.append_entry({"mandatory": True, "formats": list(services.FORMATS), "visibility": VISIBLE})
    return form


class ConfirmForm(AppForm):
    """Only the CSRF token: publish and close buttons."""


class WordingForm(Form):
    """One kind of decision mail: its subject and text (the rules: mail_templates.check_wording)."""
    subject = StringField("Objet", validators=[Length(max=200, message="L'objet ne doit pas dépasser 200 caractères.")])
    body = TextAreaField("Texte du courrier", render_kw={"rows": 18},
                         validators=[Length(max=20_000, message="Le texte ne doit pas dépasser 20 000 caractères.")])
    reset = BooleanField("Revenir au texte par défaut (l'objet et le texte ci-dessus sont alors ignorés)")

    def validate_subject(self, field):
        if self.reset.data:
            return
        from .mail_templates import check_wording
        message = check_wording(field.data, "-").get("subject")
        if message:
            raise ValidationError(message)

    def validate_body(self, field):
        if self.reset.data:
            return
        from .mail_templates import check_wording
        message = check_wording("-", field.data).get("body")
        if message:
            raise ValidationError(message)


class MailTemplatesForm(AppForm):
    """The call's four wordings (retenu, liste d'attente, non retenu, irrecevable)."""
    selected = FormField(WordingForm, label="Projet retenu")
    waitlisted = FormField(WordingForm, label="Liste d'attente")
    rejected = FormField(WordingForm, label="Projet non retenu")
    inadmissible = FormField(WordingForm, label="Dossier irrecevable")

    def fill(self, wordings):
        for kind, wording in wordings.items():
            self[kind].subject.data, self[kind].body.data = wording.subject, wording.body

    def values(self):
        from .mail_templates import DEFAULTS
        return {kind: DEFAULTS[kind] if self[kind].reset.data
                else (self[kind].subject.data or "", self[kind].body.data or "") for kind in DEFAULTS}
