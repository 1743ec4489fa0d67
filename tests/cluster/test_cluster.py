"""Two app nodes behind the shipped nginx site, one scheduler and a standby, PostgreSQL and
Redis, each a real process (bench/cluster.py): what one node does, the other sees at once."""

from __future__ import annotations

import shutil
import signal
import time
from http.cookies import SimpleCookie

import requests
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from app.jobs.outbox import enqueue
from app.learning.content import sync_courses
from bench.cluster import PASSWORD, REPO, csrf_token, signed_in

COURSE_TITLE = "Làm quen với điện thoại thông minh"
MODULE_TITLE = "Những bước đầu tiên"


class Browser:
    """A client that keeps its cookies whatever the address: the session cookie is Secure,
    and the nodes speak plain HTTP behind the proxy, so it is shown to them as a browser shows
    it to the site (the Cookie header)."""

    def __init__(self, cluster):
        self.http = cluster.session()
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, headers: dict | None = None, **kwargs) -> requests.Response:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = self.http.request(method, url, headers=headers, allow_redirects=False, timeout=30, **kwargs)
        for header in response.raw.headers.getlist("Set-Cookie"):
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response

    def get(self, url: str, **kwargs) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> requests.Response:
        return self.request("POST", url, **kwargs)

    def sign_in(self, base: str, username: str, password: str = PASSWORD, headers: dict | None = None):
        page = self.get(f"{base}/login", headers=headers)
        assert page.status_code == 200
        return self.post(
            f"{base}/login",
            data={"csrf_token": csrf_token(page.text), "username": username, "password": password},
            headers={"Referer": f"{base}/login", **(headers or {})},
        )

    def close(self) -> None:
        self.http.close()


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def test_a_session_signed_in_on_one_node_works_on_the_other(cluster):
    browser = Browser(cluster)
    assert browser.sign_in(cluster.node_url(0), "lan.resident").status_code == 302
    for base in (cluster.node_url(0), cluster.node_url(1), cluster.url):
        page = browser.get(f"{base}/learning/me")
        assert page.status_code == 200, base
        assert signed_in(page.text), base
    # Signing out on one node ends the session on the other: the old cookie is anonymous there.
    old_cookies = dict(browser.cookies)
    page = browser.get(f"{cluster.node_url(1)}/learning/me")
    assert browser.post(f"{cluster.node_url(1)}/logout", data={"csrf_token": csrf_token(page.text)}).status_code == 302
    browser.cookies = old_cookies
    assert browser.get(f"{cluster.node_url(0)}/learning/me").status_code == 302
    browser.close()


def test_sign_in_limits_count_across_nodes(cluster):
    browser = Browser(cluster)
    # Five failures per account and address (LOGIN_LIMIT_PER_ACCOUNT), sent to the nodes in turn.
    statuses = [
        browser.sign_in(cluster.node_url(n % 2), "minh.resident", "wrong password").status_code for n in range(6)
    ]
    assert statuses == [200, 200, 200, 200, 200, 429]
    # The right password from this address waits too, on either node.
    assert browser.sign_in(cluster.node_url(1), "minh.resident").status_code == 429

    # Through nginx a made-up X-Forwarded-For does not make a new address: the site replaces it.
    statuses = [
        browser.sign_in(
            cluster.url, "hoa.resident", "wrong password", headers={"X-Forwarded-For": f"203.0.113.{n}"}
        ).status_code
        for n in range(6)
    ]
    assert statuses == [200, 200, 200, 200, 200, 429]
    browser.close()


def test_a_course_synced_on_one_node_shows_on_the_other_at_once(cluster, cluster_app, tmp_path):
    browser = Browser(cluster)
    assert browser.sign_in(cluster.url, "lan.resident").status_code == 302
    course = "/learning/smartphone-basics/"
    for n in (0, 1):  # both nodes have the course's outline in their memory now
        page = browser.get(f"{cluster.node_url(n)}{course}")
        assert COURSE_TITLE in page.text
        assert f"{MODULE_TITLE} (2)" not in page.text

    copy = tmp_path / "courses"
    shutil.copytree(REPO / "courses", copy)
    manifest = copy / "smartphone-basics" / "course.yml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(
        text.replace(f"vi: {COURSE_TITLE}", f"vi: {COURSE_TITLE} (2)").replace(
            f"vi: {MODULE_TITLE}", f"vi: {MODULE_TITLE} (2)"
        ),
        encoding="utf-8",
    )
    with cluster_app.app_context():
        assert sync_courses(copy).updated == ["smartphone-basics"]
        db.session.commit()
    for n in (1, 0):
        page = browser.get(f"{cluster.node_url(n)}{course}")
        assert f"{COURSE_TITLE} (2)" in page.text, n
        assert f"{MODULE_TITLE} (2)" in page.text, n

    # Back to the shipped files with the command an operator runs.
    assert "cập nhật: smartphone-basics" in cluster.flask("courses", "sync")  # the CLI speaks Vietnamese
    for n in (0, 1):
        page = browser.get(f"{cluster.node_url(n)}{course}")
        assert COURSE_TITLE in page.text
        assert f"{COURSE_TITLE} (2)" not in page.text
    browser.close()


