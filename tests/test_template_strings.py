"""Every word a template shows goes through the catalogs: text between the tags (and in the
placeholder, title, alt and aria-label attributes) outside {{ _("…") }} fails here, except the
few names below that are the same in every language."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "app" / "templates"

#: Shown as they are in every language: a media type in the API's documentation, and the shape
#: of a certificate code as printed (the placeholder of /verify's box).
SAME_IN_EVERY_LANGUAGE = {"application/json", "ABCD-EFGH-JKMN"}

JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
RAW = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
TAG = re.compile(r"<[^>]*>", re.S)
ATTRIBUTE = re.compile(r'\b(?:placeholder|title|alt|aria-label)="([^"]*)"')
ENTITY = re.compile(r"&[#\w]+;")
LETTER = re.compile(r"[^\W\d_]")


def visible_text(path: Path) -> list[str]:
    """The pieces of text a reader would see that are written in the template itself."""
    text = RAW.sub(" ", JINJA.sub(" ", path.read_text(encoding="utf-8")))
    if path.suffix == ".html":
        pieces = [*TAG.sub("\n", text).split("\n"), *ATTRIBUTE.findall(text)]
    else:  # e-mail and message texts: everything outside Jinja is shown
        pieces = text.split("\n")
    return [piece for piece in (ENTITY.sub(" ", p).strip() for p in pieces) if LETTER.search(piece)]


def test_the_check_finds_unmarked_text(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<p>{{ _("Marked") }} Unmarked</p><input placeholder="Name"><p>{{ name }} · 12</p>')
    assert visible_text(page) == ["Unmarked", "Name"]
    mail = tmp_path / "mail.txt"
    mail.write_text('{% set subject = _("Hello") %}\n{{ _("Body") }}\nSigned, the team\n')
    assert visible_text(mail) == ["Signed, the team"]


def test_every_template_string_is_marked_for_translation():
    templates = [p for p in sorted(TEMPLATES.rglob("*")) if p.suffix in (".html", ".txt")]
    assert len(templates) > 50
    unmarked = [
        f"{path.relative_to(TEMPLATES)}: {piece!r}"
        for path in templates
        for piece in visible_text(path)
        if piece not in SAME_IN_EVERY_LANGUAGE
    ]
    assert not unmarked, "wrap these in {{ _(\"…\") }}:\n" + "\n".join(unmarked)
