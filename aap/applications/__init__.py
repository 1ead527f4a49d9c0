"""The association's side of an application: drafts, attachments, submission, receipt."""
from flask import Blueprint

bp = Blueprint("applications", __name__, url_prefix="/candidatures")

from . import views  # noqa: E402,F401
