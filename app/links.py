"""Absolute addresses of the app's pages, for what is read outside the browser: calendar feeds
and their events, e-mails.

They start from PUBLIC_URL (the address people reach the site at), else SERVER_NAME — never from
the Host header of a request, which the client chooses and a proxy may pass on unchecked. Only
in development, where the site is whatever address the developer opened, the request's own
address is used when neither is set.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, request


def public_base_url() -> str | None:
    """The site's address without a trailing slash (https://kynangso.example.gov.vn), or None."""
    config = current_app.config
    if config.get("PUBLIC_URL"):
        return config["PUBLIC_URL"].rstrip("/")
    if config.get("SERVER_NAME"):
        return f"{config.get('PREFERRED_URL_SCHEME') or 'http'}://{config['SERVER_NAME']}"
    if config.get("ENV_NAME") == "development" and has_request_context():
        return request.host_url.rstrip("/")
    return None


def public_url(path: str | None) -> str | None:
    """The absolute address of an in-app path ("/visits/visits/7"), or None when the site's
    address is not known."""
    base = public_base_url()
    return base + path if base and path else None


def public_host() -> str:
    """The site's host name (for identifiers such as calendar event UIDs), "localhost" if unknown."""
    base = public_base_url()
    return (urlsplit(base).hostname if base else None) or "localhost"
