"""A local stand-in for Slack's Web API, reached through ``SLACK_API_URL``.

It records every call (method, headers, parsed body) and answers like Slack does for the methods the
app uses. ``response_url`` posts (from ``respond()``) go to ``<base>/response/<token>`` and are
recorded too. Tests assert on ``calls``; the demo prints them.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class SlackCall:
    method: str  # e.g. "chat.postMessage", or "response_url"
    body: dict[str, Any]
    headers: dict[str, str]
    path: str


@dataclass
class FakeSlack:
    """The server's state: recorded calls, user groups, and optional per-method overrides."""

    calls: list[SlackCall] = field(default_factory=list)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    # method -> function(body) returning the JSON to answer (e.g. to simulate an error or a 429)
    overrides: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = field(default_factory=dict)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def record(self, call: SlackCall) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def calls_to(self, method: str) -> list[SlackCall]:
        return [c for c in list(self.calls) if c.method == method]

    def wait_for(
        self, predicate: Callable[[list[SlackCall]], bool], timeout: float = 10.0
    ) -> list[SlackCall]:
        """Block until ``predicate(calls)`` holds (asynchronous steps post later); return calls."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(list(self.calls)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        "Slack calls never matched; got: "
                        + json.dumps([(c.method, c.body) for c in self.calls], default=str)[:4000]
                    )
                self._changed.wait(remaining)
            return list(self.calls)

    def clear(self) -> None:
        with self._changed:
            self.calls.clear()

    def answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method in self.overrides:
            return self.overrides[method](body)
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}
        if method in {"chat.postMessage", "chat.update", "chat.postEphemeral"}:
            with self._lock:
                ts = body.get("ts") or f"{1700000000 + next(self._ts)}.000100"
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": body}
        if method == "usergroups.users.list":
            group = str(body.get("usergroup", ""))
            if group not in self.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": self.usergroups[group]}
        return {"ok": True}


def _handler(state: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            content_type = self.headers.get("Content-Type", "")
            body: dict[str, Any]
            if "json" in content_type:
                body = json.loads(raw) if raw else {}
            else:
                body = {k: v[-1] for k, v in urllib.parse.parse_qs(raw).items()}
                for key in ("blocks", "attachments"):
                    if isinstance(body.get(key), str):
                        body[key] = json.loads(body[key])
            path = self.path.split("?", 1)[0]
            if path.startswith("/response/"):
                method, answer = "response_url", {"ok": True}
            else:
                method = path.rstrip("/").rsplit("/", 1)[-1]
                answer = state.answer(method, body)
            state.record(SlackCall(method, body, dict(self.headers.items()), path))
            # An override may answer with an HTTP status other than 200 (e.g. 429 or 500).
            status = int(answer.pop("_status", 200))
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if status == 429:
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST

    return Handler


class SlackApiServer:
    """Run ``FakeSlack`` on 127.0.0.1:<ephemeral port>. ``api_url`` is the SLACK_API_URL value."""

    def __init__(self) -> None:
        self.state = FakeSlack()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.httpd.daemon_threads = True
        host, port = self.httpd.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        self.api_url = f"{self.base_url}/api/"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def response_url(self, token: str = "r1") -> str:
        return f"{self.base_url}/response/{token}"

    def __enter__(self) -> SlackApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
