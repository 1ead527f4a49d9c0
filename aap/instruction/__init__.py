"""Instruction of the files by DJEPVA staff: list of submitted files, admissibility, requests for
missing pieces, and the message thread between staff and associations."""
from flask import Blueprint

bp = Blueprint("instruction", __name__)

from . import bulk_views, notes_views, views  # noqa: E402,F401
