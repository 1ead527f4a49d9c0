"""Amendments (« avenants ») on the follow-up page: the section « Avenants » (each amendment, its
state, what it changes before → after, its PDF and its signature), staff's form to establish one
(with a preview of the changes before confirming), and the download of its PDF (the association's
members and staff; every download recorded)."""
import io
from datetime import date

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from wtforms import BooleanField, FieldList, FormField, StringField, TextAreaField
from wtforms import Form as SubForm
from wtforms.fields import DateField
from wtforms.validators import Optional, ValidationError

from .. import events
from ..database import writing
from ..documents.data import is_winner
from ..extensions import db
from ..forms import AppForm, MaxChars
from ..models.followup import ConventionState
from ..money import AmountError, cents_to_input, parse_euros
from ..permissions import can_follow_application, get_application_or_404, staff_required
from . import amendments, bp
from .page import section


def _euros_text(cents):
    """Cents as shown back in a field, digits grouped: « 60 000 » (« 60 000,50 »)."""
    euros, comma, rest = cents_to_input(cents).partition(",")
    return f"{int(euros):,}".replace(",", " ") + comma + rest


class YearForm(SubForm):
    """One year of the call: in the convention or not, its amount and its payment dates."""

    included = BooleanField("Année comprise dans la convention")
    amount = StringField("Montant de l'année (en euros)")
    advance_on = DateField("Date de l'avance", validators=[Optional()])
    balance_on = DateField("Date du solde", validators=[Optional()])


