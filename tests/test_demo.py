"""The demo data set: counts, valid identifiers, assignment rules, budget, determinism, and the
four demo accounts logging in through HTTP."""
import re
from collections import Counter, defaultdict

import pytest
from stdnum import bic as std_bic
from stdnum import iban as std_iban
from stdnum.fr import siret as std_siret

from aap.applications import budget
from aap.associations import legal
from aap.demo import DemoError, build_demo, demo_digest
from aap.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from aap.extensions import db
from aap.models import (
    Application,
    Assignment,
    Association,
    Call,
    Conflict,
    Criterion,
    Decision,
    Event,
    Review,
    Score,
    User,
)
from aap.referentiel import DEPARTEMENT_BY_CODE, DEPARTEMENTS, REGIONS, departement_for_postal_code

from .conftest import login, make_app


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo built twice with the same seed on a fresh schema; the second build stays for the tests."""
    app = make_app(tmp_path_factory.mktemp("demo"))
    with app.app_context():
        db.drop_all()
        db.create_all()
        summary = build_demo(seed=2025)
        first_digest = demo_digest()
        db.session.remove()
        db.drop_all()
        db.create_all()
        build_demo(seed=2025)
        app.demo_digests = (first_digest, demo_digest())
        app.demo_summary = summary
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def call_2025():
    return db.session.scalar(db.select(Call).where(Call.slug == "aap-2025"))


def test_same_seed_same_data(demo):
    first, second = demo.demo_digests
    assert first == second
    assert any("67 lauréats" in line for line in demo.demo_summary)
    assert any("648 évaluations par 25 évaluateurs" in line for line in demo.demo_summary)  # those of 2025


def test_calls(demo):
    call = call_2025()
    assert call.title == "Appel à projets 1 jeune 1 mentor 2025"
    assert call.status == "closed" and call.years == 3 and call.reviewers_per_file == 3
    assert call.budget_cents == 16_000_000_00
    assert (call.min_amount_cents, call.max_amount_cents) == (20_000_00, 600_000_00)
    assert [(c.label, c.weight) for c in call.criteria] == [
        ("Qualité des actions", 3), ("Solidité structurelle", 2),
        ("Capacité à toucher les jeunes les plus éloignés", 3), ("Diversité territoriale", 2)]
    open_call = db.session.scalar(db.select(Call).where(Call.slug == "aap-2026"))
    assert open_call.status == "published" and open_call.years == 1
    assert open_call.budget_cents == 18_000_000_00
    assert open_call.opens_at.isoformat() == "2026-09-30T22:00:00+00:00"      # 1 Oct 2026, 00:00 Paris
    assert open_call.closes_at.isoformat() == "2027-01-31T22:59:59+00:00"     # 31 Jan 2027, 23:59:59 Paris
    drafts = db.session.scalars(db.select(Application).where(Application.call_id == open_call.id)).all()
    assert len(drafts) >= 3 and {a.status for a in drafts} == {"draft"}


def test_applications_and_territories(demo):
    call = call_2025()
    applications = db.session.scalars(db.select(Application).where(Application.call_id == call.id)).all()
    assert 220 <= len(applications) <= 240
    assert len({a.association_id for a in applications}) == len(applications)
    assert all(a.reference and a.submitted_at and a.fingerprint and a.snapshot for a in applications)
    assert all(call.opens_at <= a.submitted_at <= call.closes_at for a in applications)
    assert len({a.reference for a in applications}) == len(applications)
    for a in applications:
        assert call.min_amount_cents <= a.requested_cents <= call.max_amount_cents
        assert a.requested_cents <= a.total_cost_cents
        assert len(a.requested_per_year) == 3 and sum(a.requested_per_year) == a.requested_cents
        # The budget by nature (Cerfa 12156) balances year by year and carries the amount requested.
        assert budget.problems(a.budget, 3, call.year, call.min_amount_cents, call.max_amount_cents) == [], a.reference
        assert budget.derived(a.budget, 3)["requested_cents"] == a.requested_cents
        assert 50 <= a.young_count <= 5000
        assert a.association.departement_code in a.departements
    associations = db.session.scalars(db.select(Association)).all()
    assert {a.region_code for a in associations} == {r.code for r in REGIONS}
    assert {a.departement_code for a in associations} == {d.code for d in DEPARTEMENTS}
    states = Counter(a.status for a in applications)
    assert states["selected"] == 67 and states["inadmissible"] > 0
    assert states["selected"] + states["waitlisted"] + states["rejected"] + states["inadmissible"] == len(applications)


def test_identities_are_valid(demo):
    associations = db.session.scalars(db.select(Association)).all()
    assert len({a.siret for a in associations}) == len(associations)
    for a in associations:
        assert std_siret.is_valid(a.siret), a.siret
        assert std_iban.is_valid(a.iban) and a.iban.startswith("FR76") and len(a.iban) == 27, a.iban
        assert std_bic.is_valid(a.bic), a.bic
        # Each legal form has its own identifier (aap/associations/legal.py): no RNA for the local
        # law of Alsace-Moselle nor for a foundation.
        assert legal.is_complete(legal.identity_of(a)), (a.legal_form, legal.identity_of(a))
        if a.legal_form in legal.RNA_FORMS:
            assert len(a.rna) == 10 and a.rna[0] == "W" and a.rna[1:].isdigit()
        else:
            assert a.rna is None
        assert (a.legal_form == "association_1908") == (a.departement_code in ("57", "67", "68"))
        assert departement_for_postal_code(a.postal_code).code == a.departement_code
        assert a.representative_name and a.address and a.commune
    forms = {a.legal_form for a in associations}
    assert {"association_1901", "association_1908", "fondation"} <= forms


def test_reviews_and_assignments(demo):
    call = call_2025()
    reviewed = db.session.scalars(db.select(Application).where(
        Application.call_id == call.id, Application.status.in_(("selected", "waitlisted", "rejected")))).all()
    reviewers = {u.id: u for u in db.session.scalars(db.select(User).where(User.role == "reviewer"))}
    assert 20 <= len(reviewers) <= 30
    conflicts = set(db.session.execute(db.select(Conflict.reviewer_id, Conflict.association_id)).all())
    assigned = defaultdict(list)
    for application_id, reviewer_id in db.session.execute(
            db.select(Assignment.application_id, Assignment.reviewer_id).join(Application)
            .where(Application.call_id == call.id)):
        assigned[application_id].append(reviewer_id)
    for application in reviewed:
        ids = assigned[application.id]
        assert len(ids) == 3 == len(set(ids))
        assert all(reviewers[r].region_code != application.association.region_code for r in ids)
        assert all((r, application.association_id) not in conflicts for r in ids)
    loads = Counter(r for ids in assigned.values() for r in ids)
    assert max(loads.values()) - min(loads.values()) <= 1
    # Every assignment has its submitted review, with one score per criterion within the scale.
    reviews = db.session.scalars(db.select(Review).join(Application).where(Application.call_id == call.id)).all()
    assert len(reviews) == 3 * len(reviewed) and {r.status for r in reviews} == {"submitted"}
    scales = {c.id: c.scale_max for c in call.criteria}
    scores = db.session.scalars(db.select(Score).where(Score.review_id.in_([r.id for r in reviews]))).all()
    assert len(scores) == 4 * len(reviews)  # the four criteria of the 2025 grid
    assert all(0 <= s.value <= scales[s.criterion_id] for s in scores)
    # Some reviewers are lenient, some severe.
    means = {rid: mean for rid, mean in db.session.execute(
        db.select(Review.reviewer_id, db.func.avg(Score.value)).join(Score).group_by(Review.reviewer_id))}
    assert max(means.values()) - min(means.values()) > 1


def test_topup_call_is_under_review_with_work_for_every_role(demo):
    call = db.session.scalar(db.select(Call).where(Call.slug == "aap-2026-renfort"))
    assert call.status == "closed" and call.years == 1 and call.reviewers_per_file == 2
    assert call.closes_at < call.review_deadline and call.review_deadline.isoformat() == "2026-12-11T22:59:59+00:00"
    files = db.session.scalars(db.select(Application).where(Application.call_id == call.id)).all()
    assert len(files) == 24 and all(a.reference.startswith("1J1M-RF-2026-") and a.fingerprint for a in files)
    assert all(call.opens_at <= a.submitted_at <= call.closes_at for a in files)
    states = Counter(a.status for a in files)
    assert states["submitted"] == 4 and states["in_review"] > 0 and states["reviewed"] > 0
    assert set(states) == {"submitted", "in_review", "reviewed"}
    reviewers = {u.id: u for u in db.session.scalars(db.select(User).where(User.role == "reviewer"))}
    assert all(u.password_hash for u in reviewers.values())  # activated: the panel can be assigned
    conflicts = set(db.session.execute(db.select(Conflict.reviewer_id, Conflict.association_id)).all())
    assignments = db.session.scalars(
        db.select(Assignment).join(Application).where(Application.call_id == call.id)).all()
    reviews = {(r.application_id, r.reviewer_id): r for r in db.session.scalars(
        db.select(Review).join(Application).where(Application.call_id == call.id))}
    by_file = defaultdict(list)
    for assignment in assignments:
        by_file[assignment.application_id].append(assignment)
    for application in files:
        team = by_file[application.id]
        if application.status == "submitted":
            assert not team
            continue
        assert len({a.reviewer_id for a in team}) == len(team) == 2
        assert all(reviewers[a.reviewer_id].region_code != application.association.region_code for a in team)
        assert all((a.reviewer_id, application.association_id) not in conflicts for a in team)
        sent = [reviews.get((application.id, a.reviewer_id)) for a in team]
        all_sent = all(r is not None and r.status == "submitted" for r in sent)
        assert (application.status == "reviewed") == all_sent
    statuses = Counter(r.status for r in reviews.values())
    assert statuses["submitted"] > 0 and statuses["draft"] > 0 and len(reviews) < len(assignments)
    # The demo reviewer: one review sent, one saved, one to write, one conflict check to confirm.
    demo_reviewer = db.session.scalar(db.select(User).where(User.email == "evaluateur@demo.aap.fr"))
    mine = [a for a in assignments if a.reviewer_id == demo_reviewer.id]
    assert len(mine) == 4
    assert sorted(reviews[(a.application_id, a.reviewer_id)].status if (a.application_id, a.reviewer_id) in reviews
                  else ("à confirmer" if a.no_conflict_confirmed_at is None else "à faire") for a in mine) == \
        ["draft", "submitted", "à confirmer", "à faire"]
    client = demo.test_client()
    login(client, demo_reviewer, password=DEMO_PASSWORD)
    html = client.get("/tableau-de-bord").get_data(as_text=True)
    for assignment in mine:
        assert assignment.application.reference in html


def test_winners_fit_the_envelope(demo):
    call = call_2025()
    decisions = db.session.scalars(db.select(Decision)).all()
    selected = [d for d in decisions if d.outcome == "selected"]
    assert len(selected) == 67
    assert all(d.published_at and d.application.status == d.outcome for d in decisions)
    total = sum(d.amount_cents for d in selected)
    assert 0.8 * call.budget_cents <= total <= call.budget_cents
    for d in selected:
        assert call.min_amount_cents <= d.amount_cents <= d.application.requested_cents
        assert sum(d.amount_per_year) == d.amount_cents and len(d.amount_per_year) == 3
    assert {d.outcome for d in decisions} == {"selected", "waitlisted", "rejected"}


def test_history_is_recorded(demo):
    selected = db.session.scalar(db.select(Application).where(Application.status == "selected").limit(1))
    steps = [(e.from_state, e.to_state) for e in db.session.scalars(
        db.select(Event).where(Event.application_id == selected.id, Event.to_state.is_not(None))
        .order_by(Event.at, Event.id)) if "subject" not in e.details]  # not its convention's, reports'...
    assert steps == [("draft", "submitted"), ("submitted", "admissible"), ("admissible", "in_review"),
                     ("in_review", "reviewed"), ("reviewed", "selected")]
    inadmissible = db.session.scalar(db.select(Application).where(Application.status == "inadmissible").limit(1))
    event = db.session.scalar(db.select(Event).where(Event.application_id == inadmissible.id,
                                                     Event.to_state == "inadmissible"))
    assert event.reason and event.actor_id


def test_demo_applicant_has_identity_and_a_draft(demo):
    user = db.session.scalar(db.select(User).where(User.email == "association@demo.aap.fr"))
    association = user.association
    assert association.siret and association.iban and association.rna and association.representative_name
    assert user.legal_representative and user.full_name == association.representative_name
    statuses = {a.call.slug: a.status for a in db.session.scalars(
        db.select(Application).where(Application.association_id == association.id))}
    assert statuses == {"aap-2025": "selected", "aap-2026": "draft"}


@pytest.mark.parametrize("email, role", DEMO_ACCOUNTS)
def test_each_demo_account_logs_in_and_sees_its_dashboard(demo, email, role):
    user = db.session.scalar(db.select(User).where(User.email == email))
    assert user.role == role and user.email_confirmed_at is not None
    client = demo.test_client()
    login(client, user, password=DEMO_PASSWORD)
    response = client.get("/tableau-de-bord")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert user.full_name in html
    if role == "applicant":
        assert "Tremplin Mentorat Rhône" in html
    if role in ("staff", "admin"):
        assert "Appel à projets 1 jeune 1 mentor 2025" in html


def test_refuses_a_non_empty_database(demo):
    with pytest.raises(ValueError, match="pas vide"):
        build_demo()
    result = demo.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code != 0 and "pas vide" in result.output
    assert issubclass(DemoError, ValueError)
    assert db.session.scalar(db.select(db.func.count(Call.id))) == 3  # nothing was added


def test_every_score_is_on_a_criterion_of_its_own_call(demo):
    """Issue 16: the top-up call's reviews were scored on the 2025 grid (« — / 5 » everywhere)."""
    rows = db.session.execute(
        db.select(Application.call_id, Criterion.call_id).select_from(Score).join(Review).join(Application)
        .join(Criterion, Criterion.id == Score.criterion_id)).all()
    assert rows and all(own == of_criterion for own, of_criterion in rows)
    topup = db.session.scalar(db.select(Call).where(Call.slug == "aap-2026-renfort"))
    assert sum(1 for own, _ in rows if own == topup.id) > 0


