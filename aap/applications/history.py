"""The history of a file, as each side may read it: the one rule for who reads which event.

Staff read the whole journal of the file: every event, every actor by name, every reason.

The association reads a history of its own, built from an explicit allow-list
(ASSOCIATION_EVENTS), never from the staff journal filtered after the fact: an event whose
action is not listed there is never shown to it, whatever it is (a reviewer's assignment, their
confirmation of having no conflict, a review sent or reopened, a conflict of interest declared,
a state change caused by the review, any action added later). Each allowed event has wording
written for the association; people are named as an association may see them (its own members
by name, the administration as « DJEPVA », nobody else); and an event's free text is shown only
where it was written for the association (the reason of inadmissibility, the message of a
request for pieces, the reason of a withdrawal, the reason of a rejection). Where the staff
wording (aap/events.py ACTION_LABELS) suits the association too, the allow-list uses it rather
than a copy.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import joinedload

from .. import timeutil
from ..events import action_label
from ..extensions import db
from ..models import Event
from ..models.applications import ADMISSIBLE, IN_REVIEW, INADMISSIBLE, REVIEWED, STATUS_LABELS
from ..models.selection import OUTCOME_LABELS, OUTCOME_REJECTED, OUTCOME_SELECTED
from ..models.users import APPLICANT
from ..money import format_euros

ADMINISTRATION = "DJEPVA"
MEMBER = "Membre de l'association"

# Routine traces kept in the audit journal but left out of the file's history (for staff too).
NOISE = frozenset({"draft_saved", "report_draft_saved", "attachment_downloaded", "convention_downloaded",
                   "receipt_downloaded",
                   "message_attachment_downloaded", "amendment_downloaded"})


@dataclass(frozen=True)
class HistoryRow:
    """One line of a file's history, ready to display."""
    at: datetime
    label: str
    actor: str = ""       # who, as the reader may see them ("" for the system)
    states: str = ""      # « Brouillon → Déposé »
    detail: str = ""      # one plain line (a document and its file, an amount, a due date)
    text_label: str = ""  # « Motif », « Message »
    text: str = ""        # free text, several lines


# --- naming people ---------------------------------------------------------------------------

def name_for_association(person, association_id):
    """How a person is named to an association: its own members by name, the administration as
    « DJEPVA », anyone else (a reviewer, another association's member) not at all ("")."""
    if person is None:
        return ""
    if person.is_staff:
        return ADMINISTRATION
    if person.role == APPLICANT and person.association_id == association_id:
        return person.full_name
    return ""


def person_label(viewer, person, association_id):
    """How `person` is named to `viewer` on the file of association `association_id`."""
    if person is None:
        return ""
    if viewer is not None and getattr(viewer, "is_authenticated", False) and viewer.is_staff:
        return person.full_name
    return name_for_association(person, association_id)


# --- reading the journal ---------------------------------------------------------------------

def journal(application):
    """The file's events with their actors, oldest first (one query)."""
    return db.session.scalars(
        db.select(Event).options(joinedload(Event.actor))
        .where(Event.application_id == application.id, Event.action.not_in(NOISE))
        .order_by(Event.at, Event.id)).all()


def _state_labels(event):
    """The French label of each state of what moved: the file itself, or a follow-up object named
    by the event's `subject` (aap/events.change_state: convention, amendment, paymentline, report,
    recovery), whose labels are those of its state machine's states (aap/transitions.py)."""
    from .. import transitions
    from ..events import FOLLOW_UP_MACHINES

    subject = (event.details or {}).get("subject")
    machine = next((getattr(transitions, name) for noun, name in FOLLOW_UP_MACHINES.items()
                    if noun.lower() == subject), None)
    if machine is None:
        return STATUS_LABELS
    return {state.value: state.label for state in machine.states}


def _states(event, unnamed=frozenset()):
    """« Déposé → Recevable », « Émise, en attente de signature → Signée par l'association »; a state
    in `unnamed` is left out (only the state reached is shown)."""
    if not (event.from_state or event.to_state):
        return ""
    labels = _state_labels(event)
    before = (labels.get(event.from_state, event.from_state)
              if event.from_state and event.from_state not in unnamed else "")
    after = labels.get(event.to_state, event.to_state) if event.to_state else ""
    return f"{before} → {after}" if before else after


