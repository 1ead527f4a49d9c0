"""The plan's steering page (/pilotage, staff): young people promised and reached per year, the
reference figures of the plan, the map of départements, and their exports."""
from flask import Blueprint

bp = Blueprint("pilotage", __name__, url_prefix="/pilotage")

from . import views  # noqa: E402,F401
