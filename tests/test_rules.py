"""The object rules of aap/permissions.py, as tables (in the manner of pretalx's test_rules.py):
for each rule, who (a role, and their link to the file) may do it on a file in each state.

The tables are written by hand from DESIGN.md (section 2, « Who reads what »), not computed from
the code: a change of rule must change a row here. tests/test_access_matrix.py checks that every
URL asks the right rule; this file checks the rules themselves.

« Y » allowed, « . » refused.
"""
import pytest
from flask_login import AnonymousUserMixin

from aap import timeutil
from aap.extensions import db
from aap.models import AssociationDocument, Attachment, BankChangeRequest, Conflict, PrivateNote, User
from aap.permissions import (
    can_download_attachment,
    can_edit_application,
    can_follow_application,
    can_keep_reviewer_notes,
    can_open_for_review,
    can_read_association_document,
    can_read_bank_request,
    can_read_note,
    can_review,
    can_view_application,
)

from . import factories
from . import factories_review as fr
from .conftest import fresh_app

STATES = ("draft", "submitted", "incomplete", "admissible", "in_review", "reviewed", "selected", "rejected",
          "withdrawn")
ROLES = ("anonymous", "member", "other_applicant", "assigned_reviewer", "unconfirmed_reviewer",
         "unassigned_reviewer", "conflicted_reviewer", "staff", "admin")

# Columns: the states above, in that order. Rows: every role above.
#                        draft  subm  incp  adm   inrv  rvwd  sel   rej   wdrn
VIEW_APPLICATION = """
anonymous                .      .     .     .     .     .     .     .     .
member                   Y      Y     Y     Y     Y     Y     Y     Y     Y
other_applicant          .      .     .     .     .     .     .     .     .
assigned_reviewer        .      Y     Y     Y     Y     Y     Y     Y     .
unconfirmed_reviewer     .      .     .     .     .     .     .     .     .
unassigned_reviewer      .      .     .     .     .     .     .     .     .
conflicted_reviewer      .      .     .     .     .     .     .     .     .
staff                    Y      Y     Y     Y     Y     Y     Y     Y     Y
admin                    Y      Y     Y     Y     Y     Y     Y     Y     Y
"""

# Fill in the form, send pieces: the association alone, in draft or when pieces are asked for.
EDIT_APPLICATION = """
anonymous                .      .     .     .     .     .     .     .     .
member                   Y      .     Y     .     .     .     .     .     .
other_applicant          .      .     .     .     .     .     .     .     .
assigned_reviewer        .      .     .     .     .     .     .     .     .
unconfirmed_reviewer     .      .     .     .     .     .     .     .     .
unassigned_reviewer      .      .     .     .     .     .     .     .     .
conflicted_reviewer      .      .     .     .     .     .     .     .     .
staff                    .      .     .     .     .     .     .     .     .
admin                    .      .     .     .     .     .     .     .     .
"""

# The association's side of the file: its page, receipts, printable summary, convention, the
# messages with the staff and their files. Never a reviewer, even assigned.
FOLLOW_APPLICATION = """
anonymous                .      .     .     .     .     .     .     .     .
member                   Y      Y     Y     Y     Y     Y     Y     Y     Y
other_applicant          .      .     .     .     .     .     .     .     .
assigned_reviewer        .      .     .     .     .     .     .     .     .
unconfirmed_reviewer     .      .     .     .     .     .     .     .     .
unassigned_reviewer      .      .     .     .     .     .     .     .     .
conflicted_reviewer      .      .     .     .     .     .     .     .     .
staff                    Y      Y     Y     Y     Y     Y     Y     Y     Y
admin                    Y      Y     Y     Y     Y     Y     Y     Y     Y
"""

# The review pages, where an assigned reviewer first says whether they have a link.
OPEN_FOR_REVIEW = """
anonymous                .      .     .     .     .     .     .     .     .
member                   .      .     .     .     .     .     .     .     .
other_applicant          .      .     .     .     .     .     .     .     .
assigned_reviewer        .      Y     Y     Y     Y     Y     Y     Y     .
unconfirmed_reviewer     .      Y     Y     Y     Y     Y     Y     Y     .
unassigned_reviewer      .      .     .     .     .     .     .     .     .
conflicted_reviewer      .      .     .     .     .     .     .     .     .
staff                    .      .     .     .     .     .     .     .     .
admin                    .      .     .     .     .     .     .     .     .
"""

# Score the file (save or send the review): while it is in review only.
REVIEW = """
anonymous                .      .     .     .     .     .     .     .     .
member                   .      .     .     .     .     .     .     .     .
other_applicant          .      .     .     .     .     .     .     .     .
assigned_reviewer        .      .     .     .     Y     Y     .     .     .
unconfirmed_reviewer     .      .     .     .     .     .     .     .     .
unassigned_reviewer      .      .     .     .     .     .     .     .     .
conflicted_reviewer      .      .     .     .     .     .     .     .     .
staff                    .      .     .     .     .     .     .     .     .
admin                    .      .     .     .     .     .     .     .     .
"""

