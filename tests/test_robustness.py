"""Robustness of the selection: each file's probability of being retained when its reviews are
re-sampled (aap/selection/robustness.py), and the seeded draw among the grey zone."""
import json as _json

import numpy as np
import pytest

from aap.calls.services import update_call
from aap.extensions import db
from aap.models import Decision, Event, Review, RobustnessRun
from aap.selection import grey_zone, optimizer, ranking, robustness
from aap.selection.proposal import ProposalSettings
from aap.selection.robustness import FileReviews

from . import factories
from . import factories_selection as fs
from .conftest import login


def _case():
    """Three places (300 of envelope, 100 per file): two files far above the cut-off, three equal
    ones at it (reviews 10, 12, 14: they share the last place), one far below."""
    reviews = {1: (18, 17, 19), 2: (16, 18, 17), 3: (10, 12, 14), 4: (10, 12, 14), 5: (10, 12, 14), 6: (5, 6, 4)}
    candidates = [optimizer.Candidate(key=k, score=sum(v) / 3, amount_cents=100, region=None)
                  for k, v in reviews.items()]
    files = {k: FileReviews(k, tuple(map(float, v)), tuple(map(float, v))) for k, v in reviews.items()}
    return candidates, files, optimizer.Settings(envelope_cents=300)


def test_far_above_is_sure_far_below_never_equal_ones_share_the_grey_zone():
    candidates, files, settings = _case()
    result = robustness.retention(candidates, files, settings, n_resamples=300, seed=11)
    p = result.probabilities
    assert p[1] == 1.0 and p[2] == 1.0
    assert p[6] == 0.0
    for key in (3, 4, 5):
        assert 0.15 < p[key] < 0.55, p
    assert sum(p.values()) == pytest.approx(3.0)  # three places in every re-sampling
    assert set(result.grey_zone()) == {3, 4, 5} and result.infeasible == 0


def test_same_seed_same_probabilities_other_seed_other_draws():
    candidates, files, settings = _case()
    first = robustness.retention(candidates, files, settings, n_resamples=200, seed=5).probabilities
    again = robustness.retention(candidates, files, settings, n_resamples=200, seed=5).probabilities
    other = robustness.retention(candidates, files, settings, n_resamples=200, seed=6).probabilities
    assert first == again and first != other


def test_resampled_scores_are_bootstrap_means_and_a_file_without_review_has_none():
    files = [FileReviews(1, (8.0, 12.0), (9.0, 11.0)), FileReviews(2, (), ())]
    scores = robustness.resampled_scores(files, 400, np.random.default_rng(0))
    assert set(np.unique(scores[:, 0])) == {8.0, 10.0, 12.0}  # the means of two draws among two reviews
    assert np.isnan(scores[:, 1]).all()
    calibrated = robustness.resampled_scores(files, 400, np.random.default_rng(0), calibrated=True)
    assert set(np.unique(calibrated[:, 0])) == {9.0, 10.0, 11.0}
    toggled = robustness.resampled_scores(files, 400, np.random.default_rng(0), toggle_calibration=True)
    assert {8.0, 9.0}.issubset(set(np.unique(toggled[:, 0])))  # raw in some re-samplings, calibrated in others


def test_fixed_files_keep_their_outcome():
    candidates, files, settings = _case()
    candidates = [optimizer.Candidate(key=c.key, score=c.score, amount_cents=100, region=None,
                                      fixed=True if c.key == 6 else None) for c in candidates]
    p = robustness.retention(candidates, files, settings, n_resamples=100, seed=1).probabilities
    assert p[6] == 1.0 and p[1] == p[2] == 1.0 and p[3] + p[4] + p[5] == 0.0


def test_the_draw_is_reproducible_from_its_seed_and_holds_every_year():
    grey = [(3, (100, 50)), (4, (100, 50)), (5, (100, 50)), (7, (60, 60))]
    first = robustness.draw(grey, [200, 110], seed=123456)
    again = robustness.draw(list(reversed(grey)), [200, 110], seed=123456)
    assert (first.order, first.retained, first.left_cents) == (again.order, again.retained, again.left_cents)
    assert sorted(first.order) == [3, 4, 5, 7]
    spent = [sum(dict(grey)[k][y] for k in first.retained) for y in range(2)]
    assert spent[0] <= 200 and spent[1] <= 110 and first.left_cents == [200 - spent[0], 110 - spent[1]]
    assert first.retained == [k for k in first.order if k in first.retained]
    orders = {tuple(robustness.draw(grey, [200, 110], seed=s).order) for s in range(20)}
    assert len(orders) > 5  # the seed decides the order


