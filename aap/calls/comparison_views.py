"""Calls side by side (staff page): thin, the numbers come from aap/calls/comparison.py."""
from flask import render_template

from ..permissions import staff_required
from ..referentiel import REGIONS
from . import bp, comparison


@bp.route("/instruction/appels/comparaison")
@staff_required
def compare():
    return render_template("calls/compare.html", columns=comparison.compare_calls(), region_total=len(REGIONS))
