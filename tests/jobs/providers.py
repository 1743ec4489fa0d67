"""A fake Zalo (ZNS and its OAuth) and SMS gateway: a real HTTP server on 127.0.0.1 that records
every request and answers as a test tells it."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from app.jobs.channels import Refused

ZNS, OAUTH, SMS = "/zns", "/oauth", "/sms"


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict


@dataclass
class Providers:
    """`answers[path]` holds the next answers (status, JSON) for that path, used up in order;
    when empty, the default success answer of the path is given. `delay` slows every answer."""

    url: str = ""
    requests: list[Request] = field(default_factory=list)
    answers: dict[str, list[tuple[int, dict]]] = field(default_factory=lambda: {ZNS: [], OAUTH: [], SMS: []})
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def answer(self, path: str, headers: dict[str, str], body: dict) -> tuple[int, dict]:
        with self.lock:
            self.requests.append(Request(path, headers, body))
            number = len(self.to(path))
            queued = self.answers[path]
            if queued:
                return queued.pop(0)
        if path == ZNS:
            return 200, {"error": 0, "message": "Success", "data": {"msg_id": f"zns-{number}"}}
        if path == OAUTH:
            return 200, {
                "access_token": f"new-access-{number}",
                "refresh_token": f"new-refresh-{number}",
                "expires_in": "90000",
            }
        return 200, {"id": f"sms-{number}"}


def start(providers: Providers) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                body = json.loads(raw)
            else:
                body = {key: values[0] for key, values in parse_qs(raw).items()}
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, answer = providers.answer(self.path, headers, body)
            if providers.delay:
                time.sleep(providers.delay)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    providers.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server


#: The templates the tests register, by kind of message.
TEMPLATES = {
    "visit_booked": "tpl-booked",
    "visit_reminder_resident": "tpl-visit",
    "sign_in_attack": "tpl-security",
    "recovery_code": "tpl-otp",
}


def settings(providers: Providers) -> dict:
    return {
        "ZNS_API_URL": providers.url + ZNS,
        "ZNS_OAUTH_URL": providers.url + OAUTH,
        "ZNS_ACCESS_TOKEN": "access-1",
        "ZNS_REFRESH_TOKEN": "refresh-1",
        "ZNS_APP_ID": "app-1",
        "ZNS_SECRET_KEY": "secret-1",
        "ZNS_TEMPLATES": json.dumps(TEMPLATES),
        "SMS_ADAPTER": "app.jobs.channels.HttpSmsGateway",
        "SMS_API_URL": providers.url + SMS,
        "SMS_API_KEY": "sms-key",
        "SMS_SENDER": "KYNANGSO",
        "SMS_ASCII": True,
        "QUIET_HOURS": "",
        "MESSAGE_DAILY_CAP": 0,
    }


class TelecomGateway:
    """An SMS adapter as a province would plug in (SMS_ADAPTER): keeps what it was given; a
    number ending in 0 is refused for good."""

    sent: list[tuple[str, str, str]] = []

    def __init__(self, config):
        self.sender = config["SMS_SENDER"]

    def send(self, to: str, text: str, ref: str) -> str:
        if to.endswith("0"):
            raise Refused("number blocked")
        self.sent.append((to, text, ref))
        return f"telecom-{ref}"
