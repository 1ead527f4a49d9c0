"""flask --app aap followup-reminders: the follow-up's reminders, to run once a day (cron or a
systemd timer; README « Relances du suivi »). Registered by the follow-up blueprint."""
import click
from flask.cli import with_appcontext


@click.command("followup-reminders")
@with_appcontext
def followup_reminders():
    """Send the follow-up's due reminders: conventions not returned signed (and reports due)."""
    from ..extensions import db
    from . import signature

    count = signature.send_convention_reminders()
    db.session.commit()
    click.echo(f"Conventions à renvoyer signées : {count} relance(s) envoyée(s).")
    from .report_review import send_report_reminders
    count = send_report_reminders()  # committed
    click.echo(f"Comptes rendus annuels (avant et après l'échéance) : {count} relance(s) envoyée(s).")