def _document(event):
    details = event.details or {}
    name, document = details.get("name") or "", details.get("document") or ""
    return f"{document} : {name}" if document and name else (name or document)


# --- the staff journal -----------------------------------------------------------------------

def _reviewer_ids(event):
    details = event.details or {}
    ids = details.get("reviewer_ids") or ([details["reviewer_id"]] if details.get("reviewer_id") else [])
    return [i for i in ids if isinstance(i, int)]


def staff_history(application):
    """Every event of the file, actors by name (with their role), the reviewers an event is
    about by name, reasons included. Two queries, whatever the length of the journal."""
    from ..models import User
    events = journal(application)
    wanted = {i for event in events for i in _reviewer_ids(event)}
    people = {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(wanted)))} if wanted else {}
    rows = []
    for event in events:
        actor = f"{event.actor.full_name} ({event.actor.role_label})" if event.actor else ""
        detail = _document(event) or _message_files(event)
        # The reviewers an event is about, when they are not its actor (assigned, reopened...).
        about = [i for i in _reviewer_ids(event) if i != event.actor_id]
        if about:
            names = [people[i].full_name if i in people else f"compte n° {i}" for i in about]
            detail = ("Évaluateurs : " if len(names) > 1 else "Évaluateur : ") + ", ".join(names)
        text_label, text = ("Motif" if event.reason else ""), event.reason or ""
        if event.action == "decision_mail_sent":  # the mail as it left, and to whom
            mail = _decision_mail(event)
            recipients = [r for r in (event.details or {}).get("recipients") or [] if isinstance(r, str)]
            detail = mail["detail"] + (" — envoyé à " + ", ".join(recipients) if recipients else "")
            text_label, text = mail["text_label"], mail["text"]
        rows.append(HistoryRow(at=event.at, label=action_label(event.action), actor=actor,
                               states=_states(event), detail=detail, text_label=text_label, text=text))
    return rows


# --- the association's history: the allow-list --------------------------------------------------

def _fixed(label=None, detail=None, reason_label=None):
    """An event shown with a fixed label (None: the staff wording); `detail` reads a line from the
    event; the reason is shown (under `reason_label`) only when given, i.e. when it is written
    for the association."""
    def row(event):
        return {"label": label or action_label(event.action), "detail": detail(event) if detail else "",
                "text_label": reason_label if reason_label and event.reason else "",
                "text": event.reason if reason_label else ""}
    return row


def _admissibility(event):
    if event.to_state == ADMISSIBLE:
        return {"label": "Dossier déclaré recevable"}
    if event.to_state == INADMISSIBLE:
        return {"label": "Dossier déclaré irrecevable", "text_label": "Motif" if event.reason else "",
                "text": event.reason}
    return None


def _due(event):
    due = (event.details or {}).get("due_at")
    if not due:
        return ""
    try:
        return f"À compléter avant le {timeutil.format_datetime(datetime.fromisoformat(due))} (heure de Paris)"
    except (TypeError, ValueError):
        return ""


def _message_files(event):
    """« Pièces jointes : a.pdf, b.png » for a message sent with files, else ""."""
    names = [n for n in (event.details or {}).get("attachments") or [] if isinstance(n, str)]
    return ("Pièces jointes : " if len(names) > 1 else "Pièce jointe : ") + ", ".join(names) if names else ""


def _message(event):
    return {"label": "Message de la DJEPVA" if event.actor is not None and event.actor.is_staff
            else "Message de l'association", "detail": _message_files(event)}


def _reused(event):
    details = event.details or {}
    year, reference = details.get("source_year"), details.get("source_reference")
    source = f"candidature {year}" if isinstance(year, int) else "candidature précédente"
    return {"label": f"Brouillon repris de votre {source}",
            "detail": f"Référence {reference} ; chaque partie est à vérifier avant le dépôt" if reference
            else "Chaque partie est à vérifier avant le dépôt"}


