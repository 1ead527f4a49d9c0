"""Recording state changes and sensitive actions. Called by services, inside their transaction."""
from .extensions import db
from .models import Event


def record(action, actor=None, application=None, association_id=None, call_id=None,
           from_state=None, to_state=None, reason="", **details):
    if application is not None:
        association_id = association_id or application.association_id
        call_id = call_id or application.call_id
    event = Event(
        action=action,
        actor_id=getattr(actor, "id", None) if actor is not None and getattr(actor, "is_authenticated", True) else None,
        application_id=application.id if application is not None else None,
        association_id=association_id,
        call_id=call_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason or "",
        details=details,
    )
    db.session.add(event)
    return event


# The follow-up's models and their machine in aap/transitions.py.
FOLLOW_UP_MACHINES = {"Convention": "CONVENTION", "Amendment": "AMENDMENT", "PaymentLine": "PAYMENT",
                      "Report": "REPORT", "Recovery": "RECOVERY"}


def change_state(subject, to_state, actor=None, reason="", action="state_change", at=None, **details):
    """Move an application, a call or a decision to another state and record who, when, from,
    to and why; a move that aap/transitions.py does not list for the actor's role raises
    TransitionError (nothing changed).

    A decision's publication is recorded by its file's move to its outcome, made by the same
    service in the same transaction (selection.services.publish_decisions): no event of its own;
    likewise a new version of a published decision (« amended », which keeps the version it
    replaces: Decision.supersede) is recorded by the service that makes it (selection.amendments).
    `at`: the time of the change, when not now.
    """
    from . import timeutil, transitions
    from .models import Application, Call, Decision
    from .models.selection import DecisionState

    if isinstance(subject, Application):
        from_state = subject.status
        to_state = transitions.APPLICATION.check(from_state, to_state, actor).target
        subject.status = to_state
        event = record(action, actor=actor, application=subject, from_state=from_state,
                       to_state=to_state, reason=reason, **details)
    elif isinstance(subject, Call):
        from_state = subject.status
        to_state = transitions.CALL.check(from_state, to_state, actor).target
        subject.status = to_state
        event = record(action, actor=actor, call_id=subject.id, from_state=from_state, to_state=to_state,
                       reason=reason, **details)
    elif isinstance(subject, Decision):
        to_state = transitions.DECISION.check(subject.state, to_state, actor).target
        at = at or timeutil.now()
        if to_state == DecisionState.AMENDED:
            subject.supersede(actor, at)  # the current version to the history; the service writes the next
        subject.published_at = at
        subject.published_by_id = getattr(actor, "id", None)
        return None
    elif type(subject).__name__ in FOLLOW_UP_MACHINES:
        # After the decision: conventions, amendments, payment lines, reports, recoveries. The move
        # is recorded in the file's journal, naming what moved (`subject`, `subject_id`).
        noun = type(subject).__name__
        from_state = subject.state
        to_state = getattr(transitions, FOLLOW_UP_MACHINES[noun]).check(from_state, to_state, actor).target
        subject.state = to_state
        event = record(action, actor=actor, application=subject.application, from_state=from_state,
                       to_state=to_state, reason=reason, subject=noun.lower(), subject_id=subject.id, **details)
    else:
        raise TypeError(f"no state machine for {type(subject).__name__}")
    if at is not None:
        event.at = at
    return event


