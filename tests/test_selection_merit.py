"""Issue 16 §1 and §3: the selection in merit order with every exception explained in French,
the minimum score, the yearly envelopes, the amount granted, and `propose --json`."""
import io
import itertools
import json
import random
import time

from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from aap.extensions import db
from aap.models import Decision
from aap.referentiel import REGIONS
from aap.selection import ranking
from aap.selection.optimizer import (
    MERIT,
    OPTIMAL,
    REASON_CAP,
    REASON_ENVELOPE,
    REASON_GUARANTEE,
    REASON_GUARANTEE_KEPT,
    REASON_MIN_SCORE,
    SUM,
    Candidate,
    Settings,
    check,
    select,
)
from aap.selection.proposal import ProposalSettings, propose

from . import factories
from . import factories_selection as fs

K = 1000_00  # a thousand euros, in cents


def test_merit_order_and_sum_of_scores_differ_on_a_small_case():
    candidates = [Candidate(1, 18.0, 60 * K, "11"), Candidate(2, 15.0, 50 * K, "11"),
                  Candidate(3, 14.0, 50 * K, "11")]
    merit = select(candidates, Settings(envelope_cents=100 * K, min_per_region=0, first_year=2026))
    total = select(candidates, Settings(envelope_cents=100 * K, min_per_region=0, first_year=2026, objective=SUM))
    # Merit order keeps the best file (18/20) and cannot fit the next ones; the sum of scores
    # prefers two cheaper files (15 + 14 = 29 > 18).
    assert merit.status == OPTIMAL and merit.selected == [1]
    assert merit.reasons == {1: "retenu dans l'ordre de mérite",
                             2: "ne tient pas dans l'enveloppe 2026 : il manque 10\u202f000\u00a0€",
                             3: "ne tient pas dans l'enveloppe 2026 : il manque 10\u202f000\u00a0€"}
    assert total.status == OPTIMAL and total.selected == [2, 3]
    assert total.reasons[1] == "ne tient pas dans l'enveloppe 2026 : il manque 60\u202f000\u00a0€"
    assert total.reasons[2] == total.reasons[3] == "retenu (somme des notes maximale)"


def test_minimum_score_file_never_proposed_even_with_room():
    candidates = [Candidate(1, 9.99, 1 * K, "11"), Candidate(2, 12.0, 1 * K, "11")]
    for objective in (MERIT, SUM):
        result = select(candidates, Settings(envelope_cents=100 * K, min_per_region=1, min_score=10,
                                             objective=objective))
        assert result.selected == [2]
        assert result.kinds[1] == REASON_MIN_SCORE
        assert result.reasons[1] == "note inférieure au minimum de 10/20 (9,99/20)"


def test_a_territorial_guarantee_passes_a_better_file_over_and_says_so():
    candidates = [Candidate(1, 18.0, 60 * K, "11"), Candidate(2, 17.0, 30 * K, "11"),
                  Candidate(3, 12.0, 40 * K, "03")]  # Guyane
    result = select(candidates, Settings(envelope_cents=100 * K, min_per_region=1, min_score=10))
    assert result.selected == [1, 3]
    assert result.kinds[2] == REASON_GUARANTEE
    assert result.reasons[2] == "écarté au profit de la garantie territoriale de la Guyane"
    assert result.kinds[3] == REASON_GUARANTEE_KEPT
    assert result.reasons[3] == "retenu au titre de la garantie territoriale de la Guyane"
    # Overseas territories can have a guarantee of their own: none here, so merit order alone.
    own = select(candidates, Settings(envelope_cents=100 * K, min_per_region=1, min_per_overseas=0, min_score=10))
    assert own.selected == [1, 2]
    assert own.reasons[3] == "ne tient pas dans l'enveloppe : il manque 30\u202f000\u00a0€"


