"""flask --app aap conventions / export xlsx|scdl|opendata (registered by the documents blueprint)."""
import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from .data import call_by_slug


def _call(slug):
    call = call_by_slug(slug)
    if call is None:
        raise click.ClickException(f"Aucun appel à projets « {slug} ».")
    return call


def _record_export(call, kind, output):
    """Exports from the command line are in the journal too (no actor: the operator)."""
    from .. import events
    from ..extensions import db
    events.record("export", call_id=call.id, format=kind, source="cli", output=str(output))
    db.session.commit()


@click.command("conventions")
@click.option("--call", "slug", required=True, help="Identifiant (slug) de l'appel à projets.")
@click.option("-o", "--output", "output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Dossier où écrire les PDF et le ZIP.")
@click.option("--workers", default=2, show_default=True, help="Processus de rendu en parallèle.")
@click.option("--force", is_flag=True, help="Régénérer même les conventions dont les données n'ont pas changé.")
@with_appcontext
def conventions_command(slug, output, workers, force):
    """Generate the conventions of a call's winners (PDF files and one ZIP)."""
    import shutil

    from .bulk import generate_call_conventions, write_zip

    call = _call(slug)
    started = time.monotonic()
    entries = generate_call_conventions(call, workers=workers, force=force)
    output.mkdir(parents=True, exist_ok=True)
    copied = []
    for name, path in entries:
        shutil.copyfile(path, output / name)
        copied.append((name, output / name))
    zip_path = write_zip(copied, output / f"conventions-{call.slug}.zip")
    _record_export(call, "conventions", zip_path)
    seconds = time.monotonic() - started
    click.echo(f"{len(entries)} conventions générées en {seconds:.1f} s ({workers} processus) : {zip_path}")


@click.group("export")
def export_group():
    """Exports of a call: Excel workbook, SCDL open data, anonymised SQLite."""


@export_group.command("xlsx")
@click.option("--call", "slug", required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--cabinet", is_flag=True, help="The cabinet's version: no reviewers' names, IBAN or e-mails.")
@with_appcontext
def export_xlsx(slug, output, cabinet):
    """The call's workbook (Synthèse, Lauréats, Candidatures, Notes détaillées, Synthèse par région,
    Paramètres); --cabinet: without Notes détaillées, IBAN and e-mails."""
    from .excel import build_workbook

    call = _call(slug)
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    build_workbook(call.id, author="ligne de commande", path=output, cabinet=cabinet)
    _record_export(call, "xlsx-cabinet" if cabinet else "xlsx", output)
    click.echo(f"Classeur écrit en {time.monotonic() - started:.1f} s : {output}")


@export_group.command("scdl")
@click.option("--call", "slug", required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export_scdl(slug, output):
    """The winners in the SCDL « subventions » 2.1.1 format (CSV, UTF-8)."""
    from .opendata import build_scdl_csv, write_bytes

    call = _call(slug)
    content = build_scdl_csv(call)
    write_bytes(output, content)
    _record_export(call, "scdl", output)
    rows = content.count(b"\n") - 1
    click.echo(f"{rows} subvention(s) écrite(s) : {output}")


@export_group.command("opendata")
@click.option("--call", "slug", required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export_opendata(slug, output):
    """The call's anonymised results as a SQLite file for Datasette: aggregates per outcome and
    région, publishable (the winners' names are in the SCDL file)."""
    from .opendata import build_opendata_sqlite

    call = _call(slug)
    output.parent.mkdir(parents=True, exist_ok=True)
    build_opendata_sqlite(call, output)
    _record_export(call, "opendata", output)
    click.echo(f"Base SQLite écrite : {output}")