def test_the_demo_reviewers_draft_opens_with_its_values(demo):
    reviewer = db.session.scalar(db.select(User).where(User.email == "evaluateur@demo.aap.fr"))
    draft = db.session.scalar(db.select(Review).where(Review.reviewer_id == reviewer.id, Review.status == "draft"))
    values = {s.criterion_id: s.value for s in draft.scores}
    assert set(values) == {c.id for c in draft.application.call.criteria} and None not in values.values()
    client = demo.test_client()
    login(client, reviewer, password=DEMO_PASSWORD)
    html = client.get(f"/evaluation/dossiers/{draft.application_id}").get_data(as_text=True)
    for criterion_id, value in values.items():
        assert f'name="score_{criterion_id}"' in html
        field = rf'name="score_{criterion_id}"'
        assert re.search(rf'{field}[^>]*value="{value}"|value="{value}"[^>]*{field}', html), criterion_id


def test_figures_are_possible_and_territories_plausible(demo):
    applications = db.session.scalars(db.select(Application)).all()
    for a in applications:
        # Quartiers prioritaires and rural zones do not overlap.
        assert (a.share_qpv or 0) + (a.share_zrr or 0) <= 100, a.reference
        region = a.association.region_code
        regions = {DEPARTEMENT_BY_CODE[code].region_code for code in a.departements}
        if a.scope in ("local", "regional"):
            # A local association acts in its département and around it, within its région.
            assert regions == {region}, (a.reference, a.departements)
        if a.scope == "local":
            assert len(a.departements) <= 3
        if a.scope == "national":
            assert regions == {r.code for r in REGIONS}, a.reference
            assert a.association.annual_budget_cents >= 2_500_000_00
    for association in db.session.scalars(db.select(Association)):
        assert departement_for_postal_code(association.postal_code).code == association.departement_code
        assert association.commune == DEPARTEMENT_BY_CODE[association.departement_code].chef_lieu
        assert "Chartrons" not in association.address  # no street of another town


