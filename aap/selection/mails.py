"""Publishing decisions through a confirmation page, and their mails as drafts (pretalx's outbox).

1. `publication(call)` says what publishing would do: decisions per outcome, the total granted
   against the envelope, the mails that would be drafted (with a preview of each kind), the
   warnings to acknowledge one by one, and what blocks publication. `services.publish_decisions`
   computes it again inside its transaction and refuses a warning not acknowledged, or drafts
   changed since the page was shown (its fingerprint).
2. Publishing makes each decision visible on its file at once (state, outcome, reason) and drafts
   one DecisionMail per decision: nothing is sent.
3. Staff read, edit or hold back each draft, then send them all (`send_mails`, with its own
   confirmation): one outbox message per member of the association, the mail recorded in the
   file's history (« Courrier de décision envoyé », the association reads it too).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import and_, func
from sqlalchemy.orm import contains_eager

from .. import timeutil
from ..calls import mail_templates
from ..events import record
from ..extensions import db
from ..instruction.services import application_link
from ..mail import queue_text
from ..models import Application, Assignment, Decision, DecisionMail, Review, User
from ..models.review import REVIEW_SUBMITTED
from ..models.selection import OUTCOME_LABELS, OUTCOME_REJECTED
from ..models.users import APPLICANT
from ..money import format_euros
from . import ranking
from .services import AWAITING_DECISION, DecisionError, decision_refusal

WARN_REVIEWS, WARN_UNDECIDED, WARN_ENVELOPE = "evaluations", "sans_decision", "enveloppe"
CHANGED_MESSAGE = ("Les décisions en brouillon ont changé depuis l'affichage de la page de confirmation : "
                   "vérifiez le nouveau récapitulatif avant de publier.")
MAILS_CHANGED_MESSAGE = ("Les courriers à envoyer ont changé depuis l'affichage de cette page : "
                         "vérifiez la nouvelle liste avant d'envoyer.")
SENT_MESSAGE = "Ce courrier est envoyé : il ne peut plus être modifié."


@dataclass(frozen=True)
class Warning:
    key: str
    title: str
    text: str
    references: tuple = ()


@dataclass(frozen=True)
class Preview:
    outcome: str
    label: str
    reference: str
    subject: str
    body: str


@dataclass
class Publication:
    drafts: list                                   # draft Decisions, by reference
    counts: dict = field(default_factory=dict)     # {outcome label: number}
    granted_drafts_cents: int = 0                  # granted by the drafts to publish
    budget: object = None                          # budget.Summary of the call (drafts and published)
    mail_count: int = 0                            # messages the drafted mails will make
    previews: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    problems: list = field(default_factory=list)   # what blocks publication (French)
    fingerprint: str = ""


def _digest(parts):
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def drafts_fingerprint(decisions):
    """What the confirmation page showed: a changed, added or removed draft changes it."""
    return _digest(sorted(f"{d.id}:{d.outcome}:{d.amount_cents}:{d.amount_per_year}:{d.reason}"
                          for d in decisions))


def draft_decisions(call, lock=False):
    query = (db.select(Decision)
             .join(Application, Application.id == Decision.application_id)
             .options(contains_eager(Decision.application).joinedload(Application.association))
             .where(Application.call_id == call.id, Decision.published_at.is_(None))
             .order_by(Application.reference, Application.id))
    if lock:
        query = query.with_for_update(of=(Decision, Application)).execution_options(populate_existing=True)
    return db.session.scalars(query).unique().all()


def recipients_by_association(associations):
    """{association id: [addresses]}: its active members, else its contact address (one query)."""
    ids = {a.id for a in associations}
    found = {}
    if ids:
        for user in db.session.scalars(
                db.select(User).where(User.association_id.in_(ids), User.role == APPLICANT,
                                      User.active.is_(True)).order_by(User.id)):
            found.setdefault(user.association_id, []).append(user.email)
    for association in associations:
        if not found.get(association.id) and association.contact_email:
            found[association.id] = [association.contact_email]
    return found


def compose(call, decision, wordings):
    application = decision.application
    values = mail_templates.values_for(call, application, application.association,
                                       application_link(application), decision=decision)
    return mail_templates.compose(wordings[decision.outcome], values)


def _review_warning(call, data):
    pending, pending_files = db.session.execute(
        db.select(func.count(Assignment.id), func.count(func.distinct(Assignment.application_id)))
        .join(Application, Application.id == Assignment.application_id)
        .outerjoin(Review, and_(Review.application_id == Assignment.application_id,
                                Review.reviewer_id == Assignment.reviewer_id, Review.status == REVIEW_SUBMITTED))
        .where(Application.call_id == call.id, Application.status.in_(AWAITING_DECISION), Review.id.is_(None))
    ).one()
    short = [row.reference for row in data.rows if row.state in AWAITING_DECISION and row.missing_reviews]
    open_until = call.review_deadline if call.review_deadline and call.review_deadline > timeutil.now() else None
    if not (pending or short or open_until):
        return None
    parts = []
    if pending:
        many = pending > 1
        parts.append(f"{pending} évaluation{'s' if many else ''} attendue{'s' if many else ''} "
                     + ("ne sont" if many else "n'est") + f" pas encore rendue{'s' if many else ''} "
                     f"(sur {pending_files} dossier{'s' if pending_files > 1 else ''})")
    if short:
        parts.append(f"{len(short)} dossier{'s ont' if len(short) > 1 else ' a'} moins de "
                     f"{call.reviewers_per_file} évaluation{'s' if call.reviewers_per_file > 1 else ''} rendue"
                     f"{'s' if call.reviewers_per_file > 1 else ''}")
    if open_until:
        parts.append(f"la période d'évaluation court jusqu'au {timeutil.format_date(open_until)}")
    text = " ; ".join(parts)
    return Warning(WARN_REVIEWS, "Des évaluations sont encore attendues", text[0].upper() + text[1:] + ".",
                   tuple(short[:20]))


def publication(call, decisions=None):
    """What publishing the call's draft decisions would do (see the module's docstring)."""
    decisions = draft_decisions(call) if decisions is None else decisions
    data = ranking.load(call)
    result = Publication(drafts=decisions, fingerprint=drafts_fingerprint(decisions), budget=data.budget())
    for outcome, label in OUTCOME_LABELS.items():
        count = sum(1 for d in decisions if d.outcome == outcome)
        if count:
            result.counts[label] = count
    result.granted_drafts_cents = sum(d.amount_cents or 0 for d in decisions if d.amount_cents)
    recipients = recipients_by_association({d.application.association for d in decisions})
    result.mail_count = sum(len(recipients.get(d.application.association_id, [])) for d in decisions)
    wordings = mail_templates.wordings(call)
    for outcome, label in OUTCOME_LABELS.items():
        first = next((d for d in decisions if d.outcome == outcome), None)
        if first is not None:
            subject, body = compose(call, first, wordings)
            result.previews.append(Preview(outcome, label, first.application.reference, subject, body))
    for decision in decisions:
        application = decision.application
        refusal = decision_refusal(application)
        if refusal:
            result.problems.append(f"Le dossier {application.reference} n'est plus en attente de décision "
                                   f"({application.status_label}) : supprimez son brouillon de décision, puis publiez.")
        elif decision.outcome == OUTCOME_REJECTED and not (decision.reason or "").strip():
            result.problems.append(f"Le dossier {application.reference} est « Non retenu » sans motif : "
                                   f"indiquez le motif sur sa décision, il sera communiqué à l'association.")
        elif not recipients.get(application.association_id):
            result.problems.append(f"L'association du dossier {application.reference} n'a ni membre actif ni "
                                   f"adresse de contact : son courrier ne pourrait pas être envoyé.")
    warning = _review_warning(call, data)
    if warning:
        result.warnings.append(warning)
    undecided = [row.reference for row in data.rows if row.state in AWAITING_DECISION and row.decision is None]
    if undecided:
        n = len(undecided)
        result.warnings.append(Warning(
            WARN_UNDECIDED, "Des dossiers restent sans décision",
            f"{n} dossier{'s' if n > 1 else ''} en attente de décision n'{'ont' if n > 1 else 'a'} pas de "
            f"décision en brouillon : {'ils resteront' if n > 1 else 'il restera'} sans décision après la publication.",
            tuple(undecided[:20])))
    budget = result.budget
    if budget.over_budget:
        result.warnings.append(Warning(
            WARN_ENVELOPE, "L'enveloppe est dépassée",
            f"Le total accordé ({format_euros(budget.granted_cents)}, brouillons et décisions déjà publiées) "
            f"dépasse l'enveloppe de l'appel ({format_euros(budget.envelope_cents)}) de "
            f"{format_euros(budget.granted_cents - budget.envelope_cents)}."))
    return result


def check_confirmation(result, acknowledged=None, fingerprint=None):
    """The re-check of the final POST: nothing blocking, the same drafts as the page showed
    (`fingerprint`), and every warning of now acknowledged (a warning that appeared since the page
    was shown has no checkbox ticked: refused). None: not checked (a caller without a page).
    Raises DecisionError."""
    if result.problems:
        raise DecisionError(result.problems[0])
    if fingerprint is not None and fingerprint != result.fingerprint:
        raise DecisionError(CHANGED_MESSAGE)
    if acknowledged is None:
        return
    missing = [w.title for w in result.warnings if w.key not in acknowledged]
    if missing:
        raise DecisionError("Cochez chaque avertissement pour confirmer que vous en avez pris connaissance : "
                            + " ; ".join(missing) + ".")


def draft_mails(call, decisions):
    """One draft mail per decision just published (no commit)."""
    wordings = mail_templates.wordings(call)
    for decision in decisions:
        subject, body = compose(call, decision, wordings)
        db.session.add(DecisionMail(decision_id=decision.id, application_id=decision.application_id,
                                    outcome=decision.outcome, subject=subject, body=body))


# --- the drafts -------------------------------------------------------------------------------

def call_mails(call):
    """The call's decision mails, by file reference: (to send, held back, sent)."""
    mails = db.session.scalars(
        db.select(DecisionMail).join(Application, Application.id == DecisionMail.application_id)
        .options(contains_eager(DecisionMail.application).joinedload(Application.association))
        .where(Application.call_id == call.id)
        .order_by(Application.reference, DecisionMail.id)).unique().all()
    to_send = [m for m in mails if m.sent_at is None and not m.held]
    held = [m for m in mails if m.sent_at is None and m.held]
    sent = sorted((m for m in mails if m.sent_at is not None), key=lambda m: m.sent_at, reverse=True)
    return to_send, held, sent


