"""A tiny HTTP proxy in front of moto that misbehaves on purpose, the way a real network and a
busy SQS do: it answers chosen requests with a throttling error or a 503, closes the connection
abruptly (a TCP reset) before or after passing the request on, or passes the request on and holds
the answer back a while (a slow network), and passes everything else through.

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
from collections import Counter
from collections.abc import Callable
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class Fault(Enum):
    PASS = "pass"
    THROTTLE = "throttle"  # 400 RequestThrottled (what SQS answers past its request rate)
    UNAVAILABLE = "unavailable"  # 503
    RESET_BEFORE = "reset_before"  # connection reset; the request never reached SQS
    RESET_AFTER = "reset_after"  # SQS did the work, then the connection reset: the answer is lost
    SLOW_ANSWER = "slow_answer"  # SQS did the work; its answer arrives ``slow_answer_s`` later


# (action, how many times this action was seen before, counting from 0) -> what to do
Rule = Callable[[str, int], Fault]


class FaultProxy:
    """Runs on 127.0.0.1 (ephemeral port) in a thread; ``counts`` records what it did."""

    def __init__(self, upstream: str, rule: Rule, *, slow_answer_s: float = 2.0) -> None:
        self.upstream = urlsplit(upstream)
        self.rule = rule
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

    def _decide(self, action: str) -> Fault:
        with self._lock:
            fault = self.rule(action, self._seen[action])
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
                action = target.rsplit(".", 1)[-1] if target else "query"
                if method != "POST":
                    action = method
                fault = proxy._decide(action)
                if fault is Fault.RESET_BEFORE:
                    self._reset()
                    return
                if fault in (Fault.THROTTLE, Fault.UNAVAILABLE):
                    self._error(fault)
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
