"""`flask --app aap propose --call SLUG [--json]`: the selection of a call, for scripts."""
import json

import click

from .. import timeutil
from ..extensions import db
from ..models import Call
from ..money import format_euros
from . import grey_zone, optimizer, ranking, robustness
from .proposal import ProposalSettings, propose

OBJECTIVES = {"merite": optimizer.MERIT, "somme": optimizer.SUM}


def _note(value):
    return f"{value:.2f}".replace(".", ",")


@click.command("propose")
@click.option("--call", "slug", required=True, help="Slug de l'appel à projets.")
@click.option("--objective", type=click.Choice(list(OBJECTIVES)), default="merite", show_default=True,
              help="merite : ordre de mérite ; somme : maximiser la somme des notes.")
@click.option("--calibrated", is_flag=True, help="Utiliser les notes calibrées.")
@click.option("--min-per-region", type=click.IntRange(0, 20), default=1, show_default=True,
              help="Garantie territoriale : nombre minimal de lauréats par région.")
@click.option("--min-per-overseas", type=click.IntRange(0, 20), default=None,
              help="Garantie propre à chaque région d'outre-mer (par défaut : celle des autres régions).")
@click.option("--min-score", type=click.FloatRange(0, 20), default=None,
              help="Note minimale sur 20 (par défaut : celle de l'appel).")
@click.option("--cap-percent", type=click.FloatRange(1, 100), default=None,
              help="Plafond par région, en % de l'enveloppe.")
@click.option("--ignore-drafts", is_flag=True, help="Ne pas conserver les décisions en brouillon.")
@click.option("--what-if", is_flag=True,
              help="Simulation : ignorer toutes les décisions, même publiées (rien n'est enregistré).")
@click.option("--list", "show_list", is_flag=True, help="Afficher chaque dossier noté, retenu ou non, et pourquoi.")
@click.option("--json", "as_json", is_flag=True,
              help="Un objet JSON : enveloppe, note minimale, années, et chaque dossier noté avec sa raison "
                   "et sa probabilité d'être retenu (celle de la robustesse enregistrée pour ces paramètres).")
@click.option("--robustness", "with_robustness", is_flag=True,
              help="Calculer la probabilité d'être retenu de chaque dossier (sans l'enregistrer), avec --seed.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True,
              help="Graine du rééchantillonnage de --robustness.")
