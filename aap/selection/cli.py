"""`flask --app aap propose --call SLUG`: print the optimal selection of a call, for scripts."""
import click

from ..extensions import db
from ..models import Call
from ..money import format_euros
from .proposal import ProposalSettings, propose


@click.command("propose")
@click.option("--call", "slug", required=True, help="Slug de l'appel à projets.")
@click.option("--calibrated", is_flag=True, help="Utiliser les notes calibrées.")
@click.option("--min-per-region", type=click.IntRange(0, 20), default=1, show_default=True,
              help="Nombre minimal de lauréats par région.")
@click.option("--min-score", type=click.FloatRange(0, 20), default=None, help="Note minimale sur 20.")
@click.option("--cap-percent", type=click.FloatRange(1, 100), default=None,
              help="Plafond par région, en % de l'enveloppe.")
@click.option("--ignore-drafts", is_flag=True, help="Ne pas conserver les décisions en brouillon.")
@click.option("--what-if", is_flag=True,
              help="Simulation : ignorer toutes les décisions, même publiées (rien n'est enregistré).")
@click.option("--list", "show_list", is_flag=True, help="Afficher la liste des dossiers retenus.")
def propose_command(slug, calibrated, min_per_region, min_score, cap_percent, ignore_drafts, what_if,
                    show_list):
    """Print the optimal selection of a call (winners, total, envelope, régions, solve time)."""
    call = db.session.scalar(db.select(Call).where(Call.slug == slug))
    if call is None:
        raise click.ClickException(f"Aucun appel à projets « {slug} ».")
    settings = ProposalSettings(calibrated=calibrated, min_per_region=min_per_region, cap_percent=cap_percent,
                                min_score=min_score, keep_drafts=not (ignore_drafts or what_if),
                                keep_published=not what_if)
    proposal = propose(call, settings)
    result = proposal.result
    click.echo(f"Appel : {call.title} ({call.slug})"
               + (" — simulation sans tenir compte des décisions prises" if what_if else ""))
    click.echo(f"Notes : {'calibrées' if calibrated else 'brutes'} ; au moins {min_per_region} lauréat(s) par région"
               + (f" ; note minimale {min_score:g}/20" if min_score is not None else "")
               + (f" ; plafond {cap_percent:g} % par région" if cap_percent is not None else ""))
    if not result.feasible:
        click.echo(f"Aucune proposition possible : {result.reason}")
        for suggestion in result.suggestions:
            click.echo(f"  - {suggestion}")
        click.echo(f"Temps de calcul : {result.solve_seconds:.3f} s")
        raise SystemExit(1)
    after = proposal.after
    click.echo(f"Dossiers retenus : {len(result.selected)} sur {len(proposal.rows)} dossiers classés")
    click.echo(f"Total accordé : {format_euros(result.total_cents)} / enveloppe {format_euros(call.budget_cents)}"
               f" (reste {format_euros(call.budget_cents - result.total_cents)})")
    click.echo(f"Régions couvertes : {len(after.regions_covered)} / {after.region_total} ; "
               f"départements couverts : {len(after.departements_covered)} / {after.departement_total}")
    click.echo(f"Jeunes accompagnés : {after.young_count}"
               + (f" ; coût par jeune : {format_euros(after.cost_per_young_cents)}"
                  if after.cost_per_young_cents is not None else ""))
    click.echo(f"Par rapport aux décisions actuelles : {len(proposal.entering)} entrée(s), "
               f"{len(proposal.leaving)} sortie(s)")
    click.echo(f"Note totale : {result.objective:.2f} ; temps de résolution : {result.solve_seconds:.3f} s "
               f"(calcul complet : {proposal.seconds:.3f} s)")
    if show_list:
        for row in proposal.selected_rows:
            score = row.score(calibrated)
            click.echo(f"  {row.reference}\t{row.association.name}\t{row.region_name}\t"
                       f"{'—' if score is None else f'{score:.2f}'}\t{format_euros(row.granted_cents)}")