# Private notes (aap/instruction/notes.py): a reviewer keeps their own on a file they may open
# (assigned, confirmed, no conflict); a staff note is read by staff only, never by the association
# nor a reviewer; a reviewer's note by its author only (the assigned reviewer wrote it), not staff.
KEEP_REVIEWER_NOTES = """
anonymous                .      .     .     .     .     .     .     .     .
member                   .      .     .     .     .     .     .     .     .
other_applicant          .      .     .     .     .     .     .     .     .
assigned_reviewer        .      Y     Y     Y     Y     Y     Y     Y     .
unconfirmed_reviewer     .      .     .     .     .     .     .     .     .
unassigned_reviewer      .      .     .     .     .     .     .     .     .
conflicted_reviewer      .      .     .     .     .     .     .     .     .
staff                    .      .     .     .     .     .     .     .     .
admin                    .      .     .     .     .     .     .     .     .
"""
READ_STAFF_NOTE = """
anonymous                .      .     .     .     .     .     .     .     .
member                   .      .     .     .     .     .     .     .     .
other_applicant          .      .     .     .     .     .     .     .     .
assigned_reviewer        .      .     .     .     .     .     .     .     .
unconfirmed_reviewer     .      .     .     .     .     .     .     .     .
unassigned_reviewer      .      .     .     .     .     .     .     .     .
conflicted_reviewer      .      .     .     .     .     .     .     .     .
staff                    Y      Y     Y     Y     Y     Y     Y     Y     Y
admin                    Y      Y     Y     Y     Y     Y     Y     Y     Y
"""
READ_REVIEWER_NOTE = KEEP_REVIEWER_NOTES

# A piece visible to reviewers (the statuts): whoever views the file.
DOWNLOAD_PIECE = VIEW_APPLICATION

# A piece « réservé à l'instruction » (the RIB): the association and the staff, never a reviewer.
DOWNLOAD_RESERVED_PIECE = """
anonymous                .      .     .     .     .     .     .     .     .
member                   Y      Y     Y     Y     Y     Y     Y     Y     Y
other_applicant          .      .     .     .     .     .     .     .     .
assigned_reviewer        .      .     .     .     .     .     .     .     .
unconfirmed_reviewer     .      .     .     .     .     .     .     .     .
unassigned_reviewer      .      .     .     .     .     .     .     .     .
conflicted_reviewer      .      .     .     .     .     .     .     .     .
staff                    Y      Y     Y     Y     Y     Y     Y     Y     Y
admin                    Y      Y     Y     Y     Y     Y     Y     Y     Y
"""

# What belongs to the association, whatever its files: a request to change its bank details
# (and its RIB), a piece kept in « Mes documents ».
#                        allowed
ASSOCIATION_OBJECTS = """
anonymous                .
member                   Y
other_applicant          .
assigned_reviewer        .
unconfirmed_reviewer     .
unassigned_reviewer      .
conflicted_reviewer      .
staff                    Y
admin                    Y
"""


def table(text, columns):
    """{(role, column): allowed} of a table above (every role, every column, nothing else)."""
    cells = {}
    lines = [line.split() for line in text.strip().splitlines()]
    assert [line[0] for line in lines] == list(ROLES)
    for role, *marks in lines:
        assert len(marks) == len(columns) and set(marks) <= {"Y", "."}, role
        cells.update({(role, column): mark == "Y" for column, mark in zip(columns, marks)})
    return cells


def note_on(application, scope):
    """A note on the file (not stored): the staff's, or the assigned reviewer's own."""
    author = db.session.scalar(db.select(User).where(
        User.email == ("agent@example.org" if scope == "staff" else "assigned_reviewer@example.org")))
    return PrivateNote(application=application, association_id=application.association_id, scope=scope,
                       author_id=author.id, body="Note")


def piece(application, code):
    return next(a for a in application.attachments if a.document is not None and a.document.code == code)


# (rule, its table, the object it is asked about in a given state)
APPLICATION_RULES = {
    "view application": (can_view_application, VIEW_APPLICATION, lambda file: file),
    "edit application": (can_edit_application, EDIT_APPLICATION, lambda file: file),
    "follow application (page, receipts, convention, messages)": (can_follow_application, FOLLOW_APPLICATION,
                                                                   lambda file: file),
    "open for review": (can_open_for_review, OPEN_FOR_REVIEW, lambda file: file),
    "review": (can_review, REVIEW, lambda file: file),
    "download a piece": (can_download_attachment, DOWNLOAD_PIECE, lambda file: piece(file, "statuts")),
    "download a reserved piece": (can_download_attachment, DOWNLOAD_RESERVED_PIECE, lambda file: piece(file, "rib")),
    "keep one's own notes on a file (reviewer)": (can_keep_reviewer_notes, KEEP_REVIEWER_NOTES, lambda file: file),
    "read a staff note on the file": (can_read_note, READ_STAFF_NOTE, lambda file: note_on(file, "staff")),
    "read the assigned reviewer's note": (can_read_note, READ_REVIEWER_NOTE, lambda file: note_on(file, "reviewer")),
}
ASSOCIATION_RULES = {
    "read a bank details request": (can_read_bank_request, lambda world: world["bank_request"]),
    "read a kept document": (can_read_association_document, lambda world: world["kept_document"]),
}


