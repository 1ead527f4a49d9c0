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

from .validators import control_character_error


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
