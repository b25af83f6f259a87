"""A tiny HTTP proxy in front of a local AWS endpoint (moto, the local Lambda server) that lets a
test answer chosen requests itself: AWS's "access denied" for an action the caller has no right
to, or something done to the upstream just before a request reaches it (a subscription deleted
between its listing and its reading). Everything else passes through unchanged.

boto3 reaches it like any endpoint (``endpoint_url``); nothing inside boto3 is patched. The
denial is written in each protocol's own shape, so botocore parses AWS's code from it:
query (SNS: an XML ``ErrorResponse``), json (EventBridge: ``__type``), rest-json (Lambda: the
``X-Amzn-ErrorType`` header).
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    action: str  # the query Action, the json X-Amz-Target's operation, or "GET /path"
    params: dict[str, str]  # the query protocol's form fields (SNS), else {}
    body: bytes


# None: pass the request on; a code ("AuthorizationError", "AccessDeniedException"): deny it.
Rule = Callable[[Request], str | None]


class Gatekeeper:
    """Runs on 127.0.0.1 (ephemeral port) in a thread; ``seen`` lists every request's action."""

    def __init__(self, upstream: str, rule: Rule) -> None:
        self.upstream = urlsplit(upstream)
        self.rule = rule
        self.seen: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Gatekeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        keeper = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def _handle(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                content_type = self.headers.get("Content-Type", "")
                params: dict[str, str] = {}
                if "x-www-form-urlencoded" in content_type:
                    fields = urllib.parse.parse_qs(body.decode())
                    params = {k: v[-1] for k, v in fields.items()}
                    action = params.get("Action", "")
                elif self.headers.get("X-Amz-Target"):
                    action = self.headers["X-Amz-Target"].rsplit(".", 1)[-1]
                else:
                    action = f"{method} {self.path.split('?', 1)[0]}"
                request = Request(method, self.path, action, params, body)
                with keeper._lock:
                    keeper.seen.append(action)
                denied = keeper.rule(request)
                if denied is not None:
                    self._deny(denied, query="x-www-form-urlencoded" in content_type)
                    return
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in {"host", "expect"}
                }
                conn = http.client.HTTPConnection(
                    keeper.upstream.hostname or "127.0.0.1", keeper.upstream.port, timeout=30
                )
                try:
                    conn.request(method, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    status, answer_headers, payload = (
                        response.status,
                        response.getheaders(),
                        response.read(),
                    )
                finally:
                    conn.close()
                self.send_response(status)
                for name, value in answer_headers:
                    if name.lower() not in {"content-length", "transfer-encoding", "connection"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _deny(self, code: str, *, query: bool) -> None:
                message = f"User: arn:aws:iam::123456789012:user/test is not authorized ({code})"
                if query:
                    payload = (
                        "<ErrorResponse><Error><Type>Sender</Type>"
                        f"<Code>{code}</Code><Message>{message}</Message></Error>"
                        "<RequestId>gatekeeper</RequestId></ErrorResponse>"
                    ).encode()
                    content_type = "text/xml"
                else:
                    payload = json.dumps({"__type": code, "message": message}).encode()
                    content_type = "application/x-amz-json-1.1"
                self.send_response(403)
                self.send_header("Content-Type", content_type)
                self.send_header("X-Amzn-ErrorType", code)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
