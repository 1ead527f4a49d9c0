"""build_demo: the three calls of the demo, their files, reviews and decisions, in bulk."""
import secrets
from datetime import timedelta
from decimal import Decimal

import click
from sqlalchemy import func, insert

from .. import timeutil
from ..applications import budget as B
from ..applications.budget import derived as budget_derived
from ..calls.template import apply_template
from ..extensions import db
from ..models import (
    Application,
    Assignment,
    Association,
    Call,
    Conflict,
    Criterion,
    Decision,
    Event,
    PrivateNote,
    PrivateNoteVersion,
    Review,
    Score,
    User,
)
from ..models.applications import Status
from ..models.calls import CallStatus
from ..models.review import FAVORABLE, REVIEW_DRAFT, REVIEW_SUBMITTED, UNFAVORABLE
from ..models.selection import OUTCOME_REJECTED, OUTCOME_SELECTED, OUTCOME_WAITLISTED
from ..models.users import hash_password
from ..referentiel import DEPARTEMENT_BY_CODE, DEPARTEMENTS
from ..search import index as search_index
from .accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from .builder import EURO, DemoBuilder, ascii_slug, paris, recommendation_for, round_to, split_years, young_weight
from .pieces import attach_pieces, record_uploads
from .vocabulary import (
    COMMENTS,
    CONFLICT_REASONS,
    DESCRIPTION_2025,
    DESCRIPTION_2026,
    DESCRIPTION_TOPUP,
    GRID_2025_WEIGHTS,
    INADMISSIBLE_REASONS,
    PUBLISH_REASON,
    QUALITY_CRITERION,
    REJECT_REASON,
    REVIEW_COMMENTS,
    REVIEWER_REGIONS,
)

N_APPLICATIONS = 230
N_SELECTED = 67
N_INADMISSIBLE = 14
N_WAITLISTED = 15
N_REVIEWERS = 25
N_DRAFTS_2026 = 6
N_TOPUP_FILES = 24      # the 2026 top-up call, under review
N_TOPUP_UNCHECKED = 4  # of which not yet checked for admissibility
N_DEMO_REVIEWER_FILES = 4
# The envelopes, in euros: the 2025 call's 16 M€ over its three years (the first year's larger: the
# advances are paid then), and the top-up call's one year, short of what its files ask together.
ENVELOPES_2025 = (5_600_000, 5_300_000, 5_100_000)
TOPUP_ENVELOPE = 800_000
TOPUP_ROBUSTNESS_SEED = 20261130  # the stored robustness of the top-up call's proposal (published seed)


class DemoError(click.ClickException, ValueError):
    """Refusal to build the demo data (shown by the CLI as a clear French message)."""


def _check_empty():
    for model in (User, Call, Association):
        if db.session.scalar(db.select(model.id).limit(1)) is not None:
            raise DemoError(
                "La base de données n'est pas vide : les données de démonstration ne se chargent que "
                "dans une base neuve. Utilisez une autre base (DATABASE_URL) ou supprimez la base "
                "actuelle, puis lancez « flask --app aap db upgrade » et « flask --app aap demo-data ».")


