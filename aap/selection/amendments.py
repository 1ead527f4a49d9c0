"""Published decisions changed afterwards: a file of the waiting list selected when credits free
up (promote), the waiting list closed when the call ends (close_waitlist), a winner renouncing its
grant (renounce, by the association) or staff withdrawing it (withdraw_grant), a winner's grant
amended: amount, split per year, reason (amend_decision).

Every change of a published decision is a new version of it: events.change_state to « Modifiée »
keeps the version it replaces (Decision.supersede), `application.decision` stays the current one,
and the conventions follow it (documents.data.convention_data: its fingerprint changes, the PDF is
rendered again). Each change is in the file's history and tells the association by e-mail; a
renunciation or a withdrawal frees its amount at once in the budget of the selection pages (a
withdrawn file is no longer ranked, nor a winner: documents.data.winners_condition).

A winner's grant may be amended while its file is « Retenu » and its convention is not signed by
its association (still « émise »: it is regenerated from the new version); once signed, the
amount changes by an amendment to the convention (aap/followup/amendments.py).

The only place of this package, with services.py, that changes the database. Knows nothing of HTTP.
"""
from __future__ import annotations

from .. import timeutil
from ..calls.mail_templates import report_delay
from ..database import lock
from ..events import change_state, record
from ..extensions import db
from ..instruction.services import application_link, members_of, staff_recipients
from ..mail import queue_mail
from ..models import Application, Decision
from ..models.applications import REJECTED, SELECTED, WAITLISTED, WITHDRAWN
from ..models.selection import (
    CHANGE_AMENDED,
    CHANGE_CLOSED,
    CHANGE_PROMOTED,
    OUTCOME_REJECTED,
    OUTCOME_SELECTED,
    OUTCOME_WAITLISTED,
    DecisionState,
)
from ..money import format_euros
from ..permissions import is_member
from .services import DecisionError, amount_warnings, split_per_year

SUBJECT = "Appel à projets « 1 jeune 1 mentor »"
PROMOTE_REASON = "Retenu sur la liste d'attente : des crédits se sont libérés"


# --- what is possible on a file ----------------------------------------------------------------

def _published(application, outcome):
    decision = application.decision
    return (decision is not None and decision.state != DecisionState.DRAFT and decision.outcome == outcome)


def promotion_refusal(application):
    """None when the file may be selected from the waiting list, else why not (French)."""
    if application.status != WAITLISTED or not _published(application, OUTCOME_WAITLISTED):
        return (f"Le dossier {application.reference} n'est pas sur la liste d'attente "
                f"({application.status_label}) : il ne peut pas en être retenu.")
    return None


def grant_refusal(application):
    """None while a winner's grant may still be amended, renounced or withdrawn (the file is
    « Retenu » with a published decision: its convention is not signed), else why not (French)."""
    if application.status != SELECTED or not _published(application, OUTCOME_SELECTED):
        return (f"Le dossier {application.reference} n'est pas retenu ({application.status_label}) : "
                f"il n'a pas de subvention à modifier ou à retirer.")
    return None


def signed_convention_refusal(application, withdrawing=False):
    """None while the winner's convention is not signed by its association (no convention yet, or
    « émise »: a new version of the decision regenerates it), else why its amount no longer
    changes by a new decision (French): a signed convention is frozen and changes by an amendment
    (avenant) on the follow-up page."""
    from ..models import Convention
    from ..models.followup import ConventionState
    convention = db.session.scalar(db.select(Convention).where(Convention.application_id == application.id))
    if convention is None or convention.state in (None, ConventionState.ISSUED):
        return None
    if convention.state == ConventionState.TERMINATED:
        return (f"La convention {convention.number} est résiliée : le montant de la subvention du dossier "
                f"{application.reference} ne peut plus être modifié.")
    if withdrawing:
        return (f"La convention {convention.number} est à l'état « {convention.state.label} » : la subvention ne "
                f"se retire plus ni ne s'abandonne ; la convention se résilie, par la DJEPVA, depuis la page de suivi "
                f"de la subvention.")
    return (f"La convention {convention.number} est à l'état « {convention.state.label} » : ses données sont "
            f"figées et le montant ne se modifie plus par une nouvelle décision, mais par un avenant à la "
            f"convention, à établir depuis la page de suivi de la subvention.")


def waitlisted(call):
    """The files of the call still on its waiting list (with their decision), by reference."""
    return db.session.scalars(
        db.select(Application).join(Decision, Decision.application_id == Application.id)
        .where(Application.call_id == call.id, Application.status == WAITLISTED,
               Decision.outcome == OUTCOME_WAITLISTED, Decision.published_at.is_not(None))
        .order_by(Application.reference, Application.id)).all()


