"""Absolute links, for what leaves the site (e-mails).

A link in an e-mail is built from BASE_URL (the public address, path included, e.g.
https://aap.example.gouv.fr/sub), never from the request: behind a reverse proxy the request's
host is the proxy's upstream, and a mail sent by a command or the worker has no request at all.
"""
from urllib.parse import urlsplit

from flask import current_app


def absolute_url(endpoint, _anchor=None, **values):
    """The public address of a page: url_for(endpoint, **values) under BASE_URL."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    current_app.inject_url_defaults(endpoint, values)
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{_anchor}" if _anchor else url
