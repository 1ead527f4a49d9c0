"""The access matrix: every route of the application (from its URL map), requested by every
persona with the real ids of objects that belong to association A, B or the staff, against a
declared table of expected answers. A route added without an entry in the table fails the test.

Personas: anonymous, owner (member of association A), other (member of association B),
reviewer_unassigned (assigned to B's file only), reviewer_conflict (assigned to A's file but
with a declared link with A), reviewer_assigned (assigned to A's file, no link confirmed),
staff, admin.

Expected answers:
- 200, 403, 404, 405: that exact status;
- LOGIN: a redirect to the login page (with `next`);
- REDIRECT: a redirect elsewhere;
- OK (for a POST sent by someone allowed, with only the CSRF token): anything but a refusal
  or an error (200, a redirect, or a 400/409/422 form error).
A GET row also gives the POST row of a GET+POST rule: 200 and REDIRECT become OK, refusals stay.

Refused POSTs carry a hostile payload (a title, a decision, a reason, a file...) and must
change nothing in the database. No answer is ever a 500.

The world is built once for the module (one app, one database); each persona's requests run
in one test, refused ones first, then the allowed ones, the logout last.
"""
import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import url_for

from aap.applications import files

from . import factories_applications as fa
from . import factories_security as fs
from .conftest import fresh_app, login

LOGIN, REDIRECT, OK = "login", "redirect", "ok"
A, OW, OT, RU, RC, RA, ST, AD = fs.PERSONAS

# --- rows (anonymous, owner, other, reviewer_unassigned, reviewer_conflict, reviewer_assigned, staff, admin)
PUBLIC = (200,) * 8
LOGGED_IN = (LOGIN,) + (200,) * 7
GUESTS_ONLY = (200,) + (REDIRECT,) * 7                      # login and sign-up pages
APPLICANTS = (LOGIN, 200, 200, 403, 403, 403, 403, 403)      # the association's own pages
REVIEWERS = (LOGIN, 403, 403, 200, 200, 200, 403, 403)
STAFF = (LOGIN, 403, 403, 403, 403, 403, 200, 200)
ADMIN = (LOGIN, 403, 403, 403, 403, 403, 403, 200)
MEMBERS_OF_A = (LOGIN, 200, 404, 404, 404, 404, 404, 404)
MEMBERS_OF_A_OR_STAFF = (LOGIN, 200, 404, 404, 404, 404, 200, 200)
VIEWERS_OF_A = (LOGIN, 200, 404, 404, 404, 200, 200, 200)   # can_view_application
NOBODY = (LOGIN, 404, 404, 404, 404, 404, 404, 404)
STAFF_BUT_NOT_HERE = (LOGIN, 403, 403, 403, 403, 403, 404, 404)

