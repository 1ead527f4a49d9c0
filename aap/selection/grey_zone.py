"""The robustness of a call's selection, stored, and the recorded draw among its grey zone.

« Calculer la robustesse » (compute): each scored file's probability of being retained when its
reviews are re-sampled (aap/selection/robustness.py, pure), for the proposal settings staff
chose, with a seed from `secrets`; stored as a RobustnessRun with the digest of its inputs. The
run is computed in the request (the demo's 216 files take about 1 s, 1,000 files about 7 s:
scripts/bench.py), not in the worker. `status` says whether a stored run is for the page's
settings and whether it is stale: the digest of the same inputs today differs (a score, a
decision, an amount, an envelope or the minimum score changed since).

« Tirer au sort » (draw), an option of the call (Call.grey_zone_draw): from a run that is not
stale, the files sure to be retained (probability ≥ GREY_HIGH) are counted first; what is left of
each year's envelope is drawn among the grey-zone files at or above the minimum score (one under
it is never proposed; robustness.draw, with a seed from `secrets`). The event « grey_zone_draw »
on the call's journal records the seed, the candidates
in the order the draw reads them (with their amounts per year) and the envelopes left, then the
drawn order and the files retained; `verify` re-runs the draw from that event alone
(`flask --app aap selection-draw-verify --call SLUG`). The result becomes draft decisions, which
staff publish as usual: the sure files and the drawn ones « Retenu », the other grey-zone files
« Liste d'attente ».
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from dataclasses import dataclass
from functools import cached_property

from .. import timeutil
from ..database import lock
from ..events import record
from ..extensions import db
from ..models import Event, RobustnessRun
from ..money import format_euros
from . import proposal as proposal_module
from . import ranking, robustness, services

DRAW_ACTION = "grey_zone_draw"
DRAW_REASON = "Retenu (tirage au sort, graine {seed})"


class DrawError(Exception):
    """A refusal to show to staff (French message)."""


@dataclass
class Status:
    """What the proposal page shows of the stored robustness for its settings."""
    run: RobustnessRun | None = None   # the latest run of the call
    matches: bool = False              # the run was computed with the page's settings
    stale: bool = False                # ... and its inputs changed since

    @cached_property
    def probabilities(self):
        """{application id: probability} when the run is for these settings, else {}."""
        if self.run is None or not self.matches:
            return {}
        return {int(key): value for key, value in self.run.probabilities.items()}

    @property
    def grey_count(self):
        return sum(1 for p in self.probabilities.values() if robustness.in_grey_zone(p))

    def grey(self, application_id):
        return robustness.in_grey_zone(self.probabilities.get(application_id))

    @property
    def proposal_args(self):
        """The GET parameters of the proposal page with the run's settings (a link to it)."""
        settings = self.run.settings
        args = {"calculer": "1", "objective": settings["objective"], "min_per_region": settings["min_per_region"],
                "min_score": f"{settings['min_score']:g}"}
        args |= {name: "y" for name in ("calibrated", "keep_drafts") if settings.get(name)}
        args |= {name: f"{settings[name]:g}" for name in ("min_per_overseas", "cap_percent")
                 if settings.get(name) is not None}
        return args


def settings_of(call, settings):
    """The settings as stored (the minimum score made explicit: the call's when none is given)."""
    return dataclasses.asdict(settings) | {"min_score": proposal_module.effective_min_score(call, settings)}


