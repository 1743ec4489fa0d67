"""Lesson Markdown to safe HTML.

Raw HTML in the source is not rendered at all (markdown-it escapes it), and the result is cleaned
again with an allow-list (nh3): no scripts, no event handlers, no javascript: links, images only
from the course's own img/ folder.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "img", "li", "ol", "p", "pre",
    "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
}
_COURSE_IMAGE = re.compile(r"^(?:\./)?img/([A-Za-z0-9][A-Za-z0-9._-]{0,100})$")


def render_lesson(markdown_text: str, image_base_url: str) -> str:
    """Sanitised HTML for a lesson; `image_base_url` is where the course's img/ folder is served."""

    def keep_attribute(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            match = _COURSE_IMAGE.match(value)
            return f"{image_base_url.rstrip('/')}/{match.group(1)}" if match else None
        return value

    html = _markdown.render(markdown_text)
    # Lesson titles are shown by the page as h1; headings in the text start one level lower.
    html = re.sub(r"<(/?)h1>", r"<\1h2>", html)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=keep_attribute,
        strip_comments=True,
    )