# One entry per endpoint; "endpoint/value" entries are for one value of an any() parameter.
# A row applies to GET (and gives the POST row); {"GET": row, "POST": row} when they differ;
# a POST-only rule has its POST row (a GET gets 405 from everybody).
EXPECTED = {
    "main.index": PUBLIC,
    "main.accessibility": PUBLIC,
    "main.privacy": PUBLIC,
    "main.dashboard": LOGGED_IN,
    "main.audit": ADMIN,
    "calls.public_list": PUBLIC,
    "calls.public_detail": PUBLIC,
    "auth.login": GUESTS_ONLY,
    "auth.signup": GUESTS_ONLY,
    "auth.logout": (OK,) * 8,
    "auth.confirm": (REDIRECT,) * 8,
    "auth.resend": PUBLIC,
    "auth.forgot": PUBLIC,
    "auth.reset": PUBLIC,                   # whoever holds the link
    "auth.accept_invitation": PUBLIC,
    "auth.account": LOGGED_IN,
    "auth.invite": STAFF,
    # Team management (the account: the staff member invited, not yet active). The confirmation
    # pages answer 200 (saying when the action does not apply); a POST without the page's
    # fingerprint is refused as stale (409) and changes nothing.
    "auth.deactivate_user": ADMIN,
    "auth.reactivate_user": ADMIN,
    "auth.change_role": ADMIN,
    "auth.resend_invitation": STAFF,
    "auth.cancel_invitation": STAFF,
    "associations.identity": APPLICANTS,
    "associations.bank": APPLICANTS,
    "associations.members": APPLICANTS,
    # A's members and invitations: another association's member gets 404, non-members 403.
    "associations.remove_member": (LOGIN, 200, 404, 403, 403, 403, 403, 403),
    "associations.cancel_member_invitation": (LOGIN, 200, 404, 403, 403, 403, 403, 403),
    "associations.representative": APPLICANTS,
    "associations.join": PUBLIC,
    "associations.staff_view": STAFF,
    # « Mes documents »: the association's kept pieces; a file sent there is read by its members and staff.
    "associations.documents": APPLICANTS,
    "associations.upload_document": APPLICANTS,
    "associations.document_file": MEMBERS_OF_A_OR_STAFF,
    "associations.bank_request_rib": MEMBERS_OF_A_OR_STAFF,   # the RIB of A's bank change request
    "associations.validate_bank_request": STAFF,
    "associations.refuse_bank_request": STAFF,
    "documents.reissue_convention": STAFF,
    "documents.record_commitment": STAFF,
    # the signature of the convention (aap/followup/signature_views.py); no signed document in the world
    "followup.convention_return": MEMBERS_OF_A_OR_STAFF,
    "followup.convention_refuse": (LOGIN, 403, 404, 404, 404, 404, OK, OK),
    "followup.convention_countersign": (LOGIN, 403, 404, 404, 404, 404, OK, OK),
    "followup.convention_notify": (LOGIN, 403, 404, 404, 404, 404, OK, OK),
    "followup.convention_terminate": STAFF,
    "followup.convention_document": NOBODY,
    "followup.conventions": STAFF,
    "followup.convention_reminders": STAFF,
    "followup.amendment_return": NOBODY,
    "followup.amendment_refuse": NOBODY,
    "followup.amendment_countersign": NOBODY,
    "followup.amendment_notify": NOBODY,
    "followup.amendment_document": NOBODY,
    # amendments (aap/followup/amendment_views.py): A's convention is not in force (staff are sent back
    # to the follow-up page with the reason); no amendment in the world
    "followup.new_amendment": (LOGIN, 403, 403, 403, 403, 403, REDIRECT, REDIRECT),
    "followup.amendment_pdf": NOBODY,
    "applications.start": (LOGIN, OK, OK, 403, 403, 403, 403, 403),
    "applications.start_from": (LOGIN, OK, OK, 403, 403, 403, 403, 403),
    "applications.reuse_piece": (LOGIN, OK, 404, 404, 404, 404, 404, 404),
    "applications.print_view": MEMBERS_OF_A_OR_STAFF,
    "applications.show": MEMBERS_OF_A_OR_STAFF,
    "applications.section": {"GET": MEMBERS_OF_A, "POST": (LOGIN, OK, 404, 404, 404, 404, 404, 404)},
    "applications.section/pieces": {"GET": MEMBERS_OF_A, "POST": (LOGIN, 405, 404, 404, 404, 404, 404, 404)},
    # The file is selected: nothing is editable any more, the autosave says so.
    "applications.autosave": (LOGIN, 403, 404, 404, 404, 404, 404, 404),
    "applications.upload": (LOGIN, OK, 404, 404, 404, 404, 404, 404),
    "applications.attachment": VIEWERS_OF_A,
    "applications.delete_attachment": (LOGIN, OK, 404, 404, 404, 404, 404, 404),
    # GET: the confirmation page (A's file is selected: back to the file); POST: the deposit.
    "applications.submit": {"GET": (LOGIN, REDIRECT, 404, 404, 404, 404, 404, 404),
                            "POST": (LOGIN, OK, 404, 404, 404, 404, 404, 404)},
    "applications.receipt": MEMBERS_OF_A_OR_STAFF,
    "applications.deposit_receipt": MEMBERS_OF_A_OR_STAFF,   # each receipt of A's file (original, complements)
    "applications.withdraw": {"GET": (LOGIN, REDIRECT, 404, 404, 404, 404, 404, 404),
                              "POST": (LOGIN, OK, 404, 404, 404, 404, 404, 404)},
    # A's file is selected: its members may renounce the grant (a page, then a reason and a confirmation).
    "applications.renounce": MEMBERS_OF_A,
    # A's budget is adjusted: the form (200), or a redirection once its convention is issued.
    "applications.adjust_budget": (LOGIN, OK, 404, 404, 404, 404, OK, OK),
    "documents.convention": MEMBERS_OF_A_OR_STAFF,
    # The letter of A's published decision: its members and staff, never a reviewer (issue 17 §9).
    "documents.decision_letter": MEMBERS_OF_A_OR_STAFF,
    "instruction.post_message": (LOGIN, OK, 404, 404, 404, 403, OK, OK),
    "instruction.message_attachment": MEMBERS_OF_A_OR_STAFF,   # never a reviewer, even assigned
    "instruction.applications": STAFF,
    "instruction.admissible": STAFF,
    "instruction.inadmissible": STAFF,
    "instruction.request_pieces": STAFF,
    "instruction.widen_request": STAFF,
    "instruction.extend_request": STAFF,
    "instruction.cancel_request": STAFF,
    # Private notes (issue 19 §2): staff's on a file or an association; a reviewer's own on a file
    # assigned to them (review page); a note's edit page: who reads it (the staff note here).
    "instruction.add_file_note": STAFF,
    "instruction.add_association_note": STAFF,
    "instruction.add_review_note": (LOGIN, 403, 403, 404, 404, OK, 403, 403),
    "instruction.edit_note": (LOGIN, 404, 404, 404, 404, 404, 200, 200),
    "instruction.bulk_messages": STAFF,       # GET: the form; POST: the drafts, or send them (confirmed)
    "calls.compare": STAFF,
    "calls.help_page": PUBLIC,
    "calls.help_index": PUBLIC,
    "main.legal_notice": PUBLIC,
    "search.results": STAFF,                # the search across files (aap/search): staff only
    "review.my_conflicts": REVIEWERS,
    "review.review": (LOGIN, 403, 403, 404, 404, 200, 403, 403),
    "review.check_conflict": (LOGIN, 403, 403, 404, 404, OK, 403, 403),
    # The reviewer assigned to A's file has not said yet whether they have a link with A: sent
    # back to the review page (no draft to confirm), and the autosave answers 409.
    "review.confirm_submission": (LOGIN, 403, 403, 404, 404, REDIRECT, 403, 403),
    "review.autosave": (LOGIN, 403, 403, 404, 404, OK, 403, 403),
    "review.conflicts": STAFF,
    "review.assignments": STAFF,
    "review.assign": STAFF,
    "review.unassign": STAFF,
    "review.propose": STAFF,
    "review.confirm": STAFF,
    "review.notify": STAFF,
    "review.progress": STAFF,
    "review.remind": STAFF,
    "review.file_reviews": STAFF,
    "review.reopen": STAFF,
    "calls.staff_list": STAFF,
    "calls.new": STAFF,
    "calls.edit": STAFF,
    "calls.criteria": STAFF,
    "calls.pieces": STAFF,
    "calls.mail_templates": STAFF,
    "calls.publish": STAFF,
    "calls.close": STAFF,
    "documents.general_conditions": PUBLIC,
    "documents.call_documents": STAFF,
    "documents.start_conventions": STAFF,
    "documents.job_status": STAFF,
    "documents.job_download": STAFF,
    "documents.export_xlsx": STAFF,
    "documents.export_scdl": STAFF,
    "documents.export_opendata": STAFF,
    "selection.index": STAFF,
    # Payments (aap/followup/payment_views.py): staff act on a payment line; the list of the
    # payments to make and its download are staff pages.
    "followup.request_payment": {"POST": tuple(OK if r == 200 else r for r in STAFF)},
    "followup.mark_paid": {"POST": tuple(OK if r == 200 else r for r in STAFF)},
    "followup.suspend_payment": {"POST": tuple(OK if r == 200 else r for r in STAFF)},
    "followup.resume_payment": {"POST": tuple(OK if r == 200 else r for r in STAFF)},
    "followup.payments": STAFF,
    "followup.show": MEMBERS_OF_A_OR_STAFF,  # the follow-up page of A's winning file (aap/followup/views.py)
    # Yearly reports, the association's side (aap/followup/report_views.py): A's members fill, staff
    # read (403 on the form's POST); the world's report is an incomplete draft without pieces.
    "followup.report": {"GET": MEMBERS_OF_A_OR_STAFF, "POST": (LOGIN, OK, 404, 404, 404, 404, 403, 403)},
    "followup.report_autosave": {"POST": (LOGIN, OK, 404, 404, 404, 404, 404, 404)},
    "followup.report_piece_upload": {"POST": (LOGIN, OK, 404, 404, 404, 404, 404, 404)},
    "followup.report_piece_delete": {"POST": NOBODY},
    "followup.report_piece": NOBODY,
    "followup.report_submit": {"GET": (LOGIN, REDIRECT, 404, 404, 404, 404, 404, 404),
                               "POST": (LOGIN, OK, 404, 404, 404, 404, 404, 404)},
    "followup.report_receipt": NOBODY,
    # The review of the yearly reports (aap/followup/report_review_views.py): staff only.
    "followup.reports": STAFF,
    "followup.accept_report": {"POST": tuple(OK if r == 200 else r for r in STAFF)},
    "followup.request_report_complements": {"POST": tuple(OK if r == 200 else r for r in STAFF)},
    "followup.record_recovery": {"POST": tuple(OK if r == 200 else r for r in STAFF)},
    "followup.update_recovery": {"POST": tuple(OK if r == 200 else r for r in STAFF)},
    "followup.payments_xlsx": STAFF,
    # The steering page (aap/pilotage): staff read it; admins edit the plan's reference figures.
    "pilotage.index": STAFF,
    "pilotage.export_csv": STAFF,
    "pilotage.export_xlsx": STAFF,
    "pilotage.reference_figures": ADMIN,
    "pilotage.delete_reference_figure": ADMIN,
    "selection.ranking": STAFF,
    "selection.decision": STAFF,
    "selection.clear_decision": STAFF,
    "selection.bulk_decision": STAFF,
    "selection.proposal": STAFF,
    "selection.apply_proposal": STAFF,
    "selection.proposal_export": STAFF,
    "selection.compute_robustness": STAFF,  # POST: « Calculer la robustesse » (the proposal's settings in the query)
    "selection.grey_zone_draw": STAFF,      # POST: the draw (refused with a message: the option is off)
    "selection.publish": STAFF,             # GET: the confirmation page; POST: publish (after it)
    "selection.mails": STAFF,
    "selection.edit_mail": STAFF,
    "selection.send_mails": STAFF,          # GET: the confirmation page; POST: send
    # Published decisions changed afterwards: the waiting list; A's file is a winner (amend or
    # withdraw its grant; « retenir » sends back to its decision page: it is not on the list).
    "selection.waitlist": STAFF,
    "selection.promote": (LOGIN, 403, 403, 403, 403, 403, REDIRECT, REDIRECT),
    "selection.amend": STAFF,
    "selection.withdraw_grant": STAFF,
}

