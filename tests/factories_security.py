"""A small but complete world for the access matrix, the bad-input and the audit tests.

Association A (persona « owner ») has a submitted then selected application (attachments, a
submitted review, a published decision, a generated convention, a message, an answered request
for pieces, and a pending request to change its bank details, with its RIB); association B
(persona « other ») has its own application, with its own attachments, in the same call,
submitted and now in review. Three reviewers: one assigned to A's file who confirmed having no
link with it, one assigned to A's file but who declared a link with association A, one assigned
only to B's file. A staff member, an administrator, a staff
member invited but not yet active, a call still in draft, a finished and a running
bulk-convention job of the call, and valid links (tokens) of each kind.
"""
import zipfile
from dataclasses import dataclass, field

from flask import current_app

from aap import events, timeutil
from aap.applications import budget, files
from aap.extensions import db
from aap.models import (
    Application,
    Assignment,
    Call,
    Conflict,
    Decision,
    DecisionMail,
    Event,
    Job,
    Message,
    PieceRequest,
    Review,
    User,
)
from aap.models.jobs import JOB_DONE, JOB_RUNNING

from . import factories
from . import factories_applications as fa
from . import factories_documents as fd

PERSONAS = ("anonymous", "owner", "other", "reviewer_unassigned", "reviewer_conflict", "reviewer_assigned",
            "staff", "admin")


@dataclass
class World:
    call: Call
    draft_call: Call
    owner: User
    other: User
    reviewer_assigned: User
    reviewer_conflict: User
    reviewer_unassigned: User
    staff: User
    admin: User
    invited: User
    application: Application
    other_application: Application
    attachment: object
    other_attachment: object
    review: Review
    decision: Decision
    convention: object
    bank_request: object
    job: Job
    running_job: Job
    tokens: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    association_document: object = None  # a piece sent on A's « Mes documents » page
    message_attachment: object = None    # a file sent with the staff's message on A's file
    member_invitation: object = None     # A's pending invitation of a colleague (its event)
    note: object = None                  # the staff's private note on A's file
    reviewer_note: object = None         # the assigned reviewer's own note on A's file
    decision_mail: object = None         # the draft mail of A's published decision (not sent)
    payment_line: object = None          # the planned advance of A's convention
    report: object = None                # the first yearly report of A's convention, a draft

    def user(self, persona):
        return self.users.get(persona)


