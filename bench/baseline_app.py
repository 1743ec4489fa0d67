"""The ceiling for this stack: a bare Flask route that reads one row and renders a ~10 KB page.

`GET /row/<id>` reads one lesson row (id, key, titles) with SQLAlchemy from the benchmark's
PostgreSQL database and renders bench/templates/baseline.html, about 10 KB of escaped text in a
page shaped like the app's. Same Flask, Jinja, Flask-SQLAlchemy, psycopg and engine options as
the app (pool_pre_ping on), so the difference to the lesson page is the app's own work.

bench/lesson_load.py serves it with `gunicorn -w 2 --chdir bench 'baseline_app:app'` and the
database URL in BENCH_DATABASE_URL.
"""

import os

from flask import Flask, abort, render_template
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import text

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["BENCH_DATABASE_URL"]
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
db = SQLAlchemy(app)

_SENTENCE = (
    "Bà con mở ứng dụng, đọc kỹ từng bước và chỉ bấm vào đường liên kết từ nguồn chính thức; "
    "không bao giờ đọc mã OTP cho người khác qua điện thoại. "
)
#: About 9 KB of text (Vietnamese, so many two- and three-byte characters) in 24 paragraphs.
PARAGRAPHS = [f"{number}. {_SENTENCE * 2}" for number in range(1, 25)]


@app.route("/row/<int:row_id>")
def row(row_id: int):
    found = db.session.execute(text("SELECT id, key, titles FROM lessons WHERE id = :id"), {"id": row_id}).one_or_none()
    if found is None:
        abort(404)
    title = found.titles.get("vi") or found.key
    return render_template("baseline.html", row=found, title=title, paragraphs=PARAGRAPHS)
