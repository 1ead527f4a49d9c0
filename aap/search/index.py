"""The full-text index of the files: one row per application (drafts excepted, staff never read
them) in the table `search_index`, kept in step with every write by one session hook, in the
same transaction as the write.

- SQLite: an FTS5 virtual table, tokenizer `unicode61 remove_diacritics 2` (case and accents
  ignored), its rowid the application's id.
- PostgreSQL: a table with two tsvector columns, without and with the reviewers' comments
  (GIN-indexed), built with the text search configuration `aap_french`: the French one whose
  words go through `unaccent` before the French stemmer (so that ts_headline highlights
  « médecin » in the original text for the query « medecin »).

The table is created by the migration (migrations/versions/…_full_text_search_index.py) and,
for a schema made by db.create_all() (tests, fresh apps), by the metadata's after_create event
below. `flask --app aap search-reindex` rebuilds it from the data (after the migration on an
existing database; the demo and the benchmark, which insert in bulk, call reindex_all).
"""
import re
from itertools import chain

from sqlalchemy import bindparam, event, inspect, text
from sqlalchemy.orm import Session

from ..applications.sections import FIELD_BY_NAME
from ..extensions import db
from ..models import Application, Association, Review, Score
from ..models.applications import Status
from ..models.review import REVIEW_SUBMITTED

TABLE = "search_index"
COLUMNS = ("reference", "association", "identifiers", "title", "body", "review_comments")
CONFIG = "aap_french"
# The text fields of the form besides the title (aap/applications/sections.py): a text field
# added there is indexed without anything to declare here.
BODY_FIELDS = tuple(name for name, spec in FIELD_BY_NAME.items()
                    if spec.kind in ("text", "textarea") and name != "title")
# What a change of which attribute makes stale.
APPLICATION_ATTRIBUTES = ("status", "reference", "title", "association_id") + BODY_FIELDS
ASSOCIATION_ATTRIBUTES = ("name", "acronym", "commune", "siret", "rna")
REVIEW_ATTRIBUTES = ("status", "comment", "application_id")
# Marks of the highlighted passages (and « < », « > » on their way through ts_headline, which
# would take them for HTML tags): private-use characters, removed from the indexed text so that
# no content can forge them (aap/search/queries.py turns them into <mark> after escaping).
START, END, LESS, GREATER = "\ue000", "\ue001", "\ue002", "\ue003"
_FORGED = str.maketrans("", "", START + END + LESS + GREATER)
CHUNK = 500

SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5({', '.join(COLUMNS)}, "
    "tokenize = 'unicode61 remove_diacritics 2')",
]
# `unaccent` is a trusted extension (PostgreSQL 13+): the owner of the database may create it;
# the configuration refers to the dictionary in whatever schema the extension lives.
POSTGRESQL_DDL = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    f"""DO $$
DECLARE extension_schema text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
                 WHERE c.cfgname = '{CONFIG}' AND n.nspname = current_schema()) THEN
    SELECT n.nspname INTO extension_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'unaccent';
    CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = pg_catalog.french);
    EXECUTE 'ALTER TEXT SEARCH CONFIGURATION {CONFIG} ALTER MAPPING FOR hword, hword_part, word WITH '
            || quote_ident(extension_schema) || '.unaccent, french_stem';
  END IF;
END $$""",
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
  application_id INTEGER PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
  {', '.join(f"{name} TEXT NOT NULL DEFAULT ''" for name in COLUMNS)},
  document TSVECTOR NOT NULL,
  document_all TSVECTOR NOT NULL
)""",
    f"CREATE INDEX IF NOT EXISTS ix_{TABLE}_document ON {TABLE} USING GIN (document)",
    f"CREATE INDEX IF NOT EXISTS ix_{TABLE}_document_all ON {TABLE} USING GIN (document_all)",
]


def create_statements(dialect_name):
    return POSTGRESQL_DDL if dialect_name == "postgresql" else SQLITE_DDL


def drop_statements(dialect_name):
    statements = [f"DROP TABLE IF EXISTS {TABLE}"]
    if dialect_name == "postgresql":
        statements.append(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}")
    return statements


def is_index_table(name):
    """The index's tables (FTS5 keeps its data in shadow tables search_index_*), which the models'
    metadata does not describe: Alembic's comparisons leave them out (migrations/env.py)."""
    return name == TABLE or name.startswith(TABLE + "_")