def build_world():
    call = factories.call(slug="aap-matrice", years=1)
    draft_call = factories.call(slug="aap-brouillon", status="draft", opens_in_days=30, closes_in_days=60)
    owner = factories.user("applicant", "a@example.org", association_name="Association A")
    other = factories.user("applicant", "b@example.org", association_name="Association B")
    reviewer_assigned = factories.user("reviewer", "eval-affecte@example.org", region_code="11")
    reviewer_conflict = factories.user("reviewer", "eval-conflit@example.org", region_code="11")
    reviewer_unassigned = factories.user("reviewer", "eval-autre@example.org", region_code="11")
    staff = factories.user("staff", "agent@example.org")
    admin = factories.user("admin", "admin@example.org")
    invited = User(email="invite@example.org", role="staff", first_name="Inès", last_name="Invitée",
                   invited_by_id=admin.id)
    db.session.add(invited)
    db.session.commit()

    # A's file: filled, with its attachments, submitted through the service (receipt, snapshot).
    application = fa.complete_draft(call, owner)
    fa.submit_now(application, owner)
    attachment = application.attachments[0]

    # B's file, the same way (B's identity in another département).
    factories.complete_identity(other.association, departement="35", region="53")
    other.association.iban = "FR1420041010050500013M02606"  # B's own account (a valid IBAN)
    other.association.siret = "35600000000048"
    other.association.rna = "W351234567"
    db.session.commit()
    other_application = fa.draft(call, other.association)
    fa.attach_all(other_application, other)
    fa.submit_now(other_application, other)
    other_attachment = other_application.attachments[0]

    now = timeutil.now()
    db.session.add_all([
        Assignment(application_id=application.id, reviewer_id=reviewer_assigned.id,
                   no_conflict_confirmed_at=now, notified_at=now),
        Assignment(application_id=application.id, reviewer_id=reviewer_conflict.id, notified_at=now),
        Conflict(reviewer_id=reviewer_conflict.id, association_id=owner.association_id,
                 reason="Ancien administrateur de l'association"),
        Assignment(application_id=other_application.id, reviewer_id=reviewer_unassigned.id,
                   no_conflict_confirmed_at=now, notified_at=now),
        Message(application_id=application.id, author_id=staff.id, body="Merci pour votre dossier."),
        PieceRequest(application_id=application.id, requested_by_id=staff.id, message="Budget détaillé",
                     sections=["budget"], due_at=now, answered_at=now),
    ])
    other_application.status = "in_review"  # B's file is being reviewed (by reviewer_unassigned)
    db.session.commit()
    review = fd.review(application, reviewer_assigned, [c.scale_max for c in call.criteria])

    decision = Decision(application_id=application.id, outcome="selected", amount_cents=90_000_00,
                        amount_per_year=[90_000_00], decided_by_id=staff.id, decided_at=now,
                        published_at=now, published_by_id=staff.id)
    # Granted less than asked: its budget adjusted to the grant, so that its convention can be issued.
    decision.adjusted_budget = budget.reduced_to_grant(application.budget, [90_000_00], 1)
    db.session.add(decision)
    application.status = "admissible"  # (its admissibility is not part of this world's history)
    events.change_state(application, "selected", staff, reason="Décision du comité de sélection",
                        action="decision_published", outcome="selected", amount_cents=90_000_00)
    db.session.commit()

    decision_mail = DecisionMail(decision_id=decision.id, application_id=application.id, outcome="selected",
                                 subject="Décision sur votre dossier", body="Votre projet est retenu.\n")
    db.session.add(decision_mail)
    db.session.commit()

    from aap.documents import services as documents
    with current_app.test_request_context():
        convention, _path, _ = documents.ensure_convention(application)

    # Selected, A asks to change its bank details: a request waiting for staff, with its RIB.
    import io

    from aap.associations import bank
    with current_app.test_request_context():
        bank_request = bank.change_bank_details(
            owner.association, owner, factories.PASSWORD, "FR7630001007941234567890185", "BDFEFRPP",
            "Association A", "rib-nouveau-compte.pdf", io.BytesIO(fa.PDF)).request

    job = Job(call_id=call.id, kind="conventions", status=JOB_DONE, total=1, done=1,
              created_by_id=staff.id, started_at=now, finished_at=now)
    db.session.add(job)
    db.session.flush()
    job.stored_name = f"{job.id}-matrice.zip"
    with zipfile.ZipFile(documents.documents_folder("jobs") / job.stored_name, "w") as archive:
        archive.writestr(f"convention-{convention.number}.pdf", b"%PDF-1.4\n%%EOF\n")
    # A job under way: asking for the conventions again returns it instead of queuing another.
    running_job = Job(call_id=call.id, kind="conventions", status=JOB_RUNNING, total=1, done=0,
                      created_by_id=staff.id, started_at=now)
    db.session.add(running_job)
    db.session.commit()

    from aap.associations.services import make_member_token
    from aap.auth.tokens import make_token
    tokens = {
        "confirm": make_token(owner, "confirm"),
        "reset": make_token(owner, "reset"),
        "invite": make_token(invited, "invite"),
        "member": make_member_token(owner.association, "nouveau-membre@example.org"),
    }

    # A's kept documents (a statuts sent on « Mes documents ») and a file sent with the staff's message.
    from aap.applications import reuse
    from aap.models import MessageAttachment
    association_document = reuse.add_document(owner.association, "statuts", "statuts-a.pdf", io.BytesIO(fa.PDF + b"A"),
                                              owner)
    staff_message = db.session.scalars(db.select(Message).where(Message.application_id == application.id)).first()
    stored = files.new_stored_name()
    files.write(stored, fa.PDF + b"message")
    message_attachment = MessageAttachment(message_id=staff_message.id, original_name="courrier.pdf",
                                           stored_name=stored, kind="pdf", content_type="application/pdf",
                                           size=len(fa.PDF) + 7, sha256="0" * 64)
    db.session.add(message_attachment)
    member_invitation = events.record("member_invited", actor=owner, association_id=owner.association_id,
                                      email="collegue-a@example.org")
    db.session.commit()
    # Private notes on A's file: the staff's, and the assigned reviewer's own.
    from aap.instruction import notes
    note = notes.add_note(staff, "Note de l'équipe sur le dossier A.", application=application)
    reviewer_note = notes.add_note(reviewer_assigned, "Note de l'évaluateur sur le dossier A.", application=application)
    # A payment line of A's convention (aap/followup/payments.py), planned.
    from aap.models.followup import PaymentLine
    payment_line = PaymentLine(convention_id=convention.id, year=call.year, kind="advance", amount_cents=10_000_00,
                               planned_on=now.date())
    db.session.add(payment_line)
    # The first yearly report of A's convention (aap/followup/reports.py), a draft without pieces.
    from aap.models.followup import Report
    report = Report(convention_id=convention.id, year=call.year, due_on=now.date())
    db.session.add(report)
    db.session.commit()

    world = World(call=call, draft_call=draft_call, owner=owner, other=other, reviewer_assigned=reviewer_assigned,
                  reviewer_conflict=reviewer_conflict, reviewer_unassigned=reviewer_unassigned, staff=staff,
                  admin=admin, invited=invited, application=application, other_application=other_application,
                  attachment=attachment, other_attachment=other_attachment, review=review, decision=decision,
                  convention=convention, bank_request=bank_request, job=job, running_job=running_job, tokens=tokens,
                  association_document=association_document, message_attachment=message_attachment,
                  member_invitation=member_invitation, decision_mail=decision_mail, note=note,
                  reviewer_note=reviewer_note, payment_line=payment_line, report=report)
    world.users = {"anonymous": None, "owner": owner, "other": other, "reviewer_unassigned": reviewer_unassigned,
                   "reviewer_conflict": reviewer_conflict, "reviewer_assigned": reviewer_assigned,
                   "staff": staff, "admin": admin}
    return world


