"""The first check of every request: no text a database or parser would fail on gets in.

* Control characters: none in the address; none but tab, line feed and carriage return in form
  fields, uploaded file names and JSON text (keys and values at any depth). PostgreSQL refuses a
  NUL byte in text, and a lone surrogate in JSON cannot be encoded for any database. A path
  segment holding one names nothing (404); a query argument, a form field or a JSON value is
  refused as invalid, naming it (422 in the API, 400 on a page).
* JSON bodies: at most JSON_MAX_BYTES (413) and JSON_MAX_DEPTH levels of nesting (400), checked
  on the raw bytes before anything parses them.
* Ids in addresses: every `<int:…>` of a route is a database id, so a number beyond MAX_ID
  matches no route (404) instead of reaching a query.

`register` installs the check as the first request hook, before the CSRF check and the sign-in
limits (which read the typed username from the form or the JSON body).
"""

from __future__ import annotations

import re

from flask import Flask, abort, request
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from app.db import CONTROL_CHARACTERS, MAX_ID
from app.exceptions import DomainError, Invalid

#: The largest JSON body any endpoint takes (the biggest, a list of answers, is a few KB).
JSON_MAX_BYTES = 1024 * 1024
#: Nesting deeper than this is never meant; much deeper nesting exhausts a parser's stack.
JSON_MAX_DEPTH = 32

#: Query strings and paths: no control character at all. (Form fields and JSON text may hold tab,
#: line feed and carriage return: CONTROL_CHARACTERS.)
_CONTROL = re.compile(r"[\x00-\x1f]")
#: What matters for nesting in JSON's bytes: escapes (inside strings), quotes and brackets.
_JSON_STRUCTURE = re.compile(rb'\\.|["\[\]{}]', re.DOTALL)


class BadJson(DomainError):
    """A JSON body nested too deeply to be read."""

    status = 400
    code = "bad_json"


class DatabaseIdConverter(IntegerConverter):
    """`<int:…>` in a route: ASCII digits naming a possible database id. A larger number (or a
    negative one) matches no route, so the answer is 404 before any query."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register(app: Flask) -> None:
    """Use the id converter for `<int:…>` and run `check_request` before every other hook.
    Call before any blueprint or extension is registered."""
    app.url_map.converters["int"] = DatabaseIdConverter
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)


def check_request() -> None:
    """Refuse the request (NotFound, Invalid, BadJson, 413) when any of its text cannot be taken."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and _CONTROL.search(value):
            abort(404)
    for name, value in request.args.items(multi=True):
        if _CONTROL.search(name) or _CONTROL.search(value):
            _refuse(_printable(name))
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.is_json:
        _check_json()
        return
    for name, value in request.form.items(multi=True):
        if CONTROL_CHARACTERS.search(name) or CONTROL_CHARACTERS.search(value):
            _refuse(_printable(name))
    for name, upload in request.files.items(multi=True):
        if CONTROL_CHARACTERS.search(name) or CONTROL_CHARACTERS.search(upload.filename or ""):
            _refuse(_printable(name))


def _check_json() -> None:
    too_large = _("The JSON body is larger than %(size)d KB. Send less at once.", size=JSON_MAX_BYTES // 1024)
    if request.content_length is not None and request.content_length > JSON_MAX_BYTES:
        raise RequestEntityTooLarge(too_large)
    body = request.get_data(cache=True)  # read once, kept for get_json
    if len(body) > JSON_MAX_BYTES:
        raise RequestEntityTooLarge(too_large)
    if _nesting_depth(body) > JSON_MAX_DEPTH:
        raise BadJson(_("The JSON body is nested more than %(depth)d levels deep.", depth=JSON_MAX_DEPTH))
    data = request.get_json(silent=True)  # parsed once; the views' get_json reads this copy
    _check_json_value(data, "")


def _nesting_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in JSON text, without parsing it (brackets
    inside strings do not count). Stops counting once past JSON_MAX_DEPTH."""
    depth = deepest = 0
    in_string = False
    for match in _JSON_STRUCTURE.finditer(body):
        token = match.group()
        if token == b'"':
            in_string = not in_string
        elif in_string:
            continue
        elif token in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > JSON_MAX_DEPTH:
                    break
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def _check_json_value(value, where: str) -> None:
    if isinstance(value, str):
        if CONTROL_CHARACTERS.search(value):
            _refuse(where or "body")
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{where}.{key}" if where else key
            if CONTROL_CHARACTERS.search(key):
                _refuse(_printable(name))
            _check_json_value(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_value(item, f"{where}[{index}]")


def _printable(name: str) -> str:
    """A field's name fit to show: control characters and lone surrogates as '?'."""
    return CONTROL_CHARACTERS.sub("?", _CONTROL.sub("?", name))[:100]


def _refuse(field: str):
    raise Invalid(
        _(
            "“%(field)s” contains a control character (such as a NUL byte), which is not allowed. "
            "Remove it and try again.",
            field=field,
        ),
        field=field,
    )
