"""Migrations from an empty database to head: the migrated schema is exactly the models' one,
and the way back down to an empty database works too."""
import logging.config
import pprint

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, inspect

from aap.extensions import db
from aap.search.index import drop_statements, include_name

from .conftest import make_app


def empty_database():
    """Drop everything, the models' tables and Alembic's own (PostgreSQL keeps the schema).
    The tables are those in the database (reflected): at an old revision their foreign keys
    are not the models' ones, so the models' drop order may not fit them."""
    with db.engine.begin() as connection:  # the full-text index first (FTS5's shadow tables go with it)
        for statement in drop_statements(connection.dialect.name):
            connection.exec_driver_sql(statement)
    existing = MetaData()
    existing.reflect(bind=db.engine)
    existing.drop_all(bind=db.engine)
    assert inspect(db.engine).get_table_names() == []


def differences():
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "compare_server_default": False,
                                                               "include_name": include_name})
        return compare_metadata(context, db.metadata)


@pytest.fixture
def migrating_app(tmp_path, monkeypatch):
    # migrations/env.py calls logging.config.fileConfig(), which would disable the loggers
    # of the rest of the test session: keep the logging configuration as it is.
    monkeypatch.setattr(logging.config, "fileConfig", lambda *args, **kwargs: None)
    app = make_app(tmp_path)
    with app.app_context():
        empty_database()
        yield app
        db.session.remove()
        empty_database()
        db.engine.dispose()


def test_upgrade_from_empty_to_head_matches_the_models(migrating_app):
    upgrade()
    tables = set(inspect(db.engine).get_table_names())
    assert "alembic_version" in tables
    assert "search_index" in tables   # the full-text index, which the comparison leaves out
    diff = differences()
    assert diff == [], "the migrations and the models differ:\n" + pprint.pformat(diff)


def test_the_migrated_database_works(migrating_app):
    from aap import timeutil
    from aap.models import Association, User

    upgrade()
    user = User(email="migre@example.org", role="applicant", association=Association(name="Asso migrée"),
                email_confirmed_at=timeutil.now())
    user.set_password("un-mot-de-passe-solide")
    db.session.add(user)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalar(db.select(User).where(User.email == "migre@example.org"))
    assert stored.association.name == "Asso migrée"
    assert stored.email_confirmed_at.tzinfo is not None
    db.session.remove()


def test_downgrade_to_base_empties_the_database(migrating_app):
    upgrade()
    downgrade(revision="base")
    remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert remaining == set()
    upgrade()  # and back up again
    assert differences() == []
