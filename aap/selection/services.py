"""Decisions: drafts, bulk drafts, applying a proposal, publishing (with the e-mails).

The only place of the selection package that changes decisions (aap/selection/grey_zone.py stores
the robustness runs and records the draws, whose drafts it makes here: draft_draw). Knows nothing of HTTP.
"""
from __future__ import annotations

from sqlalchemy.orm import joinedload

from .. import timeutil
from ..events import change_state, record
from ..extensions import db
from ..models import Application, Decision
from ..models.applications import REJECTED, SELECTED, WAITLISTED
from ..models.selection import OUTCOME_LABELS, OUTCOME_REJECTED, OUTCOME_SELECTED, OUTCOME_WAITLISTED, DecisionState
from ..money import format_euros
from ..transitions import APPLICATION
from .ranking import FINAL_STATES

# The states of a file waiting for its decision (those from which publishing may move it).
AWAITING_DECISION = APPLICATION.sources(SELECTED, service="selection.services.publish_decisions")

STATE_OF_OUTCOME = {OUTCOME_SELECTED: SELECTED, OUTCOME_WAITLISTED: WAITLISTED, OUTCOME_REJECTED: REJECTED}
PUBLISH_REASON = "Décision du comité de sélection"
LOCKED_MESSAGE = "La décision sur ce dossier est publiée : elle ne peut plus être modifiée."


class DecisionError(Exception):
    """A refusal to show to staff (French message)."""


def split_per_year(total_cents, years, requested_per_year=None):
    """Amounts per year summing to the total: the requested split when it fits, else an even one."""
    years = max(int(years or 1), 1)
    if years == 1:
        return [total_cents]
    requested = [int(v or 0) for v in (requested_per_year or [])]
    if len(requested) == years and sum(requested) == total_cents:
        return requested
    base, remainder = divmod(total_cents, years)
    return [base + (1 if i < remainder else 0) for i in range(years)]


def amount_warnings(application, amount_cents):
    """Warnings (not errors) about a granted amount."""
    requested = application.requested_cents
    if amount_cents is not None and requested is not None and amount_cents > requested:
        return [f"Le montant accordé ({format_euros(amount_cents)}) dépasse le montant demandé "
                f"({format_euros(requested)}) pour le dossier {application.reference}."]
    return []


def _record_draft(action, actor, application, reason="", **details):
    """Drafts are recorded at the call's level (staff audit), not in the file's own history,
    which the association reads: nothing of a decision shows there before it is published."""
    return record(action, actor=actor, call_id=application.call_id, reason=reason,
                  application_id=application.id, reference=application.reference, **details)


def decision_refusal(application):
    """Is the decision on this file still open? None when a draft decision may be recorded or
    changed on it (the file waits for its decision: admissible, in review or reviewed, and its
    decision, if any, is a draft), else why not (French). A draft is removed (clear_decision)
    whenever it is still a draft."""
    decision = application.decision
    published = decision is not None and decision.state == DecisionState.PUBLISHED
    if application.status in AWAITING_DECISION and not published:
        return None
    if published or application.status in FINAL_STATES:
        return LOCKED_MESSAGE
    return (f"Le dossier {application.reference} ne peut pas faire l'objet d'une décision "
            f"dans son état actuel ({application.status_label}).")


def _check_open(application):
    refusal = decision_refusal(application)
    if refusal:
        raise DecisionError(refusal)
    return application.decision


def _draft(application, outcome, actor, amount_cents=None, amount_per_year=None, reason="", via="manual"):
    """Create or update the draft decision of a file (no commit). Returns the warnings.

    `reason` is sent to the association; `via` (manual, bulk, proposal) only goes to the history."""
    decision = _check_open(application)
    reason = (reason or "").strip()
    years = application.call.years
    if outcome not in OUTCOME_LABELS:
        raise DecisionError("Choisissez une décision.")
    warnings = []
    if outcome == OUTCOME_SELECTED:
        if not amount_cents or amount_cents <= 0:
            raise DecisionError(f"Indiquez le montant accordé au dossier {application.reference}.")
        if amount_per_year:
            amount_per_year = [int(v) for v in amount_per_year]
            if len(amount_per_year) != max(years, 1):
                raise DecisionError(f"Indiquez un montant pour chacune des {years} années.")
            if sum(amount_per_year) != amount_cents:
                raise DecisionError(
                    f"La somme des montants annuels ({format_euros(sum(amount_per_year))}) doit être égale "
                    f"au montant accordé ({format_euros(amount_cents)}).")
        else:
            amount_per_year = split_per_year(amount_cents, years, application.requested_per_year)
        warnings = amount_warnings(application, amount_cents)
    else:
        amount_cents, amount_per_year = None, []
        if outcome == OUTCOME_REJECTED and not reason:
            raise DecisionError(f"Indiquez le motif de non-sélection du dossier {application.reference} : "
                                f"il sera communiqué à l'association.")
    if decision is None:
        decision = Decision(application=application)
        db.session.add(decision)
    decision.outcome = outcome
    decision.amount_cents = amount_cents
    decision.amount_per_year = amount_per_year
    decision.reason = reason
    decision.decided_by_id = actor.id
    decision.decided_at = timeutil.now()
    _record_draft("decision_drafted", actor, application, reason=reason, outcome=outcome,
                  amount_cents=amount_cents, via=via)
    return warnings


def set_decision(application, outcome, actor, amount_cents=None, amount_per_year=None, reason=""):
    """Record (or change) the draft decision on one file. Returns the warnings (French)."""
    try:
        warnings = _draft(application, outcome, actor, amount_cents, amount_per_year, reason)
    except DecisionError:
        db.session.rollback()
        raise
    db.session.commit()
    return warnings