def test_a_cap_per_region_is_named():
    candidates = [Candidate(1, 18.0, 40 * K, "11"), Candidate(2, 17.0, 40 * K, "11"),
                  Candidate(3, 11.0, 40 * K, "84")]
    result = select(candidates, Settings(envelope_cents=120 * K, min_per_region=0, region_cap_share=0.5))
    assert result.selected == [1, 3]
    assert result.kinds[2] == REASON_CAP
    assert result.reasons[2] == ("plafond de l'Île-de-France atteint : 40\u202f000\u00a0€ déjà retenus pour "
                                 "un plafond de 60\u202f000\u00a0€")


def test_a_yearly_envelope_binding_in_one_year_only():
    candidates = [Candidate(1, 18.0, 100 * K, "11", amount_per_year=(80 * K, 10 * K, 10 * K)),
                  Candidate(2, 17.0, 90 * K, "11", amount_per_year=(30 * K, 30 * K, 30 * K)),
                  Candidate(3, 16.0, 90 * K, "11", amount_per_year=(10 * K, 40 * K, 40 * K))]
    yearly = Settings(envelope_cents=300 * K, envelope_per_year=(100 * K, 100 * K, 100 * K), first_year=2025,
                      min_per_region=0)
    result = select(candidates, yearly)
    assert result.selected == [1, 3]
    assert result.kinds[2] == REASON_ENVELOPE
    assert result.reasons[2] == "ne tient pas dans l'enveloppe 2025 : il manque 10\u202f000\u00a0€"
    assert result.total_per_year == [90 * K, 50 * K, 50 * K]  # 2026 and 2027 had room
    assert check(candidates, yearly, result.selected) == []
    # Against the total alone, the second file fits.
    assert select(candidates, Settings(envelope_cents=300 * K, min_per_region=0)).selected == [1, 2, 3]


# --- merit order is exact: the lexicographic maximum, by brute force ----------------------------

def lexicographic_best(candidates, settings):
    """The feasible subset whose 0/1 vector in merit order is the largest (None: none feasible)."""
    order = sorted((i for i, c in enumerate(candidates) if c.fixed is None),
                   key=lambda i: (-(candidates[i].score or 0), i))
    best = None
    for mask in itertools.product((0, 1), repeat=len(candidates)):
        keys = [c.key for c, x in zip(candidates, mask) if x]
        if check(candidates, settings, keys):
            continue
        vector = tuple(mask[i] for i in order)
        if best is None or vector > best[0]:
            best = (vector, sorted(keys))
    return None if best is None else best[1]


instance_st = st.tuples(
    st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 200).map(lambda v: v / 10)),  # score
                       st.integers(1, 60), st.integers(0, 60),                          # amounts of 2 years
                       st.sampled_from(["11", "84", "03", None]),
                       st.sampled_from([None, None, None, None, True, False])), max_size=9),
    st.integers(0, 150), st.integers(0, 150),                   # envelope of each year
    st.integers(0, 2), st.sampled_from([None, 0, 1]),           # guarantee, overseas guarantee
    st.sampled_from([None, None, 0.3, 0.5]), st.sampled_from([None, 5.0, 10.0]))


@hyp_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instance_st)
def test_merit_order_is_the_lexicographic_maximum(instance):
    raw, first, second, n_min, n_overseas, cap, min_score = instance
    candidates = [Candidate(key=i, score=s, amount_cents=a + b, region=r, fixed=f, amount_per_year=(a, b))
                  for i, (s, a, b, r, f) in enumerate(raw)]
    settings = Settings(envelope_cents=first + second, envelope_per_year=(first, second), first_year=2025,
                        min_per_region=n_min, min_per_overseas=n_overseas, region_cap_share=cap,
                        min_score=min_score)
    expected = lexicographic_best(candidates, settings)
    result = select(candidates, settings)
    if expected is None:
        assert not result.feasible and result.reason
    else:
        assert result.feasible, result.reason
        assert sorted(result.selected) == expected
        # every scored free file has its reason
        assert all(result.reasons.get(c.key) for c in candidates)