# --- helpers --------------------------------------------------------------------------------------

def _reason(reason, message=None):
    reason = (reason or "").strip()
    if message and not reason:
        raise DecisionError(message)
    return reason


def _amounts(application, amount_cents, amount_per_year):
    """(total, per year) of a winner's grant, checked like a draft's (services._draft)."""
    years = max(int(application.call.years or 1), 1)
    if not amount_cents or amount_cents <= 0:
        raise DecisionError(f"Indiquez le montant accordé au dossier {application.reference}.")
    if not amount_per_year:
        return amount_cents, split_per_year(amount_cents, years, application.requested_per_year)
    amount_per_year = [int(v) for v in amount_per_year]
    if len(amount_per_year) != years:
        raise DecisionError(f"Indiquez un montant pour chacune des {years} années.")
    if sum(amount_per_year) != amount_cents:
        raise DecisionError(f"La somme des montants annuels ({format_euros(sum(amount_per_year))}) doit être "
                            f"égale au montant accordé ({format_euros(amount_cents)}).")
    return amount_cents, amount_per_year


def amount_years(call, decision):
    """[(year, cents)] of a multi-year grant (empty for a one-year call or no grant)."""
    if decision.outcome != OUTCOME_SELECTED or call.years <= 1:
        return []
    return [(str(call.year + i), cents) for i, cents in enumerate(decision.amount_per_year or [])]


def _locked(application):
    """The file and its decision, re-read and locked (see database.lock)."""
    application = lock(application)
    if application.decision is not None:
        lock(application.decision)
    return application


def _tell_association(application, subject, template, **context):
    """One e-mail per active member of the association (its contact address when it has none)."""
    emails = [user.email for user in members_of(application.association_id)]
    if not emails and application.association.contact_email:
        emails = [application.association.contact_email]
    for email in emails:
        queue_mail(email, subject, template, call=application.call, application=application,
                   association=application.association, decision=application.decision,
                   amount_years=amount_years(application.call, application.decision),
                   report_delay=report_delay(application.call.report_due_months),
                   link=application_link(application), **context)


def _new_version(decision, actor, at, change, outcome, amount_cents=None, amount_per_year=(), reason=""):
    """The next version of a published decision (the current one kept in its history)."""
    change_state(decision, DecisionState.AMENDED, actor=actor, at=at)
    decision.change = change
    decision.outcome = outcome
    decision.amount_cents = amount_cents
    decision.amount_per_year = list(amount_per_year or [])
    decision.reason = reason
    decision.decided_by_id = actor.id
    decision.decided_at = at


def _commit_or_rollback(work):
    try:
        result = work()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


# --- the waiting list -------------------------------------------------------------------------------

def promote(application, actor, amount_cents, amount_per_year=None, reason=""):
    """Select a file of the waiting list: a new version of its decision (« Retenu », its amount and
    split per year), the file « Retenu », its own e-mail; its convention is then available like any
    winner's. `reason` is sent to the association (a default sentence when empty). Returns the
    warnings (an amount above the request)."""
    def work():
        locked = _locked(application)
        refusal = promotion_refusal(locked)
        if refusal:
            raise DecisionError(refusal)
        total, per_year = _amounts(locked, amount_cents, amount_per_year)
        text = _reason(reason)
        now = timeutil.now()
        _new_version(locked.decision, actor, now, CHANGE_PROMOTED, OUTCOME_SELECTED, total, per_year, text)
        change_state(locked, SELECTED, actor=actor, reason=text or PROMOTE_REASON, action="decision_promoted",
                     outcome=OUTCOME_SELECTED, amount_cents=total, version=locked.decision.version)
        _tell_association(locked, f"{SUBJECT} : votre projet est retenu (dossier {locked.reference})",
                          "decision_promoted")
        return amount_warnings(locked, total)
    return _commit_or_rollback(work)


def close_waitlist(call, actor, reason):
    """Close the call's waiting list: every file still on it is « Non retenu » (a new version of its
    decision, with `reason`, written for the associations), each association told by e-mail.
    All or nothing. Returns the number of files closed."""
    text = _reason(reason, "Indiquez le motif communiqué aux associations de la liste d'attente.")

    def work():
        closed = 0
        now = timeutil.now()
        for application in waitlisted(call):
            locked = _locked(application)
            if promotion_refusal(locked):
                continue  # (promoted meanwhile: the lock re-read it)
            closed += 1
            _new_version(locked.decision, actor, now, CHANGE_CLOSED, OUTCOME_REJECTED, reason=text)
            change_state(locked, REJECTED, actor=actor, reason=text, action="waitlist_closed",
                         outcome=OUTCOME_REJECTED, version=locked.decision.version)
            _tell_association(locked, f"{SUBJECT} : décision sur votre dossier {locked.reference}",
                              "decision_waitlist_closed")
        return closed
    return _commit_or_rollback(work)


