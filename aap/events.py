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
    else:
        raise TypeError(f"no state machine for {type(subject).__name__}")
    if at is not None:
        event.at = at
    return event
