"""Database engine settings: SQLite pragmas (WAL, foreign keys, busy timeout), and writes made
while answering a GET."""
from contextlib import contextmanager

from flask import g, has_request_context, request
from sqlalchemy import event

READ_ONLY_METHODS = {"GET", "HEAD", "OPTIONS"}


def configure_engine(app):
    with app.app_context():
        from .extensions import db

        if app.config.get("TESTING"):
            _refuse_writes_in_get(app, db)
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
            if has_request_context() and request.method in READ_ONLY_METHODS and not g.get("aap_writing"):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        engine.dispose()


@contextmanager
def writing():
    """For the writes a GET makes (the audit record of a download or an export, a convention
    rendered on its first download). On SQLite a GET's transaction starts as a reader (BEGIN);
    a reader that then writes fails at once with « database is locked » when another request
    wrote in between (its snapshot is stale: the busy timeout does not apply). So the current
    transaction ends here, and every transaction begun inside the block takes the write lock
    first (BEGIN IMMEDIATE), waiting its turn on the busy timeout. Harmless on PostgreSQL."""
    from .extensions import db

    db.session.commit()
    previous = g.get("aap_writing", False) if has_request_context() else None
    if has_request_context():
        g.aap_writing = True
    try:
        yield
    finally:
        if has_request_context():
            g.aap_writing = previous


def _refuse_writes_in_get(app, db):
    """In tests, a GET that writes outside `writing()` fails loudly: such a write could answer
    « database is locked » under load on SQLite (see `writing`)."""
    @app.before_request
    def _mark_dispatch():
        request.environ["aap.dispatching"] = True

    @event.listens_for(db.session, "before_flush")
    def _check(session, _context, _instances):
        if not has_request_context() or not request.environ.get("aap.dispatching"):
            return  # a test's own set-up in a request context
        if request.method not in READ_ONLY_METHODS or g.get("aap_writing"):
            return
        changed = list(session.new) + list(session.deleted) + [o for o in session.dirty if session.is_modified(o)]
        if changed:
            raise RuntimeError(f"{request.method} {request.path} writes {changed[:3]} outside database.writing()")


def lock(instance):
    """Re-read the row of a model instance, locked for update until the end of the transaction
    on PostgreSQL (on SQLite a writing transaction already holds the database's write lock): a
    service checks the state it starts from on the locked row, so that two concurrent changes
    of state cannot both pass their check."""
    from .extensions import db

    model = type(instance)
    return db.session.execute(
        db.select(model).where(model.id == instance.id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one()