# The staff wording of every recorded action: the administrators' journal (its filter groups them
# as here) and the staff history of a file. The association reads its own wording, from the
# allow-list in aap/applications/history.py.
ACTION_LABELS = {
    # accounts
    "account_created": "Compte créé",
    "email_confirmed": "Adresse e-mail confirmée",
    "login": "Connexion",
    "logout": "Déconnexion (toutes les sessions fermées)",
    "password_reset": "Mot de passe réinitialisé",
    "invitation_accepted": "Invitation acceptée",
    "user_invited": "Personne invitée dans l'équipe",
    "invitation_resent": "Invitation dans l'équipe renvoyée (nouveau lien)",
    "invitation_cancelled": "Invitation dans l'équipe annulée",
    "user_deactivated": "Compte désactivé (sessions fermées)",
    "user_reactivated": "Compte réactivé",
    "user_role_changed": "Rôle changé (sessions fermées)",
    # associations
    "association_updated": "Identité de l'association modifiée",
    "bank_details_changed": "Coordonnées bancaires modifiées",
    "bank_change_requested": "Modification des coordonnées bancaires demandée",
    "bank_change_validated": "Demande de coordonnées bancaires validée",
    "bank_change_refused": "Demande de coordonnées bancaires refusée",
    "bank_password_refused": "Mot de passe erroné à la modification des coordonnées bancaires",
    "bank_rib_downloaded": "RIB d'une demande de coordonnées bancaires téléchargé",
    "member_invited": "Membre de l'association invité",
    "member_joined": "Membre ayant rejoint l'association",
    "member_removed": "Membre retiré de l'association",
    "member_invitation_cancelled": "Invitation d'un membre de l'association annulée",
    "representative_changed": "Représentant légal de l'association transmis",
    # calls
    "call_created": "Appel à projets créé",
    "call_updated": "Appel à projets modifié",
    "call_criteria_updated": "Critères d'évaluation modifiés",
    "call_documents_updated": "Pièces demandées modifiées",
    "call_published": "Appel à projets publié",
    "call_closed": "Appel à projets clos",
    # applications
    "application_created": "Brouillon de candidature créé",
    "application_reused": "Brouillon repris d'une candidature précédente",
    "association_document_added": "Document de l'association envoyé (« Mes documents »)",
    "association_document_downloaded": "Document de l'association téléchargé",
    "message_attachment_downloaded": "Pièce jointe d'un message téléchargée",
    "draft_saved": "Brouillon enregistré",
    "attachment_added": "Pièce jointe ajoutée",
    "attachment_replaced": "Pièce jointe remplacée",
    "attachment_deleted": "Pièce jointe supprimée",
    "attachment_downloaded": "Pièce jointe téléchargée",
    "application_submitted": "Dossier déposé",
    "application_resubmitted": "Dossier complété et déposé à nouveau",
    "application_withdrawn": "Candidature retirée",
    "receipt_downloaded": "Récépissé de dépôt téléchargé",
    # instruction
    "admissibility": "Décision de recevabilité",
    "piece_request": "Demande de pièces complémentaires",
    "piece_request_widened": "Demande de pièces élargie",
    "piece_request_extended": "Délai de la demande de pièces prolongé",
    "piece_request_cancelled": "Demande de pièces annulée",
    "message": "Message échangé",
    "messages_sent_to_many": "Message envoyé à plusieurs dossiers",
    "private_note_added": "Note privée ajoutée",
    "private_note_edited": "Note privée modifiée",
    # review
    "conflict_declared": "Lien d'intérêts déclaré",
    "conflict_removed": "Lien d'intérêts retiré",
    "no_conflict_confirmed": "Absence de lien d'intérêts confirmée",
    "reviewer_assigned": "Évaluateur affecté",
    "reviewer_unassigned": "Évaluateur retiré",
    "auto_assignment_applied": "Affectation automatique appliquée",
    "reviewers_notified": "Évaluateurs prévenus de leurs dossiers",
    "review_submitted": "Évaluation envoyée",
    "review_reopened": "Évaluation rouverte",
    "review_reminders_sent": "Rappels envoyés aux évaluateurs",
    "state_change": "Changement d'état du dossier",
    # selection and documents
    "decision_drafted": "Décision enregistrée en brouillon",
    "decision_draft_removed": "Brouillon de décision supprimé",
    "robustness_computed": "Robustesse de la sélection calculée",
    "grey_zone_draw": "Tirage au sort dans la zone grise",
    "decision_published": "Décision publiée",
    "decision_promoted": "Dossier retenu sur la liste d'attente",
    "waitlist_closed": "Liste d'attente close : non retenu",
    "decision_amended": "Décision modifiée",
    "grant_renounced": "Renoncement de l'association à la subvention",
    "grant_withdrawn": "Subvention retirée",
    "decision_mail_edited": "Courrier de décision modifié",
    "decision_mail_held": "Courrier de décision mis de côté",
    "decision_mail_released": "Courrier de décision remis dans l'envoi",
    "decision_mail_sent": "Courrier de décision envoyé",
    "mail_templates_changed": "Modèles de courriers de l'appel modifiés",
    "conventions_bulk_started": "Génération des conventions lancée",
    "convention_downloaded": "Convention téléchargée",
    "convention_reissued": "Convention réémise avec les coordonnées bancaires actuelles",
    "convention_commitment_recorded": "Numéro d'engagement juridique (Chorus) de la convention enregistré",
    "convention_signed": "Date de signature de la convention enregistrée",
    "budget_adjusted": "Budget ajusté à la subvention accordée",
    # the signature of the convention and of its amendments (aap/followup/signature.py)
    "convention_returned": "Convention renvoyée signée par l'association",
    "convention_return_refused": "Convention signée renvoyée à l'association (non recevable)",
    "convention_countersigned": "Convention contresignée par l'État",
    "convention_in_force": "Convention notifiée : en vigueur",
    "convention_amended": "Convention modifiée par un avenant en vigueur",
    "convention_terminated": "Convention résiliée",
    "convention_reminded": "Relance : convention à renvoyer signée",
    "convention_document_downloaded": "Convention signée téléchargée",
    "amendment_returned": "Avenant renvoyé signé par l'association",
    "amendment_return_refused": "Avenant signé renvoyé à l'association (non recevable)",
    "amendment_countersigned": "Avenant contresigné par l'État",
    "amendment_in_force": "Avenant notifié : en vigueur",
    # payments (aap/followup/payments.py)
    "payments_planned": "Échéancier des versements établi",
    "payments_replanned": "Échéancier des versements modifié par avenant",
    "payment_requested": "Versement mis en paiement",
    "payment_paid": "Versement payé",
    "payment_suspended": "Versement suspendu",
    "payment_resumed": "Versement repris",
    "payment_cancelled": "Versement annulé (remplacé par un avenant)",
    # amendments to a convention (aap/followup/amendments.py)
    "amendment_created": "Avenant à la convention établi",
    "amendment_applied": "Avenant en vigueur : montants et durée de la convention mis à jour",
    "amendment_downloaded": "Avenant téléchargé",
    # the yearly reports (aap/followup/reports.py)
    "report_opened": "Comptes rendus annuels ouverts",
    "report_closed": "Compte rendu annuel retiré : son année n'a plus de subvention (avenant)",
    "report_draft_saved": "Brouillon du compte rendu annuel enregistré",
    "report_piece_added": "Pièce du compte rendu annuel ajoutée",
    "report_piece_replaced": "Pièce du compte rendu annuel remplacée",
    "report_piece_deleted": "Pièce du compte rendu annuel supprimée",
    "report_submitted": "Compte rendu annuel déposé",
    "report_resubmitted": "Compte rendu annuel complété et déposé à nouveau",
    # review of the yearly reports (aap/followup/report_review.py)
    "report_accepted": "Compte rendu annuel accepté",
    "report_complements_requested": "Compléments demandés sur le compte rendu annuel",
    "report_reminder_sent": "Rappel du compte rendu annuel envoyé",
    "recovery_recorded": "Reversement enregistré",
    "recovery_issued": "Titre de perception du reversement émis",
    "recovery_recovered": "Reversement recouvré",
    "recovery_waived": "Reversement abandonné (remise)",
    "export": "Export téléchargé",
    # steering page (aap/pilotage)
    "plan_figure_saved": "Chiffre de référence du plan enregistré",
    "plan_figure_deleted": "Chiffre de référence du plan supprimé",
}


def action_label(action):
    """The staff wording of an action (a readable fallback for one missing from the table)."""
    return ACTION_LABELS.get(action, action.replace("_", " ").capitalize())
