"""Selection (staff): ranking, budget and territories, optimal proposal, decisions."""
from flask import Blueprint

bp = Blueprint("selection", __name__, url_prefix="/selection")


@bp.record_once
def _register_cli(state):
    from .cli import draw_verify_command, propose_command
    state.app.cli.add_command(propose_command)
    state.app.cli.add_command(draw_verify_command)


from . import amendment_views, publication_views, views  # noqa: E402,F401