def test_grey_zone_bounds():
    assert not robustness.in_grey_zone(robustness.GREY_LOW)
    assert not robustness.in_grey_zone(robustness.GREY_HIGH)
    assert robustness.in_grey_zone(0.5) and not robustness.in_grey_zone(None)


# --- Stored robustness, the grey zone on the proposal page, the recorded draw (aap/selection/grey_zone.py)

K = 1000_00  # a thousand euros, in cents
QUERY = "calculer=1&objective=merit&min_per_region=0&min_score=10&keep_drafts=y"
SURE, SPLIT, LOW = [5, 5, 5], ([4, 4, 4], [2, 2, 2]), [1, 1, 1]  # 20/20; 16 or 8/20 (a bootstrap: 8, 12 or 16)


def _page(client, call, query=QUERY):
    response = client.get(f"/selection/appels/{call.id}/proposition?{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True).replace("&#39;", "'")


def _grey_world(applicant, reviewer, draw=True, years=1, envelopes=None, sure_per_year=None, grey_per_year=None):
    """Two files sure to be retained (one with a published decision's amount), three with split
    reviews sharing what is left, one far below: the first grey file is the applicant's, reviewed
    by the `reviewer` account."""
    budget = sum(envelopes) if envelopes else 300 * K
    call = factories.call(slug="aap-gris", years=years, budget_cents=budget, budget_per_year=envelopes or [],
                          grey_zone_draw=draw)
    ev1, ev2 = fs.reviewers(2)

    def amounts(per_year):
        return {} if per_year is None else {"requested_cents": sum(per_year), "requested_per_year": list(per_year)}

    sure = [fs.file(call, f"Sûre {i}", **amounts(sure_per_year)) for i in (1, 2)][: 1 if sure_per_year else 2]
    grey = [factories.application(call, applicant.association, status="reviewed", **amounts(grey_per_year))]
    grey += [fs.file(call, f"Grise {i}", **amounts(grey_per_year)) for i in (2, 3)]
    low = fs.file(call, "Faible")
    for file in sure:
        fs.review(file, ev1, SURE)
        fs.review(file, ev2, SURE)
    for i, file in enumerate(grey):
        fs.review(file, reviewer if i == 0 else ev1, SPLIT[0])
        fs.review(file, ev2, SPLIT[1])
    fs.review(low, ev1, LOW)
    fs.review(low, ev2, LOW)
    return call, sure, grey, low


def _compute(client, call, query=QUERY, data=None):
    return client.post_form(f"/selection/appels/{call.id}/proposition/robustesse?{query}", data)


def test_staff_compute_the_robustness_and_read_a_bar_and_the_grey_zone_nobody_else_does(
        app, client, staff, applicant, reviewer):
    call, sure, grey, low = _grey_world(applicant, reviewer)
    login(client, staff)
    page = _page(client, call)
    assert "Calculer la robustesse" in page and "<meter" not in page and "Zone grise" not in page
    response = _compute(client, call)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"?{QUERY}")
    run = db.session.scalar(db.select(RobustnessRun))
    assert run.call_id == call.id and run.n_resamples == robustness.DEFAULT_RESAMPLES and not run.toggle_calibration
    assert run.seed >= 0 and run.computed_by_id == staff.id and run.settings["min_per_region"] == 0
    p = {int(k): v for k, v in run.probabilities.items()}
    assert all(p[f.id] >= robustness.GREY_HIGH for f in sure) and p[low.id] == 0.0
    assert all(robustness.in_grey_zone(p[f.id]) for f in grey), p
    event = db.session.scalar(db.select(Event).where(Event.action == "robustness_computed"))
    assert event.details["seed"] == run.seed and event.details["grey_zone"] == 3

    page = _page(client, call)
    assert f"graine {run.seed}" in page and "300 rééchantillonnages" in page and "3 dossiers dans la zone grise" in page
    assert page.count('<meter class="aap-meter"') == 6 and page.count(">Zone grise</span>") == 3
    percent = round(p[grey[0].id] * 100)
    assert f'value="{percent}" aria-hidden="true"></meter> <span class="aap-num">{percent} %</span>' in page
    assert "Résultat périmé" not in page and "300 rééchantillonnages, notes brutes," in page
    # Raw and calibrated scores with even odds, when asked: stored with the run, and said.
    _compute(client, call, data={"toggle_calibration": "y"})
    run = db.session.scalar(db.select(RobustnessRun).order_by(RobustnessRun.id.desc()).limit(1))
    assert run.toggle_calibration and "notes brutes et calibrées une fois sur deux" in _page(client, call)

    # The association of a grey-zone file and its reviewer never read a probability or the grey zone.
    for user, urls in ((applicant, [f"/candidatures/{grey[0].id}", "/tableau-de-bord"]),
                       (reviewer, [f"/evaluation/dossiers/{grey[0].id}", "/tableau-de-bord"])):
        other = app.test_client()
        login(other, user)
        for url in urls:
            response = other.get(url)
            assert response.status_code == 200, url
            text = response.get_data(as_text=True).lower()
            assert "zone grise" not in text and "probabilit" not in text and "robustesse" not in text, url
            assert "<meter" not in text and "rééchantillonn" not in text, url
        assert other.post_form(f"/selection/appels/{call.id}/proposition/robustesse?{QUERY}").status_code == 403
    assert db.session.scalar(db.select(db.func.count(RobustnessRun.id))) == 2


