"""Language choice, message catalogs, and dates as people write them in each language."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

import flask_babel
from babel import Locale
from babel.dates import format_skeleton
from flask import current_app, g, has_request_context, request, session
from flask_login import current_user

LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English", "bn": "বাংলা"}


def format_date(value, format: str | None = "long") -> str:
    """A date (or a datetime's local date) in the language in force, written out as in a
    sentence: "6 tháng 12, 2026", "December 6, 2026" — Babel's "medium" abbreviates the month
    ("6 thg 12, 2026"), so it is written out too. Other Babel formats and patterns as given."""
    return flask_babel.format_date(value, "long" if format in (None, "medium") else format)


def format_datetime(value, format: str | None = "medium") -> str:
    """A moment in the language and local time in force; "medium" (the default) is the date
    written out with the hour and minute ("20:00 6 tháng 12, 2026"), not Babel's abbreviated
    month with seconds. Other Babel formats and patterns as given."""
    if format not in (None, "medium"):
        return flask_babel.format_datetime(value, format)
    locale = flask_babel.get_locale() or Locale.parse("vi")
    pattern = str(locale.datetime_formats["medium"])
    day, hour = flask_babel.format_date(value, "long"), flask_babel.format_time(value, "short")
    return pattern.replace("{1}", day).replace("{0}", hour)


def _skeleton(value, skeleton: str) -> str:
    if isinstance(value, datetime):
        value = flask_babel.to_user_timezone(value).date()
    return format_skeleton(skeleton, value, locale=flask_babel.get_locale() or "vi")


def format_month(value) -> str:
    """A month and its year as in a sentence: "tháng 12 năm 2026", "December 2026"."""
    return _skeleton(value, "yMMMM")


def format_day_month(value) -> str:
    """A day and its month without the year: "30 tháng 11", "November 30"."""
    return _skeleton(value, "MMMMd")


#: Session keys of the language switch: the language chosen, and the saved preference it was
#: chosen over (so that saving a language in the account form ends the switch).
SWITCH_KEY = "lang"
SWITCH_OVER_KEY = "lang_over"


def select_locale() -> str:
    """The language of this response: the ?lang= of the request; else the switch made in this
    browser session (over the saved preference it was made over); else the person's saved
    preference; else the switch; else Vietnamese, the product's language.

    A browser's Accept-Language alone never chooses: a phone set to English is no sign its owner
    reads English. The API's callers are other systems, with no browser session, which ask for a
    language on purpose: for them it is ?lang=, the account's saved language, Accept-Language,
    then Vietnamese."""
    languages = current_app.config["LANGUAGES"]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    asked = request.args.get("lang")
    if asked in languages:
        return asked
    person = current_user if current_user and current_user.is_authenticated else g.get("api_user")
    saved = person.locale if person is not None and person.locale in languages else None
    if request.path.startswith("/api/"):
        return saved or request.accept_languages.best_match(languages) or default
    chosen = session.get(SWITCH_KEY)
    if chosen in languages and (saved is None or session.get(SWITCH_OVER_KEY) == saved):
        return chosen
    return saved or default


def remember_language_switch(lang: str, person) -> None:
    """Keep a ?lang= choice for the rest of this browser session. Only the session: the language
    saved with an account changes through the account form alone, never through a link (which
    any site could send)."""
    session[SWITCH_KEY] = lang
    session[SWITCH_OVER_KEY] = person.locale if person is not None else None


def compile_translations(directory: str | Path, *, force: bool = False) -> list[Path]:
    """Compile every messages.po under `directory` whose .mo is missing or older.

    Writes through a temporary file and a rename, so several starting processes never see a
    half-written catalog. Returns the catalogs compiled.
    """
    compiled = []
    for po_path in sorted(Path(directory).glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        # Babel's catalog tools only when a catalog is out of date: a worker started on compiled
        # catalogs does not load them.
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        fd, tmp_name = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as tmp:
            write_mo(tmp, catalog, use_fuzzy=False)
        os.replace(tmp_name, mo_path)
        compiled.append(mo_path)
    return compiled
