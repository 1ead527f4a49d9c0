"""The state machines (aap/transitions.py): every (from, to) pair of each machine goes through
events.change_state, and succeeds exactly when the table lists it, for the roles it names; each
named service refuses a wrong starting state; the calls' phases as the pages show them."""
import re
from datetime import timedelta
from pathlib import Path

import pytest

from aap import events, timeutil
from aap.extensions import db
from aap.models import Call, Decision, Event
from aap.models.applications import Status
from aap.models.calls import CallPhase, CallStatus
from aap.models.selection import DecisionState
from aap.transitions import APPLICATION, CALL, DECISION, TransitionError

from . import factories
from . import factories_review as fr
from . import factories_selection as fs
from .conftest import login


@pytest.fixture
def people(applicant, reviewer, staff, admin):
    return {"applicant": applicant, "reviewer": reviewer, "staff": staff, "admin": admin}


def _every_pair(states):
    return [(source, target) for source in states for target in states]


def test_the_tables_name_existing_services_and_roles():
    for machine in (APPLICATION, DECISION, CALL):
        for transition in machine:
            assert callable(transition.function), transition.service
            assert transition.roles and set(transition.roles) <= {"applicant", "reviewer", "staff", "admin"}


def test_every_pair_of_application_states_through_change_state(app, people):
    call = factories.call(slug="aap-etats")
    application = factories.submitted_file(call, "Association des états")
    wrong = []
    for source, target in _every_pair(Status):
        allowed = APPLICATION.allowed(source, target)
        actor = people[APPLICATION.check(source, target).roles[0]] if allowed else people["admin"]
        application.status = source
        db.session.flush()
        events_before = db.session.scalar(db.select(db.func.count(Event.id)))
        try:
            event = events.change_state(application, target, actor, action="test")
        except TransitionError as error:
            if allowed:
                wrong.append(f"{source} → {target} refused: {error.message}")
            elif application.status != source or "ne peut pas passer à" not in error.message:
                wrong.append(f"{source} → {target}: refused badly ({application.status}, {error.message})")
        else:
            if not allowed:
                wrong.append(f"{source} → {target} accepted")
            elif (application.status, event.from_state, event.to_state) != (target, source, target):
                wrong.append(f"{source} → {target}: not recorded")
            elif db.session.scalar(db.select(db.func.count(Event.id))) != events_before + 1:
                wrong.append(f"{source} → {target}: {events_before} events before, not one more")
        db.session.rollback()
    assert not wrong, "\n".join(wrong)
    # The table holds what the services do today, no more: 28 moves, two made by two services
    # (incomplete → submitted; selected → withdrawn, by the association or by staff).
    assert len(APPLICATION.table) == 28 and len(list(APPLICATION)) == 30


def test_a_listed_move_is_refused_to_a_role_the_table_does_not_name(app, people):
    call = factories.call(slug="aap-roles")
    application = factories.submitted_file(call, "Association des rôles")
    for source, target, who in ((Status.SUBMITTED, Status.ADMISSIBLE, "applicant"),
                                (Status.SUBMITTED, Status.ADMISSIBLE, "reviewer"),
                                (Status.DRAFT, Status.SUBMITTED, "staff"),
                                (Status.IN_REVIEW, Status.WITHDRAWN, "admin"),
                                (Status.REVIEWED, Status.SELECTED, "reviewer")):
        application.status = source
        with pytest.raises(TransitionError, match="votre rôle ne permet pas"):
            events.change_state(application, target, people[who])
        assert application.status == source
        db.session.rollback()
    # An actor of None is the system (the demo builder): the table alone decides.
    application.status = Status.IN_REVIEW
    events.change_state(application, Status.REVIEWED, None)
    assert application.status == Status.REVIEWED
    db.session.rollback()


