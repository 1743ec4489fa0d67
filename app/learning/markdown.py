"""Lesson Markdown to safe HTML.

Raw HTML in the source is not rendered at all (markdown-it escapes it), and the result is cleaned
again with an allow-list (nh3): no scripts, no event handlers, no javascript: links. Pictures and
recordings come only from the course's own images/ and audio/ folders (app/learning/media.py):
a picture becomes <img loading="lazy" decoding="async" width height alt> at a versioned
address; a recording on a line of its own becomes <audio controls preload="none"> followed by
its transcript. Anything else in image syntax is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import nh3
from markdown_it import MarkdownIt
from markupsafe import escape

from app.learning.media import MediaFile, parse_reference

ALLOWED_TAGS = {
    "a", "audio", "blockquote", "br", "code", "details", "div", "em", "h2", "h3", "h4", "hr", "img",
    "li", "ol", "p", "pre", "strong", "summary", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height", "loading", "decoding"},
    "audio": {"src", "controls", "preload", "aria-label"},
    "div": {"class"},
    "details": {"class"},
    "th": {"align"},
    "td": {"align"},
}
#: The only addresses a picture or recording may have: what render_lesson itself writes.
_MEDIA_URL = re.compile(r"^(?:\.\./)?(?:images|audio)/[A-Za-z0-9][A-Za-z0-9._-]{0,120}\?v=[0-9a-f]{16}$")
_ALLOWED_CLASSES = {"lesson-audio", "transcript"}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def _media(env, source: str) -> MediaFile | None:
    reference = parse_reference(source)
    if reference is None:
        return None
    return (env.get("media") or {}).get(f"{reference[0]}/{reference[1]}")


def _audio_paragraph(tokens, inline_index: int, env) -> MediaFile | None:
    """The recording when the paragraph around tokens[inline_index] holds only one."""
    inline = tokens[inline_index] if 0 <= inline_index < len(tokens) else None
    if inline is None or inline.type != "inline" or not inline.children:
        return None
    meaningful = [c for c in inline.children if not (c.type == "text" and not c.content.strip())]
    if len(meaningful) != 1 or meaningful[0].type != "image":
        return None
    found = _media(env, str(meaningful[0].attrs.get("src", "")))
    return found if found is not None and not found.is_image else None


def _image(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env).strip()
    found = _media(env, str(token.attrs.get("src", "")))
    if found is None:
        return ""
    url = escape(found.url(env.get("base", "..")))
    if found.is_image:
        size = f' width="{found.width}" height="{found.height}"' if found.width and found.height else ""
        return f'<img src="{url}" alt="{escape(alt)}"{size} loading="lazy" decoding="async">'
    transcript = (env.get("transcripts") or {}).get(found.key, "")
    label = escape(env.get("transcript_label", "Transcript"))
    return (
        f'<audio controls preload="none" src="{url}" aria-label="{escape(alt)}"></audio>'
        f'<details class="transcript"><summary>{label}</summary>{_markdown.render(transcript)}</details>'
    )


def _paragraph_open(self, tokens, idx, options, env) -> str:
    if _audio_paragraph(tokens, idx + 1, env) is not None:
        return '<div class="lesson-audio">'
    return self.renderToken(tokens, idx, options, env)


def _paragraph_close(self, tokens, idx, options, env) -> str:
    if _audio_paragraph(tokens, idx - 1, env) is not None:
        return "</div>\n"
    return self.renderToken(tokens, idx, options, env)


_markdown.add_render_rule("image", _image)
_markdown.add_render_rule("paragraph_open", _paragraph_open)
_markdown.add_render_rule("paragraph_close", _paragraph_close)


def render_lesson(
    markdown_text: str,
    media: Mapping[str, MediaFile] | None = None,
    *,
    base: str = "..",
    transcripts: Mapping[str, str] | None = None,
    transcript_label: str = "Transcript",
) -> str:
    """Sanitised HTML for a lesson. `media` maps "images/<file>" and "audio/<file>" to the checked
    files of the course; `base` is where the course's folders are served, relative to the lesson
    page; `transcripts` maps "audio/<file>" to its transcript (Markdown) in the lesson's language."""

    def keep_attribute(tag: str, attribute: str, value: str) -> str | None:
        if tag in ("img", "audio") and attribute == "src":
            return value if _MEDIA_URL.match(value) else None
        if attribute == "class":
            return value if value in _ALLOWED_CLASSES else None
        return value

    env = {"media": media or {}, "base": base, "transcripts": transcripts or {}, "transcript_label": transcript_label}
    html = _markdown.render(markdown_text, env)
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
