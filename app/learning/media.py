"""Pictures and sound in lessons: which files a lesson may show, and the checks they must pass.

A lesson shows a picture with Markdown's image syntax, `![alt text](images/<file>)`, and a
recording with the same syntax on a line of its own, `![label](audio/<file>)`. The files live in
the course folder (courses/<slug>/images/, courses/<slug>/audio/); nothing else can be named, so
a lesson cannot reach outside its course or to another site. Each language's lesson file carries
that language's alt text; a recording needs a transcript in each language that plays it
(audio/<file stem>.<lang>.md).

The rules live here once: `flask courses validate` reports them, the sync refuses a course that
breaks them (content.read_course), and the lesson renderer (markdown.py) uses the facts gathered
here (size, width and height, content hash for the address).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from flask import current_app, has_app_context
from flask_babel import gettext as _

IMAGE_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}
AUDIO_TYPES = {".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".ogg": "audio/ogg", ".opus": "audio/ogg"}
FOLDERS = {"images": IMAGE_TYPES, "audio": AUDIO_TYPES}
#: The Pillow format each raster extension must really hold.
RASTER_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}

#: A file name in images/ or audio/: no folders, no "..", nothing hidden.
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,80}(?:\.[A-Za-z0-9_-]{1,20})*")
#: How a lesson names a file: images/<name> or audio/<name>, optionally starting with "./".
REFERENCE = re.compile(r"(?:\./)?(images|audio)/([^/\\?#]+)")

#: Defaults of the limits (config.py reads them from the environment; see README).
#: What a phone downloads the first time it shows a lesson: the page, its stylesheet and its
#: pictures. 100 KB is the issue's "cold page" target: about 2 s on a weak 3G link (400 kbit/s)
#: and a negligible share of a cheap monthly data plan. Audio is not counted: it loads only
#: when the learner presses play (preload="none").
LESSON_MEDIA_BUDGET = 100_000
#: One picture. A phone-sized screenshot (720 px wide, WebP) fits; the project's drawings are SVG
#: of 1–3 KB.
LESSON_IMAGE_MAX_BYTES = 40_000
#: One recording: about four minutes of speech at 64 kbit/s.
LESSON_AUDIO_MAX_BYTES = 2_000_000
#: The lesson page around the lesson text, with its stylesheet, as the budget check counts it
#: before the page exists (measured: about 15 KB; tests check the real pages).
PAGE_FRAME_BYTES = 24_000
#: Wider pictures only cost data: a phone shows about 400 CSS pixels at up to 3 device pixels each.
RASTER_MAX_WIDTH = 1280

SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
#: Elements a drawing has no business holding: script, HTML, other pictures, animation that
#: could rewrite a link.
SVG_FORBIDDEN_ELEMENTS = {
    "script", "foreignobject", "iframe", "object", "embed", "image", "audio", "video", "canvas",
    "set", "animate", "animatemotion", "animatetransform", "handler", "listener", "a",
}  # fmt: skip
_SVG_URL = re.compile(r"url\(\s*['\"]?\s*([^)'\"\s]*)", re.IGNORECASE)


def limits() -> dict[str, int]:
    """The limits in force: the app's configuration, else the defaults above."""
    config = current_app.config if has_app_context() else {}
    return {
        "budget": int(config.get("LESSON_MEDIA_BUDGET", LESSON_MEDIA_BUDGET)),
        "image": int(config.get("LESSON_IMAGE_MAX_BYTES", LESSON_IMAGE_MAX_BYTES)),
        "audio": int(config.get("LESSON_AUDIO_MAX_BYTES", LESSON_AUDIO_MAX_BYTES)),
    }


@dataclass(frozen=True)
class MediaFile:
    """A checked picture or recording of a course."""

    folder: str  # images | audio
    name: str
    size: int
    digest: str  # the start of its SHA-256: part of its address, so a changed file has a new one
    width: int = 0
    height: int = 0

    @property
    def key(self) -> str:
        return f"{self.folder}/{self.name}"

    @property
    def is_image(self) -> bool:
        return self.folder == "images"

    def url(self, base: str) -> str:
        return f"{base.rstrip('/')}/{self.folder}/{self.name}?v={self.digest}"


@dataclass(frozen=True)
class Reference:
    """A picture or recording named in a lesson text."""

    source: str
    alt: str
    #: Alone in its paragraph (a recording must be: it is shown as a block with its transcript).
    alone: bool


@cache
def _parser():
    # Imported on first use: the pages that serve a picture or a recording (this module) never
    # parse Markdown; only the course checks and the sync do.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def references(markdown_text: str) -> list[Reference]:
    """Every image-syntax reference in a lesson text, in order."""
    found = []
    tokens = _parser().parse(markdown_text)
    for index, token in enumerate(tokens):
        if token.type != "inline" or not token.children:
            continue
        in_paragraph = index > 0 and tokens[index - 1].type == "paragraph_open"
        meaningful = [c for c in token.children if not (c.type == "text" and not c.content.strip())]
        for child in token.children:
            if child.type == "image":
                alt = "".join(grand.content for grand in child.children or ()).strip()
                found.append(Reference(str(child.attrs.get("src", "")), alt, in_paragraph and len(meaningful) == 1))
    return found


def parse_reference(source: str) -> tuple[str, str] | None:
    """(folder, file name) when `source` names a file of the course's images/ or audio/ folder
    with a known type, else None (a URL, an absolute path, "..", another folder)."""
    match = REFERENCE.fullmatch(source)
    if not match:
        return None
    folder, name = match.groups()
    if not FILE_NAME.fullmatch(name) or Path(name).suffix.lower() not in FOLDERS[folder]:
        return None
    return folder, name