def _file_record(model, n, **fields):
    return model(original_name=f"piece-{n}.pdf", stored_name=f"{n:064d}", kind="pdf", content_type="application/pdf",
                 size=100, sha256="0" * 64, **fields)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Association A with one file in each state (each to its own call) (each with a visible and a reserved piece), a
    member of A and of B, the reviewers (assigned to every file of A and confirmed; assigned
    but not confirmed; not assigned; assigned and confirmed but linked to A), staff, admin."""
    with fresh_app(tmp_path_factory.mktemp("rules")):
        member = factories.user("applicant", email="membre@example.org", association_name="Association A")
        other = factories.user("applicant", email="autre@example.org", association_name="Association B")
        users = {
            "anonymous": AnonymousUserMixin(), "member": member, "other_applicant": other,
            **{role: fr.reviewer_user(f"{role}@example.org") for role in ROLES if role.endswith("_reviewer")},
            "staff": factories.user("staff", email="agent@example.org"),
            "admin": factories.user("admin", email="admin@example.org"),
        }
        files = {}
        for n, state in enumerate(STATES):  # one call per file: an association applies once to a call
            call = factories.call(slug=f"aap-{state}")
            documents = {d.code: d for d in call.pieces}
            file = factories.application(call, member.association, status=state, reference=f"1J1M-R-{n}")
            for m, code in enumerate(("statuts", "rib")):
                db.session.add(_file_record(Attachment, 10 * n + m, application=file, document=documents[code]))
            for role, confirmed in (("assigned_reviewer", True), ("unconfirmed_reviewer", False),
                                    ("conflicted_reviewer", True)):
                fr.assigned(file, users[role], confirmed=confirmed)
            files[state] = file
        db.session.add(Conflict(reviewer_id=users["conflicted_reviewer"].id, association_id=member.association_id,
                                reason="Ancien salarié"))
        bank_request = BankChangeRequest(association_id=member.association_id, iban="FR7630006000011234567890189",
                                         bic="AGRIFRPP", account_holder="Association A", rib_original_name="rib.pdf",
                                         rib_stored_name="1" * 64, rib_kind="pdf", rib_content_type="application/pdf",
                                         rib_size=100, rib_sha256="0" * 64, requested_at=timeutil.now())
        kept = _file_record(AssociationDocument, 999, association_id=member.association_id, code="statuts")
        db.session.add_all([bank_request, kept])
        db.session.commit()
        yield {"users": users, "files": files, "bank_request": bank_request, "kept_document": kept}


def test_every_table_names_every_role_and_state():
    for _rule, text, _target in APPLICATION_RULES.values():
        assert len(table(text, STATES)) == len(ROLES) * len(STATES)
    assert len(table(ASSOCIATION_OBJECTS, ("allowed",))) == len(ROLES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("rule_name", APPLICATION_RULES)
def test_application_rule(world, rule_name, role):
    rule, text, target = APPLICATION_RULES[rule_name]
    expected = table(text, STATES)
    user = world["users"][role]
    got = {state: bool(rule(user, target(world["files"][state]))) for state in STATES}
    wanted = {state: expected[(role, state)] for state in STATES}
    assert got == wanted, f"{rule_name}, {role}: " + ", ".join(
        f"{state} {'allowed' if got[state] else 'refused'} (table: {'Y' if wanted[state] else '.'})"
        for state in STATES if got[state] != wanted[state])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("rule_name", ASSOCIATION_RULES)
def test_association_rule(world, rule_name, role):
    rule, target = ASSOCIATION_RULES[rule_name]
    allowed = table(ASSOCIATION_OBJECTS, ("allowed",))[(role, "allowed")]
    assert bool(rule(world["users"][role], target(world))) == allowed


def test_another_associations_objects_are_refused_to_a_member(world):
    """The same rules on association B's objects: its own member is allowed, A's member is not."""
    member, other = world["users"]["member"], world["users"]["other_applicant"]
    file = factories.application(world["files"]["draft"].call, other.association, status="draft",
                                 reference="1J1M-R-B")
    try:
        for rule in (can_view_application, can_edit_application, can_follow_application):
            assert rule(other, file) and not rule(member, file), rule.__name__
        for rule, model in ((can_read_bank_request, BankChangeRequest),
                            (can_read_association_document, AssociationDocument)):
            record = model(association_id=other.association_id)
            assert rule(other, record) and not rule(member, record), rule.__name__
    finally:
        db.session.delete(file)
        db.session.commit()
