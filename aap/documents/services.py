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
from .data import bank_details_of, convention_data, convention_number, fingerprint, winners

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


def merit_order(call, applications):
    """The applications in the order of the call's ranking (best rank first, then reference)."""
    from ..selection import ranking
    rows = ranking.load(call, application_ids=[a.id for a in applications]).rows
    ranks = {row.application.id: row.scores.rank for row in rows}
    return sorted(applications, key=lambda a: (ranks.get(a.id) is None, ranks.get(a.id) or 0,
                                               a.reference or "", a.id))


def number_conventions(applications):
    """The Convention row (with its stable number) of each application, numbering first every
    winner of their calls that has none: all at once, in the order of the ranking, so that the
    numbers follow merit, not the order of the downloads. A winner numbered later (promoted from
    the waiting list) takes the next number. A row without a file is numbered, not issued yet.

    Returns {application_id: Convention} for the given applications."""
    if not applications:
        return {}
    ids = [a.id for a in applications]
    existing = {c.application_id: c for c in db.session.scalars(
        select(Convention).where(Convention.application_id.in_(ids)))}
    calls = {a.call.id: a.call for a in applications if a.id not in existing}
    for call in calls.values():
        call_winners = winners(call.id)
        numbered = set(db.session.scalars(select(Convention.application_id).where(
            Convention.application_id.in_([a.id for a in call_winners]))))
        last = _last_number(call.id)
        given = [a for a in applications if a.call.id == call.id and a not in call_winners]
        for application in merit_order(call, [a for a in call_winners + given if a.id not in numbered]):
            last += 1
            db.session.add(Convention(application_id=application.id, number=convention_number(call, last),
                                      data_fingerprint="", stored_name=None, generated_at=None))
    if calls:
        db.session.flush()
        existing = {c.application_id: c for c in db.session.scalars(
            select(Convention).where(Convention.application_id.in_(ids)))}
    return existing


def convention_path(convention):
    return conventions_folder() / convention.stored_name if convention.stored_name else None


def is_frozen(convention):
    """Once its association has returned it signed (aap/followup/signature.py), a convention's
    data are frozen: it is never generated again (a copy sent back as not acceptable thaws it)."""
    from ..models.followup import ConventionState
    return convention.state is not None and convention.state != ConventionState.ISSUED


FROZEN = ("La convention {number} a été signée par l'association : ses données sont figées et elle n'est plus "
          "régénérée. Une modification passe par un avenant.")


def needs_render(convention, data_fingerprint):
    path = convention_path(convention)
    if is_frozen(convention) and path is not None and path.exists():
        return False
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
    return convention_data(application, convention.number, bank=issued_bank_details(convention, application),
                           commitment_number=convention.commitment_number)


BUDGET_TO_ADJUST = ("La convention ne peut pas encore être émise : la subvention accordée est inférieure au "
                    "montant demandé et le budget du projet n'est pas encore ajusté à ce montant.")


def budget_refusal(application):
    """Why the convention cannot be issued yet (its annex II, the budget as granted, is still to
    adjust), or None."""
    from .data import amounts_per_year, budget_as_granted
    per_year = amounts_per_year(application.decision, max(int(application.call.years or 1), 1))
    return BUDGET_TO_ADJUST if budget_as_granted(application, per_year) is None else None


def ensure_convention(application):
    """The up-to-date convention of a winner: rendered only if its data changed. Commits.

    Returns (convention, path, regenerated). Raises ConventionError while the budget is still to
    adjust to a reduced grant (applications.adjustment): no convention is issued before."""
    refusal = budget_refusal(application)
    if refusal:
        raise ConventionError(refusal)
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


COMMITMENT_RE = re.compile(r"^[0-9A-Z][0-9A-Z-]{0,39}$")


def record_commitment_number(convention, value, actor):
    """Record the Chorus commitment number (« engagement juridique ») of a convention, printed in
    its article « Imputation budgétaire » (empty: none yet). Commits. Returns True when it changed;
    raises ConventionError for a malformed number. The convention is rendered again at its next
    download or generation (its data changed)."""
    value = (value or "").strip().upper()
    if value and not COMMITMENT_RE.match(value):
        raise ConventionError("Le numéro d'engagement juridique ne contient que des chiffres, des lettres et des "
                              "tirets (40 caractères au plus), par exemple 2103456789.")
    if value == (convention.commitment_number or ""):
        return False
    previous = convention.commitment_number or ""
    convention.commitment_number = value
    events.record("convention_commitment_recorded", actor=actor, application=convention.application,
                  number=convention.number, commitment_number=value, previous=previous)
    db.session.commit()
    return True


def association_conventions(association_id):
    """The conventions issued to an association, with their files, newest call first:
    [(convention, application, bank details it was issued with, current details)]."""
    from sqlalchemy.orm import joinedload
    rows = db.session.execute(
        select(Convention, Application).join(Application, Application.id == Convention.application_id)
        .options(joinedload(Application.call), joinedload(Application.association))
        .where(Application.association_id == association_id, Convention.stored_name.is_not(None))
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
    if is_frozen(convention):
        raise ConventionError(FROZEN.format(number=convention.number))
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