# --- a winner's grant -------------------------------------------------------------------------------

def renounce(application, actor, reason):
    """The association renounces its grant (before it signs its convention; afterwards the
    convention is terminated: followup.signature.terminate): the file is
    « Retiré », its amount freed; its members and the staff are told."""
    text = _reason(reason, "Indiquez pourquoi votre association renonce à la subvention.")

    def work():
        locked = _locked(application)
        refusal = grant_refusal(locked) or signed_convention_refusal(locked, withdrawing=True)
        if refusal:
            raise DecisionError(refusal)
        if not is_member(actor, locked.association_id):  # (staff withdraw a grant: withdraw_grant)
            raise DecisionError("Seul un membre de l'association peut renoncer à sa subvention.")
        change_state(locked, WITHDRAWN, actor=actor, reason=text, action="grant_renounced",
                     amount_cents=locked.decision.amount_cents)
        _tell_association(locked, f"{SUBJECT} : renoncement à la subvention (dossier {locked.reference})",
                          "grant_renounced", reason=text, renounced_by=actor)
        for person in staff_recipients(locked):
            queue_mail(person.email, f"[{locked.reference}] L'association renonce à la subvention",
                       "grant_renounced_staff", user=person, application=locked, decision=locked.decision,
                       reason=text, link=application_link(locked))
    _commit_or_rollback(work)


def withdraw_grant(application, actor, reason):
    """Staff withdraw a winner's grant (before its convention is signed), with a reason written
    for the association: the file is « Retiré », its amount freed, the association told."""
    text = _reason(reason, "Indiquez le motif du retrait : il sera communiqué à l'association.")

    def work():
        locked = _locked(application)
        refusal = grant_refusal(locked) or signed_convention_refusal(locked, withdrawing=True)
        if refusal:
            raise DecisionError(refusal)
        change_state(locked, WITHDRAWN, actor=actor, reason=text, action="grant_withdrawn",
                     amount_cents=locked.decision.amount_cents)
        _tell_association(locked, f"{SUBJECT} : retrait de la subvention (dossier {locked.reference})",
                          "grant_withdrawn", reason=text)
    _commit_or_rollback(work)


def amend_decision(application, actor, amount_cents, amount_per_year=None, reason=""):
    """Amend a winner's grant (amount, split per year) with a reason written for the association:
    a new version of the decision, the earlier one kept; the association told by e-mail; the
    convention follows the new version. Returns the warnings (an amount above the request)."""
    text = _reason(reason, "Indiquez le motif de la modification : il sera communiqué à l'association.")

    def work():
        locked = _locked(application)
        refusal = grant_refusal(locked) or signed_convention_refusal(locked)
        if refusal:
            raise DecisionError(refusal)
        decision = locked.decision
        total, per_year = _amounts(locked, amount_cents, amount_per_year)
        if total == decision.amount_cents and list(per_year) == list(decision.amount_per_year or []):
            raise DecisionError("Le montant et sa répartition sont ceux de la décision en vigueur : rien à modifier.")
        previous = decision.amount_cents
        now = timeutil.now()
        _new_version(decision, actor, now, CHANGE_AMENDED, OUTCOME_SELECTED, total, per_year, text)
        record("decision_amended", actor=actor, application=locked, reason=text, outcome=OUTCOME_SELECTED,
               amount_cents=total, previous_amount_cents=previous, version=decision.version)
        _tell_association(locked, f"{SUBJECT} : décision modifiée sur votre dossier {locked.reference}",
                          "decision_amended", previous_amount_cents=previous)
        return amount_warnings(locked, total)
    return _commit_or_rollback(work)


def versions(decision):
    """Every version of a decision, the current one first: [(version, outcome_label, amount_cents,
    amount_per_year, reason, change_label, published_at, published_by, superseded_at)]."""
    from ..models import User
    rows = [decision] + sorted(decision.versions, key=lambda v: -v.version)
    ids = {r.published_by_id for r in rows if r.published_by_id}
    people = {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(ids)))} if ids else {}
    return [{"version": getattr(r, "version", 1) or 1, "current": r is decision, "outcome": r.outcome,
             "outcome_label": r.outcome_label, "amount_cents": r.amount_cents,
             "amount_per_year": list(r.amount_per_year or []), "reason": r.reason or "",
             "change_label": r.change_label, "published_at": r.published_at,
             "published_by": people.get(r.published_by_id), "superseded_at": getattr(r, "superseded_at", None)}
            for r in rows]
