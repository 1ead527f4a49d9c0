"""The association's identity, bank details and members (applicants), and the staff's read-only view."""
from flask import Blueprint

bp = Blueprint("associations", __name__)

from . import views  # noqa: E402,F401
