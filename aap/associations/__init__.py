"""The association's identity, bank details and members (applicants), and the staff's view of it."""
from flask import Blueprint

bp = Blueprint("associations", __name__)

from . import views  # noqa: E402,F401