def propose_command(slug, objective, calibrated, min_per_region, min_per_overseas, min_score, cap_percent,
                    ignore_drafts, what_if, show_list, as_json, with_robustness, seed):
    """Print the selection of a call (winners, envelopes per year, régions, reasons)."""
    call = _call(slug)
    settings = ProposalSettings(calibrated=calibrated, min_per_region=min_per_region,
                                min_per_overseas=min_per_overseas, cap_percent=cap_percent, min_score=min_score,
                                objective=OBJECTIVES[objective], keep_drafts=not (ignore_drafts or what_if),
                                keep_published=not what_if)
    data = ranking.load(call)
    if with_robustness:
        computed = robustness.of_proposal(call, data, settings, seed=seed)
        probabilities = computed.probabilities
        about = {"source": "computed", "seed": seed, "n_resamples": computed.n_resamples,
                 "toggle_calibration": False, "computed_at": None, "stale": False}
    else:
        status = grey_zone.status(call, data, settings)
        probabilities = status.probabilities
        run = status.run if status.matches else None
        about = None if run is None else {
            "source": "stored", "seed": run.seed, "n_resamples": run.n_resamples,
            "toggle_calibration": run.toggle_calibration, "computed_at": run.computed_at.isoformat(),
            "stale": status.stale}
    proposal = propose(call, settings, data=data, probabilities=probabilities)
    result = proposal.result
    if as_json:
        click.echo(json.dumps(proposal.as_json() | {"robustness": about}, ensure_ascii=False, indent=2))
        if not result.feasible:
            raise SystemExit(1)
        return
    click.echo(f"Appel : {call.title} ({call.slug})"
               + (" — simulation sans tenir compte des décisions prises" if what_if else ""))
    click.echo(f"Objectif : {proposal.objective_label} ; notes {'calibrées' if calibrated else 'brutes'} ; "
               f"note minimale {_note(proposal.min_score)}/20 ; "
               f"au moins {min_per_region} lauréat(s) par région"
               + (f" ({min_per_overseas} par région d'outre-mer)" if min_per_overseas is not None else "")
               + (f" ; plafond {cap_percent:g} % par région" if cap_percent is not None else ""))
    if not result.feasible:
        click.echo(f"Aucune proposition possible : {result.reason}")
        for suggestion in result.suggestions:
            click.echo(f"  - {suggestion}")
        click.echo(f"Temps de calcul : {result.solve_seconds:.3f} s")
        raise SystemExit(1)
    after = proposal.after
    click.echo(f"Dossiers retenus : {len(result.selected)} sur {len(proposal.lines)} dossiers notés")
    click.echo(f"Total accordé : {format_euros(result.total_cents)} / enveloppe {format_euros(call.budget_cents)}"
               f" (reste {format_euros(call.budget_cents - result.total_cents)})")
    if len(after.years) > 1:
        for year in after.years:
            click.echo(f"  {year.year} : {format_euros(year.granted_cents)} / enveloppe "
                       f"{format_euros(year.envelope_cents)} (reste {format_euros(year.remaining_cents)})")
    click.echo(f"Régions avec un lauréat, par siège : {len(after.regions_by_seat)} / {after.region_total} ; "
               f"par territoires d'action : {len(after.regions_covered)} / {after.region_total} ; "
               f"départements couverts par territoires d'action : {len(after.departements_covered)} / "
               f"{after.departement_total}")
    without = [line.name for line in after.regions if line.winners == 0]
    if without:
        click.echo("Régions candidates sans lauréat (par siège) : " + ", ".join(without))
    click.echo(f"Jeunes accompagnés par an : {after.young_count}"
               + (f" ; coût par jeune et par an : {format_euros(after.cost_per_young_cents)}"
                  if after.cost_per_young_cents is not None else ""))
    selected_scores = [line.score for line in proposal.lines if line.selected]
    if selected_scores:
        click.echo(f"Notes des retenus : de {_note(min(selected_scores))} à {_note(max(selected_scores))}/20 "
                   f"(moyenne {_note(sum(selected_scores) / len(selected_scores))}/20) ; "
                   f"{len(proposal.inversions)} dossier(s) mieux classé(s) qu'un retenu mais écarté(s)")
    click.echo(f"Par rapport aux décisions actuelles : {len(proposal.entering)} entrée(s), "
               f"{len(proposal.leaving)} sortie(s)")
    click.echo(f"Temps de résolution : {result.solve_seconds:.3f} s (calcul complet : {proposal.seconds:.3f} s)")
    if show_list:
        for line in proposal.lines:
            click.echo(f"  {line.rank}\t{line.row.reference}\t{line.row.association.name}\t{line.row.region_name}\t"
                       f"{_note(line.score)}\t{format_euros(line.row.granted_cents)}\t"
                       f"{'retenu' if line.selected else 'écarté'}\t{line.reason}"
                       + ("" if line.probability is None else
                          f"\t{round(line.probability * 100)} %" + (" (zone grise)" if line.grey else "")))


def _call(slug):
    call = db.session.scalar(db.select(Call).where(Call.slug == slug))
    if call is None:
        raise click.ClickException(f"Aucun appel à projets « {slug} ».")
    return call


@click.command("selection-draw-verify")
@click.option("--call", "slug", required=True, help="Slug de l'appel à projets.")
def draw_verify_command(slug):
    """Re-run each recorded draw among the grey zone of a call from its journal entry alone (seed,
    candidates, envelopes left) and say whether it gives the same result (exit status 1 if not)."""
    call = _call(slug)
    recorded = grey_zone.draws(call)
    if not recorded:
        raise click.ClickException(f"Aucun tirage au sort enregistré pour l'appel « {slug} ».")
    differing = 0
    for event in reversed(recorded):
        same, _ = grey_zone.verify(event)
        differing += not same
        click.echo(f"Tirage n° {event.id} du {timeutil.format_datetime(event.at)} : "
                   + ("même résultat en le refaisant." if same else "RÉSULTAT DIFFÉRENT en le refaisant."))
        for text in grey_zone.describe(event):
            click.echo(f"  {text}")
    if differing:
        raise SystemExit(1)
