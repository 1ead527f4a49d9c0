"""Full-text search of the files by staff: the index (index.py), the queries (queries.py), the
page /instruction/recherche (views.py)."""
from flask import Blueprint

bp = Blueprint("search", __name__)

from . import index, views  # noqa: E402,F401  (index: the tables and the session hook)
