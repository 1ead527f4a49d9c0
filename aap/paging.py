"""Paged lists: Flask-SQLAlchemy's paginate, the one way a list page is cut into pages.

The page number comes from aap.web.page_number (a bounded ?page=); the template draws the
pages with the macro of templates/macros/pagination.html."""
from .extensions import db


def paginate(statement, page, per_page):
    """A Pagination of `statement` (its count and one page of rows: two queries). A page past
    the end, such as the page a form sends back to once its last file has left the filtered
    list, shows the last page instead of an empty one."""
    pagination = db.paginate(statement, page=page, per_page=per_page, error_out=False)
    last = max(pagination.pages, 1)
    if pagination.page > last:
        pagination = db.paginate(statement, page=last, per_page=per_page, error_out=False)
    return pagination
