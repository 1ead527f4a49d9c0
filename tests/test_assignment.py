"""The automatic assignment (pure function), checked on random instances with hypothesis,
then through HTTP: preview, confirmation, one e-mail per reviewer, manual assign/unassign."""
import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aap.extensions import db
from aap.models import Assignment, Conflict, Event, Review
from aap.review.allocation import FileSpec, ReviewerSpec, propose

from . import factories
from .factories import submitted_file
from .factories_review import assigned, reviewer_user

REGIONS = ["11", "53", "84"]


@st.composite
def instances(draw, max_files=6, max_reviewers=6):
    reviewer_ids = draw(st.lists(st.integers(1, 40), min_size=0, max_size=max_reviewers, unique=True))
    reviewers = [ReviewerSpec(rid, draw(st.sampled_from(REGIONS + [None]))) for rid in reviewer_ids]
    file_ids = draw(st.lists(st.integers(100, 140), min_size=0, max_size=max_files, unique=True))
    k = draw(st.integers(1, 3))
    files = []
    for fid in file_ids:
        already = draw(st.lists(st.sampled_from(reviewer_ids), max_size=min(k, len(reviewer_ids)), unique=True)) \
            if reviewer_ids else []
        files.append(FileSpec(fid, draw(st.sampled_from(REGIONS + [None])), frozenset(already)))
    conflicts = set()
    if reviewer_ids and file_ids:
        conflicts = draw(st.sets(st.tuples(st.sampled_from(reviewer_ids), st.sampled_from(file_ids)), max_size=6))
        # An existing assignment is never in conflict (the services remove it on declaration).
        conflicts = {(r, f) for r, f in conflicts
                     if r not in next(x for x in files if x.id == f).assigned}
    loads = {rid: draw(st.integers(0, 3)) for rid in reviewer_ids}
    for f in files:
        for rid in f.assigned:
            loads[rid] += 1
    avoid = draw(st.booleans())
    return files, reviewers, conflicts, k, avoid, loads


def eligible(f, reviewers, conflicts, avoid):
    return [r.id for r in reviewers if r.id not in f.assigned and (r.id, f.id) not in conflicts
            and not (avoid and f.region and r.region == f.region)]


def check_hard_constraints(files, reviewers, conflicts, k, avoid, loads, proposal):
    by_id = {f.id: f for f in files}
    regions = {r.id: r.region for r in reviewers}
    uncovered = {fid for fid, _ in proposal.uncovered}
    new = {}
    for fid, rid in proposal.pairs:
        assert (rid, fid) not in conflicts
        assert rid not in by_id[fid].assigned
        if avoid and by_id[fid].region:
            assert regions[rid] != by_id[fid].region
        new.setdefault(fid, []).append(rid)
    for f in files:
        chosen = new.get(f.id, [])
        assert len(chosen) == len(set(chosen))
        if f.id in uncovered:
            assert chosen == []
            assert len(eligible(f, reviewers, conflicts, avoid)) < k - len(f.assigned)
        else:
            assert len(f.assigned) + len(chosen) >= k
            assert len(chosen) == max(0, k - len(f.assigned))
    for rid in regions:
        assert proposal.loads[rid] == loads[rid] + proposal.new_counts[rid]


@settings(max_examples=300, deadline=None)
@given(instances())
def test_constraints_hold_and_result_is_deterministic(instance):
    files, reviewers, conflicts, k, avoid, loads = instance
    proposal = propose(files, reviewers, conflicts, k, avoid, loads)
    check_hard_constraints(files, reviewers, conflicts, k, avoid, loads, proposal)
    again = propose(list(reversed(files)), list(reversed(reviewers)), set(conflicts), k, avoid, dict(loads))
    assert again == proposal


