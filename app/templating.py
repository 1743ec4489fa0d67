"""Template helpers: navigation, language links, locale-aware formatting."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.numbers import get_group_symbol, get_minus_sign_symbol, parse_pattern
from flask import Flask, current_app, render_template, request, session, url_for
from flask_babel import get_locale, get_translations, gettext
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from jinja2 import pass_eval_context
from markupsafe import Markup

from app import authz
from app.i18n import LANGUAGE_NAMES, format_date, format_datetime, format_day_month, format_month
from app.jobs.routes import unread_notifications
from app.phones import local_format


@lru_cache(maxsize=64)
def _number_pattern(locale_name: str, pattern: str | None):
    locale = Locale.parse(locale_name)
    return locale, (parse_pattern(pattern) if pattern else locale.decimal_formats[None])


@lru_cache(maxsize=16)
def _thousands_separator(locale_name: str) -> str | None:
    """The group separator of a locale whose whole numbers group by threes (vi, en), else None
    (bn groups 12,34,567)."""
    locale, pattern = _number_pattern(locale_name, None)
    plain = pattern.prefix == ("", "-") and pattern.suffix == ("", "") and get_minus_sign_symbol(locale) == "-"
    if pattern.grouping != (3, 3) or not plain:
        return None
    return get_group_symbol(locale)


def format_number(value, pattern: str | None = None) -> str:
    """Locale-aware number formatting; the parsed pattern is reused, since report tables format
    thousands of cells per page, and whole numbers grouped by threes skip Babel altogether."""
    locale_name = str(get_locale() or "vi")
    if pattern is None and type(value) is int:
        separator = _thousands_separator(locale_name)
        if separator is not None:
            text = f"{value:,}"
            return text if separator == "," else text.replace(",", separator)
    locale, number_pattern = _number_pattern(locale_name, pattern)
    return number_pattern.apply(value, locale)


def report_value(value, kind: str, key: str = ""):
    """One figure of a report table as shown: a dash for none, a percentage with one decimal
    (signed for a change), a decimal, or a whole number. A plain function rather than a template
    macro: a province table has a thousand cells."""
    if value is None:
        return Markup('<span aria-label="%s">–</span>') % gettext("no figure")
    if kind == "percent":
        text = format_number(value * 100, "#,##0.0")
        if key.endswith("_change"):
            return ("+" if value > 0 else "") + text
        return text + "%"
    if kind in ("decimal", "hours"):
        return format_number(value, "#,##0.0")
    if kind == "int":
        return format_number(value)
    return value


def url_with_lang(lang: str) -> str:
    """The current page's address with ?lang= set, keeping the other query arguments."""
    view_args = request.view_args or {}
    # A query argument named like a path argument, or like url_for's own (_external, _scheme…),
    # would be taken for it: those are left out.
    args = {
        name: values
        for name, values in request.args.to_dict(flat=False).items()
        if name not in view_args and not name.startswith("_")
    }
    args["lang"] = [lang]
    if request.endpoint and request.url_rule and request.method == "GET":
        return url_for(request.endpoint, **view_args, **args)
    return url_for("main.home", lang=lang)


def template_translations() -> dict:
    """gettext, _ and ngettext for one template rendering, bound to the catalog of the language
    in force. They behave as Jinja's "newstyle" i18n callables (the text is a format string,
    escaped in HTML templates), but look the catalog up once per page rather than once per
    message: a page shows a few dozen messages, and every lookup through Flask-Babel costs
    several context-local reads."""
    translations = get_translations()
    lookup, plural_lookup = translations.ugettext, translations.ungettext

    @pass_eval_context
    def gettext(eval_ctx, string: str, **variables) -> str:
        text = lookup(string)
        if eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 — catalog text is trusted; the variables are escaped
        return text % variables

    @pass_eval_context
    def ngettext(eval_ctx, singular: str, plural: str, num: int, **variables) -> str:
        variables.setdefault("num", num)
        text = plural_lookup(singular, plural, num)
        if eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 — catalog text is trusted; the variables are escaped
        return text % variables

    return {"gettext": gettext, "_": gettext, "ngettext": ngettext}


#: Stands for the person's CSRF token in a shared page until it is served (random, so no page
#: content can contain it by chance).
_CSRF_MARK = "csrf-" + secrets.token_hex(16)
SHARED_PAGES_KEPT = 2000


def render_shared_page(template_name: str, vary: tuple, **context) -> str:
    """Render a page once for everyone who would see the same thing, then reuse it.

    For the busiest pages (a lesson read by a whole province). The page may show nothing about
    the person except what the key holds: `vary` (what the page's own content depends on beyond
    its address, e.g. a content version and "already read") plus everything the site header
    depends on — address, language, role (the menu), text size and the number of unread
    notifications. The person's own CSRF token goes in as the page is served. A page with
    messages waiting to be shown (flash), or asked for with query arguments other than `lang`,
    is rendered afresh. Kept per process, at most SHARED_PAGES_KEPT pages (then started over)."""
    # Other query arguments than the language would only fill the cache with copies.
    if session.get("_flashes") or set(request.args) - {"lang"}:
        return render_template(template_name, **context)

    key = (
        template_name,
        vary,
        request.method,
        request.full_path,
        str(get_locale() or "vi"),
        current_user.role if current_user.is_authenticated else None,
        bool(session.get("large_text")),
        unread_notifications(),
    )
    pages: dict = current_app.extensions["shared_pages"]
    page = pages.get(key)
    if page is None:
        page = render_template(template_name, csrf_token=lambda: _CSRF_MARK, **context)
        if generate_csrf() in page:
            # The token came in some other way than csrf_token() (a form's own field, say):
            # sharing this page would hand one person's token to everyone.
            raise RuntimeError(f"{template_name} must put the CSRF token in with csrf_token() to be shared")
        if len(pages) >= SHARED_PAGES_KEPT:
            pages.clear()
        pages[key] = page
    return page.replace(_CSRF_MARK, generate_csrf())


def register(app: Flask) -> None:
    app.extensions["shared_pages"] = {}

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
    app.jinja_env.filters["phone"] = local_format

    # The main menu's links depend only on the person's role (permissions are given per role, see
    # authz.PERMISSIONS) and the language, so each variant is rendered once per process.
    menus: dict[tuple[str, str], Markup] = {}

    def main_menu() -> Markup:
        key = (str(get_locale() or "vi"), current_user.role)
        menu = menus.get(key)
        if menu is None:
            menu = menus[key] = Markup(render_template("_main_menu.html"))  # noqa: S704 — autoescaped
        return menu

    @app.context_processor
    def inject_helpers():
        return {
            **template_translations(),
            "main_menu": main_menu,
            "authz": authz,
            "language_names": LANGUAGE_NAMES,
            "current_locale": str(get_locale() or "vi"),
            "url_with_lang": url_with_lang,
            "large_text": bool(session.get("large_text")),
            "format_date": format_date,
            "format_month": format_month,
            "format_day_month": format_day_month,
            "format_datetime": format_datetime,
            "format_number": format_number,
            "report_value": report_value,
        }