def media_path(course_folder: Path, folder: str, name: str) -> Path | None:
    """The file a reference names, if it exists as a regular file inside the course folder."""
    if folder not in FOLDERS or not FILE_NAME.fullmatch(name) or Path(name).suffix.lower() not in FOLDERS[folder]:
        return None
    path = course_folder / folder / name
    if path.is_symlink() or not path.is_file():
        return None
    return path


def transcript_path(course_folder: Path, name: str, lang: str) -> Path:
    return course_folder / "audio" / f"{Path(name).stem}.{lang}.md"


def file_digest(path: Path) -> str:
    stat = path.stat()
    return _digest(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=1024)
def _digest(path: str, _mtime: int, _size: int) -> str:
    # mtime and size are part of the cache key only: a changed file is hashed again.
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def inspect(course_folder: Path, folder: str, name: str) -> tuple[MediaFile | None, list[str], list[str]]:
    """Check one picture or recording: (the file's facts or None, errors, warnings)."""
    label = f"{folder}/{name}"
    path = media_path(course_folder, folder, name)
    if path is None:
        return None, [_("the file %(file)s does not exist in the course folder", file=label)], []
    data = path.read_bytes()
    size = len(data)
    digest = hashlib.sha256(data).hexdigest()[:16]
    errors: list[str] = []
    warnings: list[str] = []
    limit = limits()["image" if folder == "images" else "audio"]
    if size > limit:
        errors.append(
            _(
                "%(file)s is %(size)d bytes; a file may have at most %(limit)d",
                file=label,
                size=size,
                limit=limit,
            )
        )
    if folder == "audio":
        return MediaFile(folder, name, size, digest), errors, warnings
    suffix = path.suffix.lower()
    if suffix == ".svg":
        width, height, svg_errors, svg_warnings = check_svg(data)
        errors.extend(f"{folder}/{name}: {message}" for message in svg_errors)
        warnings.extend(f"{folder}/{name}: {message}" for message in svg_warnings)
    else:
        # Pillow only here (raster pictures are rare; SVG is preferred): workers start without it.
        from PIL import Image, UnidentifiedImageError

        width, height = 0, 0
        try:
            with Image.open(path) as image:
                width, height = image.size
                if image.format != RASTER_FORMATS[suffix]:
                    errors.append(_("%(file)s is not really a %(kind)s picture", file=label, kind=suffix[1:]))
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
            errors.append(_("%(file)s is not a picture that can be read", file=label))
        if width > RASTER_MAX_WIDTH:
            errors.append(
                _(
                    "%(file)s is %(width)d pixels wide; resize it to at most %(limit)d",
                    file=label,
                    width=width,
                    limit=RASTER_MAX_WIDTH,
                )
            )
    return MediaFile(folder, name, size, digest, width, height), errors, warnings


def check_svg(data: bytes) -> tuple[int, int, list[str], list[str]]:
    """(width, height, errors, warnings) of an SVG drawing. Refused: anything that can run or
    fetch (script, event handlers, foreignObject, links and references outside the drawing,
    embedded pictures, DTDs and entities)."""
    from defusedxml import ElementTree  # with the XML parser, only for the course checks

    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except Exception:
        return 0, 0, [_("not a well-formed SVG file (or it holds a DTD or entities)")], []
    if root.tag != f"{SVG_NAMESPACE}svg":
        return 0, 0, [_("the file's root must be an <svg> element in the SVG namespace")], []
    errors: list[str] = []
    has_text = False
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1].lower() if isinstance(element.tag, str) else ""
        if name in SVG_FORBIDDEN_ELEMENTS:
            errors.append(_("the element <%(name)s> is not allowed in a lesson picture", name=name))
        if name == "text":
            has_text = True
        if name == "style" and _outside_reference(element.text or ""):
            errors.append(_("a style refers to something outside the drawing"))
        for attribute, value in element.attrib.items():
            local = attribute.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                errors.append(_("the event handler %(name)s is not allowed", name=local))
            elif local == "href" and not value.strip().startswith("#"):
                errors.append(_("the reference %(value)s points outside the drawing", value=value[:60]))
            elif _outside_reference(value):
                errors.append(_("the attribute %(name)s refers to something outside the drawing", name=local))
    width, height = _svg_size(root)
    if not (width and height):
        errors.append(_("the drawing needs a viewBox or a width and height"))
    warnings = [_("text in a drawing cannot be translated; prefer none")] if has_text else []
    return width, height, sorted(set(errors)), warnings


def _outside_reference(value: str) -> bool:
    lowered = value.lower()
    if "javascript:" in lowered or "data:" in lowered or "@import" in lowered:
        return True
    return any(target and not target.startswith("#") for target in _SVG_URL.findall(value))


def _svg_size(root) -> tuple[int, int]:
    def number(value) -> float:
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(?:px)?\s*", value or "")
        return float(match.group(1)) if match else 0.0

    width, height = number(root.get("width")), number(root.get("height"))
    if not (width and height):
        parts = re.split(r"[\s,]+", (root.get("viewBox") or "").strip())
        if len(parts) == 4:
            try:
                width, height = float(parts[2]), float(parts[3])
            except ValueError:
                width, height = 0.0, 0.0
    return (round(width), round(height)) if width > 0 and height > 0 else (0, 0)