def brute_force_best(files, reviewers, conflicts, k, avoid, loads):
    """(smallest sum of squares, smallest spread) over every valid assignment."""
    choices = []
    for f in files:
        need = k - len(f.assigned)
        pool = eligible(f, reviewers, conflicts, avoid)
        if need > 0 and len(pool) >= need:
            choices.append(list(itertools.combinations(pool, need)))
    best_squares, best_spread = None, None
    for combo in itertools.product(*choices):
        final = dict(loads)
        for group in combo:
            for rid in group:
                final[rid] += 1
        values = [final[r.id] for r in reviewers]
        squares = sum(v * v for v in values)
        spread = max(values) - min(values) if values else 0
        best_squares = squares if best_squares is None else min(best_squares, squares)
        best_spread = spread if best_spread is None else min(best_spread, spread)
    return best_squares, best_spread


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_files=4, max_reviewers=4))
def test_loads_are_as_balanced_as_a_brute_force_search(instance):
    files, reviewers, conflicts, k, avoid, loads = instance
    proposal = propose(files, reviewers, conflicts, k, avoid, loads)
    best_squares, best_spread = brute_force_best(files, reviewers, conflicts, k, avoid, loads)
    values = [proposal.loads[r.id] for r in reviewers]
    assert sum(v * v for v in values) == best_squares
    if best_spread is not None and best_spread <= 1:
        assert proposal.spread <= 1


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 30), st.integers(1, 8), st.integers(1, 3))
def test_spread_is_at_most_one_when_everybody_can_take_everything(n_files, n_reviewers, k):
    k = min(k, n_reviewers)
    files = [FileSpec(i, "11") for i in range(n_files)]
    reviewers = [ReviewerSpec(100 + j, "53") for j in range(n_reviewers)]
    proposal = propose(files, reviewers, set(), k, True)
    assert not proposal.uncovered
    assert len(proposal.pairs) == n_files * k
    assert proposal.spread <= 1


@settings(max_examples=100, deadline=None)
@given(instances())
def test_infeasible_files_are_reported_with_a_reason(instance):
    files, reviewers, conflicts, _, avoid, loads = instance
    k = len(reviewers) + 1  # more reviewers per file than there are reviewers
    proposal = propose(files, reviewers, conflicts, k, avoid, loads)
    assert proposal.pairs == ()
    assert [fid for fid, _ in proposal.uncovered] == sorted(f.id for f in files)
    for _, reason in proposal.uncovered:
        assert reason.startswith(("pas assez d'évaluateurs", "aucun évaluateur"))


def test_reason_names_the_region_and_the_conflicts():
    files = [FileSpec(1, "53"), FileSpec(2, "11")]
    reviewers = [ReviewerSpec(10, "53"), ReviewerSpec(11, "53"), ReviewerSpec(12, "84")]
    proposal = propose(files, reviewers, {(12, 1)}, k=2, avoid_same_region=True)
    assert dict(proposal.uncovered) == {1: "pas assez d'évaluateurs sans conflit hors de la région Bretagne : "
                                           "0 disponible pour 2 à trouver (1 en conflit d'intérêts, "
                                           "2 de la même région)"}
    assert len([p for p in proposal.pairs if p[0] == 2]) == 2
    # Without the région rule, file 1 is covered by the two Breton reviewers.
    proposal = propose(files, reviewers, {(12, 1)}, k=2, avoid_same_region=False)
    assert proposal.uncovered == ()
    assert sorted(r for f, r in proposal.pairs if f == 1) == [10, 11]


def test_existing_loads_are_evened_out():
    files = [FileSpec(i) for i in range(1, 5)]
    reviewers = [ReviewerSpec(1), ReviewerSpec(2), ReviewerSpec(3)]
    proposal = propose(files, reviewers, set(), k=1, avoid_same_region=False, loads={1: 3, 2: 0, 3: 1})
    assert proposal.new_counts == {1: 0, 2: 3, 3: 1}
    assert proposal.spread == 1


def test_no_reviewer_at_all():
    proposal = propose([FileSpec(1, "11")], [], set(), k=2)
    assert proposal.uncovered == ((1, "aucun évaluateur n'est disponible"),)


# --- Through HTTP ------------------------------------------------------------------------

SIGNATURE_RE = re.compile(r'name="signature"[^>]*value="([0-9a-f]{64})"')


