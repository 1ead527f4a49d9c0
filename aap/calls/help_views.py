"""Help for applicants: a help page per call (its FAQ and its service's contact) and the general
« Aide et contact » page; public, no account needed."""
from flask import abort, render_template
from flask_login import current_user

from . import bp, services
from .contact import service_contact
from .help import faq_html


@bp.route("/appels/<slug>/aide")
def help_page(slug):
    call, preview = services.get_visible_call(slug, current_user)
    if call is None:
        abort(404)
    return render_template("calls/help.html", call=call, preview=preview, faq=faq_html(call),
                           contact=service_contact(call))


@bp.route("/aide")
def help_index():
    now_open, upcoming, past = services.public_calls()
    calls = [*now_open, *upcoming, *past]
    return render_template("calls/help_index.html", calls=calls,
                           contact=service_contact(calls[0] if calls else None))
