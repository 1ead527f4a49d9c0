"""Conventions on disk: numbering, storage by fingerprint, regeneration only when data changed.

The only place (with bulk.py) that writes Convention rows.
"""
import os
import re
import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from .. import events, timeutil
from ..database import writing
from ..extensions import db
from ..models import Application, Convention
from .convention import build_convention_pdf
from .data import bank_details_of, convention_data, convention_number, fingerprint

NUMBER_RE = re.compile(r"-(\d+)$")


def documents_folder(*parts):
    folder = Path(current_app.config["DOCUMENTS_FOLDER"]).joinpath(*parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def conventions_folder():
    return documents_folder("conventions")


def write_atomically(path, content):
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)


def _last_number(call_id):
    numbers = db.session.scalars(
        select(Convention.number).join(Application, Application.id == Convention.application_id)
        .where(Application.call_id == call_id)
    ).all()
    values = [int(m.group(1)) for m in (NUMBER_RE.search(n or "") for n in numbers) if m]
    return max(values, default=0)


def number_conventions(applications):
    """Give a Convention row (with its stable number) to each application that has none.

    The applications are numbered in the order given (references order for a call).
    Returns {application_id: Convention}. Two statements, then one INSERT per new row.
    """
    if not applications:
        return {}
    ids = [a.id for a in applications]
    existing = {c.application_id: c for c in db.session.scalars(
        select(Convention).where(Convention.application_id.in_(ids)))}
    last_by_call = {}
    for application in applications:
        if application.id in existing:
            continue
        call = application.call
        if call.id not in last_by_call:
            last_by_call[call.id] = _last_number(call.id)
        last_by_call[call.id] += 1
        convention = Convention(application_id=application.id,
                                number=convention_number(call, last_by_call[call.id]),
                                data_fingerprint="", stored_name=None)
        db.session.add(convention)
        existing[application.id] = convention
    db.session.flush()
    return existing


def convention_path(convention):
    return conventions_folder() / convention.stored_name if convention.stored_name else None


def needs_render(convention, data_fingerprint):
    path = convention_path(convention)
    return (convention.data_fingerprint != data_fingerprint or path is None or not path.exists())


def store_convention(convention, data_fingerprint, pdf):
    """Write the PDF under DOCUMENTS_FOLDER/conventions and point the row to it (no commit).

    Returns the path of the previous file, to delete after the commit."""
    old = convention_path(convention)
    name = f"{convention.application_id}-{data_fingerprint[:20]}.pdf"
    write_atomically(conventions_folder() / name, pdf)
    convention.stored_name = name
    convention.data_fingerprint = data_fingerprint
    convention.generated_at = timeutil.now()
    return old if old is not None and old.name != name else None


def remove_files(paths):
    for path in paths:
        if path is not None:
            Path(path).unlink(missing_ok=True)


def issued_bank_details(convention, application):
    """The bank details a convention was issued with: recorded when it is first issued (with the
    association's current, validated details) and kept afterwards, so that a later change of the
    association's account never rewrites a convention already issued (only reissue_convention
    does). A convention issued before the association had an account takes it when it has one."""
    if not (convention.bank_details or {}).get("iban"):
        convention.bank_details = bank_details_of(application.association)
    return convention.bank_details


def issued_convention_data(application, convention):
    """The data of a convention as issued: its number and the bank details it was issued with
    (the one rule for the single download and the bulk generation)."""
    return convention_data(application, convention.number, bank=issued_bank_details(convention, application))


def ensure_convention(application):
    """The up-to-date convention of a winner: rendered only if its data changed. Commits.

    Returns (convention, path, regenerated)."""
    convention = number_conventions([application])[application.id]
    data = issued_convention_data(application, convention)
    data_fingerprint = fingerprint(data)
    regenerated = False
    old = None
    if needs_render(convention, data_fingerprint):
        old = store_convention(convention, data_fingerprint, build_convention_pdf(data))
        regenerated = True
    db.session.commit()
    remove_files([old])
    return convention, convention_path(convention), regenerated


def record_download(application, actor):
    with writing():
        events.record("convention_downloaded", actor=actor, application=application)
        db.session.commit()


class ConventionError(ValueError):
    """A refused action on a convention; the message is French and shown to the user."""


def association_conventions(association_id):
    """The conventions issued to an association, with their files, newest call first:
    [(convention, application, bank details it was issued with, current details)]."""
    from sqlalchemy.orm import joinedload
    rows = db.session.execute(
        select(Convention, Application).join(Application, Application.id == Convention.application_id)
        .options(joinedload(Application.call), joinedload(Application.association))
        .where(Application.association_id == association_id)
        .order_by(Convention.generated_at.desc(), Convention.id.desc())).all()
    return [(convention, application, convention.bank_details or {}, bank_details_of(application.association))
            for convention, application in rows]


def reissue_convention(application, actor):
    """Issue a convention again with the association's current (validated) bank details, after a
    change of account: same number, new document. Commits. Raises ConventionError."""
    from ..associations.services import mask_iban
    convention = db.session.scalar(select(Convention).where(Convention.application_id == application.id))
    if convention is None:
        raise ConventionError("Aucune convention n'a encore été émise pour ce dossier.")
    current = bank_details_of(application.association)
    if not current["iban"]:
        raise ConventionError("L'association n'a pas de coordonnées bancaires enregistrées.")
    old = convention.bank_details or {}
    if old == current:
        raise ConventionError(f"La convention {convention.number} porte déjà les coordonnées bancaires actuelles.")
    convention.bank_details = current
    events.record("convention_reissued", actor=actor, application=application, number=convention.number,
                  old_iban=mask_iban(old.get("iban")), new_iban=mask_iban(current["iban"]),
                  old_bic=old.get("bic"), new_bic=current["bic"],
                  old_holder=old.get("account_holder"), new_holder=current["account_holder"])
    data = issued_convention_data(application, convention)
    old_file = store_convention(convention, fingerprint(data), build_convention_pdf(data))
    db.session.commit()
    remove_files([old_file])
    return convention
