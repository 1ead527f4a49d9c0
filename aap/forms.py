"""The base of every form of the application.

AppForm checks, after the fields' own validators, every text field of the form, those of its
sub-forms (FormField) and lists (FieldList) included: a single-line field refuses any control
character (a CR/LF in an association name would reach an e-mail header), a text area keeps
only its line breaks and tabs (validators.control_character_error). A field added to a form
gets the rule without anything to declare; tests/test_injection_and_exports.py checks that
every form of the application derives from AppForm.
"""
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField
from wtforms.fields.choices import SelectChoice

from .validators import control_character_error


def select_choices(pairs):
    """The options of a select, radio or checkbox field from (value, label) pairs (WTForms
    deprecates tuples: SelectChoice is the declared form)."""
    return [SelectChoice(value, label) for value, label in pairs]


def _text_fields(fields):
    for field in fields:
        if isinstance(field, FormField):
            yield from _text_fields(field.form)
        elif isinstance(field, FieldList):
            yield from _text_fields(field.entries)
        else:
            yield field


def _forget_errors(form):
    """Forms cache their `errors` dict: drop the caches so that the added errors show."""
    form._errors = None
    for field in form:
        if isinstance(field, FormField):
            _forget_errors(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                if isinstance(entry, FormField):
                    _forget_errors(entry.form)


def check_text_fields(form):
    """Add the control-character error to each text field that has one; True when none has."""
    ok = True
    for field in _text_fields(form):
        message = control_character_error(field)
        if message is not None:
            if not isinstance(field.errors, list):
                field.errors = list(field.errors)
            if message not in field.errors:
                field.errors.append(message)
            ok = False
    if not ok:
        _forget_errors(form)
    return ok


class AppForm(FlaskForm):
    """FlaskForm (CSRF, French messages) plus the control-character rule on every text field."""

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return check_text_fields(self) and ok


# ---------------------------------------------------------------------------------------------
# Rendering helpers for templates/macros/forms.html (registered as Jinja globals in aap/web.py).

def field_kind(field):
    """How the one form macro draws a field: checkbox, radios, checkboxes, select, file,
    textarea or input. By class, not by name, so that a subclass (OptionalRadioField) gets the
    markup of its parent."""
    from flask_wtf.file import FileField as WtfFileField
    from wtforms import (
        BooleanField,
        FileField,
        MultipleFileField,
        RadioField,
        SelectField,
        SelectMultipleField,
        TextAreaField,
    )
    from wtforms.widgets import CheckboxInput

    if isinstance(field, BooleanField):
        return "checkbox"
    if isinstance(field, RadioField):
        return "radios"
    if isinstance(field, SelectMultipleField) and isinstance(getattr(field, "option_widget", None), CheckboxInput):
        return "checkboxes"
    if isinstance(field, (SelectField, SelectMultipleField)):
        return "select"
    if isinstance(field, (FileField, MultipleFileField, WtfFileField)):
        return "file"
    if isinstance(field, TextAreaField):
        return "textarea"
    return "input"


def text_limit(field):
    """The most characters a text field takes (its Length or MaxChars validator), or None."""
    from wtforms.validators import Length

    limits = [v.max for v in getattr(field, "validators", ())
              if isinstance(v, (Length, MaxChars)) and v.max not in (None, -1)]
    return min(limits) if limits else None


def count_chars(text):
    """Characters as the browser counts them in a field (a line break is one)."""
    return len((text or "").replace("\r\n", "\n").replace("\r", "\n"))


class MaxChars:
    """At most `max` characters, line breaks counted once (as the live counter does), with a
    French message saying by how much the text is too long. Unlike WTForms' Length it sets no
    `maxlength` attribute: a browser would cut pasted text without a word."""

    def __init__(self, max):
        self.max = max

    def __call__(self, form, field):
        from wtforms.validators import ValidationError

        count = count_chars(field.data if isinstance(field.data, str) else "")
        if count > self.max:
            raise ValidationError(
                f"Ce texte compte {group_digits(count)} caractères : {group_digits(self.max)} au maximum. "
                f"Raccourcissez-le de {group_digits(count - self.max)} caractère{'s' if count - self.max > 1 else ''} "
                f"(votre texte est conservé ci-dessous).")


def group_digits(number):
    """12345 -> « 12 345 » (narrow no-break space, French typography)."""
    return f"{int(number):,}".replace(",", "\u202f")