# Rules served by nobody's view code (the static files are checked separately below).
NOT_IN_MATRIX = {"static"}

# More cases: the same rule with other real ids (objects of B, of another call, mixed ids).
# (endpoint, label, {parameter: world attribute path}, row)
VARIANTS = [
    ("instruction.edit_note", "reviewer's own note", {"note_id": "reviewer_note.id"},
     (LOGIN, 404, 404, 404, 404, 200, 404, 404)),
    ("calls.help_page", "draft call", {"slug": "draft_call.slug"}, (404, 404, 404, 404, 404, 404, 200, 200)),
    ("calls.public_detail", "draft call", {"slug": "draft_call.slug"}, (404, 404, 404, 404, 404, 404, 200, 200)),
    ("documents.general_conditions", "draft call", {"slug": "draft_call.slug"},
     (404, 404, 404, 404, 404, 404, 200, 200)),
    ("applications.show", "B's file", {"application_id": "other_application.id"},
     (LOGIN, 404, 200, 404, 404, 404, 200, 200)),
    ("applications.section", "B's file", {"application_id": "other_application.id", "section": "projet"},
     {"GET": (LOGIN, 404, 200, 404, 404, 404, 404, 404), "POST": (LOGIN, 404, OK, 404, 404, 404, 404, 404)}),
    ("applications.attachment", "B's attachment under A's file", {"attachment_id": "other_attachment.id"}, NOBODY),
    ("applications.attachment", "B's file and attachment",
     {"application_id": "other_application.id", "attachment_id": "other_attachment.id"},
     (LOGIN, 404, 200, 200, 404, 404, 200, 200)),
    # Pieces « réservé à l'instruction » of A's file (attach_all's order: statuts, dirigeants,
    # rapport_activite, comptes, budget_projet, rib): never served to a reviewer, even assigned.
    ("applications.attachment", "A's list of the board (reserved)", {"attachment_id": "application.attachments.1.id"},
     (LOGIN, 200, 404, 404, 404, 404, 200, 200)),
    ("applications.attachment", "A's RIB (reserved)", {"attachment_id": "application.attachments.5.id"},
     (LOGIN, 200, 404, 404, 404, 404, 200, 200)),
    ("applications.delete_attachment", "B's attachment under A's file", {"attachment_id": "other_attachment.id"},
     NOBODY),
    ("applications.upload", "a document of another call", {"document_id": "draft_call.pieces.0.id"}, NOBODY),
    ("applications.print_view", "B's file", {"application_id": "other_application.id"},
     (LOGIN, 404, 200, 404, 404, 404, 200, 200)),
    ("instruction.message_attachment", "A's message file under B's file", {"application_id": "other_application.id"},
     (LOGIN, 404, 404, 404, 404, 404, 404, 404)),
    ("applications.reuse_piece", "a document of another call", {"document_id": "draft_call.pieces.0.id"}, NOBODY),
    ("applications.receipt", "B's file", {"application_id": "other_application.id"},
     (LOGIN, 404, 200, 404, 404, 404, 200, 200)),
    ("applications.deposit_receipt", "B's receipt under A's file", {"deposit_id": "other_application.deposits.0.id"},
     NOBODY),
    ("applications.deposit_receipt", "B's file and receipt",
     {"application_id": "other_application.id", "deposit_id": "other_application.deposits.0.id"},
     (LOGIN, 404, 200, 404, 404, 404, 200, 200)),
    ("applications.start", "a call in draft", {"call_id": "draft_call.id"}, (LOGIN, 404, 404, 403, 403, 403, 403, 403)),
    ("documents.convention", "B's file (no decision)", {"application_id": "other_application.id"},
     (LOGIN, 404, 404, 404, 404, 404, 404, 404)),
    ("documents.decision_letter", "B's file (no decision: no letter, even for B or staff)",
     {"application_id": "other_application.id"}, NOBODY),
    ("review.review", "B's file", {"application_id": "other_application.id"},
     (LOGIN, 403, 403, 200, 404, 404, 403, 403)),
    ("selection.decision", "A's file under the draft call", {"call_id": "draft_call.id"}, STAFF_BUT_NOT_HERE),
    ("selection.clear_decision", "A's file under the draft call", {"call_id": "draft_call.id"}, STAFF_BUT_NOT_HERE),
    ("selection.edit_mail", "A's decision mail under the draft call", {"call_id": "draft_call.id"},
     STAFF_BUT_NOT_HERE),
    ("selection.promote", "A's file under the draft call", {"call_id": "draft_call.id"}, STAFF_BUT_NOT_HERE),
    ("selection.amend", "A's file under the draft call", {"call_id": "draft_call.id"}, STAFF_BUT_NOT_HERE),
    ("selection.withdraw_grant", "A's file under the draft call", {"call_id": "draft_call.id"},
     STAFF_BUT_NOT_HERE),
    ("applications.renounce", "B's file (no decision)", {"application_id": "other_application.id"},
     {"GET": (LOGIN, 404, REDIRECT, 404, 404, 404, 404, 404), "POST": (LOGIN, 404, OK, 404, 404, 404, 404, 404)}),
    ("documents.job_download", "a job under way", {"job_id": "running_job.id"}, STAFF_BUT_NOT_HERE),
    ("calls.edit", "the draft call", {"call_id": "draft_call.id"}, STAFF),
    ("associations.validate_bank_request", "A's request under B's association",
     {"association_id": "other.association_id"}, STAFF_BUT_NOT_HERE),
    ("associations.refuse_bank_request", "A's request under B's association",
     {"association_id": "other.association_id"}, STAFF_BUT_NOT_HERE),
    ("documents.reissue_convention", "B's file (no decision)", {"application_id": "other_application.id"},
     STAFF_BUT_NOT_HERE),
]