def include_name(name, type_, _parent_names):
    """Alembic's include_name hook: the index's tables are left out of the comparisons."""
    return not (type_ == "table" and is_index_table(name))


@event.listens_for(db.metadata, "after_create")
def _create_with_the_schema(_metadata, connection, **_kw):
    for statement in create_statements(connection.dialect.name):
        connection.exec_driver_sql(statement)


@event.listens_for(db.metadata, "before_drop")
def _drop_with_the_schema(_metadata, connection, **_kw):
    # Before the applications it refers to (a foreign key on PostgreSQL).
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")


# ---------------------------------------------------------------------------------------------
# The text of a file

def words(value):
    """Text as PostgreSQL's parser should see it: words only (« 1J1M-2025-0042 » would be read as
    « 1j1m », « -2025 », « -0042 »; hyphenated words as compounds), like FTS5's tokenizer."""
    return re.sub(r"[\W_]+", " ", value).strip()


def _clean(*parts):
    return "\n".join(part.translate(_FORGED) for part in parts if part)


def _documents(connection, ids):
    """{application id: {column: text}} of the given applications that are not drafts."""
    applications, associations = Application.__table__.c, Association.__table__.c
    rows = connection.execute(
        db.select(applications.id, applications.reference, applications.title,
                  *(applications[name] for name in BODY_FIELDS),
                  associations.name, associations.acronym, associations.commune, associations.siret,
                  associations.rna)
        .join_from(Application.__table__, Association.__table__, applications.association_id == associations.id)
        .where(applications.id.in_(ids), applications.status != Status.DRAFT.value)).all()
    documents = {}
    for row in rows:
        values = row._mapping
        documents[row.id] = {
            "reference": _clean(values["reference"]),
            "association": _clean(values["name"], values["acronym"], values["commune"]),
            "identifiers": _clean(values["siret"], values["rna"]),
            "title": _clean(values["title"]),
            "body": _clean(*(values[name] for name in BODY_FIELDS)),
            "review_comments": "",
        }
    if documents:
        reviews, scores = Review.__table__.c, Score.__table__.c
        submitted = reviews.status == REVIEW_SUBMITTED
        comments = db.union_all(
            db.select(reviews.application_id, reviews.id, db.literal(0).label("rank"), reviews.comment)
            .where(reviews.application_id.in_(list(documents)), submitted),
            db.select(reviews.application_id, reviews.id, scores.criterion_id, scores.comment)
            .join_from(Score.__table__, Review.__table__, scores.review_id == reviews.id)
            .where(reviews.application_id.in_(list(documents)), submitted))
        comments = comments.subquery()
        collected = {}
        for application_id, _review, _rank, comment in connection.execute(
                db.select(comments).order_by(comments.c.application_id, comments.c.id, comments.c.rank)):
            if comment:
                collected.setdefault(application_id, []).append(comment)
        for application_id, texts in collected.items():
            documents[application_id]["review_comments"] = _clean(*texts)
    return documents


def _sqlite_insert():
    return text(f"INSERT INTO {TABLE} (rowid, {', '.join(COLUMNS)}) "
                f"VALUES (:id, {', '.join(':' + name for name in COLUMNS)})")


def _postgresql_insert():
    # Weights: A for what names the file (reference, identifiers, association), B the title,
    # D the texts; the same vector without then with the reviewers' comments.
    weights = {"reference": "A", "identifiers": "A", "association": "A", "title": "B", "body": "D",
               "review_comments": "D"}
    vector = {name: f"setweight(to_tsvector('{CONFIG}', :w_{name}), '{weight}')" for name, weight in weights.items()}
    document = " || ".join(vector[name] for name in COLUMNS if name != "review_comments")
    return text(f"INSERT INTO {TABLE} (application_id, {', '.join(COLUMNS)}, document, document_all) "
                f"VALUES (:id, {', '.join(':' + name for name in COLUMNS)}, {document}, "
                f"{document} || {vector['review_comments']})")


