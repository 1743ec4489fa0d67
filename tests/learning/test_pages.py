"""The learner's pages: catalog, course, lesson reading, mark as read, progress."""

from html.parser import HTMLParser

from app.learning import operations
from app.learning.markdown import render_lesson
from app.learning.media import MediaFile
from app.learning.models import Enrollment, LessonProgress
from tests.learning.quiz_support import wrong_answers


def test_catalog_filters_by_audience_and_language(client, db, login_as, make_user, real_courses):
    login_as(make_user("resident"))
    html = client.get("/learning/").get_data(as_text=True)
    assert "Getting started with your smartphone" in html
    assert "Data security and personal-data protection" not in html or "cadre" in html.lower()
    cadre_courses = client.get("/learning/?audience=cadre").get_data(as_text=True)
    assert real_courses["data-protection-for-cadres"].titles["en"] in cadre_courses
    assert "Getting started with your smartphone" not in cadre_courses
    bengali = client.get("/learning/?audience=&language=bn").get_data(as_text=True)
    assert real_courses["smartphone-basics"].titles["en"] in bengali
    assert real_courses["vneid-basics"].titles["en"] in bengali  # every shipped course has Bengali
    real_courses["vneid-basics"].languages = ["vi", "en"]
    db.session.commit()
    without = client.get("/learning/?audience=&language=bn").get_data(as_text=True)
    assert real_courses["vneid-basics"].titles["en"] not in without
    assert real_courses["smartphone-basics"].titles["en"] in without
    assert client.get("/learning/?audience=nonsense&language=xx").status_code == 200


def test_reading_a_course_from_start_to_quiz(client, login_as, make_user, make_course, db):
    course, _ = make_course()
    learner = make_user("resident")
    login_as(learner)
    page = client.get("/learning/test-course/").get_data(as_text=True)
    assert "Start this course" in page
    started = client.post("/learning/test-course/enroll")
    assert started.headers["Location"].endswith("/learning/test-course/lessons/l1")
    assert db.session.scalar(db.select(Enrollment).where(Enrollment.user_id == learner.id))
    lesson = client.get("/learning/test-course/lessons/l1").get_data(as_text=True)
    assert "Text of l1 in en." in lesson
    assert "Mark as read and continue" in lesson
    after_l1 = client.post("/learning/test-course/lessons/l1/read")
    assert after_l1.headers["Location"].endswith("/lessons/l2")
    after_l2 = client.post("/learning/test-course/lessons/l2/read")
    assert after_l2.headers["Location"].endswith("/modules/m1/quiz")
    assert "You have read this lesson." in client.get("/learning/test-course/lessons/l1").get_data(as_text=True)
    assert operations.course_progress(learner, course).percent == 66


def test_a_lesson_missing_in_the_learners_language_shows_vietnamese_with_a_notice(
    client, login_as, make_user, make_course
):
    make_course(languages=("vi",))
    login_as(make_user("resident", locale="bn"))
    html = client.get("/learning/test-course/lessons/l1").get_data(as_text=True)
    assert "Text of l1 in vi." in html
    assert 'lang="vi"' in html
    html_vi = client.get("/learning/test-course/lessons/l1?lang=vi").get_data(as_text=True)
    assert 'class="lesson-body" lang="vi"' not in html_vi


def test_unknown_and_retired_lessons_are_404(client, login_as, make_user, make_course):
    make_course()
    login_as(make_user("resident"))
    assert client.get("/learning/test-course/lessons/nope").status_code == 404
    assert client.get("/learning/no-course/").status_code == 404
    assert client.post("/learning/test-course/lessons/nope/read").status_code == 404
    assert client.get("/learning/test-course/modules/nope/quiz").status_code == 404


def test_mark_as_read_needs_the_form_token(client, login_as, make_user, make_course, csrf_enabled, db):
    make_course()
    learner = make_user("resident")
    page = client.get("/login").get_data(as_text=True)
    from tests.conftest import TEST_PASSWORD, csrf_token_from

    client.post(
        "/login", data={"username": learner.username, "password": TEST_PASSWORD, "csrf_token": csrf_token_from(page)}
    )
    assert client.post("/learning/test-course/lessons/l1/read").status_code == 400
    assert db.session.scalar(db.select(LessonProgress).where(LessonProgress.user_id == learner.id)) is None


def test_my_progress_lists_courses_and_quiz_history(client, login_as, make_user, make_course, db):
    course, _ = make_course()
    learner = make_user("resident")
    operations.mark_lesson_read(learner, course.modules[0].lessons[0])
    attempt = operations.open_attempt(learner, course.modules[0].quiz)
    operations.submit_attempt(learner, attempt, wrong_answers(attempt))
    db.session.commit()
    login_as(learner)
    html = client.get("/learning/me").get_data(as_text=True)
    assert "Course test-course en" in html
    assert "0/3" in html and "not passed" in html


def test_lesson_pages_are_light(client, login_as, make_user, real_courses):
    login_as(make_user("resident"))
    response = client.get("/learning/smartphone-basics/lessons/turn-on-and-unlock")
    assert response.status_code == 200
    assert len(response.data) < 30_000
    assert "<script" not in response.get_data(as_text=True)


def test_sanitiser_strips_scripts_handlers_and_javascript_links():
    html = render_lesson(
        "<script>alert('x')</script>\n\n"
        '<img src="x" onerror="alert(1)">\n\n'
        "[click](javascript:alert(1)) [data](data:text/html,<b>) [ok](https://dichvucong.gov.vn)\n\n"
        '<a href="#" onclick="steal()">raw link</a>\n\n'
        "![pic](images/phone.png) ![remote](https://tracker.example/p.gif) ![up](../../etc/passwd)"
        " ![abs](/static/x.png) ![up2](images/../course.yml)\n\n"
        "<iframe src='https://evil.example'></iframe> <style>body{}</style>",
        {"images/phone.png": MediaFile("images", "phone.png", 900, "0123456789abcdef", 360, 640)},
    )
    tags, attributes = parse_markup(html)
    # Raw HTML in the source is shown as text, never as markup.
    assert tags <= {"p", "a", "img"}
    assert not [name for name, _value in attributes if name.startswith("on")]
    hrefs = [value for name, value in attributes if name in ("href", "src")]
    assert not [v for v in hrefs if v.lower().startswith(("javascript:", "data:"))]
    assert '<a href="https://dichvucong.gov.vn" rel="noopener noreferrer nofollow">ok</a>' in html
    assert 'src="../images/phone.png?v=0123456789abcdef"' in html
    assert "tracker.example" not in html and "passwd" not in html and "/static/x.png" not in html


def test_course_images_are_served_only_from_the_course_folder(client, tmp_path, make_course):
    make_course()
    assert client.get("/learning/test-course/images/../course.yml").status_code == 404
    assert client.get("/learning/test-course/images/missing.png").status_code == 404


def parse_markup(html: str) -> tuple[set[str], list[tuple[str, str]]]:
    found_tags, found_attributes = set(), []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found_tags.add(tag)
            found_attributes.extend((name, value or "") for name, value in attrs)

    Collector().feed(html)
    return found_tags, found_attributes
