"""Views of the private notes: thin; the form validates, aap/instruction/notes.py acts."""
from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..models import Association
from ..permissions import (
    can_keep_reviewer_notes,
    get_application_or_404,
    get_note_or_404,
    reviewer_required,
    staff_required,
)
from . import bp, notes
from .forms import NoteForm


def _add(back, application=None, association_id=None):
    form = NoteForm()
    if form.validate_on_submit():
        try:
            notes.add_note(current_user, form.note_body.data, application=application, association_id=association_id)
        except notes.NoteError as refusal:
            flash(str(refusal), "error")
        else:
            flash("Note enregistrée.", "success")
    else:
        for errors in form.errors.values():
            flash(errors[0], "error")
    return redirect(back)


@bp.route("/instruction/dossiers/<int:application_id>/notes", methods=["POST"])
@staff_required
def add_file_note(application_id):
    application = get_application_or_404(application_id)
    return _add(url_for("applications.show", application_id=application.id, _anchor="notes"), application=application)


@bp.route("/instruction/associations/<int:association_id>/notes", methods=["POST"])
@staff_required
def add_association_note(association_id):
    association = db.get_or_404(Association, association_id)
    return _add(url_for("associations.staff_view", association_id=association.id, _anchor="notes"),
                association_id=association.id)


@bp.route("/evaluation/dossiers/<int:application_id>/notes", methods=["POST"])
@reviewer_required
def add_review_note(application_id):
    application = get_application_or_404(application_id, check=can_keep_reviewer_notes)
    return _add(url_for("review.review", application_id=application.id, _anchor="notes"), application=application)


def note_page_url(note):
    """Where a note is shown: the review page for a reviewer's note, else the file or association page."""
    if note.scope == "reviewer":
        return url_for("review.review", application_id=note.application_id, _anchor="notes")
    if note.application_id is not None:
        return url_for("applications.show", application_id=note.application_id, _anchor="notes")
    return url_for("associations.staff_view", association_id=note.association_id, _anchor="notes")


@bp.route("/notes/<int:note_id>/modifier", methods=["GET", "POST"])
@login_required
def edit_note(note_id):
    note = get_note_or_404(note_id)
    form = NoteForm(data={"note_body": note.body})
    status = 200
    if form.validate_on_submit():
        try:
            notes.edit_note(note, current_user, form.note_body.data)
        except notes.NoteError as refusal:
            form.note_body.errors = [str(refusal)]
            status = 400
        else:
            flash("Note modifiée ; le texte précédent reste dans son historique.", "success")
            return redirect(note_page_url(note))
    elif form.errors:
        status = 400
    return render_template("instruction/note_edit.html", note=note, form=form, back=note_page_url(note)), status


@bp.app_template_global()
def private_notes_of_file(application):
    """The notes of the file the current user reads (staff: staff notes; its reviewer: their own)."""
    return notes.notes_on_file(application, current_user)


@bp.app_template_global()
def note_form():
    return NoteForm(formdata=None)
