"""Template helpers: navigation, language links, locale-aware formatting."""

from __future__ import annotations

from flask import Flask, request, session, url_for
from flask_babel import format_date, format_datetime, format_decimal, get_locale

from app import authz
from app.i18n import LANGUAGE_NAMES


def url_with_lang(lang: str) -> str:
    """The current page's address with ?lang= set, keeping the other query arguments."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    if request.endpoint and request.url_rule and request.method == "GET":
        return url_for(request.endpoint, **(request.view_args or {}), **args)
    return url_for("main.home", lang=lang)


def register(app: Flask) -> None:
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.add_extension("jinja2.ext.do")

    @app.context_processor
    def inject_helpers():
        return {
            "authz": authz,
            "language_names": LANGUAGE_NAMES,
            "current_locale": str(get_locale() or "vi"),
            "url_with_lang": url_with_lang,
            "large_text": bool(session.get("large_text")),
            "format_date": format_date,
            "format_datetime": format_datetime,
            "format_number": format_decimal,
        }
