"""A reviewer's review of a file: scores checked against the call's grid, drafts, sending, and
staff reopening a sent review.
"""
import re

from .. import timeutil
from ..database import lock
from ..events import record
from ..extensions import db
from ..mail import queue_mail
from ..models import Review, Score
from ..models.review import RECOMMENDATION_LABELS, REVIEW_DRAFT, REVIEW_SUBMITTED
from ..permissions import can_review
from .errors import IncompleteReview, ReviewError
from .states import find_review, refresh_state, review_link


def parse_score(text, criterion):
    """« 3 » -> 3; raises ReviewError (French) when not an integer of the criterion's scale."""
    text = ("" if text is None else str(text)).strip()
    if text == "":
        return None
    if not re.fullmatch(r"-?[0-9]{1,9}", text):  # (« --1 », « ² » or 5,000 digits would break int())
        raise ReviewError(f"Saisissez une note entière entre 0 et {criterion.scale_max}.")
    value = int(text)
    if value < 0 or value > criterion.scale_max:
        raise ReviewError(f"La note doit être comprise entre 0 et {criterion.scale_max}.")
    return value


def submission_problems(criteria, scores, recommendation):
    """What is missing to submit: {field name: French message}. scores: {criterion_id: (value, comment)}."""
    problems = {}
    for criterion in criteria:
        value, comment = scores.get(criterion.id, (None, ""))
        if value is None:
            problems[f"score_{criterion.id}"] = f"Notez le critère « {criterion.label} »."
        elif value in (0, criterion.scale_max) and not (comment or "").strip():
            problems[f"comment_{criterion.id}"] = (
                f"Un commentaire est obligatoire pour la note {value} (note "
                f"{'la plus basse' if value == 0 else 'la plus haute'} de l'échelle).")
    if recommendation not in RECOMMENDATION_LABELS:
        problems["recommendation"] = "Choisissez un avis global : favorable, réservé ou défavorable."
    return problems


def save_review(application, reviewer, scores, recommendation=None, proposed_amount_cents=None,
                comment="", submit=False):
    """Save the reviewer's draft (any partial content), or submit it when complete.

    scores: {criterion_id: (value or None, comment)}; values are checked against each scale.
    """
    if not can_review(reviewer, application):
        raise ReviewError("Vous ne pouvez pas évaluer ce dossier.")
    review = find_review(application, reviewer)
    if review is not None and review.status == REVIEW_SUBMITTED:
        raise ReviewError("Cette évaluation a déjà été envoyée : elle n'est plus modifiable.")
    criteria = application.call.criteria
    # A score belongs to a criterion of the file's own call, never of another call's grid.
    if set(scores) - {criterion.id for criterion in criteria}:
        raise ReviewError("Une note porte sur un critère qui n'est pas celui de cet appel.")
    for criterion in criteria:
        value = scores.get(criterion.id, (None, ""))[0]
        if value is not None and not (isinstance(value, int) and 0 <= value <= criterion.scale_max):
            raise ReviewError(f"La note du critère « {criterion.label} » doit être comprise entre 0 et "
                              f"{criterion.scale_max}.")
    if recommendation is not None and recommendation not in RECOMMENDATION_LABELS:
        raise ReviewError("Avis global inconnu.")
    if proposed_amount_cents is not None and proposed_amount_cents < 0:
        raise ReviewError("Le montant proposé ne peut pas être négatif.")
    if submit:
        problems = submission_problems(criteria, scores, recommendation)
        if problems:
            raise IncompleteReview(problems)
    now = timeutil.now()
    if review is None:
        review = Review(application_id=application.id, reviewer_id=reviewer.id, status=REVIEW_DRAFT,
                        created_at=now)
        db.session.add(review)
    existing = {s.criterion_id: s for s in review.scores}
    for criterion in criteria:
        value, text = scores.get(criterion.id, (None, ""))
        score = existing.get(criterion.id)
        if score is None:
            score = Score(criterion_id=criterion.id)
            review.scores.append(score)
        score.value = value
        score.comment = (text or "").strip()
    review.recommendation = recommendation
    review.proposed_amount_cents = proposed_amount_cents
    review.comment = (comment or "").strip()
    review.updated_at = now
    if submit:
        _send(review, application, reviewer)
    db.session.commit()
    return review


def _send(review, application, reviewer):
    review.status = REVIEW_SUBMITTED
    review.submitted_at = review.updated_at = timeutil.now()
    record("review_submitted", actor=reviewer, application=application, reviewer_id=reviewer.id,
           recommendation=review.recommendation)
    refresh_state(application, reviewer)


def own_review(application, reviewer):
    """The reviewer's review of the file (draft or sent), or None."""
    return find_review(application, reviewer)


def draft_problems(review):
    """What the stored draft lacks to be sent: {field name: French message}."""
    scores = {s.criterion_id: (s.value, s.comment) for s in review.scores}
    return submission_problems(review.application.call.criteria, scores, review.recommendation)


def send_draft(application, reviewer):
    """Send the reviewer's stored draft, as shown on the confirmation page (« Confirmer l'envoi »):
    refused (IncompleteReview) when it lacks anything; the reviewer can no longer change it."""
    if not can_review(reviewer, application):
        raise ReviewError("Vous ne pouvez pas évaluer ce dossier.")
    review = find_review(application, reviewer)
    if review is None:
        raise ReviewError("Enregistrez d'abord votre évaluation.")
    review = lock(review)
    if review.status == REVIEW_SUBMITTED:
        raise ReviewError("Cette évaluation a déjà été envoyée : elle n'est plus modifiable.")
    problems = draft_problems(review)
    if problems:
        raise IncompleteReview(problems)
    _send(review, application, reviewer)
    db.session.commit()
    return review


def submit_review(application, reviewer, scores, recommendation=None, proposed_amount_cents=None, comment=""):
    return save_review(application, reviewer, scores, recommendation, proposed_amount_cents, comment, submit=True)


def reopen_review(review, actor, reason=""):
    """Staff reopen a submitted review: it becomes a draft again and its author is told."""
    if review.status != REVIEW_SUBMITTED:
        raise ReviewError("Cette évaluation n'a pas été envoyée : il n'y a rien à rouvrir.")
    review.status = REVIEW_DRAFT
    review.submitted_at = None
    review.updated_at = timeutil.now()
    application = review.application
    record("review_reopened", actor=actor, application=application, reason=(reason or "").strip(),
           reviewer_id=review.reviewer_id)
    queue_mail(review.reviewer.email, f"Votre évaluation du dossier {application.reference} est rouverte",
               "review_reopened", reviewer=review.reviewer, application=application,
               reason=(reason or "").strip(), link=review_link(application))
    refresh_state(application, actor)
    db.session.commit()
    return review