def test_one_thousand_files_in_merit_order_in_under_two_seconds():
    rng = random.Random(2026)
    codes = [r.code for r in REGIONS]
    candidates = []
    for i in range(1000):
        total = rng.randrange(30_000_00, 150_000_00, 300)
        candidates.append(Candidate(key=i, score=rng.uniform(6, 19), amount_cents=total, region=rng.choice(codes),
                                    amount_per_year=(total // 3, total // 3, total - 2 * (total // 3))))
    settings = Settings(envelope_cents=21_000_000_00, envelope_per_year=(7_000_000_00,) * 3, first_year=2025,
                        min_per_region=2, region_cap_share=0.2, min_score=10)
    started = time.process_time()
    result = select(candidates, settings)
    elapsed = time.process_time() - started
    assert result.status == OPTIMAL and check(candidates, settings, result.selected) == []
    assert elapsed < 2.0, f"{elapsed:.2f} s"


# --- on a call: minimum score, amount granted, page, export, --json ------------------------------

def _text(response):
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True).replace("&#39;", "'")


def test_call_minimum_score_amount_granted_and_yearly_envelopes(app, staff, login_as):
    call = factories.call(slug="aap-cpo", years=3, budget_cents=300_000_00,
                          budget_per_year=[120_000_00, 90_000_00, 90_000_00], min_score=12)
    ev1, = fs.reviewers(1)
    best = fs.file(call, "Meilleure", region="84", requested_cents=180_000_00,
                   requested_per_year=[60_000_00, 60_000_00, 60_000_00])
    second = fs.file(call, "Seconde", region="84", requested_cents=150_000_00,
                     requested_per_year=[50_000_00, 50_000_00, 50_000_00])
    weak = fs.file(call, "Faible", region="84", requested_cents=10_000_00)
    fs.review(best, ev1, [5, 5, 5])
    fs.review(second, ev1, [4, 4, 4])
    fs.review(weak, ev1, [2, 2, 2])
    settings = ProposalSettings(min_per_region=0, keep_drafts=False)
    proposal = propose(call, settings)
    reasons = {line.row.reference: line.reason for line in proposal.lines}
    assert proposal.min_score == 12 and proposal.result.selected == [best.id]
    assert reasons[second.reference] == (f"ne tient pas dans l'enveloppe {call.year + 1} : "
                                         f"il manque 20\u202f000\u00a0€")  # 60 000 + 50 000 > 90 000
    assert reasons[weak.reference].startswith("note inférieure au minimum de 12/20")
    # Staff grant the second file less, split over the years: the proposal uses it.
    db.session.add(Decision(application_id=second.id, outcome="selected", amount_cents=90_000_00,
                            amount_per_year=[50_000_00, 20_000_00, 20_000_00]))
    db.session.commit()
    proposal = propose(call, settings)
    assert proposal.result.selected == [best.id, second.id]
    assert proposal.result.total_per_year == [110_000_00, 80_000_00, 80_000_00]
    # The decision page says the reduced amount's split, and offers it back with its digits grouped.
    page = _text(login_as(staff).get(f"/selection/appels/{call.id}/dossiers/{second.id}"))
    assert (f"90\u202f000\u00a0€ (50\u202f000\u00a0€ en {call.year}, 20\u202f000\u00a0€ en {call.year + 1}, "
            f"20\u202f000\u00a0€ en {call.year + 2})") in page
    assert 'value="90 000"' in page and 'value="50 000"' in page
    assert [(y.year, y.envelope_cents, y.granted_cents) for y in proposal.after.years] == [
        (call.year, 120_000_00, 110_000_00), (call.year + 1, 90_000_00, 80_000_00),
        (call.year + 2, 90_000_00, 80_000_00)]
    # The page: every file with its reason, the budget panel per year, both coverages, FRR.
    page = _text(login_as(staff).get(f"/selection/appels/{call.id}/proposition?calculer=1&min_per_region=0"))
    assert "note inférieure au minimum de 12/20" in page
    assert "Enveloppe par année" in page and "Régions avec un lauréat, par siège" in page
    assert "par territoires d'action" in page and "FRR" in page and "ZRR" not in page
    assert "coût par jeune et par an" in page
    # The export of the proposal says the same.
    response = login_as(staff).get(f"/selection/appels/{call.id}/proposition.xlsx?calculer=1&min_per_region=0")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data))["Proposition"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-3:] == ("Proposition", "Raison", "Probabilité d'être retenu")
    assert any(row[1] == weak.reference and row[-2].startswith("note inférieure au minimum de 12/20")
               for row in rows[1:])


