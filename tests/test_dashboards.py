"""What each dashboard puts first: the staff's work waiting per call (files to check, reviews
expected), the reviewer's files by deadline and reviews by date sent."""
from datetime import timedelta

from aap import timeutil
from aap.review import reviews

from . import factories
from .factories import submitted_file
from .factories_review import assigned, reviewer_user


def scores(call, value=3):
    return {c.id: (value, "ok") for c in call.criteria}


def test_staff_dashboard_shows_files_to_check_and_reviews_expected(app, client, staff, login_as):
    call = factories.call(slug="aap-travail", title="Appel avec du travail en attente", reviewers_per_file=2)
    quiet = factories.call(slug="aap-calme", title="Appel sans travail en attente")
    for name in ("A", "B", "C"):
        submitted_file(call, f"Asso {name}", region="53", status="submitted")
    first, second = reviewer_user("un@example.org"), reviewer_user("deux@example.org")
    reviewed = submitted_file(call, "Asso D", region="53", status="in_review")
    drafted = submitted_file(call, "Asso E", region="53", status="in_review")
    for application in (reviewed, drafted):
        assigned(application, first), assigned(application, second)
    reviews.submit_review(reviewed, first, scores(call), "favorable")
    reviews.save_review(drafted, first, {call.criteria[0].id: (2, "")})  # a draft is still expected
    login_as(staff)
    page = client.get("/tableau-de-bord").get_data(as_text=True)
    rows = {title: next(r for r in page.split("<tr>") if title in r) for title in (call.title, quiet.title)}
    row = rows[call.title]
    assert "3 à examiner" in row and f"/instruction/appels/{call.id}/dossiers?etat=submitted" in row
    assert "3 attendues" in row  # 4 assignments, 1 review sent
    assert "à examiner" not in rows[quiet.title] and "attendue" not in rows[quiet.title]


def test_reviewer_dashboard_orders_by_deadline_and_latest_sent_first(app, client, login_as):
    now = timeutil.now()
    soon = factories.call(slug="aap-bientot", review_deadline=now + timedelta(days=3))
    later = factories.call(slug="aap-plus-tard", review_deadline=now + timedelta(days=30))
    reviewer = reviewer_user("eval@example.org")
    late_file = submitted_file(later, "Asso tardive", region="53", status="in_review")
    soon_file = submitted_file(soon, "Asso pressée", region="53", status="in_review")
    sent = [submitted_file(soon, f"Asso envoyée {i}", region="53", status="in_review") for i in range(3)]
    for application in (late_file, soon_file, *sent):
        assigned(application, reviewer)
    for application in (sent[1], sent[0], sent[2]):  # sent in that order
        reviews.submit_review(application, reviewer, scores(application.call), "favorable")
    login_as(reviewer)
    page = client.get("/tableau-de-bord").get_data(as_text=True)
    todo, done = page.split("Évaluations envoyées")
    assert todo.index(soon_file.reference) < todo.index(late_file.reference)
    positions = [done.index(a.reference) for a in (sent[2], sent[0], sent[1])]
    assert positions == sorted(positions)