def test_a_stored_result_is_stale_once_a_score_or_a_decision_changes_and_kept_apart_for_other_settings(
        app, client, staff, applicant, reviewer):
    call, sure, grey, low = _grey_world(applicant, reviewer)
    login(client, staff)
    _compute(client, call)
    settings = ProposalSettings(min_per_region=0, min_score=10.0)
    assert grey_zone.status(call, ranking.load(call), settings).stale is False
    # Other settings: the stored result is not shown for them.
    page = _page(client, call, QUERY + "&calibrated=y")
    assert "avec d'autres paramètres" in page and "<meter" not in page
    # A draft decision on a grey-zone file: the result is stale (shown, with the warning).
    db.session.add(Decision(application_id=grey[2].id, outcome="selected", amount_cents=100 * K))
    db.session.commit()
    assert grey_zone.status(call, ranking.load(call), settings).stale is True
    page = _page(client, call)
    assert "Résultat périmé" in page and "<meter" in page
    # Computed again, then a score changes: stale again.
    _compute(client, call)
    assert "Résultat périmé" not in _page(client, call)
    review = db.session.scalar(db.select(Review).where(Review.application_id == grey[1].id).limit(1))
    review.scores[0].value = 1
    db.session.commit()
    assert "Résultat périmé" in _page(client, call)
    # Computing needs the proposal's settings.
    response = client.post_form(f"/selection/appels/{call.id}/proposition/robustesse", follow_redirects=True)
    assert "Proposez d'abord une sélection" in response.get_data(as_text=True).replace("&#39;", "'")


def _draw(client, call, confirm=True):
    response = client.post_form(f"/selection/appels/{call.id}/proposition/tirage?{QUERY}",
                                {"confirm": "y"} if confirm else {}, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True).replace("&#39;", "'")


def test_the_draw_records_its_seed_applies_drafts_and_the_verify_command_reproduces_it(
        app, client, staff, applicant, reviewer):
    call, sure, grey, low = _grey_world(applicant, reviewer)
    login(client, staff)
    _compute(client, call)
    page = _page(client, call)
    assert "Tirer au sort dans la zone grise" in page
    assert "Cochez la case pour confirmer" in _draw(client, call, confirm=False)
    assert db.session.scalar(db.select(Event).where(Event.action == "grey_zone_draw")) is None

    page = _draw(client, call)
    event = db.session.scalar(db.select(Event).where(Event.action == "grey_zone_draw"))
    seed = event.details["seed"]
    assert f"Tirage au sort enregistré (graine {seed})" in page and "Tirages enregistrés" in page
    assert f"Graine : {seed}" in page
    assert [c["id"] for c in event.details["candidates"]] == sorted(f.id for f in grey)
    assert event.details["envelopes_left_cents"] == [100 * K]      # 300 000 € less the two sure files
    assert len(event.details["retained"]) == 1 and event.details["left_after_cents"] == [0]
    assert sorted(event.details["order"]) == sorted(f.id for f in grey)
    assert event.details["robustness_run_id"] == db.session.scalar(db.select(RobustnessRun.id))
    drawn, = event.details["retained"]
    decisions = {d.application_id: d for d in db.session.scalars(db.select(Decision))}
    assert all(decisions[f.id].outcome == "selected" and decisions[f.id].published_at is None for f in sure)
    assert decisions[drawn].outcome == "selected" and decisions[drawn].reason == (
        f"Retenu (tirage au sort, graine {seed})")
    assert "zone grise" not in decisions[drawn].reason  # the association reads the reason of its decision
    assert sorted(k for k, d in decisions.items() if d.outcome == "waitlisted") == sorted(
        f.id for f in grey if f.id != drawn)
    assert low.id not in decisions

    result = app.test_cli_runner().invoke(args=["selection-draw-verify", "--call", call.slug])
    assert result.exit_code == 0, result.output
    assert "même résultat en le refaisant" in result.output and f"Graine : {seed}" in result.output
    # A record whose seed was changed afterwards does not give the same result.
    tampered = dict(event.details)
    tampered["seed"] = next(s for s in range(1000) if robustness.draw(
        [(c["id"], tuple(c["amount_per_year_cents"])) for c in event.details["candidates"]], [100 * K],
        s).retained != event.details["retained"])
    event.details = tampered
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["selection-draw-verify", "--call", call.slug])
    assert result.exit_code == 1 and "RÉSULTAT DIFFÉRENT" in result.output
    # The drafts made the stored result stale: no second draw before computing again.
    page = _page(client, call)
    assert "Résultat périmé" in page and 'action="/selection/appels/%d/proposition/tirage' % call.id not in page
    assert "ont changé depuis le calcul" in _draw(client, call)
    assert db.session.scalar(db.select(db.func.count(Event.id)).where(Event.action == "grey_zone_draw")) == 1