def _attachment(reused_label):
    """A piece added or replaced (the staff wording); a copy of a piece kept in the association's
    documents says so."""
    def row(event):
        reused = (event.details or {}).get("reused_from")
        detail = _document(event)
        if reused:
            try:
                detail += f" (pièce conservée, envoyée le {timeutil.format_date(datetime.fromisoformat(reused))})"
            except (TypeError, ValueError):
                pass
        return {"label": reused_label if reused else action_label(event.action), "detail": detail}
    return row


def _decision(event):
    details = event.details or {}
    outcome = details.get("outcome")
    if outcome not in OUTCOME_LABELS:
        return {"label": action_label(event.action)}
    row = {"label": f"Décision publiée : {OUTCOME_LABELS[outcome]}", "states": ""}  # (the label says it)
    if outcome == OUTCOME_SELECTED and isinstance(details.get("amount_cents"), int):
        row["detail"] = f"Montant accordé : {format_euros(details['amount_cents'])}"
    if outcome == OUTCOME_REJECTED and event.reason:
        # The reason of a rejection is written for the association (it is in its e-mail).
        row.update(text_label="Motif", text=event.reason)
    return row


def _decision_changed(label=None):
    """A published decision replaced by a new version (selection.amendments): its new amount and
    the reason written for the association (it is in its e-mail). `label` None: the staff wording."""
    def row(event):
        details = event.details or {}
        amount, previous = details.get("amount_cents"), details.get("previous_amount_cents")
        detail = ""
        if isinstance(amount, int):
            detail = f"Montant accordé : {format_euros(amount)}"
            if isinstance(previous, int) and previous != amount:
                detail += f" (auparavant {format_euros(previous)})"
        return {"label": label or action_label(event.action), "detail": detail,
                "text_label": "Motif" if event.reason else "",
                "text": event.reason}
    return row


def _adjusted_charges(event):
    """« Coût du projet : 180 000 € (auparavant 200 000 €) » for a budget adjusted to the grant."""
    details = event.details or {}
    charges, previous = details.get("charges_cents"), details.get("previous_charges_cents")
    if not isinstance(charges, int):
        return ""
    text = f"Coût du projet : {format_euros(charges)}"
    if isinstance(previous, int) and previous != charges:
        text += f" (auparavant {format_euros(previous)})"
    return text


def _decision_mail(event):
    """The decision mail as it was sent (written for the association: it received it)."""
    details = event.details or {}
    subject, body = details.get("subject"), details.get("body")
    return {"label": action_label(event.action),
            "detail": f"Objet : {subject}" if isinstance(subject, str) else "",
            "text_label": "Texte du courrier" if isinstance(body, str) and body else "",
            "text": body if isinstance(body, str) else ""}


def _amount(event, label):
    amount = (event.details or {}).get("amount_cents")
    return f"{label} : {format_euros(amount)}" if isinstance(amount, int) else ""


def _payment(event):
    """« Avance 2025 : 21 250 € — le 3 juillet 2025 — référence Chorus 1000123456 »; the reason of
    a suspension."""
    from ..models.followup import PAYMENT_KINDS
    details = event.details or {}
    parts = [f"{PAYMENT_KINDS.get(details.get('kind'), 'Versement')} {details.get('year', '')}".strip()
             + (f" : {format_euros(details['amount_cents'])}" if isinstance(details.get("amount_cents"), int) else "")]
    try:
        parts.append(f"le {timeutil.format_date(datetime.fromisoformat(details['day']).date())}")
    except (KeyError, TypeError, ValueError):
        pass
    if isinstance(details.get("chorus_reference"), str) and details["chorus_reference"]:
        parts.append(f"référence Chorus {details['chorus_reference']}")
    return {"label": action_label(event.action), "detail": " — ".join(parts), "states": "",
            "text_label": "Motif" if event.action == "payment_suspended" and event.reason else "",
            "text": event.reason}


