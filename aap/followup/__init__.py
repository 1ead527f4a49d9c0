"""After the decision: a winner's convention signed and amended, its payments, its yearly reports
and what is recovered; the staff lists of what is to do. The page of one file's follow-up is
built from sections each part registers (page.py)."""
from flask import Blueprint

bp = Blueprint("followup", __name__, url_prefix="/suivi")


@bp.app_context_processor
def _tabs():
    from ..navigation import followup_tabs
    return {"followup_tabs": followup_tabs}


from . import amendment_views, payment_views, report_review_views, report_views, signature_views, views  # noqa: E402,F401