def test_automatic_assignment_preview_then_confirm(app, client, staff, login_as):
    call = factories.call(reviewers_per_file=2)
    apps = [submitted_file(call, f"Association {i}", region="84", status="admissible") for i in range(5)]
    reviewers = [reviewer_user(f"eval{i}@example.org", region="11") for i in range(3)]
    same_region = reviewer_user("lyon@example.org", region="84")
    conflicted = apps[0]
    db.session.add(Conflict(reviewer_id=reviewers[0].id, association_id=conflicted.association_id, reason="Bénévole"))
    db.session.commit()
    login_as(staff)

    response = client.post_form(f"/instruction/appels/{call.id}/affectations/proposition")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Proposition d'affectation" in html
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 0  # nothing applied yet
    signature = SIGNATURE_RE.search(html).group(1)

    response = client.post_form(f"/instruction/appels/{call.id}/affectations/confirmer", {"signature": signature})
    assert response.status_code == 302
    pairs = db.session.execute(db.select(Assignment.application_id, Assignment.reviewer_id)).all()
    assert len(pairs) == 10
    assert (conflicted.id, reviewers[0].id) not in pairs
    assert all(rid != same_region.id for _, rid in pairs)
    counts = [sum(1 for _, rid in pairs if rid == r.id) for r in reviewers]
    assert max(counts) - min(counts) <= 1
    for application in apps:
        db.session.refresh(application)
        assert application.status == "in_review"
    assert db.session.scalar(db.select(db.func.count(Event.id)).where(Event.to_state == "in_review")) == 5
    # One e-mail per reviewer, listing all their files.
    mails = [m for m in factories.outbox() if "affect" in m.subject.lower()]
    assert sorted(m.to for m in mails) == sorted(r.email for r in reviewers)
    for r, n in zip(reviewers, counts):
        body = next(m.body for m in mails if m.to == r.email)
        assert body.count("/evaluation/dossiers/") == n
    assert all(a.notified_at is not None for a in db.session.scalars(db.select(Assignment)))


def test_applying_and_notifying_is_one_unit_of_work_committed_by_the_caller(app, staff):
    """apply_assignment and notify_reviewers flush, never commit: the view (or command) that calls
    them commits once, so a failure after them undoes the assignments and their e-mails together."""
    from aap.models import OutboxMessage
    from aap.review import assignment

    call = factories.call(reviewers_per_file=1)
    submitted_file(call, "Asso A", region="84", status="admissible")
    reviewer_user("eval@example.org", region="11")
    db.session.commit()
    with app.test_request_context():
        proposal, _ = assignment.propose_assignment(call)
        _, mails = assignment.apply_assignment(call, staff, proposal.signature)
        assert mails == 1 and db.session.scalar(db.select(db.func.count(Assignment.id))) == 1
        db.session.rollback()  # the caller fails before committing
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 0
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 0
    assert not db.session.scalar(db.select(db.func.count(Event.id)).where(Event.action == "reviewers_notified"))


def test_confirmation_refused_when_data_changed(app, client, staff, login_as):
    call = factories.call(reviewers_per_file=1)
    first = submitted_file(call, "Asso A", region="84", status="admissible")
    reviewer_user("eval@example.org", region="11")
    login_as(staff)
    html = client.post_form(f"/instruction/appels/{call.id}/affectations/proposition").get_data(as_text=True)
    signature = SIGNATURE_RE.search(html).group(1)
    submitted_file(call, "Asso B", region="84", status="admissible")  # a new admissible file meanwhile
    response = client.post_form(f"/instruction/appels/{call.id}/affectations/confirmer", {"signature": signature})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Les données ont changé" in html
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 0
    new_signature = SIGNATURE_RE.search(html).group(1)
    assert new_signature != signature
    client.post_form(f"/instruction/appels/{call.id}/affectations/confirmer", {"signature": new_signature})
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 2
    assert first.id in db.session.scalars(db.select(Assignment.application_id)).all()


def test_uncoverable_files_are_listed_in_the_preview(app, client, staff, login_as):
    call = factories.call(reviewers_per_file=2)
    submitted_file(call, "Asso bretonne", region="53", status="admissible")
    reviewer_user("a@example.org", region="53")
    reviewer_user("b@example.org", region="11")
    login_as(staff)
    html = client.post_form(f"/instruction/appels/{call.id}/affectations/proposition").get_data(as_text=True)
    assert "Asso bretonne" in html
    assert "hors de la région Bretagne" in html