def _report_review(label, detail=None, reason_label=None):
    """An event of the review of a yearly report (followup/report_review.py), in the association's
    wording with the report's year; the reason only where it was written for the association (the
    message of a request for complements, the reason of a recovery), never a waiver's."""
    def row(event):
        details = event.details or {}
        year = details.get("year") if isinstance(details.get("year"), int) else ""
        return {"label": label.format(year=year).replace("  ", " "), "states": "",
                "detail": detail(event) if detail else "",
                "text_label": reason_label if reason_label and event.reason else "",
                "text": event.reason if reason_label else ""}
    return row


def _recovery_detail(event):
    details = event.details or {}
    parts = [_amount(event, "Montant")]
    if isinstance(details.get("title_reference"), str) and details["title_reference"]:
        parts.append(f"titre de perception n° {details['title_reference']}")
    try:
        parts.append(f"le {timeutil.format_date(datetime.fromisoformat(details['day']).date())}")
    except (KeyError, TypeError, ValueError):
        pass
    return " — ".join(part for part in parts if part)


def _amendment(label, reason_label=None):
    """An amendment to the convention: its number, and what it changes (the total, the years)."""
    def row(event):
        details = event.details or {}
        number = details.get("number") if isinstance(details.get("number"), int) else ""
        changes, previous = details.get("changes") or {}, details.get("previous") or {}
        amount, before = changes.get("amount_cents", details.get("amount_cents")), \
            previous.get("amount_cents", details.get("previous_amount_cents"))
        parts = []
        if isinstance(amount, int) and isinstance(before, int) and amount != before:
            parts.append(f"Montant total : {format_euros(amount)} (auparavant {format_euros(before)})")
        years = changes.get("years")
        if isinstance(years, list) and years:
            parts.append("Années : " + ", ".join(str(y) for y in years))
        return {"label": label.format(number=number), "detail": " ; ".join(parts), "states": "",
                "text_label": reason_label if reason_label and event.reason else "",
                "text": event.reason if reason_label else ""}
    return row


# The review's own states are not named in the association's transitions (« → Retenu », not
# « Évalué → Retenu »): nothing of the review's progress is told there.
REVIEW_STATES = frozenset({IN_REVIEW, REVIEWED})