def test_budget_panel_lists_candidate_regions_without_winner_and_cost_per_year(app, staff, login_as):
    call = factories.call(slug="aap-cpo-2", years=3, budget_cents=300_000_00)
    ev1, = fs.reviewers(1)
    lyon = fs.file(call, "Lyon", region="84", requested_cents=90_000_00, young_count=100)
    reunion = fs.file(call, "Réunion", region="04", departement="974", requested_cents=90_000_00)
    fs.review(lyon, ev1, [5, 5, 5])
    fs.review(reunion, ev1, [3, 3, 3])
    db.session.add(Decision(application_id=lyon.id, outcome="selected", amount_cents=90_000_00))
    db.session.commit()
    summary = ranking.load(call).budget()
    assert [(line.name, line.winners) for line in summary.regions] == [("Auvergne-Rhône-Alpes", 1),
                                                                        ("La Réunion", 0)]
    assert summary.cost_per_young_cents == 300_00  # 90 000 € over 3 years for 100 young people a year
    assert [y.granted_cents for y in summary.years] == [30_000_00] * 3


def test_propose_json(app, call):
    pool = fs.reviewers(4)
    files = fs.scored_files(call, 12, pool, regions=("84", "11", "93"), requested_cents=50_000_00)
    result = app.test_cli_runner().invoke(args=["propose", "--call", call.slug, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["envelope_cents"] == 1_000_000_00 and data["min_score"] == 10
    assert data["years"] == [{"year": call.year, "envelope_cents": 1_000_000_00,
                              "granted_cents": sum(f["amount_cents"] for f in data["files"] if f["selected"])}]
    assert len(data["files"]) == len(files)
    for entry in data["files"]:
        assert set(entry) >= {"reference", "score", "amount_cents", "selected", "reason", "probability"}
        assert isinstance(entry["selected"], bool) and entry["reason"]
        assert 0 <= entry["score"] <= 20 and entry["amount_cents"] == 50_000_00
        assert entry["probability"] is None or 0 <= entry["probability"] <= 1
    scores = [entry["score"] for entry in data["files"]]
    assert scores == sorted(scores, reverse=True)  # in merit order
    assert data["regions"]["by_head_office"]["covered"] <= data["regions"]["by_head_office"]["total"] == 18


def test_call_form_names_each_years_envelope_and_drops_them_for_a_one_year_call_under_way(app, staff, login_as):
    client = login_as(staff)
    cpo = factories.call(slug="aap-cpo-env", years=3, budget_cents=300_000_00,
                         budget_per_year=[120_000_00, 90_000_00, 90_000_00])
    page = _text(client.get(f"/instruction/appels/{cpo.id}"))
    year = cpo.year
    assert f"Enveloppe {year} (€)" in page and f"Enveloppe {year + 2} (€)" in page and "1re année" not in page
    assert 'value="120 000"' in page
    one_year = factories.call(slug="aap-annuel-env", years=1)
    assert 'name="envelope_year_1"' in _text(client.get(f"/instruction/appels/{one_year.id}"))  # may become a CPO
    fs.file(one_year, "Déjà là")  # applications started: the duration is final, one envelope
    page = _text(client.get(f"/instruction/appels/{one_year.id}"))
    assert 'name="envelope_year_1"' not in page and "Enveloppe budgétaire" in page
