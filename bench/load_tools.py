"""Tools of the load benchmark: gunicorn servers, a tiny HTTP client that signs learners in,
wrk with bench/wrk/rotate.lua, Chromium page weights, and the machine's description."""

from __future__ import annotations

import http.client
import os
import platform
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BENCH_DIR = Path(__file__).resolve().parent
LUA_SCRIPT = BENCH_DIR / "wrk" / "rotate.lua"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes ------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop gunicorn and its workers: the process group it leads (started by us)."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass

    def worker_cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the gunicorn workers, the master's children."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended meanwhile
                continue
            if int(fields[1]) == self.process.pid:  # fields[1] is the parent's pid
                total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
        return total / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def postgres_cpu_seconds() -> float:
    """CPU time (user + system) used so far by every PostgreSQL process on this machine."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().split("(", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):  # the process ended meanwhile
            continue
        if name == "postgres" or name.startswith("postgres:"):
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(name: str, target: str, env: dict, workers: int, workdir: Path, logs: Path) -> Server:
    port = free_port()
    log_path = logs / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(workdir),
        "--no-control-socket",  # two servers (and other people's) would share one default path
        target,
    ]
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name, port, process, log_path)


def wait_ready(server: Server, path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"{server.name} exited at start:\n{server.log_tail()}")
        try:
            status, _headers, _body = http_request(server.port, "GET", path)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"{server.name} did not answer 200 on {path} in {timeout:.0f}s:\n{server.log_tail()}")


# --- a tiny HTTP client (no redirects followed, one cookie) ---------------------------------


def http_request(port: int, method: str, path: str, cookie: str = "", form: list | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Accept-Language": "vi"}
    body = None
    if cookie:
        headers["Cookie"] = cookie
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def session_cookie(headers, current: str) -> str:
    """The session cookie a response sets ("session=…"), else the one we had."""
    for value in headers.get_all("Set-Cookie") or []:
        pair = value.split(";", 1)[0]
        name, _, content = pair.partition("=")
        if name == "session" and content:
            return pair
    return current


CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE_ATTR = re.compile(r'value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    value = VALUE_ATTR.search(match.group(0)) if match else None
    if value is None:
        raise BenchError("no csrf_token input in the page")
    return value.group(1)


@dataclass
class Learner:
    username: str
    user_id: int
    cookie: str = ""
    token: str = ""


def sign_in(port: int, learner: Learner, password: str, probe_path: str) -> None:
    """Sign in through the real form (CSRF on), then open a lesson to get the form token."""
    status, headers, body = http_request(port, "GET", "/login")
    if status != 200:
        raise BenchError(f"GET /login answered {status}")
    cookie = session_cookie(headers, "")
    form = [
        ("csrf_token", csrf_token(body.decode())),
        ("username", learner.username),
        ("password", password),
        ("next", ""),
    ]
    status, headers, body = http_request(port, "POST", "/login", cookie, form)
    if status != 302:
        raise BenchError(f"signing in {learner.username} answered {status}: {body[:300]!r}")
    cookie = session_cookie(headers, cookie)
    status, headers, body = http_request(port, "GET", probe_path, cookie)
    if status != 200:
        raise BenchError(f"{learner.username} signed in but {probe_path} answered {status}")
    learner.cookie = session_cookie(headers, cookie)
    learner.token = csrf_token(body.decode())


# --- wrk ------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    name: str
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    ok: int = 0
    bad: int = 0
    exhausted: int = 0
    socket_errors: str = ""
    busy_before: float = 0.0
    worker_cpu_ms: float = 0.0
    postgres_cpu_ms: float = 0.0
    wrk_cpu_ms: float = 0.0
    note: str = ""


def write_requests(path: Path, entries: list[tuple[str, str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for method, url_path, cookie, body in entries:
            if any("\t" in part or "\n" in part for part in (url_path, cookie, body)):
                raise BenchError("a request field holds a tab or newline")
            out.write(f"{method}\t{url_path}\t{cookie}\t{body}\n")
    return path


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(name: str, output: str) -> LoadResult:
    result = LoadResult(name)
    match = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", output)
    if not match:
        raise BenchError(f"cannot read wrk's output:\n{output}")
    result.requests = int(match.group(1))
    result.seconds = _ms(match.group(2) + match.group(3)) / 1000
    result.rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    for percent, attr in (("50", "p50_ms"), ("90", "p90_ms"), ("99", "p99_ms")):
        found = re.search(rf"^\s+{percent}%\s+([\d.]+\w+)", output, re.MULTILINE)
        setattr(result, attr, _ms(found.group(1)))
    result.max_ms = _ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", output).group(1))
    errors = re.search(r"Socket errors: (.*)", output)
    result.socket_errors = errors.group(1).strip() if errors else ""
    check = re.search(r"BENCH-CHECK ok=(\d+) bad=(\d+) exhausted=(\d+)", output)
    if not check:
        raise BenchError(f"the wrk script did not report its checks:\n{output}")
    result.ok, result.bad, result.exhausted = (int(value) for value in check.groups())
    return result


def run_wrk(
    name: str,
    server: Server,
    requests_file: Path,
    *,
    threads: int,
    connections: int,
    seconds: int,
    mode: str,
    expect_status: int,
    expect_location: str = "",
) -> LoadResult:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA_SCRIPT),
        server.base,
        "--",
        str(requests_file),
        str(threads),
        mode,
        str(expect_status),
        expect_location,
    ]
    busy = background_busy()
    cpu_before, postgres_before = server.worker_cpu_seconds(), postgres_cpu_seconds()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    cpu_used = server.worker_cpu_seconds() - cpu_before
    postgres_used = postgres_cpu_seconds() - postgres_before
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_used = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = parse_wrk(name, done.stdout)
    result.busy_before = busy
    result.worker_cpu_ms = 1000 * cpu_used / max(result.requests, 1)
    result.postgres_cpu_ms = 1000 * postgres_used / max(result.requests, 1)
    result.wrk_cpu_ms = 1000 * wrk_used / max(result.requests, 1)
    return result


# --- Chromium -----------------------------------------------------------------------------


def page_weights(base: str, cookie: str, paths: list[str]) -> list[dict]:
    """Load each page cold (a new browser context: empty cache, no service worker) as the signed-in
    learner and add up the bytes transferred: Chromium's encodedDataLength, headers and bodies of
    every response including the favicon and any fonts."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return [_weigh(browser, base, cookie, path) for path in paths]
        finally:
            browser.close()


