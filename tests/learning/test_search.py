"""Keyword search over courses and lessons: in the reader's language, without caring for case or
Vietnamese accents, only open content, with a snippet around the match; the page and the API."""

from __future__ import annotations

import shutil
import unicodedata

import pytest
import yaml

from app.learning.search import QUERY_MAX_LENGTH, RESULT_LIMIT, fold

LESSONS = {
    "activate-id": {
        "title": {
            "vi": "Kích hoạt tài khoản định danh",
            "en": "Activating your identification account",
            "bn": "পরিচয় অ্যাকাউন্ট চালু করা",
        },
        "body": {
            "vi": "## Bắt đầu\n\nMở ứng dụng VNeID để kích hoạt **tài khoản định danh** điện tử mức 2 tại "
            "công an xã.\n",
            "en": "## Start\n\nOpen the VNeID app to activate your **electronic identification** account at "
            "the commune police.\n",
            "bn": "## শুরু\n\nইউনিয়ন পুলিশে গিয়ে VNeID অ্যাপ খুলে আপনার ইলেকট্রনিক পরিচয় অ্যাকাউন্ট চালু করুন।\n",
        },
    },
    "otp-code": {
        "title": {"vi": "Giữ bí mật mã OTP", "en": "Keep your OTP secret", "bn": "ওটিপি গোপন রাখুন"},
        "body": {
            "vi": "Không bao giờ đọc mã OTP cho người lạ. Kẻ gian hay gửi đoạn `<script>alert(1)</script>` "
            "kèm đường dẫn giả & tin nhắn \"khẩn\".\n",
            "en": "Never read an OTP to a stranger. Crooks send `<script>alert(1)</script>` with fake links.\n",
            "bn": "অপরিচিত কাউকে কখনও ওটিপি বলবেন না। প্রতারকরা ভুয়া লিংক পাঠায়।\n",
        },
    },
}
COURSE_TITLE = {"vi": "An toàn trên mạng", "en": "Staying safe online", "bn": "অনলাইনে নিরাপদ থাকা"}


@pytest.fixture
def course(make_course):
    """A three-language course with two lessons whose texts the tests search."""
    course, folder = make_course(
        slug="safe-online",
        languages=("vi", "en", "bn"),
        modules=[{"id": "m1", "lessons": list(LESSONS)}],
    )
    manifest_path = folder / "course.yml"
    manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    manifest["title"] = COURSE_TITLE
    for lesson in manifest["modules"][0]["lessons"]:
        lesson["title"] = LESSONS[lesson["id"]]["title"]
    manifest_path.write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    for key, lesson in LESSONS.items():
        for lang, text in lesson["body"].items():
            (folder / "lessons" / f"{key}.{lang}.md").write_text(text, encoding="utf-8")
    make_course.resync()
    return course, folder


@pytest.fixture
def reader(make_user, login_as):
    def sign_in(locale="vi"):
        user = make_user("resident", locale=locale)
        login_as(user)
        return user

    return sign_in


def page(client, query: str):
    return client.get("/learning/search", query_string={"q": query})


def test_folding_drops_vietnamese_accents_and_case_but_keeps_bengali_vowel_signs():
    assert fold("Tài khoản ĐỊNH DANH điện tử") == "tai khoan dinh danh dien tu"
    assert fold("Ưu tiên Ở Đây") == "uu tien o day"
    bengali = "পাসওয়ার্ড কিনুন"
    assert fold(bengali) == unicodedata.normalize("NFD", bengali)
    assert "\u09bf" in fold("কি")  # the vowel sign i stays


def test_vietnamese_search_without_accents_finds_the_accented_lesson(client, reader, course):
    reader("vi")
    response = page(client, "dinh danh")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert LESSONS["activate-id"]["title"]["vi"] in html
    assert "<mark>định danh</mark>" in html
    assert 'href="/learning/safe-online/lessons/activate-id"' in html
    assert LESSONS["otp-code"]["title"]["vi"] not in html
    # Upper case, accents typed or not: the same lesson.
    for query in ("ĐỊNH DANH", "Định Danh", "DINH danh"):
        assert LESSONS["activate-id"]["title"]["vi"] in page(client, query).get_data(as_text=True)