def test_manual_assign_and_unassign(app, client, staff, login_as):
    call = factories.call(reviewers_per_file=2)
    application = submitted_file(call, "Asso A", region="84", status="admissible")
    other = submitted_file(call, "Asso B", region="84", status="admissible")
    reviewer = reviewer_user("eval@example.org", region="11")
    login_as(staff)
    page = client.get(f"/instruction/appels/{call.id}/affectations").get_data(as_text=True)
    assert "Asso A" in page and reviewer.full_name in page
    url = f"/instruction/appels/{call.id}/affectations/ajouter"
    for target in (application, other):
        response = client.post_form(url, {"application_id": target.id, "reviewer_id": reviewer.id})
        assert response.status_code == 302
    db.session.refresh(application)
    assert application.status == "in_review"
    assert not [m for m in factories.outbox() if m.to == reviewer.email]  # notified in one go, below
    client.post_form(f"/instruction/appels/{call.id}/affectations/notifier")
    mails = [m for m in factories.outbox() if m.to == reviewer.email]
    assert len(mails) == 1 and "Asso A" in mails[0].body and "Asso B" in mails[0].body
    client.post_form(f"/instruction/appels/{call.id}/affectations/notifier")
    assert len([m for m in factories.outbox() if m.to == reviewer.email]) == 1  # nothing new to send

    response = client.post_form(f"/instruction/appels/{call.id}/affectations/retirer",
                                {"application_id": application.id, "reviewer_id": reviewer.id})
    assert response.status_code == 302
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 1
    db.session.refresh(application)
    assert application.status == "admissible"


def test_manual_assign_refuses_conflict_and_same_region(app, client, staff, login_as):
    call = factories.call(reviewers_per_file=2)
    application = submitted_file(call, "Asso A", region="84", status="admissible")
    local = reviewer_user("lyon@example.org", region="84")
    linked = reviewer_user("lie@example.org", region="11")
    db.session.add(Conflict(reviewer_id=linked.id, association_id=application.association_id))
    db.session.commit()
    login_as(staff)
    url = f"/instruction/appels/{call.id}/affectations/ajouter"
    for reviewer in (local, linked):
        response = client.post_form(url, {"application_id": application.id, "reviewer_id": reviewer.id},
                                    follow_redirects=True)
        assert "ne peut pas être affecté" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 0


def test_unassign_refused_after_submission(app, client, staff, login_as):
    call = factories.call(reviewers_per_file=2)
    application = submitted_file(call, "Asso A", region="84", status="in_review")
    reviewer = reviewer_user("eval@example.org", region="11")
    assigned(application, reviewer)
    db.session.add(Review(application_id=application.id, reviewer_id=reviewer.id, status="submitted"))
    db.session.commit()
    login_as(staff)
    response = client.post_form(f"/instruction/appels/{call.id}/affectations/retirer",
                                {"application_id": application.id, "reviewer_id": reviewer.id},
                                follow_redirects=True)
    assert "a déjà envoyé son évaluation" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 1


def test_assignment_pages_are_for_staff_only(app, client, applicant, reviewer, login_as):
    call = factories.call()
    for user in (applicant, reviewer):
        login_as(user)
        assert client.get(f"/instruction/appels/{call.id}/affectations").status_code == 403
        assert client.post_form(f"/instruction/appels/{call.id}/affectations/proposition").status_code == 403
        client.post_form("/deconnexion")


def test_assignment_page_query_count_does_not_grow(app, client, staff, login_as):
    from .conftest import count_queries
    call = factories.call(reviewers_per_file=2)
    reviewers = [reviewer_user(f"eval{i}@example.org", region="11") for i in range(3)]
    login_as(staff)

    def make(n, start):
        for i in range(n):
            application = submitted_file(call, f"Asso {start + i}", region="84", status="in_review")
            assigned(application, reviewers[i % 3])

    make(2, 0)
    db.session.expire_all()  # the test shares the requests' session: same starting state
    with count_queries() as small:
        assert client.get(f"/instruction/appels/{call.id}/affectations").status_code == 200
    make(12, 100)
    db.session.expire_all()
    with count_queries() as large:
        assert client.get(f"/instruction/appels/{call.id}/affectations").status_code == 200
    assert large() == small()


# --- The board: paged, with the files still lacking reviewers apart ------------------------------

def board_rows(html):
    return re.findall(r'<tr id="dossier-(\d+)"', html)


def paged_board(monkeypatch, per_page, n_files):
    """A call with n admissible files, a board of per_page files a page, and one reviewer."""
    from aap.review import queries
    monkeypatch.setattr(queries, "PER_PAGE", per_page)
    call = factories.call(reviewers_per_file=1)
    files = sorted((submitted_file(call, f"Asso {i}", region="84", status="admissible") for i in range(n_files)),
                   key=lambda a: (a.reference, a.id))
    return call, files, reviewer_user("eval@example.org", region="11")