def _weigh(browser, base: str, cookie: str, path: str) -> dict:
    name, _, value = cookie.partition("=")
    context = browser.new_context(locale="vi-VN")
    try:
        context.add_cookies([{"name": name, "value": value, "url": base}])
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        seen: dict[str, tuple[str, str]] = {}
        sizes: dict[str, int] = {}

        def on_response(event):
            seen[event["requestId"]] = (urlsplit(event["response"]["url"]).path, event["type"])

        def on_finished(event):
            sizes[event["requestId"]] = int(event["encodedDataLength"])

        cdp.on("Network.responseReceived", on_response)
        cdp.on("Network.loadingFinished", on_finished)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        response = page.goto(base + path, wait_until="load")
        if response is None or response.status != 200 or "/login" in page.url:
            raise BenchError(f"Chromium could not open {path} as a signed-in learner")
        page.evaluate("document.fonts.ready.then(() => document.fonts.size)")
        page.wait_for_load_state("networkidle")
        resources = sorted(
            ((*seen.get(request_id, ("?", "?")), size) for request_id, size in sizes.items()),
            key=lambda item: -item[2],
        )
    finally:
        context.close()
    return {
        "path": path,
        "bytes": sum(size for _path, _kind, size in resources),
        "resources": resources,
        "fonts": sum(1 for _path, kind, _size in resources if kind == "Font"),
    }


# --- the machine ----------------------------------------------------------------------------


def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat", encoding="utf-8") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


def background_busy(seconds: float = 1.0) -> float:
    """Share of all CPUs busy with other work while our servers sit idle (0..1): other
    programs on a shared machine take CPU from the measured run and lower its figures."""
    busy_before, total_before = _cpu_times()
    time.sleep(seconds)
    busy_after, total_after = _cpu_times()
    return (busy_after - busy_before) / max(total_after - total_before, 1)


def machine(postgres: str) -> dict:
    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    try:
        wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    except FileNotFoundError:  # the load tests that use Locust need no wrk
        wrk_version = "not installed"
    import gunicorn

    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory": memory,
        "postgresql": postgres,
        "python": platform.python_version(),
        "gunicorn": gunicorn.__version__,
        "wrk": [*wrk_version.split(), "?", "?"][1],
        "kernel": platform.release(),
    }