PARAMETERS = {
    "application_id": "application.id",
    "attachment_id": "attachment.id",
    "document_id": "attachment.document_id",
    "call_id": "call.id",
    "slug": "call.slug",
    "association_id": "owner.association_id",
    "review_id": "review.id",
    "job_id": "job.id",
    "convention_id": "convention.id",
    "amendment_id": "convention.id",  # (no amendment in the world: 404)
    "number": "convention.id",  # an amendment's number within its convention (none in the world: 404)
    "signed_document_id": "convention.id",  # (no signed document in the world: 404)
    "bank_request_id": "bank_request.id",
    "deposit_id": "application.deposits.0.id",
    "association_document_id": "association_document.id",
    "message_attachment_id": "message_attachment.id",
    "mail_id": "decision_mail.id",
    "note_id": "note.id",
    "user_id": "invited.id",
    "member_id": "owner.id",
    "invitation_id": "member_invitation.id",
    "line_id": "payment_line.id",
    "report_id": "report.id",
    "piece_id": "convention.id",  # a report's piece (none in the world: 404)
}
TOKENS = {"auth.confirm": "confirm", "auth.reset": "reset", "auth.accept_invitation": "invite",
          "associations.join": "member"}
METHODS = ("GET", "POST")


def resolve(world, path):
    value = world
    for part in path.split("."):
        value = value[int(part)] if part.isdigit() else getattr(value, part)
    return value


def rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in NOT_IN_MATRIX]


def row_for(key, method):
    """The row of expected answers of a rule (or a value of its any() parameter) for a method."""
    entry = EXPECTED.get(key)
    if entry is None:
        entry = EXPECTED[key.split("/")[0]]
    return pick(entry, method)


def pick(entry, method):
    """A row for a method: the POST row of a single row turns the allowed answers into OK."""
    if isinstance(entry, dict):
        return entry[method]
    if method == "GET":
        return entry
    return tuple(OK if outcome in (200, REDIRECT) else outcome for outcome in entry)


def cases(app, world):
    """(label, endpoint, method, url, row) of every rule and every variant."""
    out = []
    for rule in sorted(rules(app), key=lambda r: r.rule):
        methods = rule.methods & set(METHODS)
        values_of_any = [None]
        if "section" in rule.arguments:
            values_of_any = sorted(rule._converters["section"].items)
        for any_value in values_of_any:
            values = {}
            for argument in rule.arguments:
                if argument == "section":
                    values[argument] = any_value
                elif argument == "token":
                    values[argument] = world.tokens[TOKENS[rule.endpoint]]
                else:
                    values[argument] = resolve(world, PARAMETERS[argument])
            key = rule.endpoint + (f"/{any_value}" if any_value else "")
            url = url_for(rule.endpoint, **values)
            for method in METHODS:
                if method in methods:
                    out.append((key, rule.endpoint, method, url, row_for(key, method)))
                else:
                    out.append((key, rule.endpoint, method, url, (405,) * 8))
    by_endpoint = {r.endpoint: r for r in rules(app)}
    for endpoint, label, overrides, entry in VARIANTS:
        rule = by_endpoint[endpoint]
        values = {argument: resolve(world, PARAMETERS[argument]) for argument in rule.arguments
                  if argument not in overrides and argument != "section"}
        values.update({name: resolve(world, path) if name != "section" else path for name, path in overrides.items()})
        url = url_for(endpoint, **values)
        for method in sorted(rule.methods & set(METHODS)):
            out.append((f"{endpoint} ({label})", endpoint, method, url, pick(entry, method)))
    return out


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def matrix_app(tmp_path_factory):
    with fresh_app(tmp_path_factory.mktemp("matrix")) as app:
        yield app