def test_every_word_must_occur_but_not_side_by_side(client, reader, course):
    reader("vi")
    html = page(client, "vneid cong an").get_data(as_text=True)
    assert LESSONS["activate-id"]["title"]["vi"] in html
    nothing = page(client, "vneid ngan hang").get_data(as_text=True)
    assert LESSONS["activate-id"]["title"]["vi"] not in nothing
    assert "Không tìm thấy kết quả cho “vneid ngan hang”" in nothing


def test_a_course_title_matches_and_links_to_the_course(client, reader, course):
    reader("vi")
    html = page(client, "an toan tren mang").get_data(as_text=True)
    assert COURSE_TITLE["vi"] in html
    assert 'href="/learning/safe-online/"' in html


def test_english_readers_search_the_english_texts(client, reader, course):
    reader("en")
    html = page(client, "Identification").get_data(as_text=True)
    assert LESSONS["activate-id"]["title"]["en"] in html
    assert "<mark>identification</mark>" in html
    assert "Lesson in Staying safe online" in html
    # The Vietnamese words are not what an English reader sees, so they find nothing.
    assert LESSONS["activate-id"]["title"]["en"] not in page(client, "dinh danh").get_data(as_text=True)


def test_bengali_readers_search_the_bengali_texts(client, reader, course):
    reader("bn")
    html = page(client, "পরিচয় অ্যাকাউন্ট").get_data(as_text=True)
    assert LESSONS["activate-id"]["title"]["bn"] in html
    assert "<mark>পরিচয় অ্যাকাউন্ট</mark>" in html
    assert LESSONS["otp-code"]["title"]["bn"] in page(client, "ওটিপি").get_data(as_text=True)


def test_a_course_missing_in_the_readers_language_is_searched_in_vietnamese(client, reader, make_course):
    make_course(slug="vi-only", languages=("vi",))
    reader("bn")
    html = page(client, "Text of l2").get_data(as_text=True)
    assert 'href="/learning/vi-only/lessons/l2"' in html


def test_retired_lessons_modules_and_courses_are_not_found(client, reader, course, make_course):
    _course, folder = course
    reader("vi")
    assert "otp-code" in page(client, "ma otp").get_data(as_text=True)
    # The lesson leaves the course files.
    manifest_path = folder / "course.yml"
    manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    manifest["modules"][0]["lessons"] = [item for item in manifest["modules"][0]["lessons"] if item["id"] != "otp-code"]
    manifest_path.write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    make_course.resync()
    assert "otp-code" not in page(client, "ma otp").get_data(as_text=True)
    assert "activate-id" in page(client, "dinh danh").get_data(as_text=True)
    # The whole course leaves.
    shutil.rmtree(folder)
    make_course(slug="other-course")
    html = page(client, "dinh danh").get_data(as_text=True)
    assert "safe-online" not in html
    assert "an toan" not in fold(html)


def test_a_synced_change_is_found_at_once(client, reader, course, make_course):
    _course, folder = course
    reader("en")
    (folder / "lessons" / "otp-code.en.md").write_text("Watch out for parcel scams.\n", encoding="utf-8")
    make_course.resync()
    assert "otp-code" in page(client, "parcel").get_data(as_text=True)
    assert "otp-code" not in page(client, "stranger").get_data(as_text=True)


def test_the_snippet_and_the_query_are_shown_escaped(client, reader, course):
    reader("en")
    html = page(client, "script").get_data(as_text=True)
    assert "otp-code" in html
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    hostile = page(client, '<script>alert("x")</script>')
    assert hostile.status_code == 200
    body = hostile.get_data(as_text=True)
    assert "<script>alert(" not in body
    assert "&lt;script&gt;alert(" in body


def test_a_long_lesson_gives_a_short_snippet_around_the_match(client, reader, course, make_course):
    _course, folder = course
    filler = " ".join(f"word{n}" for n in range(400))
    (folder / "lessons" / "otp-code.en.md").write_text(f"{filler} needle {filler}\n", encoding="utf-8")
    make_course.resync()
    reader("en")
    html = page(client, "needle").get_data(as_text=True)
    snippet = html.split('<p class="snippet">', 1)[1].split("</p>", 1)[0]
    assert "<mark>needle</mark>" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert len(snippet) < 250


