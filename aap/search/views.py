"""The search page of staff (the search box of the header sends to it)."""
from flask import render_template, request, url_for

from ..extensions import db
from ..models import Call
from ..models.applications import STATUS_LABELS
from ..permissions import staff_required
from ..referentiel import REGION_BY_CODE
from ..web import page_number
from . import bp, queries
from .forms import SearchForm


@bp.route("/instruction/recherche")
@staff_required
def results():
    calls = db.session.scalars(db.select(Call).order_by(Call.year.desc(), Call.id.desc())).all()
    form = SearchForm(calls, formdata=request.args)
    form.validate()
    appel = form.value("appel")
    criteria = queries.Criteria(text=form.text, call_id=int(appel) if appel else None, status=form.value("etat"),
                                region=form.value("region"), with_reviews=bool(form.commentaires.data),
                                page=page_number())
    found = queries.search(criteria)
    current = {key: value for key, value in request.args.items() if key in form and value}

    def page_url(**changes):
        values = dict(current, **changes)
        return url_for("search.results", **{key: value for key, value in values.items() if value not in (None, "", 1)})

    return render_template("search/results.html", form=form, criteria=criteria, found=found, page_url=page_url,
                           calls={call.id: call for call in calls}, labels=STATUS_LABELS, regions=REGION_BY_CODE)