@pytest.fixture(scope="module")
def world(matrix_app):
    with matrix_app.test_request_context():
        return fs.build_world()


@pytest.fixture(scope="module")
def all_cases(matrix_app, world):
    with matrix_app.test_request_context():
        return cases(matrix_app, world)


# --- the table covers the application ---------------------------------------------------------

def test_every_route_has_an_entry_and_every_entry_a_route(matrix_app):
    keys = set()
    for rule in rules(matrix_app):
        if "section" in rule.arguments:
            keys |= {f"{rule.endpoint}/{v}" for v in rule._converters["section"].items}
        else:
            keys.add(rule.endpoint)
        for argument in rule.arguments:
            assert argument in PARAMETERS or argument == "section" or (
                argument == "token" and rule.endpoint in TOKENS), \
                f"{rule.rule}: no real value for <{argument}> in PARAMETERS/TOKENS of the access matrix"
    missing = sorted(k for k in keys if k not in EXPECTED and k.split("/")[0] not in EXPECTED)
    assert not missing, f"routes without an entry in the access matrix (add one to EXPECTED): {missing}"
    endpoints = {r.endpoint for r in rules(matrix_app)}
    stale = sorted(k for k in EXPECTED if k.split("/")[0] not in endpoints)
    assert not stale, f"entries of the access matrix without a route: {stale}"
    for entry in EXPECTED.values():
        for row in (entry.values() if isinstance(entry, dict) else [entry]):
            assert len(row) == len(fs.PERSONAS)
    for endpoint, _label, _overrides, _row in VARIANTS:
        assert endpoint in endpoints


def test_the_matrix_is_large(all_cases):
    """Guard against a matrix that silently shrinks (e.g. an empty URL map)."""
    assert len({endpoint for _, endpoint, _, _, _ in all_cases}) >= 70
    assert len(all_cases) >= 160


# --- every persona against every route --------------------------------------------------------

def outcome(response):
    if response.status_code in (301, 302, 303, 307, 308):
        location = urlsplit(response.headers["Location"])
        return LOGIN if location.path == "/connexion" and "next=" in location.query else REDIRECT
    return response.status_code