def table_counts():
    """Rows of every table (but the login attempts) and the states that matter: a fingerprint of
    the database to compare before and after a request that must change nothing."""
    counts = {}
    for table in db.metadata.sorted_tables:
        if table.name == "login_attempts":
            continue
        counts[table.name] = db.session.execute(db.select(db.func.count()).select_from(table)).scalar()
    counts["application_states"] = tuple(db.session.execute(
        db.select(Application.id, Application.status, Application.version, Application.title,
                  Application.fingerprint).order_by(Application.id)).all())
    counts["call_states"] = tuple(db.session.execute(
        db.select(Call.id, Call.status, Call.title).order_by(Call.id)).all())
    counts["decisions"] = tuple(db.session.execute(
        db.select(Decision.id, Decision.outcome, Decision.amount_cents, Decision.published_at)
        .order_by(Decision.id)).all())
    counts["decision_mails"] = tuple(db.session.execute(
        db.select(DecisionMail.id, DecisionMail.subject, DecisionMail.body, DecisionMail.held, DecisionMail.sent_at)
        .order_by(DecisionMail.id)).all())
    counts["reviews_state"] = tuple(db.session.execute(
        db.select(Review.id, Review.status).order_by(Review.id)).all())
    counts["users"] = tuple(db.session.execute(
        db.select(User.id, User.role, User.auth_version, User.association_id).order_by(User.id)).all())
    db.session.rollback()  # end the read transaction (SQLite: let the next request write)
    return counts


def events_of(action):
    return db.session.scalars(db.select(Event).where(Event.action == action).order_by(Event.id)).all()