def test_board_is_paged_and_counts_loads_over_the_whole_call(app, client, staff, login_as, monkeypatch):
    call, files, reviewer = paged_board(monkeypatch, per_page=3, n_files=7)
    for application in files[:5]:  # files on pages 1 and 2
        assigned(application, reviewer)
    login_as(staff)
    url = f"/instruction/appels/{call.id}/affectations"
    pages = [client.get(f"{url}?page={n}").get_data(as_text=True) for n in (1, 2, 3)]
    assert [board_rows(page) for page in pages] == [[str(a.id) for a in files[i:i + 3]] for i in (0, 3, 6)]
    assert "page 2 sur 3" in pages[1] and 'aria-current="page">2</a>' in pages[1]
    assert f"{reviewer.full_name} : 5" in pages[2]  # the load of the whole call, not of the page
    # A page past the end shows the last; a malformed one the first.
    assert board_rows(client.get(f"{url}?page=99").get_data(as_text=True)) == [str(files[6].id)]
    assert board_rows(client.get(f"{url}?page=%C2%B2").get_data(as_text=True)) == [str(a.id) for a in files[:3]]


def test_board_filter_shows_only_the_files_lacking_reviewers(app, client, staff, login_as):
    call = factories.call(reviewers_per_file=2)
    full = submitted_file(call, "Asso complète", region="84", status="admissible")
    half = submitted_file(call, "Asso à moitié", region="84", status="admissible")
    bare = submitted_file(call, "Asso sans évaluateur", region="84", status="admissible")
    first, second = reviewer_user("un@example.org"), reviewer_user("deux@example.org")
    assigned(full, first), assigned(full, second), assigned(half, first)
    login_as(staff)
    url = f"/instruction/appels/{call.id}/affectations"
    everything = client.get(url).get_data(as_text=True)
    assert sorted(board_rows(everything)) == sorted(str(a.id) for a in (full, half, bare))
    assert "Tous les dossiers (3)" in everything and "À compléter (2)" in everything
    missing = client.get(f"{url}?filtre=a-completer").get_data(as_text=True)
    assert sorted(board_rows(missing)) == sorted(str(a.id) for a in (half, bare))
    assert "Dossiers auxquels il manque des évaluateurs" in missing

    # Assigning from the filtered page comes back to it, at the file's row.
    response = client.post_form(f"{url}/ajouter?filtre=a-completer&page=1",
                                {"application_id": half.id, "reviewer_id": second.id})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{url}?filtre=a-completer#dossier-{half.id}")
    missing = client.get(f"{url}?filtre=a-completer").get_data(as_text=True)
    assert board_rows(missing) == [str(bare.id)] and "À compléter (1)" in missing
    # An unknown filter is the whole board.
    assert len(board_rows(client.get(f"{url}?filtre=%3Cscript%3E").get_data(as_text=True))) == 3


def test_assign_without_a_page_comes_back_to_the_page_showing_the_file(app, client, staff, login_as, monkeypatch):
    call, files, reviewer = paged_board(monkeypatch, per_page=2, n_files=5)
    login_as(staff)
    url = f"/instruction/appels/{call.id}/affectations"
    for index, application in enumerate(files):
        response = client.post_form(f"{url}/ajouter", {"application_id": application.id, "reviewer_id": reviewer.id})
        page = index // 2 + 1
        expected = f"{url}#dossier-{application.id}" if page == 1 else f"{url}?page={page}#dossier-{application.id}"
        assert response.headers["Location"].endswith(expected)
        assert str(application.id) in board_rows(client.get(response.headers["Location"]).get_data(as_text=True))


def test_board_offers_the_least_loaded_reviewers_first(app, client, staff, login_as):
    call = factories.call(reviewers_per_file=1)
    busy, idle, middle = (reviewer_user(f"{name}@example.org") for name in ("aa-busy", "bb-idle", "cc-middle"))
    done = [submitted_file(call, f"Asso {i}", region="84", status="admissible") for i in range(3)]
    assigned(done[0], busy), assigned(done[1], busy), assigned(done[2], middle)
    target = submitted_file(call, "Asso à pourvoir", region="84", status="admissible")
    login_as(staff)
    html = client.get(f"/instruction/appels/{call.id}/affectations?filtre=a-completer").get_data(as_text=True)
    select = html[html.index(f'id="reviewer-{target.id}"'):]
    select = select[:select.index("</select>")]
    assert re.findall(r'<option value="(\d+)"', select) == [str(idle.id), str(middle.id), str(busy.id)]