def test_empty_query_shows_the_catalog_and_the_catalog_has_the_search_box(client, reader, course):
    reader("en")
    for query in ("", "   "):
        response = page(client, query)
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/learning/")
    catalog = client.get("/learning/").get_data(as_text=True)
    assert 'action="/learning/search"' in catalog
    assert 'name="q"' in catalog
    assert f'maxlength="{QUERY_MAX_LENGTH}"' in catalog


def test_bounds_and_hostile_input_are_400_not_500(client, reader, course):
    reader("en")
    assert page(client, "a" * QUERY_MAX_LENGTH).status_code == 200
    too_long = page(client, "a" * (QUERY_MAX_LENGTH + 1))
    assert too_long.status_code == 400
    assert f"at most {QUERY_MAX_LENGTH} characters" in too_long.get_data(as_text=True)
    assert page(client, "x" * 100_000).status_code == 400
    assert page(client, "dinh\x00danh").status_code == 400
    assert client.get("/learning/search?q=%ff%fe").status_code in (200, 400)
    assert page(client, "% _ \\ ' \" ;--").status_code == 200


def test_results_are_bounded(client, reader, course):
    reader("en")
    # "e" is in every text: at most RESULT_LIMIT hits, all shown without error.
    html = page(client, "e").get_data(as_text=True)
    assert 0 < html.count('class="card"') <= RESULT_LIMIT


def test_signed_out_visitors_are_sent_to_sign_in(client, course):
    response = page(client, "otp")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# --- the API --------------------------------------------------------------------------------


def test_the_api_searches_in_the_callers_language(client, make_user, api_token, course):
    headers = api_token(make_user("resident", locale="vi"))
    response = client.get("/api/v1/courses/search", query_string={"q": "DINH DANH"}, headers=headers)
    assert response.status_code == 200
    hits = response.get_json()
    assert [hit["lesson"] for hit in hits] == ["activate-id"]
    hit = hits[0]
    assert hit == {
        "kind": "lesson",
        "course": "safe-online",
        "course_title": COURSE_TITLE["vi"],
        "lesson": "activate-id",
        "title": LESSONS["activate-id"]["title"]["vi"],
        "snippet": hit["snippet"],
        "match": "định danh",
        "path": "/learning/safe-online/lessons/activate-id",
    }
    assert "tài khoản định danh điện tử" in hit["snippet"]

    bengali = api_token(make_user("resident", locale="bn"))
    hits = client.get("/api/v1/courses/search", query_string={"q": "ওটিপি"}, headers=bengali).get_json()
    assert "otp-code" in [hit["lesson"] for hit in hits]
    course_hits = client.get("/api/v1/courses/search", query_string={"q": "নিরাপদ"}, headers=bengali).get_json()
    assert {"kind": "course", "lesson": None, "path": "/learning/safe-online/"}.items() <= course_hits[0].items()


def test_the_api_refuses_missing_long_and_hostile_queries(client, make_user, api_token, course):
    headers = api_token(make_user("resident"))
    for query_string in ({}, {"q": ""}, {"q": "   "}, {"q": "a" * (QUERY_MAX_LENGTH + 1)}, {"q": "a\x00b"}):
        response = client.get("/api/v1/courses/search", query_string=query_string, headers=headers)
        assert response.status_code == 422, query_string
        assert response.get_json()["error"]["code"] == "invalid"
    assert client.get("/api/v1/courses/search", query_string={"q": "otp"}).status_code == 401


def test_no_course_may_take_the_slug_of_the_search_address(make_course):
    from app.learning.content import read_course

    _course, folder = make_course(slug="search-me")
    renamed = folder.parent / "search"
    folder.rename(renamed)
    manifest_path = renamed / "course.yml"
    manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    manifest["slug"] = "search"
    manifest_path.write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    spec, problems = read_course(renamed)
    assert spec is None
    assert any("another page" in str(problem) for problem in problems)


def test_decomposed_accents_in_a_lesson_stay_with_their_letters(client, reader, course, make_course):
    _course, folder = course
    decomposed = unicodedata.normalize("NFD", "Cách bảo vệ tài khoản ngân hàng.")
    (folder / "lessons" / "otp-code.vi.md").write_text(decomposed + "\n", encoding="utf-8")
    make_course.resync()
    reader("vi")
    html = page(client, "bao ve").get_data(as_text=True)
    assert "<mark>bảo vệ</mark>" in unicodedata.normalize("NFC", html)
    assert "</mark>\u0302" not in html and "</mark>\u0323" not in html
