"""full-text search of the files (issue 19 §1): the table `search_index`, one row per application
(drafts excepted): an FTS5 virtual table on SQLite; on PostgreSQL a table with tsvector columns
(without and with the reviewers' comments, GIN-indexed) built with the text search configuration
`aap_french` (French stemming after `unaccent`). The statements are those of aap/search/index.py,
written out here so that this revision stays as it is when that module changes.

The index is filled by `flask --app aap search-reindex`, to run once after this upgrade on an
existing database; afterwards every write keeps it up to date.

Revision ID: e9f3a7c1d5b8
Revises: c3d7e1a9b5f2
Create Date: 2026-12-03 21:30:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e9f3a7c1d5b8'
down_revision = 'c3d7e1a9b5f2'
branch_labels = None
depends_on = None

COLUMNS = ("reference", "association", "identifiers", "title", "body", "review_comments")

SQLITE = [
    f"CREATE VIRTUAL TABLE search_index USING fts5({', '.join(COLUMNS)}, "
    "tokenize = 'unicode61 remove_diacritics 2')",
]
# `unaccent` is a trusted extension (PostgreSQL 13+): the database's owner may create it.
POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """DO $$
DECLARE extension_schema text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
                 WHERE c.cfgname = 'aap_french' AND n.nspname = current_schema()) THEN
    SELECT n.nspname INTO extension_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'unaccent';
    CREATE TEXT SEARCH CONFIGURATION aap_french (COPY = pg_catalog.french);
    EXECUTE 'ALTER TEXT SEARCH CONFIGURATION aap_french ALTER MAPPING FOR hword, hword_part, word WITH '
            || quote_ident(extension_schema) || '.unaccent, french_stem';
  END IF;
END $$""",
    f"""CREATE TABLE search_index (
  application_id INTEGER PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
  {', '.join(f"{name} TEXT NOT NULL DEFAULT ''" for name in COLUMNS)},
  document TSVECTOR NOT NULL,
  document_all TSVECTOR NOT NULL
)""",
    "CREATE INDEX ix_search_index_document ON search_index USING GIN (document)",
    "CREATE INDEX ix_search_index_document_all ON search_index USING GIN (document_all)",
]


def upgrade():
    connection = op.get_bind()
    for statement in POSTGRESQL if connection.dialect.name == "postgresql" else SQLITE:
        connection.exec_driver_sql(statement)


def downgrade():
    op.execute("DROP TABLE IF EXISTS search_index")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS aap_french")