def build_demo(seed=2025):
    """Build the whole demo data set in an empty database; returns French summary lines."""
    _check_empty()
    b = DemoBuilder(seed)
    rng = b.rng
    emails = dict((role, email) for email, role in DEMO_ACCOUNTS)
    # One (salted, slow) hash shared by the four demo accounts: they have the same password.
    demo_hash = hash_password(DEMO_PASSWORD)
    # The panel's other reviewers have activated their accounts (so they can be assigned) with a
    # password of their own, unknown here: they would sign in through a reset link.
    unknown_hash = hash_password(secrets.token_urlsafe(24))

    # ---- staff, admin, reviewers
    t0 = paris(2024, 11, 4, 9)
    staff = b.account(emails["staff"], "staff", "Camille", "Durand", t0, demo_hash)
    admin = b.account(emails["admin"], "admin", "Dominique", "Bernard", t0, demo_hash)
    colleague = b.account("mathieu.roussel@jeunesse-sports.example.org", "staff", "Mathieu", "Roussel", t0)
    reviewers, biases = [], []
    for index, region in enumerate(REVIEWER_REGIONS[:N_REVIEWERS]):
        if index == 0:
            reviewer = b.account(emails["reviewer"], "reviewer", "Yann", "Le Goff", t0, demo_hash,
                                 region_code=region)
        else:
            _, first, last = b.person()
            email = f"{ascii_slug(first)}.{ascii_slug(last)}@evaluateurs.example.org"
            n = 2
            while email in b.emails:
                email = f"{ascii_slug(first)}.{ascii_slug(last)}{n}@evaluateurs.example.org"
                n += 1
            reviewer = b.account(email, "reviewer", first, last, t0, unknown_hash, region_code=region)
        reviewers.append(reviewer)
        # A few lenient and a few severe reviewers; the others close to neutral.
        biases.append(0.8 if index % 6 == 1 else -0.8 if index % 6 == 4 else rng.gauss(0, 0.25))

    # ---- calls
    call25 = apply_template(Call(
        slug="aap-2025", title="Appel à projets 1 jeune 1 mentor 2025", description=DESCRIPTION_2025,
        year=2025, status=CallStatus.DRAFT, opens_at=paris(2025, 2, 3, 10), closes_at=paris(2025, 3, 31, 23, 59, 59),
        review_deadline=paris(2025, 5, 16, 23, 59, 59), budget_cents=16_000_000 * EURO,
        budget_per_year=[v * EURO for v in ENVELOPES_2025],
        min_amount_cents=20_000 * EURO, max_amount_cents=600_000 * EURO, years=3, reviewers_per_file=3,
        avoid_same_region=True, hide_other_reviews=True, advance_percent=50,
        published_at=paris(2025, 1, 27, 10), created_at=paris(2025, 1, 13, 14)))
    _grid_2025(call25)
    call26 = apply_template(Call(
        slug="aap-2026", title="Appel à projets 1 jeune 1 mentor 2026", description=DESCRIPTION_2026,
        year=2026, status=CallStatus.DRAFT, opens_at=paris(2026, 10, 1), closes_at=paris(2027, 1, 31, 23, 59, 59),
        review_deadline=paris(2027, 3, 31, 23, 59, 59), budget_cents=18_000_000 * EURO,
        min_amount_cents=20_000 * EURO, max_amount_cents=500_000 * EURO, years=1, reviewers_per_file=3,
        avoid_same_region=True, hide_other_reviews=True, advance_percent=50,
        published_at=paris(2026, 9, 15, 10), created_at=paris(2026, 9, 1, 11)))

    # ---- associations: one per département first (all 101, so all 18 régions), then by population
    departements = list(DEPARTEMENTS)
    rng.shuffle(departements)
    # The others where the young people are (so that the amounts per région follow them, roughly).
    extra = rng.choices(DEPARTEMENTS, weights=[young_weight(d) for d in DEPARTEMENTS],
                        k=N_APPLICATIONS - len(departements))
    demo_departement = DEPARTEMENT_BY_CODE["69"]
    departements.remove(demo_departement)
    placed = [demo_departement] + departements + extra
    associations = []
    for index, departement in enumerate(placed):
        at = paris(2025, 2, 3, 10) + timedelta(minutes=rng.randint(0, 50 * 24 * 60))
        if index == 0:
            association = b.association(departement, at, name="Tremplin Mentorat Rhône", quality=0.9)
            association.acronym = "TMR"
        else:
            association = b.association(departement, at)
        associations.append(association)

    members = []
    for index, association in enumerate(associations):
        first, _, last = association.representative_name.partition(" ")
        if index == 0:
            user = b.account(emails["applicant"], "applicant", first, last, association.created_at,
                             demo_hash, association=association)
        else:
            user = b.account(association.contact_email, "applicant", first, last, association.created_at,
                             association=association)
        user.legal_representative = True  # each association's first member is its legal representative
        members.append(user)

    db.session.add_all([staff, admin, colleague, call25, call26, *reviewers, *associations, *members])
    db.session.flush()
    b.event("call_created", call25.created_at, staff, call=call25, slug=call25.slug)
    b.transition("call_published", call25.published_at, staff, call25, CallStatus.PUBLISHED)
    b.transition("call_closed", paris(2025, 4, 1, 9), staff, call25, CallStatus.CLOSED)
    b.event("call_created", call26.created_at, staff, call=call26, slug=call26.slug)
    b.transition("call_published", call26.published_at, staff, call26, CallStatus.PUBLISHED)

    # ---- 2025 applications, submitted in the order of their submission time
    applications = []
    deadline = call25.closes_at
    for association, member in zip(associations, members):
        created = association.created_at
        # Many files arrive in the last days before the deadline.
        remaining = (deadline - created).total_seconds()
        submitted = created + timedelta(seconds=remaining * (1 - rng.random() ** 2.5) * 0.98)
        application = b.submitted_file(call25, association, member, created, submitted)
        attach_pieces(application, member, created, submitted)
        applications.append(application)
    _number_in_order_of_submission(call25, applications)

    # ---- 2026 drafts: the demo association and a few others of the 2025 cohort
    drafts = []
    others = rng.sample(range(1, len(associations)), N_DRAFTS_2026 - 1)
    for order, index in enumerate([0] + sorted(others)):
        association, member = associations[index], members[index]
        created = paris(2026, 10, 2, 9) + timedelta(days=order * 6, minutes=rng.randint(0, 600))
        draft = Application(call=call26, association=association, status=Status.DRAFT, created_by_id=member.id,
                            updated_by_id=member.id, created_at=created, updated_at=created + timedelta(days=3))
        b.project(draft, association, call26)
        # A draft in progress: the budget and the attestation are still to be filled (every other
        # draft has its charges and its request typed, its other resources not yet: unbalanced).
        draft.attestation_name = None
        if order % 2 == 0:
            draft.budget, draft.budget_comment = {}, ""
        else:
            draft.budget = {year: {code: amount for code, amount in cells.items() if code < "70" or code == "74_aap"}
                            for year, cells in draft.budget.items()}
        for name, value in budget_derived(draft.budget, call26.years).items():
            setattr(draft, name, value)
        draft.demo_member = member
        # The pieces an association has at hand first: its statuts and its RIB.
        attach_pieces(draft, member, created, draft.updated_at, codes=("statuts", "rib"))
        drafts.append(draft)

    db.session.add_all(applications + drafts)
    db.session.flush()

    for application in applications:
        member = application.demo_member
        b.event("application_created", application.created_at, member, application)
        record_uploads(b, application, member)
        b.transition("application_submitted", application.submitted_at, member, application, Status.SUBMITTED,
                     reference=application.reference, fingerprint=application.fingerprint)
    for draft in drafts:
        b.event("application_created", draft.created_at, draft.demo_member, draft)
        record_uploads(b, draft, draft.demo_member)

    # ---- admissibility
    # The demo association's file is admissible (it is one of the winners to show).
    inadmissible = set(rng.sample([a.id for a in applications if a.association is not associations[0]],
                                  N_INADMISSIBLE))
    admissible = []
    for application in applications:
        at = paris(2025, 4, 2, 9) + timedelta(minutes=rng.randint(0, 8 * 24 * 60))
        if application.id in inadmissible:
            reason = rng.choice(INADMISSIBLE_REASONS)
            b.transition("admissibility", at, rng.choice([staff, colleague]), application, Status.INADMISSIBLE,
                         reason=reason)
        else:
            b.transition("admissibility", at, rng.choice([staff, colleague]), application, Status.ADMISSIBLE)
            admissible.append(application)

    # ---- a few declared conflicts of interest
    conflicts = set()
    conflict_rows = []
    for _ in range(10):
        reviewer = rng.choice(reviewers)
        association = rng.choice(associations)
        if (reviewer.id, association.id) in conflicts:
            continue
        conflicts.add((reviewer.id, association.id))
        at = paris(2025, 4, 10, 9) + timedelta(minutes=rng.randint(0, 3000))
        conflict_rows.append(dict(reviewer_id=reviewer.id, association_id=association.id,
                                  reason=rng.choice(CONFLICT_REASONS), created_at=at))
        b.event("conflict_declared", at, reviewer, association_id=association.id)

    # ---- assignment: k reviewers per file, never of the file's région nor in conflict, balanced loads
    loads = {r.id: 0 for r in reviewers}
    assigned_at = paris(2025, 4, 14, 10)
    assignments, reviews, scores = [], [], {}
    order = admissible[:]
    rng.shuffle(order)
    criteria = call25.criteria
    for application in order:
        region = application.association.region_code
        candidates = [r for r in reviewers if r.region_code != region
                      and (r.id, application.association_id) not in conflicts]
        candidates.sort(key=lambda r: (loads[r.id], rng.random()))
        chosen = sorted(candidates[:call25.reviewers_per_file], key=lambda r: r.id)
        quality = application.association.demo_quality
        last_review = assigned_at
        for reviewer in chosen:
            loads[reviewer.id] += 1
            opened = assigned_at + timedelta(days=rng.randint(0, 12), minutes=rng.randint(0, 600))
            submitted = opened + timedelta(days=rng.randint(0, 14), minutes=rng.randint(10, 300))
            submitted = min(submitted, call25.review_deadline - timedelta(minutes=rng.randint(5, 600)))
            last_review = max(last_review, submitted)
            assignments.append(dict(application_id=application.id, reviewer_id=reviewer.id,
                                    assigned_by_id=staff.id, assigned_at=assigned_at,
                                    notified_at=assigned_at, no_conflict_confirmed_at=opened))
            values = b.scores(quality, biases[reviewers.index(reviewer)], criteria)
            recommendation = recommendation_for(values)
            proposed = None
            if recommendation != UNFAVORABLE:
                factor = rng.uniform(0.85, 1.0) if recommendation == FAVORABLE else rng.uniform(0.6, 0.85)
                proposed = max(call25.min_amount_cents, round_to(application.requested_cents * factor, 1000))
            reviews.append(dict(application_id=application.id, reviewer_id=reviewer.id, status=REVIEW_SUBMITTED,
                                recommendation=recommendation, proposed_amount_cents=proposed,
                                comment=REVIEW_COMMENTS[recommendation], created_at=opened,
                                updated_at=submitted, submitted_at=submitted))
            scores[(application.id, reviewer.id)] = values
            b.event("review_submitted", submitted, reviewer, application, reviewer_id=reviewer.id,
                    recommendation=recommendation)
        b.event("reviewer_assigned", assigned_at, staff, application,
                reviewer_ids=[r.id for r in chosen], manual=False)
        b.transition("state_change", assigned_at, staff, application, Status.IN_REVIEW,
                     reason="Affectation automatique des évaluateurs.")
        b.transition("state_change", last_review, None, application, Status.REVIEWED,
                     reason="Toutes les évaluations attendues ont été envoyées.")
    b.event("auto_assignment_applied", assigned_at, staff, call=call25, pairs=len(assignments))

    # ---- ranking: weighted mean of the criteria (on 20), averaged over the reviewers
    weights = [float(c.weight) for c in criteria]
    per_application = {}
    for (application_id, _), values in scores.items():
        total = sum(w * v / c.scale_max for w, v, c in zip(weights, values, criteria))
        per_application.setdefault(application_id, []).append(20 * total / sum(weights))
    for application in admissible:
        marks = per_application[application.id]
        application.demo_score = sum(marks) / len(marks)
    ranked = sorted(admissible, key=lambda a: (-a.demo_score, a.reference))

    # Territorial balance: the best file of each région first, then the best of the rest.
    winners, seen_regions = [], set()
    for application in ranked:
        region = application.association.region_code
        if region not in seen_regions and application.demo_score >= 9:
            seen_regions.add(region)
            winners.append(application)
    for application in ranked:
        if len(winners) >= N_SELECTED:
            break
        if application not in winners:
            winners.append(application)
    winners = winners[:N_SELECTED]
    winner_ids = {a.id for a in winners}
    rest = [a for a in ranked if a.id not in winner_ids]
    waitlisted_ids = {a.id for a in rest[:N_WAITLISTED]}

    granted = {}
    for application in winners:
        factor = 1.0 if rng.random() < 0.55 else rng.uniform(0.7, 0.95)
        granted[application.id] = max(call25.min_amount_cents,
                                      round_to(application.requested_cents * factor, 1000))
    total = sum(granted.values())
    if total > call25.budget_cents:
        ratio = call25.budget_cents / total
        for key in granted:
            granted[key] = max(call25.min_amount_cents, int(granted[key] * ratio) // (1000 * EURO) * (1000 * EURO))
    while sum(granted.values()) > call25.budget_cents:
        largest = max(granted, key=lambda k: (granted[k], k))
        granted[largest] -= 1000 * EURO
    decided_at, published_at = paris(2025, 6, 12, 15), paris(2025, 6, 20, 10)
    decisions = []
    for application in ranked:
        if application.id in winner_ids:
            outcome, amount, reason = OUTCOME_SELECTED, granted[application.id], ""
        elif application.id in waitlisted_ids:
            outcome, amount, reason = OUTCOME_WAITLISTED, None, ""
        else:
            outcome, amount, reason = OUTCOME_REJECTED, None, REJECT_REASON
        decisions.append(dict(
            application_id=application.id, outcome=outcome, amount_cents=amount,
            amount_per_year=split_years(amount, call25.years) if amount else [], reason=reason,
            decided_by_id=staff.id, decided_at=decided_at, published_at=published_at,
            published_by_id=admin.id, adjusted_budget=None, adjusted_at=None))
        b.transition("decision_published", published_at, admin, application, Status(outcome),
                     reason=reason or PUBLISH_REASON, outcome=outcome, amount_cents=amount)
        application.updated_at = published_at
    _adjust_budgets(b, call25, winners, decisions, associations[0], published_at)
    _private_notes(b, staff, colleague, applications, winners, associations[0], published_at)

    reviews_2025 = len(reviews)

    # ---- the 2026 top-up call, under review (drawn last: the 2025 data do not depend on it)
    topup, topup_summary = _topup_call(b, staff, colleague, reviewers, biases, associations[1:], members[1:], conflicts,
                                assignments, reviews, scores)

    # Bulk inserts (executemany), then the scores with the ids of their reviews.
    db.session.flush()
    for model, rows in ((Conflict, conflict_rows), (Assignment, assignments), (Review, reviews),
                        (Decision, decisions)):
        db.session.execute(insert(model), rows)
    review_ids = {(a, r): i for i, a, r in db.session.execute(
        db.select(Review.id, Review.application_id, Review.reviewer_id))}
    # Each review is scored on the criteria of its own call (the 2025 call's or the top-up call's).
    call_of = dict(db.session.execute(db.select(Application.id, Application.call_id)).all())
    criteria_of = {c.id: c.criteria for c in db.session.scalars(db.select(Call))}
    score_rows = []
    for key, values in sorted(scores.items()):
        for criterion, value in zip(criteria_of[call_of[key[0]]], values):
            level = "low" if value <= 1 else "high" if value >= criterion.scale_max - 1 else "mid"
            score_rows.append(dict(review_id=review_ids[key], criterion_id=criterion.id, value=value,
                                   comment=COMMENTS[criterion.label][level]))
    db.session.execute(insert(Score), score_rows)
    _topup_robustness(b, topup, staff)
    b.events.sort(key=lambda e: (e["at"], e["action"], e["application_id"] or 0))
    db.session.execute(insert(Event), b.events)
    # The reviews and scores went in by bulk inserts, which the index's session hook does not see.
    search_index.reindex_all(db.session.connection())

    granted_total = sum(granted.values())
    summary = [
        f"Appel « {call25.title} » (clos) : {len(applications)} dossiers déposés par {len(associations)} "
        f"associations de {len({a.departement_code for a in associations})} départements et "
        f"{len({a.region_code for a in associations})} régions.",
        f"  {len(admissible)} recevables, {N_INADMISSIBLE} irrecevables ; {reviews_2025} évaluations par "
        f"{len(reviewers)} évaluateurs ; {len(winners)} lauréats pour "
        f"{_euros(granted_total)} sur une enveloppe de {_euros(call25.budget_cents)}.",
        topup_summary,
        f"Appel « {call26.title} » (ouvert jusqu'au {timeutil.format_datetime(call26.closes_at)}) : "
        f"{len(drafts)} brouillons.",
    ]
    db.session.commit()
    # After the decision: the 2025 call's conventions, payments and yearly reports (issue 18).
    from .followup import build_followup
    summary += build_followup(seed)
    return summary


# Staff's private notes of the demo (aap/instruction/notes.py): never shown to the associations.
DEMO_NOTES = (
    "Projet solide, mais l'effectif de mentors annoncé paraît optimiste au regard du nombre de salariés : "
    "à vérifier avec l'association avant le premier versement.",
    "Appel téléphonique avec la présidente : le partenariat avec le lycée professionnel est confirmé par écrit.",
    "Comptes 2024 déposés en retard au journal officiel ; rien de bloquant, à surveiller au compte rendu financier.",
    "Dossier non retenu de peu : à encourager à candidater de nouveau, avec un budget plus détaillé.",
)
DEMO_ASSOCIATION_NOTE = ("Interlocutrice habituelle : la trésorière, joignable le matin. L'association a changé "
                         "de local en 2025 : vérifier l'adresse du siège sur la prochaine convention.")


def _private_notes(b, staff, colleague, applications, winners, demo_association, published_at):
    """A few staff notes (no random draw): on the demo association's 2025 file (edited once, its
    first text kept), on three other winners and a file not retained, and one on the demo association."""
    winner_ids = {a.id for a in winners}
    demo_file = next(a for a in applications if a.association is demo_association)
    others = [a for a in winners if a is not demo_file][:3]
    others.append(next(a for a in applications if a.id not in winner_ids and a.status == Status.REJECTED))
    notes = []
    first = published_at - timedelta(days=20)
    demo_note = PrivateNote(association_id=demo_file.association_id, application_id=demo_file.id, scope="staff",
                            author_id=staff.id, body=DEMO_NOTES[0], created_at=first,
                            updated_at=first + timedelta(days=9), updated_by_id=colleague.id)
    demo_note.body = DEMO_NOTES[0] + " Vérifié le 5 juin : 40 mentors bénévoles recrutés, c'est cohérent."
    demo_note.versions.append(PrivateNoteVersion(body=DEMO_NOTES[0], written_at=first, written_by_id=staff.id,
                                                 replaced_at=first + timedelta(days=9)))
    notes.append((demo_note, demo_file))
    for rank, (application, body) in enumerate(zip(others, DEMO_NOTES[1:] * 2)):
        at = published_at - timedelta(days=15 - rank, hours=rank)
        notes.append((PrivateNote(association_id=application.association_id, application_id=application.id,
                                  scope="staff", author_id=(staff if rank % 2 else colleague).id, body=body,
                                  created_at=at, updated_at=at, updated_by_id=(staff if rank % 2 else colleague).id),
                      application))
    at = published_at + timedelta(days=2)
    notes.append((PrivateNote(association_id=demo_association.id, scope="staff", author_id=staff.id,
                              body=DEMO_ASSOCIATION_NOTE, created_at=at, updated_at=at, updated_by_id=staff.id), None))
    db.session.add_all(note for note, _ in notes)
    db.session.flush()
    for note, application in notes:
        author = staff if note.author_id == staff.id else colleague
        b.event("private_note_added", note.created_at, author, application, association_id=note.association_id,
                note_id=note.id, scope="staff")
    b.event("private_note_edited", demo_note.updated_at, colleague, demo_file, note_id=demo_note.id, scope="staff")


# When the five latecomers adjusted their budget (their conventions are issued the next working day).
LATE_ADJUSTMENTS = (paris(2026, 11, 3, 15), paris(2026, 11, 18, 11), paris(2026, 11, 23, 17),
                    paris(2026, 11, 25, 9, 30), paris(2026, 11, 27, 14))


def _adjust_budgets(b, call, winners, decisions, demo_association, published_at):
    """The budget as granted (applications.adjustment): the winners granted less than they asked
    adjust their budget to the grant (the charges reduced as budget.reduced_to_grant does), within
    a month of the decision, except two — the demo association's file when it is one of them —
    whose conventions wait for it, and five others that adjusted it only in November 2026 (their
    conventions, issued then, are not returned yet: followup.py). No random draw (the demo's other
    draws stay the same)."""
    by_id = {row["application_id"]: row for row in decisions}
    reduced = [a for a in winners
               if not B.fits_grant(B.clean(a.budget, call.years), by_id[a.id]["amount_per_year"], call.years)]
    waiting = [a for a in reduced if a.association is demo_association] + list(reversed(reduced))
    waiting_ids = {a.id for a in waiting[:2]}
    late = [a for a in waiting[2:] if a.association is not demo_association][:len(LATE_ADJUSTMENTS)]
    late_at = {a.id: at for a, at in zip(late, LATE_ADJUSTMENTS)}
    for rank, application in enumerate(a for a in reduced if a.id not in waiting_ids):
        row = by_id[application.id]
        adjusted = B.reduced_to_grant(application.budget, row["amount_per_year"], call.years)
        at = late_at.get(application.id) or published_at + timedelta(days=3 + rank % 25, hours=rank % 7)
        row.update(adjusted_budget=adjusted, adjusted_at=at)
        b.event("budget_adjusted", at, application.demo_member, application, amount_cents=row["amount_cents"],
                charges_cents=B.totals(adjusted, call.years)[1].charges,
                previous_charges_cents=B.totals(application.budget, call.years)[1].charges)


def _topup_call(b, staff, colleague, reviewers, biases, associations, members, conflicts,
                assignments, reviews, scores):
    """A closed 2026 top-up call whose review is under way, so that every role has work in
    progress: files still to check for admissibility, files assigned to two reviewers each with
    reviews sent, saved as drafts or not started, and four files for the demo reviewer (one
    review sent, one saved, one to write, one whose absence of conflict is still to confirm).
    Appends to assignments, reviews and scores (inserted in bulk by build_demo); returns the
    call and its summary line."""
    rng = b.rng
    call = apply_template(Call(
        slug="aap-2026-renfort", title="Appel à projets 1 jeune 1 mentor 2026 — renfort quartiers et ruralité",
        description=DESCRIPTION_TOPUP, reference_prefix="1J1M-RF",
        year=2026, status=CallStatus.DRAFT, opens_at=paris(2026, 9, 1, 10), closes_at=paris(2026, 10, 30, 23, 59, 59),
        review_deadline=paris(2026, 12, 11, 23, 59, 59), budget_cents=TOPUP_ENVELOPE * EURO,
        budget_per_year=[TOPUP_ENVELOPE * EURO],
        min_amount_cents=20_000 * EURO, max_amount_cents=200_000 * EURO, years=1, reviewers_per_file=2,
        avoid_same_region=True, hide_other_reviews=True, advance_percent=50,
        published_at=paris(2026, 8, 25, 10), created_at=paris(2026, 8, 18, 11)))
    db.session.add(call)
    db.session.flush()  # the ids of its required documents, for the files' attachments and snapshots
    chosen = sorted(rng.sample(range(len(associations)), N_TOPUP_FILES))
    files = []
    for index in chosen:
        association, member = associations[index], members[index]
        created = paris(2026, 9, 1, 10) + timedelta(minutes=rng.randint(0, 40 * 24 * 60))
        submitted = min(created + timedelta(minutes=rng.randint(60, 14 * 24 * 60)),
                        call.closes_at - timedelta(minutes=5))
        application = b.submitted_file(call, association, member, created, submitted)
        attach_pieces(application, member, created, submitted)
        files.append(application)
    _number_in_order_of_submission(call, files)
    db.session.add_all(files)
    db.session.flush()
    b.event("call_created", call.created_at, staff, call=call, slug=call.slug)
    b.transition("call_published", call.published_at, staff, call, CallStatus.PUBLISHED)
    b.transition("call_closed", paris(2026, 11, 2, 9), staff, call, CallStatus.CLOSED)
    for application in files:
        b.event("application_created", application.created_at, application.demo_member, application)
        record_uploads(b, application, application.demo_member)
        b.transition("application_submitted", application.submitted_at, application.demo_member, application,
                     Status.SUBMITTED, reference=application.reference, fingerprint=application.fingerprint)

    # The last files to arrive are not checked yet; the others are admissible.
    admissible = files[:-N_TOPUP_UNCHECKED]
    for application in admissible:
        b.transition("admissibility", paris(2026, 11, 3, 9) + timedelta(minutes=rng.randint(0, 3 * 24 * 60)),
                     rng.choice([staff, colleague]), application, Status.ADMISSIBLE)

    # Two reviewers per file, never of the file's région nor in conflict, balanced; the demo
    # reviewer (the panel's first) takes the first files he may review.
    demo_reviewer = reviewers[0]
    loads = {r.id: 0 for r in reviewers}
    assigned_at = paris(2026, 11, 9, 10)
    deadline_now = paris(2026, 11, 22, 18)
    demo_files = pairs = sent_total = 0
    for application in admissible:
        region = application.association.region_code
        candidates = [r for r in reviewers if r.region_code != region
                      and (r.id, application.association_id) not in conflicts]
        team = []
        if demo_reviewer in candidates and demo_files < N_DEMO_REVIEWER_FILES:
            team.append(demo_reviewer)
            demo_files += 1
        others = sorted((r for r in candidates if r is not demo_reviewer), key=lambda r: (loads[r.id], rng.random()))
        team += others[:call.reviewers_per_file - len(team)]
        sent = 0
        last = assigned_at
        for reviewer in sorted(team, key=lambda r: r.id):
            loads[reviewer.id] += 1
            if reviewer is demo_reviewer:
                state = [REVIEW_SUBMITTED, REVIEW_DRAFT, "todo", "unconfirmed"][demo_files - 1]
            else:
                state = rng.choices([REVIEW_SUBMITTED, REVIEW_DRAFT, "todo"], weights=[55, 20, 25])[0]
            opened = assigned_at + timedelta(days=rng.randint(0, 6), minutes=rng.randint(0, 600))
            assignments.append(dict(application_id=application.id, reviewer_id=reviewer.id,
                                    assigned_by_id=staff.id, assigned_at=assigned_at, notified_at=assigned_at,
                                    no_conflict_confirmed_at=None if state == "unconfirmed" else opened))
            if state in ("todo", "unconfirmed"):
                continue
            values = b.scores(application.association.demo_quality, biases[reviewers.index(reviewer)],
                              call.criteria)
            saved = min(opened + timedelta(days=rng.randint(0, 6), minutes=rng.randint(10, 300)), deadline_now)
            scores[(application.id, reviewer.id)] = values
            if state == REVIEW_DRAFT:
                reviews.append(dict(application_id=application.id, reviewer_id=reviewer.id, status=REVIEW_DRAFT,
                                    recommendation=None, proposed_amount_cents=None, comment="",
                                    created_at=opened, updated_at=saved, submitted_at=None))
                continue
            recommendation = recommendation_for(values)
            proposed = (None if recommendation == UNFAVORABLE
                        else max(call.min_amount_cents, round_to(application.requested_cents * 0.9, 1000)))
            reviews.append(dict(application_id=application.id, reviewer_id=reviewer.id, status=REVIEW_SUBMITTED,
                                recommendation=recommendation, proposed_amount_cents=proposed,
                                comment=REVIEW_COMMENTS[recommendation], created_at=opened,
                                updated_at=saved, submitted_at=saved))
            b.event("review_submitted", saved, reviewer, application, reviewer_id=reviewer.id,
                    recommendation=recommendation)
            sent += 1
            last = max(last, saved)
        pairs += len(team)
        sent_total += sent
        b.event("reviewer_assigned", assigned_at, staff, application, reviewer_ids=[r.id for r in team],
                manual=False)
        b.transition("state_change", assigned_at, staff, application, Status.IN_REVIEW,
                     reason="Affectation automatique des évaluateurs.")
        if sent == len(team):
            b.transition("state_change", last, None, application, Status.REVIEWED,
                         reason="Toutes les évaluations attendues ont été envoyées.")
    b.event("auto_assignment_applied", assigned_at, staff, call=call, pairs=pairs)
    return call, (f"Appel « {call.title} » (en évaluation jusqu'au {timeutil.format_datetime(call.review_deadline)}) : "
            f"{len(files)} dossiers, {N_TOPUP_UNCHECKED} à examiner ; {sent_total} évaluations envoyées sur "
            f"{pairs}, dont {demo_files} dossiers pour l'évaluateur de démonstration.")


def _topup_robustness(b, call, staff):
    """The robustness of the top-up call's proposal with the default settings, as staff computed it
    on the reviews sent so far: the proposal page shows each file's bar and the grey zone."""
    from ..selection import grey_zone, ranking
    from ..selection.proposal import ProposalSettings

    at = paris(2026, 11, 30, 17)
    run, result = grey_zone.new_run(call, ranking.load(call), ProposalSettings(), staff, at, TOPUP_ROBUSTNESS_SEED)
    b.event("robustness_computed", at, staff, call=call, **grey_zone.event_details(run, result))


def _grid_2025(call):
    """The 2025 grid: « qualité des actions » before the template's three criteria, weighted."""
    quality = Criterion(**dict(QUALITY_CRITERION, descriptors=dict(QUALITY_CRITERION["descriptors"])))
    call.criteria = [quality] + list(call.criteria)
    for position, criterion in enumerate(call.criteria):
        criterion.position = position
        criterion.weight = Decimal(GRID_2025_WEIGHTS[criterion.label])


def _number_in_order_of_submission(call, files):
    """Sort the call's files by submission time, give them their references in that order, and
    their snapshot and fingerprint as at submission, and their original deposit (its receipt)."""
    from ..applications.deposits import build_snapshot, fingerprint, record_original_deposit

    files.sort(key=lambda a: a.submitted_at)
    for number, application in enumerate(files, start=1):
        application.reference = f"{call.reference_prefix}-{call.year}-{number:04d}"
        application.snapshot = build_snapshot(application)
        application.fingerprint = fingerprint(application.snapshot)
        record_original_deposit(application, getattr(application, "demo_member", None))
    call.next_number = len(files) + 1


def _euros(cents):
    from ..money import format_euros
    return format_euros(cents, decimals=False)


def demo_digest():
    """A digest of the demo's content (not of creation times nor password hashes), to compare runs."""
    import hashlib
    parts = []
    for row in db.session.execute(db.select(
            Association.name, Association.siret, Association.rna, Association.iban, Association.bic,
            Association.departement_code, Association.representative_name).order_by(Association.id)):
        parts.append(repr(tuple(row)))
    for row in db.session.execute(db.select(
            Application.reference, Application.status, Application.title, Application.requested_cents,
            Application.departements, Application.young_count, Application.fingerprint,
            Application.association_id).order_by(Application.id)):
        parts.append(repr(tuple(row)))
    for row in db.session.execute(db.select(Review.application_id, Review.reviewer_id, Review.recommendation,
                                            func.sum(Score.value)).join(Score)
                                  .group_by(Review.id, Review.application_id, Review.reviewer_id,
                                            Review.recommendation).order_by(Review.id)):
        parts.append(repr(tuple(row)))
    for row in db.session.execute(db.select(Decision.application_id, Decision.outcome, Decision.amount_cents)
                                  .order_by(Decision.id)):
        parts.append(repr(tuple(row)))
    for row in db.session.execute(db.select(User.email, User.role, User.region_code).order_by(User.id)):
        parts.append(repr(tuple(row)))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