def test_every_pair_of_decision_states_through_change_state(app, people):
    call = factories.call(slug="aap-decisions-etats")
    application = fs.file(call, "Association décidée", status="reviewed")
    decision = Decision(application_id=application.id, outcome="selected", amount_cents=10_000_00,
                        amount_per_year=[10_000_00])
    db.session.add(decision)
    db.session.commit()
    published_at = timeutil.now() - timedelta(days=1)
    for source, target in _every_pair(DecisionState):
        decision.published_at = None if source == DecisionState.DRAFT else published_at
        decision.version = 2 if source == DecisionState.AMENDED else 1
        assert decision.state == source
        if DECISION.allowed(source, target):
            assert events.change_state(decision, target, people["staff"]) is None
            assert decision.state == target and decision.published_by_id == people["staff"].id
            assert decision.published_at > published_at
            # A new version keeps the one it replaces.
            kept = [(v.version, v.published_at) for v in decision.versions]
            assert kept == ([] if target == DecisionState.PUBLISHED
                            else [(decision.version - 1, published_at)])
        else:
            with pytest.raises(TransitionError):
                events.change_state(decision, target, people["staff"])
            assert decision.state == source and decision.versions == []
        db.session.rollback()
    D = DecisionState
    assert sorted({(t.source, t.target) for t in DECISION}) == sorted(
        [(D.DRAFT, D.PUBLISHED), (D.PUBLISHED, D.AMENDED), (D.AMENDED, D.AMENDED)])
    # publication; promotion, closing of the waiting list, amendment, avenant in force (×2)
    assert len(list(DECISION)) == 9


def test_every_pair_of_call_states_through_change_state(app, people):
    call = factories.call(slug="aap-appel-etats", status="draft")
    for source, target in _every_pair(CallStatus):
        call.status = source
        db.session.flush()
        if CALL.allowed(source, target):
            event = events.change_state(call, target, people["staff"], action="test")
            assert call.status == target
            assert (event.call_id, event.from_state, event.to_state) == (call.id, source, target)
        else:
            with pytest.raises(TransitionError):
                events.change_state(call, target, people["staff"])
            assert call.status == source
        db.session.rollback()
    assert sorted((t.source, t.target) for t in CALL) == [("draft", "published"), ("published", "closed")]


def test_the_states_are_read_back_as_enums_with_label_and_badge(app):
    call = factories.call(slug="aap-enum")
    application = factories.submitted_file(call, "Association énumérée", status="in_review")
    db.session.expire_all()
    assert application.status is Status.IN_REVIEW
    assert (application.status.label, application.status.badge) == ("En évaluation", "info")
    assert application.call.status is CallStatus.PUBLISHED
    # The stored values did not change: no data migration.
    assert db.session.execute(db.text("select status from applications")).scalar() == "in_review"


# --- each named service refuses a wrong starting state, and changes nothing ----------------------

def test_each_service_refuses_a_wrong_starting_state(app, applicant, staff, reviewer):
    from aap.applications import errors, submission
    from aap.calls import services as calls
    from aap.instruction import services as instruction
    from aap.review import assignment
    from aap.review.errors import ReviewError
    from aap.selection import services as selection

    call = factories.call(slug="aap-refus")
    factories.complete_identity(applicant.association)
    own = factories.application(call, applicant.association, status="admissible")
    other = factories.submitted_file(call, "Association brouillon", status="draft")
    assert not events_of(own) and not events_of(other)
    with app.test_request_context():
        refusals = [
            (errors.SubmissionError, lambda: submission.submit(own, applicant)),
            (errors.ApplicationError, lambda: submission.withdraw(other, applicant)),
            (instruction.InstructionError, lambda: instruction.mark_admissible(other, staff)),
            (instruction.InstructionError, lambda: instruction.mark_inadmissible(own, staff, "Motif")),
            (instruction.InstructionError, lambda: instruction.request_pieces(
                other, staff, ["budget"], "Message", (timeutil.now() + timedelta(days=5)).date())),
            (ReviewError, lambda: assignment.assign(other, reviewer, staff)),
            (calls.CallError, lambda: calls.publish_call(call, staff)),
            (calls.CallError, lambda: calls.close_call(factories.call(slug="aap-brouillon", status="draft"),
                                                       staff)),
        ]
        for error, attempt in refusals:
            before = (own.status, other.status)
            with pytest.raises(error):
                attempt()
            db.session.rollback()
            assert (own.status, other.status) == before
    assert not events_of(own) and not events_of(other)
    assert call.status == CallStatus.PUBLISHED

    # A decision on a withdrawn file cannot be drafted, nor published.
    withdrawn = factories.submitted_file(call, "Association retirée", status="withdrawn")
    with pytest.raises(selection.DecisionError, match="dans son état actuel"):
        selection.set_decision(withdrawn, "waitlisted", staff)
    db.session.add(Decision(application_id=withdrawn.id, outcome="waitlisted"))
    db.session.commit()
    with pytest.raises(selection.DecisionError, match="plus en attente de décision"):
        selection.publish_decisions(call, staff)
    assert db.session.get(Decision, withdrawn.decision.id).published_at is None