def reindex(connection, ids):
    """Rewrite the index rows of these applications (a draft or a deleted file loses its row)."""
    ids = sorted({i for i in ids if i is not None})
    postgresql = connection.dialect.name == "postgresql"
    key = "application_id" if postgresql else "rowid"
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        connection.execute(text(f"DELETE FROM {TABLE} WHERE {key} IN :ids")
                           .bindparams(bindparam("ids", expanding=True)), {"ids": chunk})
        documents = _documents(connection, chunk)
        if not documents:
            continue
        rows = [dict(values, id=application_id) for application_id, values in documents.items()]
        if postgresql:
            for row in rows:
                row.update({f"w_{name}": words(row[name]) for name in COLUMNS})
        connection.execute(_postgresql_insert() if postgresql else _sqlite_insert(), rows)


def reindex_all(connection):
    """Rebuild the whole index from the data; returns the number of files indexed."""
    connection.exec_driver_sql(f"DELETE FROM {TABLE}")
    ids = connection.execute(db.select(Application.id).where(Application.status != Status.DRAFT.value)
                             .order_by(Application.id)).scalars().all()
    reindex(connection, ids)
    return len(ids)


# ---------------------------------------------------------------------------------------------
# The one hook: after each flush, the files whose indexed text may have changed are reindexed on
# the flush's own connection, inside its transaction (a rollback takes the index back with it).

def _changed(instance, attributes):
    state = inspect(instance)
    return any(state.attrs[name].history.has_changes() for name in attributes)


def stale_files(session):
    """(application ids, association ids, review ids) whose index rows the flush made stale."""
    applications, associations, reviews = set(), set(), set()
    new, deleted = session.new, session.deleted
    for instance in chain(new, session.dirty, deleted):
        created_or_deleted = instance in new or instance in deleted
        if instance in deleted:
            # Read what the row held without loading anything (the row is gone).
            held = inspect(instance).dict
            if isinstance(instance, Application):
                applications.add(held.get("id"))
            elif isinstance(instance, Review):
                applications.add(held.get("application_id"))
            elif isinstance(instance, Score):
                reviews.add(held.get("review_id"))
            continue
        if isinstance(instance, Application):
            if instance.status == Status.DRAFT and not _changed(instance, ("status",)):
                continue  # a draft has no row and gets none
            if created_or_deleted or _changed(instance, APPLICATION_ATTRIBUTES):
                applications.add(instance.id)
        elif isinstance(instance, Association):
            if not created_or_deleted and _changed(instance, ASSOCIATION_ATTRIBUTES):
                associations.add(instance.id)
        elif isinstance(instance, Review):
            if instance.status != REVIEW_SUBMITTED and not _changed(instance, ("status",)):
                continue  # a draft review is not indexed
            if created_or_deleted or _changed(instance, REVIEW_ATTRIBUTES):
                applications.add(instance.application_id)
        elif isinstance(instance, Score):
            if created_or_deleted or _changed(instance, ("comment",)):
                reviews.add(instance.review_id)
    return applications - {None}, associations, reviews - {None}


@event.listens_for(Session, "after_flush")
def _follow_the_flush(session, _context):
    applications, associations, reviews = stale_files(session)
    if not (applications or associations or reviews):
        return
    connection = session.connection()
    if associations:
        applications.update(connection.execute(
            db.select(Application.id).where(Application.association_id.in_(associations))).scalars())
    if reviews:
        applications.update(connection.execute(
            db.select(Review.application_id)
            .where(Review.id.in_(reviews), Review.status == REVIEW_SUBMITTED)).scalars())
    reindex(connection, applications)