def mails_fingerprint(mails):
    return _digest(sorted(f"{m.id}:{m.subject}:{m.body}" for m in mails))


def message_count(mails):
    """How many messages sending these mails makes (one per recipient)."""
    recipients = recipients_by_association({m.application.association for m in mails})
    return sum(len(recipients.get(m.application.association_id, [])) for m in mails)


def _check_editable(mail):
    if mail.sent_at is not None:
        raise DecisionError(SENT_MESSAGE)


def update_mail(mail, actor, subject, body):
    """Staff's own text for one draft (plain text, sent as written)."""
    _check_editable(mail)
    subject, body = " ".join((subject or "").split()), (body or "").replace("\r\n", "\n").strip()
    if not subject or not body:
        raise DecisionError("Indiquez l'objet et le texte du courrier.")
    if (subject, body) != (mail.subject, mail.body.strip()):
        mail.subject, mail.body = subject[:255], body + "\n"
        mail.edited_at, mail.edited_by_id = timeutil.now(), actor.id
        record("decision_mail_edited", actor=actor, application=mail.application, mail_id=mail.id)
    db.session.commit()


def set_held(mail, actor, held):
    """Hold a draft back (left out of the sending), or put it back."""
    _check_editable(mail)
    if mail.held != held:
        mail.held = held
        record("decision_mail_held" if held else "decision_mail_released", actor=actor,
               application=mail.application, mail_id=mail.id)
    db.session.commit()