def test_the_draw_holds_what_is_left_of_each_years_envelope(app, client, staff, applicant, reviewer):
    # 3 years, 100 000 € a year; the sure file takes 50 000, 25 000, 25 000: left 50 000, 75 000, 75 000.
    # Each grey file asks 10 000, 30 000, 20 000: two fit in 2027's 75 000, not three.
    call, sure, grey, low = _grey_world(applicant, reviewer, years=3, envelopes=[100 * K] * 3,
                                        sure_per_year=[50 * K, 25 * K, 25 * K], grey_per_year=[10 * K, 30 * K, 20 * K])
    login(client, staff)
    _compute(client, call)
    run = db.session.scalar(db.select(RobustnessRun))
    assert all(robustness.in_grey_zone(run.probabilities[str(f.id)]) for f in grey), run.probabilities
    _draw(client, call)
    event = db.session.scalar(db.select(Event).where(Event.action == "grey_zone_draw"))
    assert event.details["envelopes_left_cents"] == [50 * K, 75 * K, 75 * K]
    assert len(event.details["retained"]) == 2
    assert event.details["left_after_cents"] == [30 * K, 15 * K, 35 * K]
    selected = db.session.scalars(db.select(Decision).where(Decision.outcome == "selected")).all()
    for year in range(3):
        assert sum(d.amount_per_year[year] for d in selected) <= 100 * K
    assert sorted(d.amount_per_year for d in selected) == sorted(
        [[50 * K, 25 * K, 25 * K]] + [[10 * K, 30 * K, 20 * K]] * 2)


def test_without_the_option_no_draw_button_and_the_draw_is_refused(app, client, staff, applicant, reviewer):
    call, sure, grey, low = _grey_world(applicant, reviewer, draw=False)
    login(client, staff)
    _compute(client, call)
    page = _page(client, call)
    assert "Zone grise" in page and "Tirer au sort" not in page and "/proposition/tirage" not in page
    page = _draw(client, call)
    assert "Le tirage au sort dans la zone grise n'est pas activé pour cet appel" in page
    assert db.session.scalar(db.select(Event).where(Event.action == "grey_zone_draw")) is None
    assert db.session.scalar(db.select(db.func.count(Decision.id))) == 0
    # Staff switch it on in the call's settings: the button shows.
    form = client.get(f"/instruction/appels/{call.id}").get_data(as_text=True)
    assert 'name="grey_zone_draw"' in form and "Tirage au sort dans la zone grise" in form
    update_call(call, staff, grey_zone_draw=True)
    assert "Tirer au sort dans la zone grise" in _page(client, call)


