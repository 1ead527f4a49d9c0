"""Which state may follow which: the one table of each state machine (applications, decisions,
calls), with the service function that performs each move and the roles allowed to.

`events.change_state` refuses any move that is not listed here (TransitionError), and any actor
whose role is not allowed; an actor of None is the system (the demo builder). The states
themselves, with their French labels and DSFR badges, are enums beside their models:
`models.applications.Status`, `models.selection.DecisionState`, `models.calls.CallStatus` (and
`CallPhase`, which is computed, not stored: `calls.services.phase`).
"""
from dataclasses import dataclass
from importlib import import_module

from .models.applications import Status
from .models.calls import CallStatus
from .models.followup import ConventionState, PaymentState, RecoveryState, ReportState
from .models.selection import DecisionState
from .models.users import ADMIN, APPLICANT, REVIEWER, STAFF

ASSOCIATION = (APPLICANT,)
STAFF_ROLES = (STAFF, ADMIN)
REVIEW_ROLES = (REVIEWER, STAFF, ADMIN)  # the file follows its reviews, whoever moves them


class TransitionError(Exception):
    """A move that the table does not allow (a programming error or a stale page): the message
    is French, as it may reach a page."""

    def __init__(self, message, source=None, target=None):
        super().__init__(message)
        self.message, self.source, self.target = message, source, target


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    service: str     # the function that performs it, "package.module.function" under aap
    roles: tuple     # the roles allowed to perform it

    @property
    def function(self):
        module, _, name = self.service.rpartition(".")
        return getattr(import_module(f"{__package__}.{module}"), name)


class Machine:
    """A state machine: {(from, to): its transitions} (one move may be made by two services,
    each by its own roles: a file reopened for pieces goes back to « Déposé » when its association
    deposits it again, or when staff cancel the request)."""

    def __init__(self, noun, states, transitions):
        self.noun, self.states = noun, states
        self.table = {}
        for transition in transitions:
            key = (transition.source, transition.target)
            assert isinstance(transition.source, states) and isinstance(transition.target, states), key
            self.table.setdefault(key, []).append(transition)

    def __iter__(self):
        return (transition for transitions in self.table.values() for transition in transitions)

    def allowed(self, source, target):
        return (source, target) in self.table

    def sources(self, target, service=None):
        """The states from which `target` may be reached (by `service` only, when given)."""
        return frozenset(source for (source, to), transitions in self.table.items() if to == target
                         and (service is None or any(t.service == service for t in transitions)))

    def check(self, source, target, actor=None):
        """The transition from `source` to `target` by `actor`, or TransitionError."""
        try:
            source, target = self.states(source), self.states(target)
        except ValueError:
            raise TransitionError(f"Changement d'état refusé : état inconnu pour {self.noun} "
                                  f"({source!r} → {target!r}).", source, target) from None
        candidates = self.table.get((source, target))
        if not candidates:
            raise TransitionError(f"Changement d'état refusé : {self.noun} « {source.label} » ne peut pas "
                                  f"passer à « {target.label} ».", source, target)
        if actor is None:
            return candidates[0]
        for transition in candidates:
            if getattr(actor, "role", None) in transition.roles:
                return transition
        raise TransitionError(f"Changement d'état refusé : votre rôle ne permet pas de faire passer "
                              f"{self.noun} de « {source.label} » à « {target.label} ».", source, target)


def _moves(sources, targets, service, roles):
    return [Transition(s, t, service, roles) for s in sources for t in targets]


S = Status
APPLICATION = Machine("un dossier", Status, [
    # The association deposits its file, again after a request for pieces, or withdraws it.
    *_moves([S.DRAFT, S.INCOMPLETE], [S.SUBMITTED], "applications.submission.submit", ASSOCIATION),
    # Withdrawing stays open until the decision: an association may always renounce.
    *_moves([S.SUBMITTED, S.INCOMPLETE, S.ADMISSIBLE, S.IN_REVIEW, S.REVIEWED], [S.WITHDRAWN],
            "applications.submission.withdraw", ASSOCIATION),
    # Staff check admissibility, or ask for missing pieces.
    Transition(S.SUBMITTED, S.ADMISSIBLE, "instruction.services.mark_admissible", STAFF_ROLES),
    *_moves([S.SUBMITTED, S.INCOMPLETE], [S.INADMISSIBLE], "instruction.services.mark_inadmissible", STAFF_ROLES),
    Transition(S.SUBMITTED, S.INCOMPLETE, "instruction.services.request_pieces", STAFF_ROLES),
    Transition(S.INCOMPLETE, S.SUBMITTED, "instruction.services.cancel_request", STAFF_ROLES),
    # Assigning the first reviewer starts the review; then the file follows its reviews.
    Transition(S.ADMISSIBLE, S.IN_REVIEW, "review.states.start_review", STAFF_ROLES),
    *_moves([S.IN_REVIEW], [S.REVIEWED, S.ADMISSIBLE], "review.states.refresh_state", REVIEW_ROLES),
    *_moves([S.REVIEWED], [S.IN_REVIEW, S.ADMISSIBLE], "review.states.refresh_state", REVIEW_ROLES),
    # Publishing the decisions gives each file its outcome.
    *_moves([S.ADMISSIBLE, S.IN_REVIEW, S.REVIEWED], [S.SELECTED, S.WAITLISTED, S.REJECTED],
            "selection.services.publish_decisions", STAFF_ROLES),
    # After publication: a file of the waiting list is selected when credits free up, or not
    # retained when staff close the list; a winner renounces its grant (before its convention is
    # signed), or staff withdraw it.
    Transition(S.WAITLISTED, S.SELECTED, "selection.amendments.promote", STAFF_ROLES),
    Transition(S.WAITLISTED, S.REJECTED, "selection.amendments.close_waitlist", STAFF_ROLES),
    Transition(S.SELECTED, S.WITHDRAWN, "selection.amendments.renounce", ASSOCIATION),
    Transition(S.SELECTED, S.WITHDRAWN, "selection.amendments.withdraw_grant", STAFF_ROLES),
])