def matches(expected, got):
    if expected == OK:
        return got in (200, REDIRECT, 400, 409, 422)
    return got == expected


def hostile_payload(world, url):
    """What a refused visitor might post: a bit of every form of the application."""
    application = world.application
    data = {
        "version": str(application.version), "action": "submit", "title": "Piraté", "summary": "Piraté",
        "reason": "Piraté", "message_body": "Piraté", "inadmissible_reason": "Piraté",
        "piece_message": "Piraté", "note_body": "Piraté", "piece_items": "projet", "piece_due_date": "2099-01-01",
        "outcome": "rejected", "amount": "1", "application_ids": [str(application.id)],
        "application_id": str(application.id), "reviewer_id": str(world.reviewer_unassigned.id),
        "entrer": [str(application.id)], "attest": "y", "attestation_name": "Piraté",
        "email": "pirate@example.org", "first_name": "Pirate", "last_name": "Pirate", "role": "admin",
        "password": "un-mot-de-passe-pirate", "password_confirm": "un-mot-de-passe-pirate",
        "name": "Piraté", "iban": "FR7630006000011234567890189", "bic": "AGRIFRPP", "account_holder": "Piraté",
        "add-association_id": str(world.owner.association_id), "add-reason": "Piraté",
    }
    if url.endswith("/envoyer"):
        data["file"] = (io.BytesIO(fa.PDF), "pirate.pdf")
    return data


def request_as(client, method, url, token, data=None):
    if method == "GET":
        return client.get(url)
    data = dict(data or {})
    data["csrf_token"] = token
    return client.post(url, data=data, headers={"X-CSRFToken": token})


def refused(row_value):
    return row_value in (LOGIN, 403, 404, 405)


@pytest.mark.parametrize("persona", fs.PERSONAS)
def test_access_matrix(matrix_app, world, all_cases, persona):
    index = fs.PERSONAS.index(persona)
    client = matrix_app.test_client()
    if world.users[persona] is not None:
        login(client, world.users[persona])
    token = client.csrf_token()
    problems = []

    def check(key, method, url, expected, data=None):
        response = request_as(client, method, url, token, data)
        got = outcome(response)
        if response.status_code >= 500:
            problems.append(f"{persona} {method} {url} [{key}]: {response.status_code} (server error)")
        elif not matches(expected, got):
            problems.append(f"{persona} {method} {url} [{key}]: expected {expected}, got {got}"
                            + (f" → {response.headers.get('Location')}" if got in (LOGIN, REDIRECT) else ""))
        return response

    # 1. Refused requests first (the hostile posts must change nothing), then the allowed ones,
    #    the logout last.
    denied = [c for c in all_cases if refused(c[4][index])]
    allowed = [c for c in all_cases if not refused(c[4][index])]
    assert len(all_cases) >= 160 and denied and allowed, (len(denied), len(allowed))  # lists from the URL map
    allowed.sort(key=lambda c: (c[1] == "auth.logout", c[2] == "POST"))
    for key, _endpoint, method, url, row in denied:
        if method == "POST":
            before = fs.table_counts()
            check(key, method, url, row[index], hostile_payload(world, url))
            after = fs.table_counts()
            if before != after:
                changed = sorted(k for k in before if before[k] != after[k])
                problems.append(f"{persona} POST {url} [{key}] was refused but changed {changed}")
        else:
            check(key, method, url, row[index])
    markers = foreign_markers(world, persona)
    for key, endpoint, method, url, row in allowed:
        response = check(key, method, url, row[index])
        # (A link sent by e-mail shows what it is about to whoever holds it.)
        if method == "GET" and response.status_code == 200 and "text/html" in (response.content_type or "") \
                and endpoint not in TOKENS:
            page = response.get_data(as_text=True)
            compact = page.replace(" ", "")
            for label, marker in markers.items():
                if label == "A's name" and endpoint in WINNERS_MADE_PUBLIC:
                    continue
                if marker in page or marker in compact:
                    problems.append(f"{persona} GET {url} [{key}]: shows {label}")
    assert not problems, "\n".join(problems)


# A is a winner of the published call: its name is public on the call's page (the list of winners
# published with the decisions, issue 18 §4); nothing else of A's file is.
WINNERS_MADE_PUBLIC = {"calls.public_detail"}


