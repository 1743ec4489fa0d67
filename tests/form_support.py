"""Submitting a page's form as a browser would, and a snapshot of the whole database — to check
that saving an edit form unchanged changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

from sqlalchemy import select

from app.extensions import db

#: Input types a browser sends with their value attribute (when they have a name).
_VALUE_INPUTS = {"text", "hidden", "email", "tel", "number", "date", "time", "search", "url", "password", ""}


@dataclass
class PageForm:
    action: str
    method: str
    #: (name, value) pairs as the browser sends them, the first submit button included.
    fields: list[tuple[str, str]] = field(default_factory=list)

    def data(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for name, value in self.fields:
            grouped.setdefault(name, []).append(value)
        return grouped


class _FormParser(HTMLParser):
    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[PageForm] = []
        self._form: PageForm | None = None
        self._submitted = False
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: (value if value is not None else "") for name, value in attrs}
        if tag == "form":
            action = urljoin(self.page_url, attrs.get("action") or self.page_url)
            self._form = PageForm(action, (attrs.get("method") or "get").lower())
            self._submitted = False
            return
        if self._form is None or "disabled" in attrs:
            return
        name = attrs.get("name")
        if tag == "input":
            kind = attrs.get("type", "text").lower()
            if not name:
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._form.fields.append((name, attrs.get("value", "on")))
            elif kind == "submit":
                if not self._submitted:
                    self._form.fields.append((name, attrs.get("value", "")))
                    self._submitted = True
            elif kind in _VALUE_INPUTS:
                self._form.fields.append((name, attrs.get("value", "")))
        elif tag == "button" and attrs.get("type", "submit") == "submit" and name and not self._submitted:
            self._form.fields.append((name, attrs.get("value", "")))
            self._submitted = True
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in attrs, "options": []}
        elif tag == "option" and self._select is not None:
            self._option = {"value": attrs.get("value"), "text": "", "selected": "selected" in attrs}
            self._select["options"].append(self._option)
        elif tag == "textarea" and name:
            self._textarea = {"name": name, "text": ""}

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            options = self._select["options"]
            chosen = [option for option in options if option["selected"]]
            if not chosen and options and not self._select["multiple"]:
                chosen = options[:1]  # a browser sends the first option when none is selected
            for option in chosen:
                value = option["value"] if option["value"] is not None else option["text"].strip()
                self._form.fields.append((self._select["name"], value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea["name"], self._textarea["text"].removeprefix("\n")))
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def forms_on(html: str, page_url: str) -> list[PageForm]:
    parser = _FormParser(page_url)
    parser.feed(html)
    return parser.forms


def form_to(html: str, page_url: str, action: str) -> PageForm:
    """The one POST form of the page that submits to `action` (a path)."""
    found = [
        form
        for form in forms_on(html, "http://localhost" + page_url)
        if form.method == "post" and form.action == "http://localhost" + action
    ]
    assert len(found) == 1, f"{len(found)} forms post to {action} on {page_url}"
    return found[0]


def database_snapshot(ignore: dict[str, set[str]] | None = None) -> dict[str, set[tuple]]:
    """Every row of every table, as comparable tuples (without the `ignore`d columns by table)."""
    db.session.flush()
    db.session.expire_all()
    snapshot = {}
    for table in db.metadata.sorted_tables:
        columns = [column for column in table.columns if column.name not in (ignore or {}).get(table.name, ())]
        rows = db.session.execute(select(*columns)).all()
        snapshot[table.name] = {tuple(repr(value) for value in row) for row in rows}
    return snapshot


def changes_between(before: dict[str, set[tuple]], after: dict[str, set[tuple]]) -> dict[str, dict]:
    """{table: {"gone": rows, "new": rows}} for the tables that differ."""
    return {
        name: {"gone": before[name] - after[name], "new": after[name] - before[name]}
        for name in before
        if before[name] != after[name]
    }