# A decision is born a draft (selection.services.set_decision, set_decisions_bulk, apply_proposal),
# changed or removed (clear_decision) only while a draft: selection.services.decision_refusal.
# Once published, it is replaced by a new version (the earlier ones kept: Decision.supersede)
# when its file is promoted from the waiting list, when the waiting list is closed, or when a
# winner's grant is amended: selection.amendments.
D = DecisionState
DECISION = Machine("une décision", DecisionState, [
    Transition(D.DRAFT, D.PUBLISHED, "selection.services.publish_decisions", STAFF_ROLES),
    *_moves([D.PUBLISHED, D.AMENDED], [D.AMENDED], "selection.amendments.promote", STAFF_ROLES),
    *_moves([D.PUBLISHED, D.AMENDED], [D.AMENDED], "selection.amendments.close_waitlist", STAFF_ROLES),
    *_moves([D.PUBLISHED, D.AMENDED], [D.AMENDED], "selection.amendments.amend_decision", STAFF_ROLES),
    # An amendment to the convention in force (« avenant ») makes its amounts the decision's.
    *_moves([D.PUBLISHED, D.AMENDED], [D.AMENDED], "followup.amendments.apply_amendment", STAFF_ROLES),
])

CALL = Machine("un appel à projets", CallStatus, [
    Transition(CallStatus.DRAFT, CallStatus.PUBLISHED, "calls.services.publish_call", STAFF_ROLES),
    Transition(CallStatus.PUBLISHED, CallStatus.CLOSED, "calls.services.close_call", STAFF_ROLES),
])

# After the decision (aap/followup/). A convention, and each of its amendments, is signed the same
# way: returned signed by its association (or by staff, for a copy received by post), sent back
# to it when the returned copy is not acceptable, countersigned by staff, in force once notified.
# An amendment in force puts its convention in « amended »; staff may terminate a convention.
C = ConventionState
_SIGNATURE = [
    *_moves([C.ISSUED], [C.ASSOCIATION_SIGNED], "followup.signature.return_signed", ASSOCIATION + STAFF_ROLES),
    Transition(C.ASSOCIATION_SIGNED, C.ISSUED, "followup.signature.refuse_return", STAFF_ROLES),
    Transition(C.ASSOCIATION_SIGNED, C.COUNTERSIGNED, "followup.signature.countersign", STAFF_ROLES),
    Transition(C.COUNTERSIGNED, C.IN_FORCE, "followup.signature.notify", STAFF_ROLES),
]
CONVENTION = Machine("une convention", ConventionState, [
    *_SIGNATURE,
    *_moves([C.IN_FORCE, C.AMENDED], [C.AMENDED], "followup.signature.notify", STAFF_ROLES),
    *_moves([C.COUNTERSIGNED, C.IN_FORCE, C.AMENDED], [C.TERMINATED], "followup.signature.terminate", STAFF_ROLES),
])
AMENDMENT = Machine("un avenant", ConventionState, _SIGNATURE)

P = PaymentState
PAYMENT = Machine("un versement", PaymentState, [
    Transition(P.PLANNED, P.REQUESTED, "followup.payments.request_payment", STAFF_ROLES),
    Transition(P.REQUESTED, P.PAID, "followup.payments.mark_paid", STAFF_ROLES),
    *_moves([P.PLANNED, P.REQUESTED], [P.SUSPENDED], "followup.payments.suspend", STAFF_ROLES),
    Transition(P.SUSPENDED, P.PLANNED, "followup.payments.resume", STAFF_ROLES),
    *_moves([P.PLANNED, P.SUSPENDED], [P.CANCELLED], "followup.payments.replan", STAFF_ROLES),
])

R = ReportState
REPORT = Machine("un compte rendu annuel", ReportState, [
    *_moves([R.DRAFT, R.INCOMPLETE], [R.SUBMITTED], "followup.reports.submit_report", ASSOCIATION),
    Transition(R.SUBMITTED, R.ACCEPTED, "followup.report_review.accept_report", STAFF_ROLES),
    Transition(R.SUBMITTED, R.INCOMPLETE, "followup.report_review.request_complements", STAFF_ROLES),
])

V = RecoveryState
RECOVERY = Machine("un reversement", RecoveryState, [
    Transition(V.TO_ISSUE, V.ISSUED, "followup.report_review.update_recovery", STAFF_ROLES),
    Transition(V.ISSUED, V.RECOVERED, "followup.report_review.update_recovery", STAFF_ROLES),
    *_moves([V.TO_ISSUE, V.ISSUED], [V.WAIVED], "followup.report_review.update_recovery", STAFF_ROLES),
])

MACHINES = (APPLICATION, DECISION, CALL, CONVENTION, AMENDMENT, PAYMENT, REPORT, RECOVERY)