def digest(call, data, settings):
    """Fingerprint of everything the robustness of a proposal depends on."""
    candidates = proposal_module.candidates(data.rows, settings)
    reviews = robustness.reviews_of(data.rows)
    payload = {
        "settings": settings_of(call, settings), "envelopes": list(call.envelopes), "first_year": call.year,
        "min_score": proposal_module.effective_min_score(call, settings),
        "files": [[c.key, c.amount_cents, list(c.amount_per_year or ()), c.region, c.fixed,
                   [round(t, 9) for t in reviews[c.key].totals],
                   [round(t, 9) for t in reviews[c.key].calibrated_totals]] for c in candidates],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def latest(call):
    return db.session.scalar(db.select(RobustnessRun).where(RobustnessRun.call_id == call.id)
                             .order_by(RobustnessRun.id.desc()).limit(1))


def status(call, data, settings):
    run = latest(call)
    if run is None:
        return Status()
    matches = run.settings == settings_of(call, settings)
    return Status(run=run, matches=matches, stale=matches and run.digest != digest(call, data, settings))


def current(call, data):
    """The call's latest run for its own settings (the ranking page shows its probabilities when
    it is not stale)."""
    run = latest(call)
    if run is None:
        return Status()
    settings = proposal_module.ProposalSettings(**run.settings)
    return Status(run=run, matches=True, stale=run.digest != digest(call, data, settings))


def compute(call, settings, actor, n_resamples=robustness.DEFAULT_RESAMPLES, toggle_calibration=False):
    """Compute and store the robustness of the proposal under `settings`: its reviews re-sampled, scored
    as the proposal scores them (raw or calibrated), or either with even odds (`toggle_calibration`).
    Commits; returns the run."""
    run, result = new_run(call, ranking.load(call), settings, actor, timeutil.now(), secrets.randbelow(10 ** 12),
                          n_resamples, toggle_calibration)
    record("robustness_computed", actor=actor, call_id=call.id, **event_details(run, result))
    db.session.commit()
    return run


def new_run(call, data, settings, actor, at, seed, n_resamples=robustness.DEFAULT_RESAMPLES,
            toggle_calibration=False):
    """Compute the robustness and add its RobustnessRun to the session (the demo's is computed so
    too, at a date of its own): (run, robustness.Robustness)."""
    result = robustness.of_proposal(call, data, settings, n_resamples=n_resamples, seed=seed,
                                    toggle_calibration=toggle_calibration)
    run = RobustnessRun(call_id=call.id, computed_at=at, computed_by_id=getattr(actor, "id", None),
                        seed=seed, n_resamples=n_resamples, toggle_calibration=toggle_calibration,
                        settings=settings_of(call, settings), digest=digest(call, data, settings),
                        probabilities={str(key): value for key, value in result.probabilities.items()},
                        seconds=round(result.seconds, 3), infeasible=result.infeasible)
    db.session.add(run)
    return run, result


def event_details(run, result):
    """The details of the event « robustness_computed »."""
    return dict(seed=run.seed, n_resamples=run.n_resamples, toggle_calibration=run.toggle_calibration,
                grey_zone=len(result.grey_zone()))


@dataclass
class DrawOutcome:
    event: Event
    draw: robustness.Draw
    sure: int            # files sure to be retained, counted before the draw
    warnings: list


def draw(call, actor):
    """The recorded draw among the grey zone of the call's latest robustness run (see the module).
    Commits; returns a DrawOutcome. Raises DrawError (nothing changed)."""
    call = lock(call)  # two clicks at once: the second one sees the first one's drafts (stale run)
    if not call.grey_zone_draw:
        raise DrawError("Le tirage au sort dans la zone grise n'est pas activé pour cet appel "
                        "(paramètres de l'appel).")
    run = latest(call)
    if run is None:
        raise DrawError("Calculez d'abord la robustesse de la proposition.")
    settings = proposal_module.ProposalSettings(**run.settings)
    data = ranking.load(call)
    if run.digest != digest(call, data, settings):
        raise DrawError("Les notes, les montants ou les décisions ont changé depuis le calcul de la robustesse : "
                        "calculez-la à nouveau avant de tirer au sort.")
    rows = {row.id: row for row in data.rows}
    probabilities = {int(key): value for key, value in run.probabilities.items() if int(key) in rows}
    sure = sorted(key for key, p in probabilities.items() if p >= robustness.GREY_HIGH)
    # A file under the minimum score is never proposed, whatever its re-sampled scores.
    minimum = proposal_module.effective_min_score(call, settings)
    grey = sorted(key for key, p in probabilities.items() if robustness.in_grey_zone(p)
                  and (rows[key].score(settings.calibrated) or 0) >= minimum)
    closed = [rows[key].reference for key in grey if rows[key].locked]
    if closed:
        raise DrawError("Ces dossiers de la zone grise ont déjà une décision publiée : " + ", ".join(closed) + ".")
    if not grey:
        raise DrawError("Aucun dossier de la zone grise n'atteint la note minimale : il n'y a rien à tirer au sort.")
    envelopes = list(call.envelopes)
    left = [envelope - sum(rows[key].granted_per_year[year] for key in sure)
            for year, envelope in enumerate(envelopes)]
    if any(room < 0 for room in left):
        raise DrawError("Les dossiers sûrs d'être retenus dépassent déjà l'enveloppe d'une année : "
                        "il n'y a pas de place à tirer au sort.")
    seed = secrets.randbelow(10 ** 12)
    candidates = [(key, tuple(rows[key].granted_per_year)) for key in grey]
    result = robustness.draw(candidates, left, seed)
    amounts = dict(candidates)
    try:
        warnings = services.draft_draw(
            call, actor, selected=[(key, tuple(rows[key].granted_per_year)) for key in sure if not rows[key].locked],
            drawn=[(key, amounts[key]) for key in result.retained],
            waitlisted=[key for key in result.order if key not in set(result.retained)],
            reason=DRAW_REASON.format(seed=seed))
        event = record(DRAW_ACTION, actor=actor, call_id=call.id,
                       reason=f"Tirage au sort parmi {len(grey)} dossiers de la zone grise, graine {seed}",
                       seed=seed, robustness_run_id=run.id, sure=[rows[key].reference for key in sure],
                       candidates=[{"id": key, "reference": rows[key].reference, "amount_per_year_cents": list(amounts)}
                                   for key, amounts in candidates],
                       envelopes_left_cents=left, order=result.order, retained=result.retained,
                       left_after_cents=result.left_cents)
        db.session.commit()
    except services.DecisionError as error:
        db.session.rollback()
        raise DrawError(str(error)) from None
    return DrawOutcome(event=event, draw=result, sure=len(sure), warnings=warnings)


def draws(call):
    """The recorded draws of a call, the latest first."""
    return db.session.scalars(db.select(Event).where(Event.call_id == call.id, Event.action == DRAW_ACTION)
                              .order_by(Event.id.desc())).all()


def verify(event):
    """Re-run a recorded draw from its event alone: (same result?, the Draw of the re-run)."""
    details = event.details
    candidates = [(entry["id"], tuple(entry["amount_per_year_cents"])) for entry in details["candidates"]]
    again = robustness.draw(candidates, details["envelopes_left_cents"], details["seed"])
    same = (again.order == details["order"] and again.retained == details["retained"]
            and again.left_cents == details["left_after_cents"])
    return same, again


def describe(event):
    """Lines of French text about a recorded draw (CLI and page)."""
    details = event.details
    by_id = {entry["id"]: entry["reference"] for entry in details["candidates"]}
    years = ", ".join(format_euros(cents) for cents in details["envelopes_left_cents"])
    return [f"Graine : {details['seed']}",
            f"Enveloppe restante par année avant le tirage : {years}",
            "Ordre tiré : " + ", ".join(by_id[key] for key in details["order"]),
            "Retenus : " + (", ".join(by_id[key] for key in details["retained"]) or "aucun")]
