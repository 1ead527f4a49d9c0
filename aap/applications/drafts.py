"""Starting an application and saving its sections as a draft (with conflict detection between
tabs and members).
"""
from dataclasses import dataclass, field

from sqlalchemy.orm import joinedload

from .. import events, timeutil
from ..calls.services import is_open as call_is_open
from ..database import lock
from ..extensions import db
from ..models import Application, Event
from ..models.applications import DRAFT
from . import budget
from . import sections as S
from .deadlines import editable_sections
from .errors import ApplicationError, NotEditable


def start_application(call, user):
    """The association's application to this call: (application, created)."""
    if user.association_id is None:
        raise ApplicationError("Votre compte n'est rattaché à aucune association.")
    existing = db.session.scalar(db.select(Application).where(
        Application.call_id == call.id, Application.association_id == user.association_id))
    if existing is not None:
        return existing, False
    if not call_is_open(call):
        raise ApplicationError("Cet appel à projets n'est pas ouvert aux candidatures.")
    application = Application(call=call, association_id=user.association_id, status=DRAFT,
                              created_by_id=user.id, updated_by_id=user.id,
                              departements=[], cofunding=[], requested_per_year=[], reopened_sections=[])
    db.session.add(application)
    db.session.flush()
    events.record("application_created", actor=user, application=application)
    db.session.commit()
    return application, True


MINE, THEIRS = "mienne", "enregistree"  # the choice a user makes on a conflict


@dataclass
class Conflict:
    """A field that this page and someone else both changed, differently, since the page loaded."""
    spec: S.FieldSpec
    theirs: object
    yours: object
    by: str = ""        # who saved the stored version last
    mine: bool = False  # ... the same person, in another tab or window

    @property
    def theirs_text(self):
        return S.display(self.spec, self.theirs)

    @property
    def yours_text(self):
        return S.display(self.spec, self.yours)

    @property
    def seen(self):
        """The digest of the stored version shown to the user: a choice applies to that version only."""
        return S.digest(self.spec, self.theirs)


@dataclass
class SaveResult:
    saved: bool                  # every change of the page was written (no conflict left)
    version: int
    changed: list = field(default_factory=list)
    conflicts: dict = field(default_factory=dict)
    saved_at: object = None
    in_sync: dict = field(default_factory=dict)      # {field: digest} the page now shows the stored value
    kept_theirs: dict = field(default_factory=dict)  # {field: stored value} conflicts settled for theirs
    stale: dict = field(default_factory=dict)        # {field: stored value} changed by someone else only
    changes: dict = field(default_factory=dict)      # {field: value} to write (merge_fields)

    @property
    def conflict(self):
        return bool(self.conflicts)


def draft_saves(application_id, action="draft_saved", **match):
    """A function (limit -> the latest draft-save events of a file, newest first): the saves of
    the file's sections, or (action, match) those of another draft of the file, e.g. a yearly
    report's ("report_draft_saved", report_id=...; the match is on the event's details)."""
    def latest(limit):
        found = []
        statement = (db.select(Event).options(joinedload(Event.actor))
                     .where(Event.application_id == application_id, Event.action == action)
                     .order_by(Event.id.desc()))
        for event in db.session.scalars(statement.limit(limit if not match else None)):
            if all((event.details or {}).get(key) == value for key, value in match.items()):
                found.append(event)
                if len(found) >= limit:
                    break
        return found
    return latest


def _changed_since(saves, version, base_version):
    """The names of the fields saved after base_version (for a page that does not say what it
    loaded); `saves`: draft_saves(...) of the record, whose current version is `version`."""
    newer = version - max(base_version, 0)
    if newer <= 0:
        return set()
    changed = set()
    for event in saves(newer):
        if (event.details or {}).get("version", 0) > base_version:
            changed.update((event.details or {}).get("fields", []))
    return changed


def last_editors(saves, names):
    """{field name: the user who saved it last}, for the conflict messages."""
    found = {}
    for event in saves(200):
        for name in (event.details or {}).get("fields", []):
            if name in names and name not in found:
                found[name] = event.actor
        if len(found) == len(names):
            break
    return found


