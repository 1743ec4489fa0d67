"""Pictures and recordings in lessons: how they are shown, what validate and the sync refuse,
how they are served, and that every lesson of the shipped courses stays within its weight."""

import os
import re
import shutil
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from flask_babel import force_locale
from PIL import Image

from app.learning.content import read_course, sync_courses
from app.learning.media import limits

ROOT = Path(__file__).resolve().parents[2]
LESSON = "/learning/test-course/lessons/l1"
DRAWING = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 240 160">'
    '<rect x="70" y="10" width="100" height="140" rx="12" fill="none" stroke="#333" stroke-width="4"/>'
    '<circle cx="120" cy="80" r="20" fill="#f5a623"/></svg>'
)
SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9">'
ALTS = {"vi": "Nút nguồn ở cạnh phải điện thoại", "en": "The power button on the right edge of the phone"}


def write_lessons(folder: Path, texts: dict[str, str], lesson: str = "l1") -> None:
    for lang, text in texts.items():
        (folder / "lessons" / f"{lesson}.{lang}.md").write_text(text, encoding="utf-8")


def add_file(folder: Path, relative: str, data: bytes | str) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: about side² × 3 bytes."""
    buffer = BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def picture_course(make_course):
    """The test course with one drawing in lesson l1, alt text in vi and en."""
    _course, folder = make_course()
    add_file(folder, "images/power.svg", DRAWING)
    write_lessons(folder, {lang: f"Bấm nút.\n\n![{alt}](images/power.svg)\n" for lang, alt in ALTS.items()})
    make_course.resync()
    return folder


class Tags(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def of(self, name: str) -> list[dict]:
        return [attrs for tag, attrs in self.found if tag == name]


def fetch(client, address: str):
    """GET a file and close it (the served file is read into the response first)."""
    response = client.get(address)
    response.get_data()
    response.close()
    return response


def problems_of(folder: Path) -> list[str]:
    with force_locale("en"):
        _spec, problems = read_course(folder)
    return [str(problem) for problem in problems if not problem.warning]


# --- shown in the page --------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_picture_is_shown_lazily_with_its_size_and_the_alt_text_of_the_page_language(
    client, login_as, make_user, picture_course, lang
):
    login_as(make_user("resident"))
    page = client.get(f"{LESSON}?lang={lang}").get_data(as_text=True)
    (image,) = Tags(page).of("img")
    assert image["alt"] == ALTS[lang]
    assert image["loading"] == "lazy" and image["decoding"] == "async"
    assert (image["width"], image["height"]) == ("240", "160")
    assert re.fullmatch(r"\.\./images/power\.svg\?v=[0-9a-f]{16}", image["src"])


def test_a_recording_plays_on_demand_with_its_transcript(client, login_as, make_user, make_course):
    _course, folder = make_course()
    add_file(folder, "audio/intro.mp3", b"ID3" + bytes(600))
    for lang, words in {"vi": "Xin chào các bác.", "en": "Hello everyone."}.items():
        add_file(folder, f"audio/intro.{lang}.md", words)
    write_lessons(
        folder, {"vi": "Nghe:\n\n![Nghe bài học](audio/intro.mp3)\n", "en": "Hear:\n\n![Listen](audio/intro.mp3)\n"}
    )
    make_course.resync()
    login_as(make_user("resident"))
    page = client.get(f"{LESSON}?lang=en").get_data(as_text=True)
    (audio,) = Tags(page).of("audio")
    assert audio["preload"] == "none" and "controls" in audio and audio["aria-label"] == "Listen"
    assert "<summary>Transcript</summary>" in page and "Hello everyone." in page
    vietnamese = client.get(f"{LESSON}?lang=vi").get_data(as_text=True)
    assert "<summary>Lời đọc</summary>" in vietnamese and "Xin chào các bác." in vietnamese
    served = fetch(client, urljoin(LESSON, audio["src"]))
    assert served.status_code == 200 and served.mimetype == "audio/mpeg"


# --- served ---------------------------------------------------------------------------------


def test_a_picture_is_served_for_a_year_at_its_version_and_only_as_a_picture(
    client, login_as, make_user, picture_course
):
    login_as(make_user("resident"))  # signed in: pages are no-store, pictures still cached
    page = client.get(LESSON).get_data(as_text=True)
    address = urljoin(LESSON, Tags(page).of("img")[0]["src"])
    served = fetch(client, address)
    assert served.status_code == 200
    assert served.mimetype == "image/svg+xml" and served.data == DRAWING.encode()
    cache = served.headers["Cache-Control"]
    assert "public" in cache and "max-age=31536000" in cache and "immutable" in cache and "no-store" not in cache
    assert "default-src 'none'" in served.headers["Content-Security-Policy"]
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    # An old or missing version is served, but only briefly cached.
    for stale in (urlsplit(address).path, urlsplit(address).path + "?v=0000000000000000"):
        answer = fetch(client, stale)
        assert answer.status_code == 200 and "immutable" not in answer.headers["Cache-Control"]
        assert "max-age=300" in answer.headers["Cache-Control"]
    # A changed picture gets a new address.
    add_file(picture_course, "images/power.svg", DRAWING.replace("#f5a623", "#d0021b"))
    sync_courses(picture_course.parent)
    new_page = client.get(LESSON).get_data(as_text=True)
    assert Tags(new_page).of("img")[0]["src"] != Tags(page).of("img")[0]["src"]


@pytest.mark.parametrize(
    "address",
    [
        "/learning/test-course/images/missing.svg",
        "/learning/test-course/images/..%2fcourse.yml",
        "/learning/test-course/images/%2e%2e%2fcourse.yml",
        "/learning/test-course/images/../course.yml",
        "/learning/test-course/images/course.yml",
        "/learning/test-course/audio/intro.vi.md",
        "/learning/test-course/audio/..%2flessons%2fl1.vi.md",
        "/learning/..%2f..%2fetc/images/passwd",
        "/learning/no-such-course/images/power.svg",
        "/learning/test-course/images/.hidden.svg",
    ],
)
def test_nothing_but_a_course_picture_or_recording_is_served(client, picture_course, address):
    add_file(picture_course, "images/.hidden.svg", DRAWING)
    add_file(picture_course, "audio/intro.vi.md", "Lời đọc")
    assert fetch(client, address).status_code == 404


# --- validate and sync refuse ---------------------------------------------------------------


def test_the_validator_accepts_a_good_picture(picture_course):
    assert problems_of(picture_course) == []


def test_a_missing_picture_is_refused_and_the_sync_refuses_the_same(picture_course, app):
    write_lessons(picture_course, {lang: f"![{alt}](images/gone.svg)\n" for lang, alt in ALTS.items()})
    found = problems_of(picture_course)
    assert any("l1.vi.md" in p and "images/gone.svg does not exist" in p for p in found), found
    with pytest.raises(ValueError, match="problem"):
        sync_courses(picture_course.parent)


def test_a_picture_without_alt_text_in_one_language_is_refused(picture_course):
    write_lessons(picture_course, {"vi": f"![{ALTS['vi']}](images/power.svg)\n", "en": "![](images/power.svg)\n"})
    found = problems_of(picture_course)
    assert len(found) == 1 and "l1.en.md" in found[0] and "no alt text in en" in found[0], found


def test_a_picture_shown_in_one_language_only_is_refused(picture_course):
    write_lessons(picture_course, {"en": "No picture here.\n"})
    found = problems_of(picture_course)
    assert len(found) == 1 and "l1.en.md" in found[0] and "add it with alt text in en" in found[0], found


def test_a_lesson_over_its_weight_budget_is_refused(picture_course):
    for index in range(3):  # each under the limit of one picture, together over the lesson's
        add_file(picture_course, f"images/photo{index}.png", noise_png(108))
    text = "".join(f"![Ảnh {index}](images/photo{index}.png)\n\n" for index in range(3))
    write_lessons(picture_course, {"vi": text, "en": text.replace("Ảnh", "Photo")})
    found = problems_of(picture_course)
    assert limits()["budget"] == 100_000
    assert [p for p in found if "l1.vi.md" in p and "the budget is 100000" in p], found
    assert not [p for p in found if "at most" in p], found


def test_a_picture_over_the_limit_of_one_file_is_refused(picture_course):
    add_file(picture_course, "images/big.png", noise_png(160))
    write_lessons(picture_course, {lang: f"![{alt}](images/big.png)\n" for lang, alt in ALTS.items()})
    found = problems_of(picture_course)
    assert [p for p in found if "images/big.png" in p and "at most 40000" in p], found


@pytest.mark.parametrize(
    "source",
    [
        "../course.yml",
        "images/../course.yml",
        "images/../../../etc/passwd.svg",
        "/etc/passwd",
        "/static/css/site.css",
        "https://tracker.example/pixel.png",
        "//tracker.example/pixel.png",
        "images/sub/power.svg",
        "lessons/l2.vi.md",
    ],
)
def test_a_path_outside_the_course_pictures_is_refused(picture_course, source):
    write_lessons(picture_course, {lang: f"![{alt}]({source})\n" for lang, alt in ALTS.items()})
    found = problems_of(picture_course)
    assert [p for p in found if "only files of its own course" in p], found


@pytest.mark.parametrize(
    ("drawing", "expected"),
    [
        (f"{SVG}<script>alert(1)</script></svg>", "<script>"),
        ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9" onload="alert(1)"/>', "onload"),
        (f'{SVG}<rect onclick="x()"/></svg>', "onclick"),
        (
            '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 9 9">'
            '<use xlink:href="https://evil.example/s.svg#a"/></svg>',
            "outside the drawing",
        ),
        (
            f'{SVG}<image href="data:image/png;base64,AAAA"/></svg>',
            "<image>",
        ),
        (
            f'{SVG}<rect fill="url(https://evil.example/p)"/></svg>',
            "outside the drawing",
        ),
        (
            f"{SVG}<style>@import url(https://e.example/c.css);</style></svg>",
            "outside the drawing",
        ),
        (
            f'{SVG}<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject></svg>',
            "<foreignobject>",
        ),
        ('<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9"/>', "DTD"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><rect width="5" height="5"/></svg>', "viewBox"),
    ],
)
def test_a_drawing_that_can_run_or_fetch_anything_is_refused(picture_course, drawing, expected):
    add_file(picture_course, "images/power.svg", drawing)
    found = problems_of(picture_course)
    assert [p for p in found if "images/power.svg" in p and expected in p], found


def test_a_scripted_drawing_is_refused_even_when_no_lesson_shows_it(picture_course):
    add_file(picture_course, "images/unused.svg", '<svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>')
    assert [p for p in problems_of(picture_course) if "images/unused.svg" in p and "onload" in p]


def test_a_recording_needs_a_transcript_in_each_language_and_a_line_of_its_own(make_course):
    _course, folder = make_course()
    add_file(folder, "audio/intro.mp3", b"ID3" + bytes(600))
    add_file(folder, "audio/intro.vi.md", "Xin chào.")
    write_lessons(folder, {"vi": "![Nghe](audio/intro.mp3)\n", "en": "Listen here: ![Listen](audio/intro.mp3)\n"})
    found = problems_of(folder)
    assert [p for p in found if "intro.en.md" in p and "needs a transcript in en" in p], found
    assert [p for p in found if "l1.en.md" in p and "a line of its own" in p], found
    assert not [p for p in found if "l1.vi.md" in p], found


def test_validate_prints_translated_messages_and_exits_non_zero(app, picture_course, monkeypatch):
    import app.learning.cli as cli

    write_lessons(picture_course, {"vi": "![](images/power.svg)\n"})
    monkeypatch.setattr(cli, "COURSES_DIR", picture_course.parent)
    result = app.test_cli_runner().invoke(args=["courses", "validate"])
    assert result.exit_code == 1
    assert "images/power.svg không có văn bản thay thế bằng vi" in result.output, result.output
    sync = app.test_cli_runner().invoke(args=["courses", "sync"])
    assert sync.exit_code == 1


# --- the shipped courses --------------------------------------------------------------------


def test_every_lesson_of_the_shipped_courses_stays_within_its_weight(
    app, client, login_as, make_user, real_courses, monkeypatch
):
    """Each lesson as a phone first loads it, in every language: the page, its stylesheet and
    its pictures, within LESSON_MEDIA_BUDGET; every picture lazy, sized, with alt text."""
    monkeypatch.setitem(app.config, "COURSES_DIR", ROOT / "courses")
    login_as(make_user("resident"))
    budget = limits()["budget"]
    heaviest = 0
    pictures_per_course: dict[str, set[str]] = {}
    for slug in real_courses:
        outline_page = client.get(f"/learning/{slug}/?lang=vi").get_data(as_text=True)
        keys = re.findall(rf'href="/learning/{slug}/lessons/([a-z0-9-]+)"', outline_page)
        assert keys, slug
        for key in dict.fromkeys(keys):
            for lang in ("vi", "en", "bn"):
                address = f"/learning/{slug}/lessons/{key}"
                response = client.get(f"{address}?lang={lang}")
                assert response.status_code == 200, (slug, key, lang)
                page = response.get_data(as_text=True)
                tags = Tags(page)
                weight = len(response.data)
                for sheet in tags.of("link"):
                    if sheet.get("rel") == "stylesheet":
                        weight += len(fetch(client, sheet["href"]).data)
                for image in tags.of("img"):
                    assert image.get("alt", "").strip(), (slug, key, lang, image)
                    assert image["loading"] == "lazy" and image["width"] and image["height"], image
                    served = fetch(client, urljoin(address, image["src"]))
                    assert served.status_code == 200, image["src"]
                    weight += len(served.data)
                    pictures_per_course.setdefault(slug, set()).add(urlsplit(image["src"]).path)
                assert weight <= budget, (slug, key, lang, weight)
                heaviest = max(heaviest, weight)
    assert heaviest > 0
    for slug in real_courses:
        assert len(pictures_per_course.get(slug, ())) >= 2, slug


def test_shipped_drawings_are_small_and_hold_no_text_or_raster(real_courses):
    drawings = sorted((ROOT / "courses").glob("*/images/*"))
    assert len(drawings) >= 10
    for path in drawings:
        assert path.suffix == ".svg", path
        text = path.read_text(encoding="utf-8")
        assert len(text.encode()) < 6_000, path
        assert "<text" not in text and "data:" not in text and "<image" not in text, path


def test_the_shipped_folder_is_copied_safely(tmp_path):
    """A copy of a shipped course with pictures validates on its own (no file outside it used)."""
    folder = tmp_path / "smartphone-basics"
    shutil.copytree(ROOT / "courses" / "smartphone-basics", folder)
    assert problems_of(folder) == []