def test_the_site_as_shipped(cluster):
    http = cluster.session()
    # Plain HTTP moves to HTTPS.
    answer = http.get(f"{cluster.http_url}/login?lang=en", allow_redirects=False, timeout=10)
    assert answer.status_code == 301
    assert answer.headers["Location"] == "https://localhost/login?lang=en"

    # Pages come from both nodes, told the visit was HTTPS (X-Forwarded-Proto): HSTS is set.
    seen = len(cluster.upstreams())
    for _ in range(4):
        page = http.get(f"{cluster.url}/login", timeout=10)
        assert page.status_code == 200
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    nodes = {f"127.0.0.1:{port}" for port in cluster.node_ports}
    assert set(cluster.upstreams()[seen:]) == nodes

    # Static files come from nginx, kept for a year; a node would have said a month.
    stylesheet = page.text.split('href="/static/css/site.css', 1)[1].split('"', 1)[0]
    from_nginx = http.get(f"{cluster.url}/static/css/site.css{stylesheet}", timeout=10)
    assert from_nginx.status_code == 200
    assert from_nginx.headers["Content-Type"].startswith("text/css")
    assert from_nginx.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert from_nginx.headers["X-Content-Type-Options"] == "nosniff"
    from_node = http.get(f"{cluster.node_url(0)}/static/css/site.css{stylesheet}", timeout=10)
    assert from_node.content == from_nginx.content
    assert "immutable" not in from_node.headers["Cache-Control"]

    # Metrics are not served to the public; bodies above the app's 16 MB stop at nginx.
    metrics = http.get(f"{cluster.url}/metrics", timeout=10)
    assert metrics.status_code == 404
    assert "<center>nginx</center>" in metrics.text  # nginx's own page: no node was asked
    too_big = http.post(f"{cluster.url}/login", data=b"x" * (17 * 1024 * 1024), timeout=30)
    assert too_big.status_code == 413
    assert "<center>nginx</center>" in too_big.text
    http.close()


def test_the_scheduler_lock_lets_one_scheduler_run_jobs(cluster, cluster_app, mailbox):
    box, _port = mailbox
    first = cluster.schedulers["a"]
    wait_until(lambda: cluster.lock_holder() == "a", 60, "the first scheduler holds the lock")
    standby = cluster.start_scheduler("b")
    with cluster_app.app_context():
        user = db.session.scalar(select(User).where(User.username == "lan.resident"))
        assert enqueue("cluster-lock-1", user, "sign_in_attack") is not None
        db.session.commit()
    wait_until(lambda: "another scheduler is running; waiting" in standby.output(), 60, "the standby waits")
    assert cluster.lock_holder() == "a"
    assert 'Running job "send_outbox' in first.output()
    assert "Running job" not in standby.output()

    first.stop(signal.SIGKILL)
    killed = time.monotonic()
    wait_until(lambda: cluster.lock_holder() == "b", 30, "the standby takes the lock")
    takeover = time.monotonic() - killed
    wait_until(lambda: 'Running job "send_outbox' in standby.output(), 30, "the standby runs the jobs")
    print(f"takeover after SIGKILL: {takeover:.1f} s")
    assert takeover < 10

    # The message queued while both ran is sent once, by whichever held the lock.
    wait_until(lambda: box.to("lan@cluster.test"), 30, "the message is sent")
    time.sleep(2)
    assert len(box.to("lan@cluster.test")) == 1
    assert "Bộ lập lịch đang chạy" in standby.output()  # "Scheduler running: …", in the CLI's Vietnamese


def test_the_site_answers_with_one_node_down(cluster):
    """Last: it stops a node for good."""
    node = next(process for process in cluster.processes if process.name == "node1")
    node.stop(signal.SIGKILL)
    browser = Browser(cluster)
    for _ in range(4):
        assert browser.get(f"{cluster.url}/login").status_code == 200
    # A sign-in (a POST, never sent twice) reaches the node that is up.
    assert browser.sign_in(cluster.url, "an.manager").status_code == 302
    assert signed_in(browser.get(f"{cluster.url}/learning/me").text)
    browser.close()