def save_section(application, section_code, data, base_version, user, bases=None, choices=None):
    """Save, as a draft, the fields of one section that this page changed.

    data: {model attribute: clean value} of the page's valid fields (an invalid field is left out
    and keeps its stored value; empty values are allowed). bases: {field: S.digest of the value
    the page loaded}. choices: {field: (MINE or THEIRS, S.digest of the stored version the user
    was shown)}, for conflicts the user settled.

    A three-way merge, field by field, against what the page loaded:
    - the page sends what it loaded: not a change, never written, however old the page;
    - the stored value is still what the page loaded: the page's change is written;
    - both changed it to the same value: nothing to write;
    - both changed it differently: a conflict (the stored value and the page's), nothing written
      for that field until the user, shown the stored version, chooses: keep it (THEIRS) or
      replace it by the page's value (MINE) — if it is still the version shown.
    The page's other changes are saved at once. A page that sends no base for a field falls back
    on its version number: a field saved by others since that version has an unknown base (any
    change of it is a conflict), the others are merged as above.
    """
    section = S.BY_CODE[section_code]
    application = lock(application)
    if section_code not in editable_sections(application):
        raise NotEditable("Cette partie du dossier ne peut plus être modifiée.")
    result = merge_fields(S.applicable_fields(section, application.call), data,
                          lambda spec: S.value_of(application, spec), application.version, base_version,
                          draft_saves(application.id), user, bases, choices)
    if not result.changed:
        db.session.rollback()
        return result
    changed = result.changes
    for name, value in changed.items():
        setattr(application, name, value)
    if "budget" in changed:
        derive_from_budget(application)
    application.version += 1
    application.updated_at = result.saved_at
    application.updated_by_id = user.id
    events.record("draft_saved", actor=user, application=application, section=section_code,
                  fields=sorted(changed), version=application.version)
    result.version = application.version
    db.session.commit()
    return result


def merge_fields(specs, data, stored, version, base_version, saves, user, bases=None, choices=None):
    """The three-way merge of save_section, for any draft kept with a version number (a file's
    section, a yearly report: aap/followup/reports.save_report): `specs` the fields (FieldSpec),
    `data` what the page sends, `stored(spec)` the stored value, `version` the stored version,
    `saves` draft_saves(...) of that draft. Returns a SaveResult whose `changes` ({field: value})
    the caller writes (then bumps the version and records the save)."""
    bases, choices = bases or {}, choices or {}
    changed, conflicts, in_sync, kept_theirs, stale = {}, {}, {}, {}, {}
    saved_by_others = None
    for spec in specs:
        if spec.name not in data:
            continue
        new, old = data[spec.name], stored(spec)
        if spec.kind in ("text", "textarea") and new is None:
            new = ""
        new_digest, old_digest = S.digest(spec, new), S.digest(spec, old)
        base = bases.get(spec.name)
        if base is None:
            if base_version < version and saved_by_others is None:
                saved_by_others = _changed_since(saves, version, base_version)
            unknown = base_version < version and spec.name in saved_by_others
            base = None if unknown else old_digest
        choice, seen = choices.get(spec.name, (None, None))
        if choice in (MINE, THEIRS) and seen == old_digest:
            if choice == THEIRS:
                kept_theirs[spec.name] = old
                in_sync[spec.name] = old_digest
                continue
            base = old_digest
        if new_digest == old_digest:
            in_sync[spec.name] = old_digest
        elif new_digest == base:
            stale[spec.name] = old
        elif base == old_digest:
            changed[spec.name] = new
            in_sync[spec.name] = new_digest
        else:
            conflicts[spec.name] = Conflict(spec, old, new)
    if conflicts:
        editors = last_editors(saves, set(conflicts))
        for name, conflict in conflicts.items():
            editor = editors.get(name)
            conflict.by = editor.full_name if editor else ""
            conflict.mine = editor is not None and editor.id == user.id
    return SaveResult(saved=not conflicts, version=version, changed=sorted(changed), conflicts=conflicts,
                      saved_at=timeutil.now(), in_sync=in_sync, kept_theirs=kept_theirs, stale=stale,
                      changes=changed)


def derive_from_budget(application):
    """The amount requested (and its split per year), the total cost and the co-funders follow the
    budget's lines (budget.derived): what ranking, selection, conventions and exports read."""
    for name, value in budget.derived(application.budget, application.call.years).items():
        setattr(application, name, value)
