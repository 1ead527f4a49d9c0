"""Reusable read queries of the instruction (list of submitted files of a call)."""
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..models import Application, Association
from ..models.applications import DRAFT
from ..paging import paginate

PER_PAGE = 50

SORT_COLUMNS = {
    "reference": lambda: [Application.reference],
    "association": lambda: [func.lower(Association.name)],
    "montant": lambda: [Application.requested_cents],
    "depot": lambda: [Application.submitted_at],
}


@dataclass
class Filters:
    status: str = ""
    region: str = ""
    departement: str = ""
    min_cents: int | None = None
    max_cents: int | None = None
    sort: str = "reference"
    order: str = "asc"
    page: int = 1


def _filtered(statement, call_id, filters):
    statement = statement.where(Application.call_id == call_id, Application.status != DRAFT)
    if filters.status:
        statement = statement.where(Application.status == filters.status)
    if filters.region:
        statement = statement.where(Association.region_code == filters.region)
    if filters.departement:
        statement = statement.where(Association.departement_code == filters.departement)
    if filters.min_cents is not None:
        statement = statement.where(Application.requested_cents >= filters.min_cents)
    if filters.max_cents is not None:
        statement = statement.where(Application.requested_cents <= filters.max_cents)
    return statement


def submitted_files(call_id, filters):
    """The page of the call's files (a Pagination: its items, total, page, pages): two queries
    whatever the page size."""
    base = db.select(Application).join(Application.association)
    columns = SORT_COLUMNS.get(filters.sort, SORT_COLUMNS["reference"])()
    if filters.order == "desc":
        ordering = [column.desc() for column in columns] + [Application.id.desc()]
    else:
        ordering = [column.asc() for column in columns] + [Application.id.asc()]
    return paginate(_filtered(base, call_id, filters).options(contains_eager(Application.association))
                    .order_by(*ordering), filters.page, PER_PAGE)


def counts_by_status(call_id):
    """{status: count} of the call's files other than drafts, in one grouped query."""
    return dict(db.session.execute(
        db.select(Application.status, func.count(Application.id))
        .where(Application.call_id == call_id, Application.status != DRAFT)
        .group_by(Application.status)).all())