class AmendmentForm(AppForm):
    reason = TextAreaField("Motif de l'avenant", validators=[MaxChars(amendments.MAX_REASON)])
    years = FieldList(FormField(YearForm), min_entries=0)
    advance_percent = StringField("Avance des années restant à verser (en %)")

    def __init__(self, *args, year_list=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.year_list = list(year_list)
        while len(self.years) < len(self.year_list):
            self.years.append_entry()
        for year, entry in zip(self.year_list, self.years.entries):
            entry.form.included.label.text = f"Année {year} comprise dans la convention"
            entry.form.amount.label.text = f"Montant {year} (en euros)"
            entry.form.advance_on.label.text = f"Date de l'avance {year}"
            entry.form.balance_on.label.text = f"Date du solde {year}"
        self.amounts = {}
        self.percent = None

    def rows(self):
        return list(zip(self.year_list, self.years.entries))

    def fill(self, terms):
        by_year = dict(zip(terms["years"], terms["amount_per_year"]))
        for year, entry in zip(self.year_list, self.years.entries):
            entry.form.included.data = year in by_year
            entry.form.amount.data = _euros_text(by_year[year]) if year in by_year else ""
            dates = terms["dates"].get(year) or {}
            entry.form.advance_on.data = date.fromisoformat(dates["advance_on"]) if dates.get("advance_on") else None
            entry.form.balance_on.data = date.fromisoformat(dates["balance_on"]) if dates.get("balance_on") else None

    def validate_reason(self, field):
        if not (field.data or "").strip():
            raise ValidationError("Indiquez le motif de l'avenant : il figure dans l'avenant et est communiqué à "
                                  "l'association.")

    def validate_years(self, field):
        for year, entry in zip(self.year_list, field.entries):
            if not entry.form.included.data:
                continue
            try:
                cents = parse_euros(entry.form.amount.data)
            except AmountError as error:
                entry.form.amount.errors = [*entry.form.amount.errors, str(error)]
                raise ValidationError(f"Année {year} : {error}") from None
            if not cents:
                message = f"Indiquez le montant de l'année {year}."
                entry.form.amount.errors = [*entry.form.amount.errors, message]
                raise ValidationError(message)
            self.amounts[year] = cents
        if not self.amounts:
            raise ValidationError("Cochez au moins une année de la convention.")

    def validate_advance_percent(self, field):
        text = (field.data or "").strip().rstrip("%").strip()
        if not text:
            return
        if not text.isdigit() or not 0 <= int(text) <= 100:
            raise ValidationError("Indiquez un pourcentage entier de 0 à 100.")
        self.percent = int(text)

    def arguments(self, convention):
        """The keyword arguments of amendments.create_amendment."""
        committed = amendments.committed_by_year(convention)
        years = [year for year in self.year_list if year in self.amounts]
        schedule = []
        for year, entry in zip(self.year_list, self.years.entries):
            if year not in self.amounts:
                continue
            item = {"year": year, "advance_on": entry.form.advance_on.data,
                    "balance_on": entry.form.balance_on.data}
            if self.percent is not None and year not in committed:  # (the years still to pay)
                item["advance_percent"] = self.percent
            schedule.append(item)
        return {"reason": self.reason.data, "years": years,
                "amount_per_year": [self.amounts[year] for year in years], "schedule": schedule}


# --- The section of the follow-up page -------------------------------------------------------------

@section(15, "followup/_amendments.html")
def amendments_section(application, convention, user):
    """The convention's amendments (none shown to an association before the first); staff see
    the link to establish one, or why they cannot."""
    if convention is None:
        return None
    items = [{"amendment": a, "rows": amendments.change_rows(a)} for a in convention.amendments]
    if not items and not user.is_staff:
        return None
    # Before the convention is in force nothing is « as signed » yet: only say when one can be made.
    not_yet = convention.state in (ConventionState.ISSUED, ConventionState.ASSOCIATION_SIGNED,
                                   ConventionState.COUNTERSIGNED)
    return {"items": items, "not_yet": not_yet,
            "refusal": amendments.creation_refusal(convention) if user.is_staff and not not_yet else None}


# --- Pages ------------------------------------------------------------------------------------------

def _convention(application_id):
    application = get_application_or_404(application_id, check=can_follow_application)
    if not is_winner(application):
        abort(404)
    convention = amendments.convention_of(application.id)
    if convention is None:
        abort(404)
    return application, convention


FIELD_OF_ERROR = {"reason": "reason", "schedule": "advance_percent"}


@bp.route("/dossiers/<int:application_id>/avenants/nouveau", methods=["GET", "POST"])
@staff_required
def new_amendment(application_id):
    """Establish an amendment: the form, then a preview of what changes (before → after), then
    the confirmation that issues it and tells the association."""
    application, convention = _convention(application_id)
    back = url_for("followup.show", application_id=application.id, _anchor="avenants")
    refusal = amendments.creation_refusal(convention)
    if refusal:
        flash(refusal, "error")
        return redirect(back, 303)
    form = AmendmentForm(year_list=amendments.call_years(convention), prefix="avenant")
    preview, status = None, 200
    if form.validate_on_submit():
        arguments = form.arguments(convention)
        try:
            if request.form.get("action") == "confirm":
                amendment = amendments.create_amendment(convention, current_user, **arguments)
                db.session.commit()
                flash(f"L'avenant n° {amendment.number} est établi : l'association est prévenue par e-mail et peut "
                      f"le télécharger pour le signer.", "success")
                return redirect(back, 303)
            changes, previous = amendments.prepare(convention, **arguments)
            preview = amendments.change_rows(amendments.Amendment(changes=changes, previous=previous),
                                             years=amendments.current_terms(convention)["years"])
        except amendments.AmendmentError as error:
            db.session.rollback()
            target = form[FIELD_OF_ERROR.get(error.field, "years")]
            target.errors = [*target.errors, error.message] if isinstance(target.errors, list) else [error.message]
            form._errors = None
            status = 422
    elif form.is_submitted():
        status = 422
    else:
        form.fill(amendments.current_terms(convention))
    terms = amendments.current_terms(convention)
    return render_template("followup/amendment_new.html", application=application, convention=convention,
                           form=form, preview=preview, terms=terms,
                           term_rows=list(zip(terms["years"], terms["amount_per_year"])),
                           committed=amendments.committed_by_year(convention)), status


@bp.route("/dossiers/<int:application_id>/avenants/<int:number>.pdf")
@login_required
def amendment_pdf(application_id, number):
    """The amendment's PDF: its signed version once returned (signature.served_document), else
    the one generated from its data. Every download is recorded."""
    from ..applications import files
    from .signature import served_document
    application, convention = _convention(application_id)
    amendment = next((a for a in convention.amendments if a.number == number), None)
    if amendment is None:
        abort(404)
    document = served_document(amendment)
    with writing():
        events.record("amendment_downloaded", actor=current_user, application=application,
                      subject="amendment", subject_id=amendment.id, number=amendment.number,
                      signed=document is not None)
        db.session.commit()
    name = amendments.amendment_filename(amendment)
    if document is not None:
        return send_file(files.path_of(document.stored_name), mimetype="application/pdf", as_attachment=True,
                         download_name=name.replace(".pdf", "-signe.pdf"), max_age=0)
    return send_file(io.BytesIO(amendments.amendment_pdf(amendment)), mimetype="application/pdf",
                     as_attachment=True, download_name=name, max_age=0)