def events_of(application):
    return db.session.scalars(db.select(Event).where(Event.application_id == application.id,
                                                     Event.from_state.is_not(None))).all()


def test_one_predicate_says_whether_a_decision_is_still_open(app, staff):
    from aap.selection.services import LOCKED_MESSAGE, decision_refusal

    call = factories.call(slug="aap-predicat")
    reviewed = fs.file(call, "Association évaluée", status="reviewed")
    selected = fs.file(call, "Association retenue", status="selected")
    draft = fs.file(call, "Association brouillon", status="draft")
    assert decision_refusal(reviewed) is None
    assert decision_refusal(selected) == LOCKED_MESSAGE
    assert "dans son état actuel (Brouillon)" in decision_refusal(draft)
    db.session.add(Decision(application_id=reviewed.id, outcome="selected", amount_cents=1,
                            published_at=timeutil.now()))
    db.session.commit()
    db.session.refresh(reviewed)
    assert decision_refusal(reviewed) == LOCKED_MESSAGE


def test_a_reviewed_file_left_without_reviewer_goes_back_to_admissible(app, staff):
    """(Before, a reviewed file whose only reviewer declared a conflict stayed « en évaluation »
    with nobody to review it.)"""
    from aap.review import conflicts

    call = factories.call(slug="aap-sans-evaluateur", reviewers_per_file=1)
    application = factories.submitted_file(call, "Association liée", status="reviewed")
    person = fr.reviewer_user("lie@example.org")
    fs.review(application, person, [3] * len(call.criteria))
    conflicts.declare_conflict(person, application.association, "Ancien trésorier.", application=application)
    assert db.session.get(type(application), application.id).status == Status.ADMISSIBLE


# --- the calls' phases, where the pages show a call's state ----------------------------------

def demo_like_calls():
    """As in the demo: a call decided, one under review (its deadline passed), one closed early
    by staff before any review, one open, one published but not yet open, one draft."""
    decided = factories.call(slug="aap-decide", status="closed", opens_in_days=-200, closes_in_days=-150,
                             title="Appel décidé")
    for status in ("selected", "waitlisted", "rejected", "inadmissible"):
        fs.file(decided, f"Association {status}", status=status)
    review = factories.call(slug="aap-evaluation", status="closed", opens_in_days=-60, closes_in_days=-20,
                            title="Appel en évaluation")
    for status in ("submitted", "admissible", "in_review", "reviewed"):
        fs.file(review, f"Association {status} 2", status=status)
    late = factories.call(slug="aap-echeance", opens_in_days=-60, closes_in_days=-1, title="Appel échu")
    fs.file(late, "Association déposée", status="submitted")
    return {
        "Appel décidé": "Décidé",
        "Appel en évaluation": "En évaluation",
        "Appel échu": "Clos",
        factories.call(slug="aap-ouvert", title="Appel ouvert").title: "Ouvert",
        factories.call(slug="aap-a-venir", opens_in_days=10, title="Appel à venir").title: "À venir",
        factories.call(slug="aap-brouillon", status="draft", title="Appel en brouillon").title: "Brouillon",
    }


