"""A tiny HTTP proxy in front of moto that misbehaves on purpose, the way a real network and a
busy SQS do: it answers chosen requests with a throttling error or a 503, closes the connection
abruptly (a TCP reset) before or after passing the request on, or passes the request on and holds
the answer back a while (a slow network), and passes everything else through. It can also deny a
call as AWS does to a caller without the right (``Fault.DENY``), in the protocol's own shape so
botocore parses AWS's code: query (SNS: an XML ``ErrorResponse``, ``AuthorizationError``), json
(SQS, EventBridge: ``__type``) and rest-json (Lambda: the ``X-Amzn-ErrorType`` header), both
``AccessDeniedException``.

A request is named by its action: the json protocol's ``X-Amz-Target`` operation, the query
protocol's ``Action`` field, else its HTTP method (S3, Lambda). ``inspect`` (optional) sees each
request whole (``ProxyRequest``: its action, query fields, path and body) before ``rule`` does
and may decide
for it, or act on the upstream first (delete what the request is about, as a race would).
``rewrite`` (optional) changes a successful answer before it goes back: an answer AWS documents
that the local server never gives.

boto3 reaches it like any endpoint (AWS_ENDPOINT_URL_SQS); nothing inside boto3 is patched.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Fault(Enum):
    PASS = "pass"
    THROTTLE = "throttle"  # 400 RequestThrottled (what SQS answers past its request rate)
    UNAVAILABLE = "unavailable"  # 503
    RESET_BEFORE = "reset_before"  # connection reset; the request never reached SQS
    RESET_AFTER = "reset_after"  # SQS did the work, then the connection reset: the answer is lost
    SLOW_ANSWER = "slow_answer"  # SQS did the work; its answer arrives ``slow_answer_s`` later
    DENY = "deny"  # 403, AWS's access denied in the request's protocol; nothing reaches upstream


# (action, how many times this action was seen before, counting from 0) -> what to do
Rule = Callable[[str, int], Fault]


@dataclass(frozen=True)
class ProxyRequest:
    action: str
    params: dict[str, str] = field(default_factory=dict)  # the query protocol's form fields
    path: str = ""  # the request's path and query string (a REST call names its resource there)
    body: bytes = b""  # the request body as sent (a json call names its resources there)


# A request seen whole -> what to do, or None to leave it to ``rule``.
Inspect = Callable[[ProxyRequest], Fault | None]
# A request and the body upstream answered it with -> the body sent back instead (an answer
# AWS may give that the local server never does, e.g. DynamoDB's UnprocessedKeys).
Rewrite = Callable[[ProxyRequest, bytes], bytes]


class FaultProxy:
    """Runs on 127.0.0.1 (ephemeral port) in a thread; ``counts`` records what it did."""

    def __init__(
        self,
        upstream: str,
        rule: Rule,
        *,
        slow_answer_s: float = 2.0,
        inspect: Inspect | None = None,
        rewrite: Rewrite | None = None,
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.rule = rule
        self.inspect = inspect
        self.rewrite = rewrite
        self.slow_answer_s = slow_answer_s
        self.counts: Counter[tuple[str, Fault]] = Counter()
        # (action, request body) of every call SQS acted on whose answer was then lost
        self.lost: list[tuple[str, bytes]] = []
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def injected(self, action: str | None = None) -> int:
        """How many faults were injected (into ``action`` only, if given)."""
        return sum(
            count
            for (name, fault), count in self.counts.items()
            if fault is not Fault.PASS and (action is None or name == action)
        )

    def calls(self, action: str) -> int:
        """How many requests of ``action`` reached the proxy, faulty or not."""
        return sum(count for (name, _), count in self.counts.items() if name == action)

    def lost_sends(self) -> list[list[str]]:
        """The message bodies of each SendMessageBatch SQS acted on whose answer was lost."""
        return [
            [entry["MessageBody"] for entry in json.loads(request)["Entries"]]
            for action, request in self.lost
            if action == "SendMessageBatch"
        ]

    def _decide(self, request: ProxyRequest) -> Fault:
        action = request.action
        # Outside the lock: an inspection may call the upstream (through this proxy or not).
        inspected = self.inspect(request) if self.inspect is not None else None
        with self._lock:
            fault = inspected or self.rule(action, self._seen[action])
            self._seen[action] += 1
            self.counts[(action, fault)] += 1
        return fault

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(
            self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=30
        )
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return  # keep test output clean

            def do_POST(self) -> None:
                self._relay("POST")

            # S3 is REST: its calls are named by method ("PUT" a PutObject, "GET" a GetObject or
            # a listing), so a rule can pick them out as it picks SQS actions.
            def do_PUT(self) -> None:
                self._relay("PUT")

            def do_GET(self) -> None:
                self._relay("GET")

            def do_HEAD(self) -> None:
                self._relay("HEAD")

            def _relay(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                target = self.headers.get("X-Amz-Target", "")
                query = "x-www-form-urlencoded" in self.headers.get("Content-Type", "")
                params = {k: v[-1] for k, v in parse_qs(body.decode()).items()} if query else {}
                action = target.rsplit(".", 1)[-1] if target else params.get("Action", "query")
                if method != "POST":
                    action = method
                request = ProxyRequest(action, params, self.path, body)
                fault = proxy._decide(request)
                if fault is Fault.RESET_BEFORE:
                    self._reset()
                    return
                if fault in (Fault.THROTTLE, Fault.UNAVAILABLE):
                    self._error(fault)
                    return
                if fault is Fault.DENY:
                    self._deny(query=query)
                    return
                # Expect: 100-continue was answered here already; moto gets the whole body.
                skipped = {"host", "expect"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skipped}
                status, response_headers, payload = proxy._forward(method, self.path, headers, body)
                if fault is Fault.RESET_AFTER:
                    with proxy._lock:
                        proxy.lost.append((action, body))
                    self._reset()
                    return
                if fault is Fault.SLOW_ANSWER:
                    time.sleep(proxy.slow_answer_s)
                if proxy.rewrite is not None and 200 <= status < 300:
                    payload = proxy.rewrite(request, payload)
                    # DynamoDB signs its answers with their CRC32, which botocore checks.
                    response_headers = [
                        (name, str(zlib.crc32(payload)) if name.lower() == "x-amz-crc32" else value)
                        for name, value in response_headers
                    ]
                self.send_response(status)
                for name, value in response_headers:
                    if name.lower() not in {"content-length", "transfer-encoding", "connection"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _error(self, fault: Fault) -> None:
                if fault is Fault.THROTTLE:
                    status, code = 400, "RequestThrottled"
                    text = "Request is throttled."
                else:
                    status, code = 503, "ServiceUnavailable"
                    text = "Service is unavailable. Try again later."
                payload = json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": text})
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("x-amzn-query-error", f"{code};Sender")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload.encode())

            def _deny(self, *, query: bool) -> None:
                code = "AuthorizationError" if query else "AccessDeniedException"
                message = "User: arn:aws:iam::123456789012:user/test is not authorized"
                if query:
                    payload = (
                        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                        f"<Message>{message}</Message></Error>"
                        "<RequestId>fault-proxy</RequestId></ErrorResponse>"
                    )
                    content_type = "text/xml"
                else:
                    payload = json.dumps({"__type": code, "message": message})
                    content_type = "application/x-amz-json-1.1"
                self.send_response(403)
                self.send_header("Content-Type", content_type)
                self.send_header("X-Amzn-ErrorType", code)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload.encode())

            def _reset(self) -> None:
                # SO_LINGER 0 makes close() send a TCP RST instead of a clean FIN.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True

            def finish(self) -> None:
                with contextlib.suppress(OSError):  # the socket was reset on purpose
                    super().finish()

        return Handler
