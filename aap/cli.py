"""flask --app aap commands (besides Flask-Migrate's `db` and the mail sender)."""
import click

from .demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from .extensions import db
from .models import User
from .models.users import ROLES


def print_demo_accounts():
    click.echo("Comptes de démonstration (mot de passe commun : %s)" % DEMO_PASSWORD)
    for email, role in DEMO_ACCOUNTS:
        click.echo(f"  {role:<10} {email}")


def register_cli(app):
    @app.cli.command("is-empty")
    def is_empty():
        """Print yes when the database has no user yet."""
        click.echo("no" if db.session.scalar(db.select(User.id).limit(1)) else "yes")

    @app.cli.command("demo-data")
    @click.option("--seed", default=2025, show_default=True)
    def demo_data(seed):
        """Load the demo data set (2025 call closed with winners, 2026 call open)."""
        from .demo import build_demo
        summary = build_demo(seed=seed)
        for line in summary:
            click.echo(line)
        print_demo_accounts()

    @app.cli.command("search-reindex")
    def search_reindex():
        """Rebuild the full-text index of the files (after the migration that creates it)."""
        from .search.index import reindex_all
        count = reindex_all(db.session.connection())
        db.session.commit()
        click.echo(f"{count} dossiers indexés.")

    @app.cli.command("demo-accounts")
    def demo_accounts():
        """Print the demo accounts."""
        print_demo_accounts()

    @app.cli.command("backup")
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
    def backup_command(output):
        """Back up the database (SQLite online backup, or pg_dump)."""
        from .backup import BackupError, backup
        db.session.remove()
        try:
            path = backup(app.config["SQLALCHEMY_DATABASE_URI"], output)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Sauvegarde écrite dans {path}")

    @app.cli.command("restore")
    @click.option("-i", "--input", "source", required=True, type=click.Path(exists=True, dir_okay=False))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def restore_command(source, yes):
        """Replace the database's content with a backup."""
        from .backup import BackupError, restore
        if not yes:
            click.confirm("Remplacer toutes les données actuelles par la sauvegarde ?", abort=True)
        db.session.remove()
        db.engine.dispose()
        try:
            restore(app.config["SQLALCHEMY_DATABASE_URI"], source)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo("Base restaurée.")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--first-name", default="")
    @click.option("--last-name", default="")
    def create_user(email, role, password, first_name, last_name):
        """Create an account directly (for the first administrator)."""
        from . import timeutil
        from .validators import check_password_strength
        email = email.strip().lower()
        try:
            check_password_strength(password, email=email, names=(first_name, last_name))
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        if db.session.scalar(db.select(User.id).where(User.email == email)) is not None:
            raise click.ClickException(f"Un compte existe déjà avec l'adresse {email}.")
        user = User(email=email, role=role, first_name=first_name, last_name=last_name,
                    email_confirmed_at=timeutil.now())
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        click.echo(f"Compte créé : {user.email} ({user.role_label})")

