"""Every staff and reviewer list page (and the association's dashboard) runs the same number of
SQL queries whatever the number of files: measured on a call with one file in each state, then
again after the call has grown to three files in each state (no timing here: scripts/bench.py
measures times; this only guards against queries per row, i.e. N+1)."""
from aap import timeutil
from aap.extensions import db
from aap.models import Conflict, Convention, Decision

from . import factories
from . import factories_selection as fs
from .conftest import count_queries, login

STATES = ("submitted", "in_review", "reviewed", "selected")


class Builder:
    """Adds files to a call: each state exercises other parts of the pages (assignments,
    draft and submitted reviews, conflicts, draft and published decisions, conventions)."""

    def __init__(self, call, special, others):
        self.call, self.special, self.others = call, special, others
        self.count = 0

    def add(self, per_state):
        for _ in range(per_state):
            for state in STATES:
                self.count += 1
                n = self.count
                region, departement = (("84", "69"), ("11", "75"), ("53", "35"))[n % 3]
                association = fs.association(f"Association {n}", region=region, departement=departement)
                application = factories.application(self.call, association, status=state,
                                                    reference=f"1J1M-QC-{n:04d}",
                                                    departements=[departement])
                if state == "submitted":
                    continue
                values = [1 + (n + i) % 5 for i in range(len(self.call.criteria))]
                other = self.others[n % len(self.others)]
                fs.review(application, other, values, proposed_cents=50_000_00)
                fs.review(application, self.special, values[::-1],
                          status="draft" if state == "in_review" else "submitted")
                if state == "reviewed":
                    db.session.add(Conflict(reviewer_id=self.others[(n + 1) % len(self.others)].id,
                                            association_id=association.id, application_id=application.id,
                                            reason="Ancien administrateur."))
                    db.session.add(Decision(application_id=application.id, outcome="waitlisted",
                                            decided_at=timeutil.now()))
                if state == "selected":
                    db.session.add(Decision(application_id=application.id, outcome="selected",
                                            amount_cents=50_000_00, amount_per_year=[50_000_00],
                                            decided_at=timeutil.now(), published_at=timeutil.now()))
                    db.session.add(Convention(application_id=application.id, number=f"1J1M-QC-CA-{n:04d}",
                                              data_fingerprint="", stored_name=None))
                db.session.commit()


def pages(call_id):
    return {
        "instruction: files of the call": ("staff", f"/instruction/appels/{call_id}/dossiers"),
        "instruction: files sorted by association": ("staff",
                                                     f"/instruction/appels/{call_id}/dossiers?tri=association"),
        "review: assignments": ("staff", f"/instruction/appels/{call_id}/affectations"),
        "review: assignments, files lacking reviewers": ("staff", f"/instruction/appels/{call_id}/affectations"
                                                                 "?filtre=a-completer"),
        "review: progress": ("staff", f"/instruction/appels/{call_id}/evaluations"),
        "review: conflicts of interest": ("staff", f"/instruction/appels/{call_id}/conflits"),
        "selection: ranking": ("staff", f"/selection/appels/{call_id}"),
        "selection: ranking, calibrated": ("staff", f"/selection/appels/{call_id}?calibration=1&tri=ecart"),
        "selection: proposal": ("staff", f"/selection/appels/{call_id}/proposition?calculer=1&min_per_region=0"
                                         "&keep_drafts=y"),
        "selection: calls": ("staff", "/selection/"),
        "documents of the call": ("staff", f"/instruction/appels/{call_id}/documents"),
        "staff dashboard": ("staff", "/tableau-de-bord"),
        "search across files": ("staff", f"/instruction/recherche?q=mentorat&appel={call_id}&commentaires=y"),
        "reviewer: own files": ("reviewer", "/tableau-de-bord"),
        "association: dashboard": ("applicant", "/tableau-de-bord"),
    }


def measure(app, clients, call_id):
    counts = {}
    for label, (who, url) in pages(call_id).items():
        client = clients[who]
        assert client.get(url).status_code == 200, (label, url)  # warm-up (caches of the first request)
        # A fresh session, as in production: nothing already loaded may hide a query per row.
        db.session.remove()
        with count_queries() as queries:
            response = client.get(url)
        assert response.status_code == 200, (label, url)
        counts[label] = queries()
    return counts


def test_list_pages_run_as_many_queries_for_many_files_as_for_few(app, staff, applicant):
    call = factories.call(slug="aap-qc", reviewers_per_file=2)
    special = factories.user("reviewer", email="evaluateur.qc@example.org", region_code="93")
    others = [factories.user("reviewer", email=f"autre{i}@example.org", region_code="93") for i in range(2)]
    factories.complete_identity(applicant.association)
    factories.application(call, applicant.association, status="submitted", reference="1J1M-QC-APP1")
    builder = Builder(call, special, others)
    builder.add(per_state=1)

    clients = {who: app.test_client() for who in ("staff", "reviewer", "applicant")}
    for who, user in (("staff", staff), ("reviewer", special), ("applicant", applicant)):
        login(clients[who], user)
    call_id = call.id
    few = measure(app, clients, call_id)

    # Three times as many files in every state; the association applies to two more calls.
    call = db.session.get(type(call), call_id)
    builder.call = call
    builder.special, builder.others = db.session.merge(special), [db.session.merge(o) for o in others]
    builder.add(per_state=2)
    association = db.session.merge(applicant).association
    for slug in ("aap-qc-2", "aap-qc-3"):
        factories.application(factories.call(slug=slug), association, status="draft")
    many = measure(app, clients, call_id)

    assert builder.count == 3 * len(STATES)
    assert many == few, {label: (few[label], many[label]) for label in few if few[label] != many[label]}
