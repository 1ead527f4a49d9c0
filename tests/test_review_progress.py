"""Staff follow the reviews: per reviewer and per file, reminders to late reviewers, and
list pages whose number of queries does not grow with the number of files."""
from datetime import timedelta

from aap import timeutil
from aap.extensions import db
from aap.models import Event
from aap.review import conflicts, reviews
from aap.review.reminders import outstanding_by_reviewer

from . import factories
from .conftest import count_queries
from .factories import submitted_file
from .factories_review import assigned, reviewer_user


def scores(call, value=3):
    return {c.id: (value, "ok") for c in call.criteria}


def build(call, reviewers, n, start=0):
    """n files in review, each with two of the reviewers; the first reviewer submits, the second drafts."""
    files = []
    for i in range(n):
        application = submitted_file(call, f"Asso {start + i}", region="53", status="in_review")
        first, second = reviewers[i % len(reviewers)], reviewers[(i + 1) % len(reviewers)]
        assigned(application, first)
        assigned(application, second)
        reviews.submit_review(application, first, scores(call), "favorable")
        reviews.save_review(application, second, {call.criteria[0].id: (2, "")})
        files.append(application)
    return files


def test_progress_per_reviewer_and_per_file(app, client, staff, login_as):
    call = factories.call(reviewers_per_file=2, review_deadline=timeutil.now() - timedelta(days=1))
    done = reviewer_user("fini@example.org")
    slow = reviewer_user("lent@example.org")
    idle = reviewer_user("absent@example.org")
    a = submitted_file(call, "Asso A", region="53", status="in_review")
    b = submitted_file(call, "Asso B", region="53", status="in_review")
    for application in (a, b):
        assigned(application, done)
        reviews.submit_review(application, done, scores(call), "favorable")
    assigned(a, slow)
    reviews.save_review(a, slow, {})
    assigned(b, idle)
    login_as(staff)
    page = client.get(f"/instruction/appels/{call.id}/evaluations").get_data(as_text=True)
    assert "Relancer les évaluateurs cochés" in page
    assert page.count('name="reviewer_ids"') == 2  # the two late reviewers, checked, « done » has nothing
    rows = {line for line in page.split("<tr>") if "@example.org" in line}
    done_row = next(r for r in rows if "fini@example.org" in r)
    slow_row = next(r for r in rows if "lent@example.org" in r)
    assert ">2</td>" in done_row and "Terminé" in done_row
    assert "En retard" in slow_row and slow_row.count(">1</td>") == 2  # assigned 1, drafted 1
    assert "1 / 2" in page  # per file: expected vs submitted


def test_reminders_one_mail_per_late_reviewer(app, client, staff, login_as):
    call = factories.call(reviewers_per_file=2, review_deadline=timeutil.now() - timedelta(days=1))
    reviewers = [reviewer_user(f"r{i}@example.org") for i in range(3)]
    files = build(call, reviewers, 4)
    # r0 submitted files 0 and 3 but still has file 2 (as second); everyone has something pending here.
    finished = reviewer_user("fini@example.org")
    extra = submitted_file(call, "Asso fini", region="53", status="in_review")
    assigned(extra, finished)
    reviews.submit_review(extra, finished, scores(call), "favorable")
    login_as(staff)
    response = client.post_form(f"/instruction/appels/{call.id}/evaluations/relancer",
                                {"reviewer_ids": [r.id for r in reviewers] + [finished.id]})
    assert response.status_code == 302
    reminders = [m for m in factories.outbox() if m.subject.startswith("Rappel")]
    assert sorted(m.to for m in reminders) == sorted(r.email for r in reviewers)
    outstanding = outstanding_by_reviewer(call)
    for reviewer in reviewers:
        body = next(m.body for m in reminders if m.to == reviewer.email)
        pending = outstanding[db.session.get(type(reviewer), reviewer.id)]
        assert body.count("/evaluation/dossiers/") == len(pending)
        assert "date limite des évaluations" in body
        for application in files:
            assert (application.reference in body) == (application in pending)
    event = db.session.scalar(db.select(Event).where(Event.action == "review_reminders_sent"))
    assert event.actor_id == staff.id and sorted(event.details["reviewer_ids"]) == sorted(r.id for r in reviewers)


def test_progress_and_reminders_are_for_staff(app, client, applicant, reviewer, login_as):
    call = factories.call()
    for user in (applicant, reviewer):
        login_as(user)
        assert client.get(f"/instruction/appels/{call.id}/evaluations").status_code == 403
        assert client.post_form(f"/instruction/appels/{call.id}/evaluations/relancer").status_code == 403
        client.post_form("/deconnexion")
    assert not factories.outbox()


def measure(client, url):
    # The test shares the requests' session: start each measure from the same (expired) state.
    db.session.expire_all()
    with count_queries() as n:
        response = client.get(url)
    assert response.status_code == 200
    return n()


def test_staff_lists_query_count_does_not_grow_with_files(app, client, staff, login_as):
    call = factories.call(reviewers_per_file=2)
    reviewers = [reviewer_user(f"r{i}@example.org") for i in range(3)]
    build(call, reviewers, 2)
    for r in reviewers[:2]:
        conflicts.declare_conflict(r, submitted_file(call, f"Asso liée {r.id}", region="53").association, "Lien")
    login_as(staff)
    urls = [f"/instruction/appels/{call.id}/evaluations", f"/instruction/appels/{call.id}/affectations",
            f"/instruction/appels/{call.id}/conflits"]
    small = [measure(client, url) for url in urls]
    build(call, reviewers, 15, start=100)
    for i in range(6):
        application = submitted_file(call, f"Asso libre {i}", region="53", status="admissible")
        conflicts.declare_conflict(reviewers[2], application.association, "Lien")
    large = [measure(client, url) for url in urls]
    assert large == small


def test_reviewer_dashboard_query_count_does_not_grow(app, client, reviewer, login_as):
    call = factories.call(reviewers_per_file=1)
    other = reviewer_user("autre@example.org")
    build(call, [reviewer, other], 2)
    login_as(reviewer)
    small = measure(client, "/tableau-de-bord")
    build(call, [reviewer, other], 10, start=100)
    assert measure(client, "/tableau-de-bord") == small