def row_of(html, title):
    rows = [row for row in re.findall(r"<tr>.*?</tr>", html, re.S) if title in row]
    assert len(rows) == 1, title
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", rows[0]))


@pytest.mark.parametrize("url", ["/tableau-de-bord", "/instruction/appels", "/selection/"])
def test_staff_pages_show_where_each_call_stands(app, client, staff, url):
    expected = demo_like_calls()
    login(client, staff)
    html = client.get(url).get_data(as_text=True)
    for title, label in expected.items():
        row = row_of(html, title)
        assert f" {label} " in row, (title, row)
        if label in ("Décidé", "En évaluation"):
            assert " Clos " not in row, (title, row)


def test_the_call_pages_and_the_association_dashboard_show_the_phase(app, client, staff, applicant):
    demo_like_calls()
    call = db.session.scalar(db.select(Call).where(Call.slug == "aap-evaluation"))
    login(client, staff)
    page = client.get(f"/instruction/appels/{call.id}").get_data(as_text=True)
    assert re.search(r"<h1>[^<]*Appel en évaluation\s*<span[^>]*>En évaluation</span>", page)
    # The public page of a call (anyone may read it).
    public = app.test_client().get("/appels/aap-decide").get_data(as_text=True)
    assert 'id="etat-appel">Décidé<' in public

    factories.complete_identity(applicant.association)
    factories.application(call, applicant.association, status="reviewed")
    association = app.test_client()
    login(association, applicant)
    row = row_of(association.get("/tableau-de-bord").get_data(as_text=True), "Appel en évaluation")
    assert "Appel : en évaluation" in row and "Évalué" in row


def test_the_phase_of_a_list_of_calls_costs_one_query_at_most(app):
    from aap.calls import services

    from .conftest import count_queries

    demo_like_calls()
    calls = db.session.scalars(db.select(Call)).all()
    with count_queries() as queries:
        phases = services.phases(calls)
    assert queries() == 1
    assert sorted(p.label for p in phases.values()) == sorted(
        ["Décidé", "En évaluation", "Clos", "Ouvert", "À venir", "Brouillon"])
    assert set(phases.values()) == set(CallPhase)


# --- no state written as a bare string outside the enums ---------------------------------------

def test_no_bare_status_literal_in_the_code_outside_the_enums():
    root = Path(__file__).resolve().parent.parent / "aap"
    values = "|".join(s.value for s in Status) + "|published|closed"
    pattern = re.compile(rf"""["']({values})["']""")
    found = [f"{path.relative_to(root)}:{n}: {line.strip()}"
             for path in root.rglob("*.py") if "models" not in path.parts
             for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert not found, "\n".join(found)


def test_a_reviewed_file_can_still_be_withdrawn_until_its_decision(app, applicant, staff):
    """An association may renounce until the decision: « Évalué » is withdrawable, a decided file
    is not (README « How it works »)."""
    from aap.applications import errors, submission

    call = factories.call(slug="aap-retrait")
    reviewed = factories.application(call, applicant.association, status="reviewed", reference="RT-0001")
    decided = factories.application(factories.call(slug="aap-decide"), applicant.association, status="selected",
                                    reference="RT-0002")
    with app.test_request_context():
        submission.withdraw(reviewed, applicant, "Nous renonçons.")
        with pytest.raises(errors.ApplicationError):
            submission.withdraw(decided, applicant)
    db.session.expire_all()
    assert db.session.get(type(reviewed), reviewed.id).status == Status.WITHDRAWN
    assert db.session.get(type(decided), decided.id).status == Status.SELECTED
