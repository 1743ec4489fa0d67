"""Template helpers: navigation, language links, locale-aware formatting."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.numbers import parse_pattern
from flask import Flask, request, session, url_for
from flask_babel import format_date, format_datetime, get_locale

from app import authz
from app.i18n import LANGUAGE_NAMES


@lru_cache(maxsize=64)
def _number_pattern(locale_name: str, pattern: str | None):
    locale = Locale.parse(locale_name)
    return locale, (parse_pattern(pattern) if pattern else locale.decimal_formats[None])


def format_number(value, pattern: str | None = None) -> str:
    """Locale-aware number formatting; the parsed pattern is reused, since report tables format
    thousands of cells per page."""
    locale, number_pattern = _number_pattern(str(get_locale() or "vi"), pattern)
    return number_pattern.apply(value, locale)


def url_with_lang(lang: str) -> str:
    """The current page's address with ?lang= set, keeping the other query arguments."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    if request.endpoint and request.url_rule and request.method == "GET":
        return url_for(request.endpoint, **(request.view_args or {}), **args)
    return url_for("main.home", lang=lang)


def register(app: Flask) -> None:
    # Static files are cached for a month; their address carries the file's modification time,
    # so a changed stylesheet is fetched again at once.
    versions: dict[str, int] = {}

    @app.url_defaults
    def version_static_files(endpoint, values):
        if endpoint == "static" and "filename" in values:
            filename = values["filename"]
            if filename not in versions:
                path = Path(app.static_folder) / filename
                versions[filename] = int(path.stat().st_mtime) if path.is_file() else 0
            values["v"] = versions[filename]

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
            "format_number": format_number,
        }