def test_amounts_per_region_follow_the_young_people_roughly(demo):
    from scipy.stats import spearmanr

    from aap.demo.vocabulary import YOUNG_BY_REGION

    granted = dict(db.session.execute(
        db.select(Association.region_code, db.func.sum(Decision.amount_cents)).select_from(Decision)
        .join(Application).join(Association).where(Decision.outcome == "selected")
        .group_by(Association.region_code)).all())
    codes = sorted(YOUNG_BY_REGION)
    assert spearmanr([YOUNG_BY_REGION[c] for c in codes], [granted.get(c, 0) for c in codes])[0] > 0.6


def test_the_selection_of_both_calls_reads_well(demo):
    """Issue 16: yearly envelopes, a binding top-up envelope, usable calibrated scores, a stored robustness."""
    from aap.selection import grey_zone, ranking
    from aap.selection.proposal import ProposalSettings, propose

    call25 = call_2025()
    assert call25.budget_per_year == call25.envelopes == [5_600_000_00, 5_300_000_00, 5_100_000_00]
    topup = db.session.scalar(db.select(Call).where(Call.slug == "aap-2026-renfort"))
    assert topup.envelopes == [topup.budget_cents] == [800_000_00]
    data = ranking.load(topup)
    # Most of its reviewers have sent one or two reviews: their calibrated scores keep apart (they were
    # all the call's mean, under the 10/20 minimum) and keep the raw order of each reviewer's files.
    calibrated = [row.scores.calibrated_mean for row in data.rows if row.scores.calibrated_mean is not None]
    assert len({round(v, 2) for v in calibrated}) >= len(calibrated) - 3 and sum(v >= 10 for v in calibrated) >= 8
    for settings in (ProposalSettings(), ProposalSettings(calibrated=True)):
        proposal = propose(topup, settings, data=data)
        assert len(proposal.result.selected) >= 8 and proposal.result.total_cents <= topup.budget_cents
        assert any(line.reason.startswith("ne tient pas dans l'enveloppe 2026") for line in proposal.lines)
    # The robustness of the default proposal is stored and current: the pages show the bars.
    status = grey_zone.status(topup, data, ProposalSettings())
    assert status.run is not None and not status.stale and status.grey_count >= 1
    client = demo.test_client()
    login(client, db.session.scalar(db.select(User).where(User.email == "instructeur@demo.aap.fr")),
          password=DEMO_PASSWORD)
    page = client.get(f"/selection/appels/{topup.id}").get_data(as_text=True)
    assert page.count('<meter class="aap-meter"') == len(calibrated) and ">Zone grise</span>" in page