# action -> function(event) -> the row's wording ({label, detail, text_label, text, states}) or
# None (not shown). An action missing here is never shown to the association.
ASSOCIATION_EVENTS = {
    "application_created": _fixed("Brouillon créé"),
    "application_reused": _reused,
    "attachment_added": _attachment("Pièce jointe reprise de vos documents"),
    "attachment_replaced": _attachment("Pièce jointe remplacée par une pièce de vos documents"),
    "attachment_deleted": _fixed(detail=_document),
    "application_submitted": _fixed(),
    "application_resubmitted": _fixed(),
    "application_withdrawn": _fixed(reason_label="Motif"),
    "admissibility": _admissibility,
    "piece_request": _fixed("Pièces complémentaires demandées", _due, reason_label="Message de la DJEPVA"),
    "piece_request_widened": _fixed("Autres compléments demandés", lambda e: "Ajouté : " + ", ".join(
        label for label in (e.details or {}).get("labels") or [] if isinstance(label, str)),
        reason_label="Message de la DJEPVA"),
    "piece_request_extended": _fixed("Délai pour compléter le dossier prolongé", _due,
                                     reason_label="Message de la DJEPVA"),
    "piece_request_cancelled": _fixed("Demande de compléments annulée", reason_label="Message de la DJEPVA"),
    "message": _message,
    "decision_published": _decision,
    "decision_mail_sent": _decision_mail,
    "decision_promoted": _decision_changed("Décision modifiée : retenu après la liste d'attente"),
    "waitlist_closed": _decision_changed(),
    "decision_amended": _decision_changed(),
    "grant_renounced": _fixed("Renoncement à la subvention", reason_label="Motif"),
    "grant_withdrawn": _fixed("Subvention retirée par la DJEPVA", reason_label="Motif"),
    "budget_adjusted": _fixed(detail=_adjusted_charges),
    # the signature of the convention and of its amendments (aap/followup/signature.py)
    **{action: (lambda label, reason: lambda e: {**_fixed(label, reason_label=reason)(e), "states": ""})(label, reason)
       for action, label, reason in (
           ("convention_returned", "Convention renvoyée signée", None),
           ("convention_return_refused", "Convention signée non recevable : à renvoyer", "Motif"),
           ("convention_countersigned", None, None),
           ("convention_in_force", "Convention en vigueur", None),
           ("convention_amended", "Convention modifiée par un avenant", None),
           ("convention_terminated", None, "Motif"),
           ("convention_reminded", None, None),
           ("amendment_returned", "Avenant renvoyé signé", None),
           ("amendment_return_refused", "Avenant signé non recevable : à renvoyer", "Motif"),
           ("amendment_countersigned", None, None),
           ("amendment_in_force", "Avenant en vigueur", None))},
    # payments (aap/followup/payments.py): the line, its amount and date; a suspension's reason is
    # written for the association (it is in its e-mail)
    "payments_planned": _fixed(detail=lambda e: _amount(e, "Total")),
    "payments_replanned": _fixed(detail=lambda e: _amount(e, "Nouveau total")),
    "payment_requested": _payment,
    "payment_paid": _payment,
    "payment_suspended": _payment,
    "payment_resumed": _payment,
    # amendments to a convention (aap/followup/amendments.py): the reason is written for the
    # association (it is in the amendment and its e-mail)
    "amendment_created": _amendment("Avenant n° {number} établi par la DJEPVA, à signer", reason_label="Motif"),
    "amendment_applied": _amendment("Avenant n° {number} en vigueur : la convention est modifiée"),
    # review of the yearly reports (aap/followup/report_review.py)
    "report_accepted": _report_review("Compte rendu {year} accepté par la DJEPVA"),
    "report_complements_requested": _report_review("Compléments demandés sur le compte rendu {year}", _due,
                                                   reason_label="Message de la DJEPVA"),
    "recovery_recorded": _report_review("Reversement demandé sur le compte rendu {year}", _recovery_detail,
                                        reason_label="Motif"),
    "recovery_issued": _report_review("Titre de perception émis pour le reversement {year}", _recovery_detail),
    "recovery_recovered": _report_review("Reversement {year} recouvré", _recovery_detail),
    "recovery_waived": _report_review("Reversement {year} abandonné par la DJEPVA"),
    # the association's yearly reports (aap/followup/reports.py)
    "report_opened": _report_review("Comptes rendus annuels à déposer ouverts"),
    "report_closed": _report_review("Compte rendu {year} retiré : plus de subvention cette année-là (avenant)"),
    "report_submitted": _report_review("Compte rendu {year} déposé"),
    "report_resubmitted": _report_review("Compte rendu {year} complété et déposé à nouveau"),
    "report_piece_added": _report_review("Pièce ajoutée au compte rendu {year}"),
    "report_piece_replaced": _report_review("Pièce du compte rendu {year} remplacée"),
    "report_piece_deleted": _report_review("Pièce du compte rendu {year} supprimée"),
}


def _association_actor(person, association_id):
    """A member who has since left the association is still shown as a member, without a name."""
    name = name_for_association(person, association_id)
    if not name and person is not None and person.role == APPLICANT:
        return MEMBER
    return name


def association_history(application):
    """The file's history as its association reads it, from the allow-list only."""
    rows = []
    for event in journal(application):
        build = ASSOCIATION_EVENTS.get(event.action)
        wording = build(event) if build else None
        if wording is None:
            continue
        rows.append(HistoryRow(
            at=event.at, label=wording["label"],
            actor=_association_actor(event.actor, application.association_id),
            states=wording.get("states", _states(event, unnamed=REVIEW_STATES)), detail=wording.get("detail", ""),
            text_label=wording.get("text_label", ""),
            text=wording.get("text", "") if wording.get("text_label") else ""))
    return rows


def history_for(viewer, application):
    """The history `viewer` may read: the whole journal for staff, else the association's."""
    if viewer is not None and getattr(viewer, "is_authenticated", False) and viewer.is_staff:
        return staff_history(application)
    return association_history(application)
