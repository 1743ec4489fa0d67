"""Language choice and message catalogs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, g, has_request_context, request, session
from flask_login import current_user

LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English", "bn": "বাংলা"}


def select_locale() -> str:
    """The user's saved preference, else the ?lang= switch (kept in the session), else the
    browser's Accept-Language, else Vietnamese."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    person = current_user if current_user and current_user.is_authenticated else g.get("api_user")
    if person is not None and person.locale in languages:
        return person.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


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
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        fd, tmp_name = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as tmp:
            write_mo(tmp, catalog, use_fuzzy=False)
        os.replace(tmp_name, mo_path)
        compiled.append(mo_path)
    return compiled