def _applications_of_call(call, application_ids):
    ids = {int(i) for i in application_ids if 0 < int(i) < 2**31}  # (a forged huge id would fail in the query)
    if not ids:
        return []
    return db.session.scalars(
        db.select(Application).options(joinedload(Application.decision), joinedload(Application.call))
        .where(Application.call_id == call.id, Application.id.in_(ids))
        .order_by(Application.id)).unique().all()


def set_decisions_bulk(call, application_ids, outcome, actor, reason=""):
    """The same decision on several files of a call (a winner gets its current or requested amount).

    Files whose decision is published are skipped. All or nothing otherwise.
    Returns (number of drafts recorded, skipped references, warnings).
    """
    applications = _applications_of_call(call, application_ids)
    done, skipped, warnings = 0, [], []
    try:
        for application in applications:
            if decision_refusal(application):
                skipped.append(application.reference)
                continue
            amount = None
            if outcome == OUTCOME_SELECTED:
                current = application.decision
                amount = (current.amount_cents if current is not None and current.amount_cents
                          else application.requested_cents)
            keep_split = (application.decision.amount_per_year
                          if application.decision is not None and application.decision.amount_cents == amount
                          else None)
            warnings += _draft(application, outcome, actor, amount_cents=amount,
                               amount_per_year=keep_split or None, reason=reason, via="bulk")
            done += 1
    except DecisionError:
        db.session.rollback()
        raise
    db.session.commit()
    return done, skipped, warnings


def clear_decision(application, actor):
    """Remove a draft decision (the file goes back to « sans décision »)."""
    decision = application.decision
    if decision is None:
        return False
    if decision.state != DecisionState.DRAFT:
        raise DecisionError(LOCKED_MESSAGE)
    _record_draft("decision_draft_removed", actor, application, outcome=decision.outcome)
    db.session.delete(decision)
    db.session.commit()
    return True


def apply_proposal(call, actor, entering_ids=(), leaving_ids=()):
    """Turn the chosen lines of a proposal into drafts: entering files « retenu » (their current or
    requested amount), leaving files « liste d'attente ». Published decisions are left alone.
    Returns (entered, left, skipped references, warnings)."""
    entering = _applications_of_call(call, entering_ids)
    leaving = _applications_of_call(call, leaving_ids)
    entered = left = 0
    skipped, warnings = [], []
    try:
        for application in entering:
            decision = application.decision
            if decision_refusal(application):
                skipped.append(application.reference)
                continue
            amount = decision.amount_cents if decision is not None and decision.amount_cents \
                else application.requested_cents
            if not amount:
                skipped.append(application.reference)
                continue
            warnings += _draft(application, OUTCOME_SELECTED, actor, amount_cents=amount, via="proposal")
            entered += 1
        for application in leaving:
            if application.decision is None or decision_refusal(application):
                skipped.append(application.reference)
                continue
            _draft(application, OUTCOME_WAITLISTED, actor, via="proposal")
            left += 1
    except DecisionError:
        db.session.rollback()
        raise
    db.session.commit()
    return entered, left, skipped, warnings


def draft_draw(call, actor, selected, drawn, waitlisted, reason):
    """The drafts of a draw among the grey zone (selection.grey_zone.draw), no commit: `selected`
    and `drawn` [(application id, amount per year)] become « retenu » (the drawn ones with `reason`),
    `waitlisted` [application id] « liste d'attente ». A file already retained in a draft keeps its
    draft. Returns the warnings; raises DecisionError."""
    amounts = dict(selected) | dict(drawn)
    applications = {a.id: a for a in _applications_of_call(call, list(amounts) + list(waitlisted))}
    warnings = []
    for key, per_year in selected:
        application = applications[key]
        if application.decision is not None and application.decision.outcome == OUTCOME_SELECTED:
            continue
        warnings += _draft(application, OUTCOME_SELECTED, actor, amount_cents=sum(per_year),
                           amount_per_year=list(per_year), via="draw")
    for key, per_year in drawn:
        warnings += _draft(applications[key], OUTCOME_SELECTED, actor, amount_cents=sum(per_year),
                           amount_per_year=list(per_year), reason=reason, via="draw")
    for key in waitlisted:
        _draft(applications[key], OUTCOME_WAITLISTED, actor, via="draw")
    return warnings


def publish_decisions(call, actor, acknowledged=None, fingerprint=None):
    """Publish every draft decision of the call, in ONE transaction: lock each decision and its
    file, check again what the confirmation page showed (selection.mails.check_confirmation:
    nothing blocking; the same drafts when `fingerprint` is given; every warning's key in
    `acknowledged` when given: the confirmation page always gives both, a caller without a page
    (the demo, a test) gives none), publish each decision and move its file to its outcome (recorded in its
    history: the association sees the decision on its file from now on), and draft one mail per
    decision (nothing is sent: staff send the drafts later, selection.mails.send_mails).
    If anything fails, nothing is published. Returns the number published."""
    from . import mails
    try:
        decisions = mails.draft_decisions(call, lock=True)
        if not decisions:
            return 0
        summary = mails.publication(call, decisions)
        mails.check_confirmation(summary, acknowledged, fingerprint)
        now = timeutil.now()
        for decision in decisions:
            application = decision.application
            change_state(decision, DecisionState.PUBLISHED, actor=actor, at=now)
            reason = decision.reason if decision.outcome == OUTCOME_REJECTED else PUBLISH_REASON
            change_state(application, STATE_OF_OUTCOME[decision.outcome], actor=actor, reason=reason,
                         action="decision_published", outcome=decision.outcome,
                         amount_cents=decision.amount_cents)
        db.session.flush()
        mails.draft_mails(call, decisions)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return len(decisions)
