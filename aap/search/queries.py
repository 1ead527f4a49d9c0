"""Searching the files (staff): what was typed becomes a full-text query of the index
(aap/search/index.py), ranked, filtered by call, state and région, paged, with the passage that
matches highlighted.

Every word typed is a word prefix (« medec » finds « médecins »); a word written with hyphens
or dots (a reference « 1J1M-2025-0042 ») is a phrase; all words must be found. A SIRET typed
with its spaces (« 123 456 789 00012 ») is read as one number. Nothing of the text typed reaches
the query language: only its words, quoted.
"""
import re
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import Integer, bindparam, column, literal_column, table, text
from sqlalchemy.orm import load_only, selectinload

from ..extensions import db
from ..models import Application, Association
from ..paging import paginate
from .index import COLUMNS, CONFIG, END, GREATER, LESS, START, TABLE

PER_PAGE = 20
MAX_TERMS = 8
MAX_LENGTH = 200
# Column weights of SQLite's bm25 (in the order of COLUMNS): what names the file weighs most.
BM25_WEIGHTS = (10.0, 8.0, 10.0, 4.0, 1.0, 1.0)
PASSAGE_WORDS = 16
_SIRET = re.compile(r"\b(\d{3}) (\d{3}) (\d{3})(?: (\d{5}))?\b")
_WORD = re.compile(r"[^\W_]+")


@dataclass
class Criteria:
    text: str = ""
    call_id: int | None = None
    status: str = ""
    region: str = ""
    with_reviews: bool = False
    page: int = 1


def terms(typed):
    """[[word, ...], ...]: the terms of a query, each the words of one space-separated chunk
    (more than one word: a phrase), lower-cased; at most MAX_TERMS."""
    typed = _SIRET.sub(lambda m: "".join(g for g in m.groups() if g), (typed or "")[:MAX_LENGTH])
    found = []
    for chunk in typed.split():
        parts = [word.lower() for word in _WORD.findall(chunk)]
        if parts:
            found.append(parts)
    return found[:MAX_TERMS]


def fts5_query(found, with_reviews):
    """An FTS5 MATCH expression: each term a quoted phrase whose last word is a prefix."""
    expression = " AND ".join('"' + " ".join(parts) + '"*' for parts in found)
    if with_reviews:
        return expression
    columns = " ".join(name for name in COLUMNS if name != "review_comments")
    return f"{{{columns}}} : ({expression})"


def tsquery(found):
    """A to_tsquery() text: words followed by <->, the last one of each term a prefix (:*)."""
    return " & ".join("(" + " <-> ".join(parts[:-1] + [parts[-1] + ":*"]) + ")" for parts in found)


_index = table(TABLE, column("rowid"), column("application_id"))


def _filtered(statement, key, criteria, sqlite):
    """The filters, joining the files (and their associations) only when one is asked for. On
    SQLite each filtered column is wrapped (« + 0 », « || '' ») so that the planner cannot start
    from its index: it would then run the full-text query once per file of the call or région
    (seconds instead of milliseconds); the full-text match always leads."""
    def plain(column):
        if not sqlite:
            return column
        return column + 0 if isinstance(column.type, Integer) else column.concat("")
    if criteria.call_id or criteria.status or criteria.region:
        statement = statement.join(Application, Application.id == key)
    if criteria.call_id:
        statement = statement.where(plain(Application.call_id) == criteria.call_id)
    if criteria.status:
        statement = statement.where(plain(Application.status) == criteria.status)
    if criteria.region:
        statement = statement.join(Application.association).where(plain(Association.region_code) == criteria.region)
    return statement


@dataclass
class Results:
    pages: object          # a Pagination of the ids of the files found (aap/paging.py)
    files: list            # the files of the page, in their order (association and call loaded)
    passages: dict         # {application id: Markup}


def search(criteria, per_page=PER_PAGE):
    """The page of files matching the criteria, best first, or None when nothing was typed. A
    fixed number of queries: the count, the page's ids, its files, their associations and
    calls, the passages.

    Every file that matches goes through the count and the ranked query: both read the index
    alone (drafts are never in it), joined to the files only for a filter; the page's files are
    loaded apart, by id."""
    found = terms(criteria.text)
    if not found:
        return None
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    if postgresql:
        query = f"to_tsquery('{CONFIG}', :tsquery)"
        vector = "document_all" if criteria.with_reviews else "document"
        match = text(f"{TABLE}.{vector} @@ {query}").bindparams(tsquery=tsquery(found))
        rank = text(f"ts_rank({TABLE}.{vector}, {query}) DESC").bindparams(tsquery=tsquery(found))
        key = _index.c.application_id
    else:
        match = text(f"{TABLE} MATCH :match").bindparams(match=fts5_query(found, criteria.with_reviews))
        rank = literal_column(f"bm25({TABLE}, {', '.join(map(str, BM25_WEIGHTS))})")
        key = _index.c.rowid
    statement = _filtered(db.select(key.label("id")).select_from(_index).where(match), key, criteria,
                          sqlite=not postgresql)
    pages = paginate(statement.order_by(rank, key), criteria.page, per_page)
    ids = list(pages.items)
    if not ids:
        return Results(pages, [], {})
    loaded = {application.id: application for application in db.session.scalars(
        db.select(Application).where(Application.id.in_(ids))
        .options(load_only(Application.reference, Application.title, Application.status,
                           Application.association_id, Application.call_id),
                 selectinload(Application.association), selectinload(Application.call)))}
    files = [loaded[i] for i in ids if i in loaded]
    return Results(pages, files, passages(found, criteria.with_reviews, ids, postgresql))


def passages(found, with_reviews, ids, postgresql):
    """{application id: Markup}: the passage of each file where the words are, marked."""
    if postgresql:
        shown = [name for name in COLUMNS if with_reviews or name != "review_comments"]
        joined = " || ' · ' || ".join(shown)
        options = (f'StartSel="{START}", StopSel="{END}", MaxFragments=2, MaxWords={PASSAGE_WORDS + 4}, '
                   f'MinWords={PASSAGE_WORDS // 2}, FragmentDelimiter=" … "')
        statement = text(
            f"SELECT application_id, ts_headline('{CONFIG}', "
            f"replace(replace({joined}, '<', '{LESS}'), '>', '{GREATER}'), "
            f"to_tsquery('{CONFIG}', :tsquery), :options) FROM {TABLE} WHERE application_id IN :ids"
        ).bindparams(bindparam("ids", expanding=True), tsquery=tsquery(found), options=options)
    else:
        # « +rowid »: the page's rows are picked among the matches (one pass over them), not looked
        # up one by one, which would run the full-text query once per row.
        statement = text(
            f"SELECT rowid, snippet({TABLE}, -1, '{START}', '{END}', '…', {PASSAGE_WORDS}) FROM {TABLE} "
            f"WHERE {TABLE} MATCH :match AND +rowid IN :ids"
        ).bindparams(bindparam("ids", expanding=True), match=fts5_query(found, with_reviews))
    return {application_id: marked(passage)
            for application_id, passage in db.session.execute(statement, {"ids": ids})}


def marked(passage):
    """A passage as HTML: escaped, then the marks put by the database turned into <mark>."""
    passage = (passage or "").replace(LESS, "<").replace(GREATER, ">").replace("\n", " · ")
    return Markup(str(escape(passage)).replace(START, "<mark>").replace(END, "</mark>"))
