"""A refused form tells every problem at once: a date's rule (in the past, still to come) is
checked with the form's other fields, not in a second round once they are fixed."""

from __future__ import annotations

import html
from datetime import timedelta

from app.db import local_today


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_an_assignment_without_a_course_and_with_a_past_due_date_is_told_both(client, login_as, make_user, units):
    login_as(make_user("commune_manager", units["c1"]))
    yesterday = local_today() - timedelta(days=1)
    response = client.post(
        "/learning/assignments/",
        data={"course": "", "unit": "C1", "role": "cadre", "due_on": yesterday.isoformat(), "note": ""},
    )
    assert response.status_code == 400
    text = page(response)
    assert "Choose a course." in text
    assert "The due date cannot be in the past." in text


def test_the_past_due_date_is_told_in_vietnamese_with_the_rest(client, login_as, make_user, units):
    login_as(make_user("commune_manager", units["c1"]))
    yesterday = local_today() - timedelta(days=1)
    response = client.post(
        "/learning/assignments/?lang=vi",
        data={"course": "", "unit": "C1", "role": "cadre", "due_on": yesterday.isoformat(), "note": "x" * 1001},
    )
    text = page(response)
    assert "Hạn hoàn thành không được là ngày đã qua." in text
    assert "Mục này không được dài quá 1000 ký tự." in text
