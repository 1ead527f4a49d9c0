"""Backup and restore round trip, through the CLI, on the configured database."""
import pytest

from aap.extensions import db
from aap.models import Association, User

from . import factories

pytestmark = pytest.mark.real_db  # the backup reads the database file / pg_dump connects itself


def test_backup_then_restore_brings_data_back(app, tmp_path):
    factories.user("applicant", email="garde@example.org", association_name="Avant sauvegarde")
    runner = app.test_cli_runner()
    backup_file = tmp_path / "aap.backup"

    result = runner.invoke(args=["backup", "-o", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert backup_file.stat().st_size > 0

    # Change the data after the backup: one more account, one renamed association.
    factories.user("applicant", email="apres@example.org", association_name="Après sauvegarde")
    association = db.session.scalar(db.select(Association).where(Association.name == "Avant sauvegarde"))
    association.name = "Renommée"
    db.session.commit()
    db.session.remove()

    result = runner.invoke(args=["restore", "-i", str(backup_file), "--yes"])
    assert result.exit_code == 0, result.output

    db.session.remove()
    emails = set(db.session.scalars(db.select(User.email)))
    assert emails == {"garde@example.org"}
    assert db.session.scalar(db.select(Association.name)) == "Avant sauvegarde"


def test_restore_refuses_a_missing_file(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["restore", "-i", str(tmp_path / "absent"), "--yes"])
    assert result.exit_code != 0
