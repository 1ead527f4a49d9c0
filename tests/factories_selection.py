"""Builders for the selection tests: scored files (assignments, reviews, scores), in bulk."""
from aap import timeutil
from aap.extensions import db
from aap.models import Application, Assignment, Association, Review, Score, User

from . import factories

_counter = {"n": 0}


def reviewers(count, region="11"):
    """Reviewer accounts (created without password hashing: they never log in in these tests)."""
    users = []
    for _ in range(count):
        _counter["n"] += 1
        users.append(User(email=f"evaluateur{_counter['n']}@example.org", role="reviewer",
                          first_name="Éva", last_name=f"Luateur {_counter['n']}", region_code=region,
                          email_confirmed_at=timeutil.now()))
    db.session.add_all(users)
    db.session.commit()
    return users


def association(name, region="84", departement="69", with_member=False):
    """An association with a complete identity (optionally one applicant member)."""
    _counter["n"] += 1
    record = Association(name=name)
    db.session.add(record)
    factories.complete_identity(record, departement=departement, region=region)
    if with_member:
        member = User(email=f"membre{_counter['n']}@example.org", role="applicant", first_name="Membre",
                      last_name=name, association=record, email_confirmed_at=timeutil.now())
        db.session.add(member)
        db.session.commit()
    return record


def review(application, reviewer, values, recommendation="favorable", proposed_cents=None, status="submitted",
           commit=True):
    """An assignment and a review with one score per criterion of the call (values in criteria order)."""
    criteria = application.call.criteria
    db.session.add(Assignment(application_id=application.id, reviewer_id=reviewer.id))
    record = Review(application_id=application.id, reviewer_id=reviewer.id, status=status,
                    recommendation=recommendation, proposed_amount_cents=proposed_cents,
                    submitted_at=timeutil.now() if status == "submitted" else None)
    record.scores = [Score(criterion_id=c.id, value=v) for c, v in zip(criteria, values)]
    db.session.add(record)
    if commit:
        db.session.commit()
    return record


REGION_DEPARTEMENTS = {"84": "69", "11": "75", "93": "13", "94": "2A", "53": "35", "76": "31", "32": "59"}


def scored_files(call, count, reviewer_pool, regions=("84", "11", "93"), status="reviewed", seed=0,
                 requested_cents=100_000_00):
    """`count` files (one association each) with two submitted reviews each, in one transaction."""
    import random
    rng = random.Random(seed)
    criteria = call.criteria
    applications = []
    for i in range(count):
        region = regions[i % len(regions)]
        departement = REGION_DEPARTEMENTS.get(region, "69")
        _counter["n"] += 1
        assoc = Association(name=f"Association {_counter['n']}", region_code=region,
                            departement_code=departement, contact_email=f"asso{_counter['n']}@example.org")
        app = Application(call=call, association=assoc, status=status, title=f"Projet {i}",
                          reference=f"1J1M-{call.year}-{_counter['n']:05d}", young_count=100 + i,
                          share_qpv=30, share_zrr=10, departements=[departement],
                          requested_cents=requested_cents, requested_per_year=[requested_cents],
                          submitted_at=timeutil.now(), fingerprint="0" * 64)
        db.session.add(app)
        applications.append(app)
    db.session.flush()
    for i, app in enumerate(applications):
        pair = rng.sample(reviewer_pool, 2) if len(reviewer_pool) >= 2 else reviewer_pool
        for reviewer in pair:
            values = [rng.randint(1, c.scale_max) for c in criteria]
            review(app, reviewer, values, recommendation=rng.choice(["favorable", "reserve", "defavorable"]),
                   proposed_cents=requested_cents, commit=False)
    db.session.commit()
    return applications


def file(call, name, region="84", departement="69", status="reviewed", with_member=False, **fields):
    """One file of a fresh association (complete identity), via tests/factories.application."""
    assoc = association(name, region=region, departement=departement, with_member=with_member)
    fields.setdefault("departements", [departement])
    return factories.application(call, assoc, status=status, **fields)


ALL_WARNINGS = ("evaluations", "sans_decision", "enveloppe")


def confirmation_fingerprint(page):
    """The fingerprint a confirmation page (publication, sending of the mails) carries."""
    import re
    match = re.search(r'name="fingerprint" type="hidden" value="([0-9a-f]*)"', page)
    assert match, "no fingerprint on the confirmation page"
    return match.group(1)


def publish(client, call, acknowledge=ALL_WARNINGS, **kwargs):
    """Publish through the confirmation page as staff do: read it, tick the warnings, confirm."""
    url = f"/selection/appels/{call.id}/publier"
    page = client.get(url).get_data(as_text=True)
    return client.post_form(url, {"fingerprint": confirmation_fingerprint(page), "ack": list(acknowledge)},
                            **kwargs)


def send_mails(client, call, **kwargs):
    """Send the call's decision mails through their confirmation page."""
    url = f"/selection/appels/{call.id}/courriers/envoyer"
    page = client.get(url).get_data(as_text=True)
    return client.post_form(url, {"fingerprint": confirmation_fingerprint(page)}, **kwargs)