def foreign_markers(world, persona):
    """What a persona's pages must never show: the other association's file and bank account,
    and the call still in draft (outside staff)."""
    a, b = world.application, world.other_application
    of_a = {"A's reference": a.reference, "A's IBAN": world.owner.association.iban,
            "A's requested IBAN": world.bank_request.iban}
    of_b = {"B's reference": b.reference, "B's IBAN": world.other.association.iban,
            "B's name": world.other.association.name}
    draft = {"the draft call": world.draft_call.title}
    return {
        A: {**of_a, **of_b, **draft},
        OW: {**of_b, **draft},
        OT: {**of_a, "A's name": world.owner.association.name, **draft},
        RU: {**of_a, "A's IBAN": world.owner.association.iban, **draft},
        RC: {"A's IBAN": world.owner.association.iban, "A's requested IBAN": world.bank_request.iban, **of_b, **draft},
        RA: {"A's IBAN": world.owner.association.iban, "A's requested IBAN": world.bank_request.iban, **of_b, **draft},
        ST: {}, AD: {},
    }[persona]


# --- uploaded files are never reachable by a guessable path -----------------------------------

def stored_files(matrix_app, world):
    from aap.documents import services as documents
    out = [files.path_of(a.stored_name) for a in world.application.attachments + world.other_application.attachments]
    out.append(documents.convention_path(world.convention))
    out.append(files.path_of(world.bank_request.rib_stored_name))
    out.append(documents.documents_folder("jobs") / world.job.stored_name)
    return out


def test_uploads_are_stored_under_instance_with_random_names(matrix_app, world):
    instance = matrix_app.instance_path
    for attachment in world.application.attachments + world.other_application.attachments:
        assert re.fullmatch(r"[0-9a-f]{32}", attachment.stored_name)
        path = files.path_of(attachment.stored_name)
        assert path.is_file()
        assert str(path.resolve()).startswith(str(Path(instance).resolve()) + "/")
        assert attachment.original_name not in attachment.stored_name
        assert path.read_bytes().startswith(b"%PDF-")
    names = [a.stored_name for a in world.application.attachments]
    assert len(set(names)) == len(names)
    static = Path(matrix_app.static_folder).resolve()
    for path in stored_files(matrix_app, world):
        assert not str(path.resolve()).startswith(str(static))
    # path_of() never builds a path from anything but its own random names.
    for bad in ("../secret_key", "..", "a/b", "", "ABCDEF", "0" * 31 + "/"):
        with pytest.raises(ValueError):
            files.path_of(bad)


def test_no_guessable_url_serves_a_stored_file(matrix_app, world):
    paths = stored_files(matrix_app, world)
    instance = Path(matrix_app.instance_path)
    candidates = []
    for path in paths:
        relative = path.relative_to(instance).as_posix()
        name = path.name
        candidates += [
            f"/static/../instance/{relative}", f"/static/%2e%2e/instance/{relative}",
            f"/static/..%2finstance%2f{relative}", f"/static/{relative}", f"/static/{name}",
            f"/uploads/{name}", f"/instance/{relative}", f"/{relative}", f"/{name}",
            f"/static/..%5c..%5cinstance%5c{relative}", f"/candidatures/{world.application.id}/pieces/{name}",
            f"/static/{'../' * 6}{path.as_posix().lstrip('/')}",
        ]
    candidates += [f"/static/{name}" for name in ("../../instance/secret_key", "..%2f..%2finstance%2fsecret_key",
                                                 "%2e%2e/%2e%2e/instance/secret_key")]
    contents = [p.read_bytes() for p in paths]
    for persona in (A, OW, ST, AD):
        client = matrix_app.test_client()
        if world.users[persona] is not None:
            login(client, world.users[persona])
        for url in candidates:
            response = client.get(url)
            assert response.status_code in (404, 308, 301, 302), (persona, url, response.status_code)
            body = response.get_data()
            assert not any(content[:64] in body for content in contents), (persona, url)
            if response.status_code in (301, 302, 308):
                follow = client.get(response.headers["Location"])
                assert follow.status_code == 404 or not any(c[:64] in follow.get_data() for c in contents), \
                    (persona, url)


def test_downloads_are_attachments_not_inline(matrix_app, world):
    """Files served to those allowed are attachments, never rendered by the browser in the site's origin."""
    client = matrix_app.test_client()
    login(client, world.staff)
    urls = [f"/candidatures/{world.application.id}/pieces/{world.attachment.id}",
            f"/candidatures/{world.application.id}/recepisse.pdf",
            f"/candidatures/{world.application.id}/convention.pdf",
            f"/instruction/travaux/{world.job.id}/conventions.zip"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Disposition"].startswith("attachment"), url
        assert response.headers.get("X-Content-Type-Options") == "nosniff", url