def send_mails(call, actor, fingerprint=None):
    """Send every draft of the call that is not held back: one outbox message per recipient, the
    mail marked sent and recorded in its file's history. All or nothing; refused when the drafts
    changed since the confirmation page (its fingerprint; None: a caller without a page).
    Returns (mails sent, messages queued)."""
    from ..documents import decision_letter
    try:
        mails = db.session.scalars(
            db.select(DecisionMail).join(Application, Application.id == DecisionMail.application_id)
            .options(contains_eager(DecisionMail.application).joinedload(Application.association))
            .where(Application.call_id == call.id, DecisionMail.sent_at.is_(None), DecisionMail.held.is_(False))
            .order_by(Application.reference, DecisionMail.id)
            .with_for_update(of=DecisionMail).execution_options(populate_existing=True)).unique().all()
        if fingerprint is not None and fingerprint != mails_fingerprint(mails):
            raise DecisionError(MAILS_CHANGED_MESSAGE)
        recipients = recipients_by_association({m.application.association for m in mails})
        now, messages = timeutil.now(), 0
        for mail in mails:
            emails = recipients.get(mail.application.association_id, [])
            if not emails:
                raise DecisionError(f"L'association du dossier {mail.application.reference} n'a ni membre actif "
                                    f"ni adresse de contact : mettez son courrier de côté pour envoyer les autres.")
            letter = [decision_letter.letter_attachment(mail.application)]  # rendered when each e-mail is built
            for email in emails:
                queue_text(email, mail.subject, mail.body, kind=f"decision_{mail.outcome}", attachments=letter)
                messages += 1
            mail.sent_at, mail.sent_by_id, mail.recipients = now, actor.id, emails
            record("decision_mail_sent", actor=actor, application=mail.application, mail_id=mail.id,
                   outcome=mail.outcome, subject=mail.subject, body=mail.body, recipients=emails)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return len(mails), messages
