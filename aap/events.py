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


def change_state(application, to_state, actor=None, reason="", action="state_change", **details):
    """Move an application to another state and record who, when, from, to and why."""
    from_state = application.status
    application.status = to_state
    return record(action, actor=actor, application=application, from_state=from_state,
                  to_state=to_state, reason=reason, **details)