def test_propose_json_reads_the_stored_probabilities_or_computes_them(app, client, staff, applicant, reviewer):
    call, sure, grey, low = _grey_world(applicant, reviewer)
    args = ["propose", "--call", call.slug, "--json", "--min-per-region", "0"]
    data = _json.loads(app.test_cli_runner().invoke(args=args).output)
    assert data["robustness"] is None and all(f["probability"] is None for f in data["files"])
    computed = _json.loads(app.test_cli_runner().invoke(args=args + ["--robustness", "--seed", "7"]).output)
    assert computed["robustness"]["source"] == "computed" and computed["robustness"]["seed"] == 7
    by_ref = {f["reference"]: f for f in computed["files"]}
    assert all(by_ref[f.reference]["grey_zone"] for f in grey) and by_ref[low.reference]["probability"] == 0
    login(client, staff)
    _compute(client, call)
    run = db.session.scalar(db.select(RobustnessRun))
    data = _json.loads(app.test_cli_runner().invoke(args=args).output)
    assert data["robustness"]["source"] == "stored" and data["robustness"]["seed"] == run.seed
    assert data["robustness"]["stale"] is False
    assert {f["reference"]: f["probability"] for f in data["files"]} == {
        f.reference: run.probabilities[str(f.id)] for f in sure + grey + [low]}


def test_a_grey_zone_file_under_the_minimum_score_is_never_drawn(app, client, staff):
    # Room for every file: the file at 12/20 (16 or 8 by reviewer) is drawn; the one at 8/20 (16,
    # 4, 4) is in the grey zone (a re-sampling may lift it to 12 or 16) but under the minimum.
    call = factories.call(slug="aap-place", budget_cents=1_000 * K, grey_zone_draw=True)
    ev1, ev2, ev3 = fs.reviewers(3)
    above, under = fs.file(call, "Au-dessus"), fs.file(call, "En dessous")
    fs.review(above, ev1, [4, 4, 4])
    fs.review(above, ev2, [2, 2, 2])
    for reviewer, values in ((ev1, [4, 4, 4]), (ev2, [1, 1, 1]), (ev3, [1, 1, 1])):
        fs.review(under, reviewer, values)
    login(client, staff)
    _compute(client, call)
    run = db.session.scalar(db.select(RobustnessRun))
    assert robustness.in_grey_zone(run.probabilities[str(above.id)])
    assert robustness.in_grey_zone(run.probabilities[str(under.id)]), run.probabilities
    _draw(client, call)
    event = db.session.scalar(db.select(Event).where(Event.action == "grey_zone_draw"))
    assert [c["id"] for c in event.details["candidates"]] == [above.id] and event.details["retained"] == [above.id]
    assert db.session.get(Decision, above.decision.id).outcome == "selected" and under.decision is None


def test_the_ranking_and_the_export_show_the_stored_probabilities_while_they_are_current(
        app, client, staff, applicant, reviewer):
    import io

    from openpyxl import load_workbook

    call, sure, grey, low = _grey_world(applicant, reviewer)
    login(client, staff)
    ranking_url = f"/selection/appels/{call.id}"
    page = client.get(ranking_url).get_data(as_text=True)
    assert "Probabilité d'être retenu" not in page.replace("&#39;", "'") and "<meter" not in page
    _compute(client, call, query=QUERY + "&calibrated=y")
    run = db.session.scalar(db.select(RobustnessRun))
    p = {int(k): v for k, v in run.probabilities.items()}
    # The ranking, whatever its own filters, shows the latest run's probability beside each rank.
    page = client.get(ranking_url).get_data(as_text=True).replace("&#39;", "'")
    assert "<th scope=\"col\">Probabilité d'être retenu</th>" in page and "notes calibrées" in page
    assert page.count('<meter class="aap-meter"') == 6 and page.count(">Zone grise</span>") == 3
    percent = round(p[grey[1].id] * 100)
    assert f'value="{percent}" aria-hidden="true"></meter> <span class="aap-num">{percent} %</span>' in page
    assert "3 dossiers" in page and "calculer=1" in page and "calibrated=y" in page  # the link to its proposal
    # The export of that proposal: the reason and the probability of each file, as typed cells.
    response = client.get(f"/selection/appels/{call.id}/proposition.xlsx?{QUERY}&calibrated=y")
    rows = list(load_workbook(io.BytesIO(response.data))["Proposition"].iter_rows(values_only=True))
    header = rows[0]
    by_ref = {row[header.index("Référence")]: row for row in rows[1:]}
    for file in sure + grey + [low]:
        line = by_ref[file.reference]
        assert line[header.index("Probabilité d'être retenu")] == pytest.approx(p[file.id])
        assert line[header.index("Raison")]
    assert by_ref[low.reference][header.index("Raison")].startswith("note inférieure au minimum")
    # A score changes: the stored run is stale, the ranking says so and shows no probability.
    review = db.session.scalar(db.select(Review).where(Review.application_id == grey[1].id).limit(1))
    review.scores[0].value = 1
    db.session.commit()
    page = client.get(ranking_url).get_data(as_text=True)
    assert "est périmée" in page and "<meter" not in page and "Zone grise" not in page
