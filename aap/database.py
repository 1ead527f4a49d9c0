"""Database engine settings: SQLite pragmas (WAL, foreign keys, busy timeout)."""
from flask import has_request_context, request
from sqlalchemy import event

READ_ONLY_METHODS = {"GET", "HEAD", "OPTIONS"}


def configure_engine(app):
    with app.app_context():
        from .extensions import db

        engine = db.engine
        if engine.dialect.name != "sqlite":
            return

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # Let SQLAlchemy issue BEGIN itself, so that BEGIN IMMEDIATE can be used.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=15000")
            if engine.url.database and engine.url.database != ":memory:":
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Requests that may write take the write lock at the start of the
            # transaction: concurrent writers then wait on busy_timeout instead of
            # failing with « database is locked » when a read lock is upgraded.
            if has_request_context() and request.method in READ_ONLY_METHODS:
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        engine.dispose()
