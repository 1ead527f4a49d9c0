"""Builders for the instruction tests (admissibility, requests for pieces, messages)."""
from flask import render_template_string
from flask_login import login_user, logout_user

from aap import timeutil
from aap.extensions import db
from aap.models import Assignment, Association, Event, User

from . import factories


def member(association, email, first_name="Membre"):
    """One more member account of an association."""
    account = User(email=email, role="applicant", first_name=first_name, last_name="Test",
                   association_id=association.id, email_confirmed_at=timeutil.now())
    account.set_password(factories.PASSWORD)
    db.session.add(account)
    db.session.commit()
    return account


def association(name, departement="69", region="84"):
    record = Association(name=name, departement_code=departement, region_code=region)
    db.session.add(record)
    db.session.commit()
    return record


def assign(reviewer, application, confirmed=True):
    """Assign the file; by default the reviewer has also confirmed having no conflict with it."""
    db.session.add(Assignment(application_id=application.id, reviewer_id=reviewer.id,
                              no_conflict_confirmed_at=timeutil.now() if confirmed else None))
    db.session.commit()


def events_of(application, action=None):
    statement = db.select(Event).where(Event.application_id == application.id).order_by(Event.id)
    if action:
        statement = statement.where(Event.action == action)
    return db.session.scalars(statement).all()


def render_partial(app, user, template, application):
    """Render one of the file-page partials as `user` would see it (None for anonymous)."""
    with app.test_request_context("/"):
        if user is not None:
            login_user(user)
        try:
            return render_template_string('{% include "' + template + '" %}', application=application)
        finally:
            if user is not None:
                logout_user()


def attach_pieces(application, mandatory_only=True):
    """A piece (its database row only, no file) for each mandatory document of the call, as a
    deposited file has them: its admissibility checklist then finds every piece."""
    import secrets

    from aap.models import Attachment
    for document in application.call.pieces:
        if document.mandatory or not mandatory_only:
            db.session.add(Attachment(application_id=application.id, document_id=document.id,
                                      original_name=f"{document.code}.pdf", stored_name=secrets.token_hex(16),
                                      kind="pdf", content_type="application/pdf", size=1000, sha256="0" * 64))
    db.session.commit()
    db.session.refresh(application)
    return application
