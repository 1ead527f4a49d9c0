"""Request-level concerns: security headers, error pages, template filters, navigation."""
from flask import Request, abort, current_app, has_request_context, render_template, request
from flask.globals import request_ctx
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import money, numbers, timeutil, validators
from .extensions import db
from .urls import absolute_url

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    # The DSFR's script sets a few inline styles (menus, collapses); scripts stay strict.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def _without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


class Parameters(ImmutableMultiDict):
    """Query and form parameters without NUL characters: nobody types them, and PostgreSQL
    refuses them in text (a query or an insert would fail with a server error)."""

    def __init__(self, mapping=None):
        if mapping is None:
            super().__init__()
            return
        pairs = MultiDict(mapping).items(multi=True)
        super().__init__([(_without_nul(key), _without_nul(value)) for key, value in pairs])


class AppRequest(Request):
    parameter_storage_class = Parameters


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a row id, so at most the largest value of the databases'
    integer columns (PostgreSQL's INTEGER). A larger number answers 404 like an unknown id,
    instead of an overflow error from the database."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def _refuse_nul_in_path():
    # A NUL in the path (e.g. /appels/a%00b) would reach the database through a slug.
    if "\x00" in request.path:
        abort(404)


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if not request.path.startswith("/static/"):
        # Pages and downloads may hold personal data (a file, a RIB, an invitation's address):
        # no cache, shared or private, may keep them — whatever a view set (send_file says
        # « no-cache », which still lets a browser store the file).
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
        response.headers.pop("Pragma", None)
    return response


def _error(code, title, message):
    """An error page; `message` may be a function, called when the error happens."""
    def handler(error):
        if code == 500:
            db.session.rollback()
        text = message() if callable(message) else message
        if request_ctx.url_adapter is None:
            # No URL can be built (e.g. a Host that is not trusted): a bare page, no layout.
            page = (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{escape(title)}</title>'
                    f"</head><body><h1>{escape(title)}</h1><p>{escape(text)}</p></body></html>")
            return page, code
        return render_template("errors/error.html", code=code, title=title, message=text), code
    return handler


def _too_large_message():
    """The 413 page's message, from the configured limit of one file (MAX_CONTENT_LENGTH follows it)."""
    from .applications.attachments import size_label
    limit = size_label(current_app.config["MAX_FILE_SIZE"])
    return f"Le fichier envoyé dépasse la taille autorisée ({limit} par fichier)."


def page_number():
    """The ?page= of a paged list: ASCII digits of bounded length, else 1 (« ² » or 5,000 digits
    would make int() fail). Each list clamps it to its last page."""
    text = request.args.get("page", "1")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 and int(text) > 0 else 1


def _nl2br(text):
    if not text:
        return ""
    escaped = Markup.escape(text)
    return Markup("<br>".join(escaped.split("\n")))


def init_web(app):
    # WTForms' built-in messages in French (with WTF_I18N_ENABLED off, see config.py).
    FlaskForm.Meta.locales = ("fr_FR", "fr")
    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.request_class = AppRequest
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_nul_in_path)
    app.after_request(_security_headers)
    app.register_error_handler(400, _error(400, "Requête invalide",
                                           "La requête n'a pas pu être traitée. Vérifiez les informations envoyées."))
    app.register_error_handler(403, _error(403, "Accès refusé",
                                           "Vous n'avez pas les droits nécessaires pour accéder à cette page."))
    app.register_error_handler(404, _error(404, "Page non trouvée",
                                           "La page que vous cherchez est introuvable. "
                                           "Vérifiez l'adresse ou revenez à l'accueil."))
    app.register_error_handler(405, _error(405, "Méthode non autorisée",
                                           "Cette action n'est pas possible à cette adresse."))
    app.register_error_handler(413, _error(413, "Fichier trop volumineux", _too_large_message))
    app.register_error_handler(500, _error(500, "Erreur inattendue",
                                           "Une erreur inattendue s'est produite. L'équipe technique en a été "
                                           "informée ; réessayez dans quelques instants."))
    app.register_error_handler(CSRFError, _error(400, "Session expirée",
                                                 "Le formulaire a expiré ou n'est pas valide. "
                                                 "Rechargez la page et recommencez."))

    app.jinja_env.filters["euros"] = money.format_euros
    app.jinja_env.filters["iban"] = validators.group_iban
    app.jinja_env.filters["date_fr"] = timeutil.format_date
    app.jinja_env.filters["datetime_fr"] = timeutil.format_datetime
    app.jinja_env.filters["time_fr"] = timeutil.format_time
    app.jinja_env.filters["nl2br"] = _nl2br
    app.jinja_env.globals["absolute_url"] = absolute_url  # the links of e-mails (templates/mail)
    app.jinja_env.filters["decimal_fr"] = numbers.format_decimal  # 25.5 -> « 25,5 » (percentages)
    # The form macro (templates/macros/forms.html) draws each field by its class and limit.
    from .forms import field_kind, group_digits, text_limit
    app.jinja_env.globals.update(field_kind=field_kind, text_limit=text_limit)
    app.jinja_env.filters["digits"] = group_digits

    @app.context_processor
    def _navigation():
        from .navigation import menu_for
        if not has_request_context():  # e-mails and documents rendered outside a request
            return {"app_env": app.config["AAP_ENV"]}
        return {"nav_items": menu_for(current_user, request.path), "app_env": app.config["AAP_ENV"]}
