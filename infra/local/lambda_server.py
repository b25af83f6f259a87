"""A local stand-in for AWS Lambda's Invoke API, reached through ``AWS_ENDPOINT_URL_LAMBDA``.

boto3's ``lambda.invoke`` sends ``POST /2015-03-31/functions/{name}/invocations`` with the
payload as the body and the ``X-Amz-Invocation-Type`` header. This server maps function names to
Python handler callables and runs them for real, in this process:

- ``InvocationType="Event"``: the handler runs in a background thread; the server answers 202 at
  once, as Lambda does.
- ``RequestResponse`` (the default): the handler runs before the answer; 200 with its JSON result,
  or 200 with ``X-Amz-Function-Error: Unhandled`` and an error payload if it raised.
- ``DryRun``: 204, nothing runs. An unknown function: 404 ``ResourceNotFoundException``.

``{name}`` may be a bare name, a full ARN or ``name:qualifier``; the bare name selects the handler.

Each invocation gets a context with ``function_name``, ``function_version``,
``invoked_function_arn``, ``aws_request_id``, ``memory_limit_in_mb``, ``log_group_name``,
``log_stream_name`` and ``get_remaining_time_in_millis()``, counting down from the function's
``timeout_s`` (so a test can give the worker a tiny budget and force a continuation).

API::

    server = LambdaServer({"worker": handlers.worker.handler}, timeouts={"worker": 2.0})
    with server:                       # starts on 127.0.0.1:<ephemeral port>
        env = {"AWS_ENDPOINT_URL_LAMBDA": server.endpoint_url}
        ...                            # code under test calls boto3 lambda.invoke
        server.wait_idle(timeout=30)   # every background invocation finished (raises if not)
        server.invocations             # list[Invocation]: name, type, payload, result, error
        server.errors()                # the invocations that raised (never swallowed)
        server.raise_errors()          # re-raise the first one, for tests that expect none

    server.register("daily", handlers.daily.handler, timeout_s=900)   # add one later

**Configuration API** (discovery of the functions that dead-letter into a queue; moto's Lambda
stores a function's DeadLetterConfig but does not return it, FACTS.md). A function registered
with ``dead_letter_arn`` / ``on_failure_arn`` is listed with them, as AWS's REST API documents:

- ListFunctions, ``GET /2015-03-31/functions/?Marker=&MaxItems=``: ``{"Functions": [...],
  "NextMarker": ...}``; "Lambda returns up to 50 functions per call" (API reference), so pages
  hold at most 50 whatever ``MaxItems`` asks.
- GetFunctionConfiguration, ``GET /2015-03-31/functions/{name}/configuration``: one
  FunctionConfiguration; ``DeadLetterConfig``: "The function's dead letter queue", ``{"TargetArn":
  ...}`` ("The Amazon Resource Name (ARN) of an Amazon SQS queue or Amazon SNS topic").
- ListFunctionEventInvokeConfigs, ``GET /2019-09-25/functions/{name}/event-invoke-config/list``:
  ``{"FunctionEventInvokeConfigs": [{"FunctionArn", "LastModified", "MaximumRetryAttempts",
  "MaximumEventAgeInSeconds", "DestinationConfig": {"OnSuccess": {}, "OnFailure":
  {"Destination": ...}}}], "NextMarker": null}`` (empty for a function with no config).

**Fault switch** (tests of what a redrive does when Lambda refuses or the answer is lost)::

    server.fault("ship", status=429)          # the next invoke of "ship" answers 429
                                              #   TooManyRequestsException; the handler never runs
    server.fault("ship", status=500, times=2) # the next two answer 500 ServiceException
    server.fault("ship", lose_answer=True)    # the next invoke is queued (an Event's handler
                                              #   runs), then the connection is closed unanswered
    server.faults_left("ship")                # how many are still armed

Each armed fault serves one invoke of that function (any invocation type), in the order armed.
Errors inside an invocation are recorded on its ``Invocation`` (``error`` and ``traceback``) and
logged; an ``Event`` invocation that raised is not retried (Lambda would retry twice; tests want
to see the first failure, and the app must report failures itself anyway).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
import urllib.parse
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

logger = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Any]
DEFAULT_TIMEOUT_S = 900.0
REGION = "us-east-1"
ACCOUNT = "123456789012"
_PATH_PREFIX = "/2015-03-31/functions/"
_INVOKE_CONFIG_PREFIX = "/2019-09-25/functions/"
LIST_PAGE_MAX = 50  # ListFunctions: "Lambda returns up to 50 functions per call"
# What Invoke answers when Lambda refuses (Invoke, API reference: "Errors").
_REFUSALS = {
    429: ("TooManyRequestsException", "Rate Exceeded."),
    500: ("ServiceException", "The AWS Lambda service encountered an internal error."),
}


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


@dataclass(frozen=True)
class FunctionSettings:
    """What the configuration API tells of a registered function."""

    timeout_s: float | None = None
    dead_letter_arn: str | None = None
    on_failure_arn: str | None = None

    def configuration(self, name: str) -> dict[str, Any]:
        """A FunctionConfiguration, as ListFunctions and GetFunctionConfiguration answer it."""
        config: dict[str, Any] = {
            "FunctionName": name,
            "FunctionArn": function_arn(name),
            "Runtime": "python3.11",
            "Role": f"arn:aws:iam::{ACCOUNT}:role/{name}-role",
            "Handler": "handler.handler",
            "CodeSize": 1024,
            "Description": "",
            "Timeout": int(self.timeout_s or DEFAULT_TIMEOUT_S),
            "MemorySize": 1024,
            "LastModified": "2026-01-01T00:00:00.000+0000",
            "CodeSha256": "local",
            "Version": "$LATEST",
            "State": "Active",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
        }
        if self.dead_letter_arn:
            config["DeadLetterConfig"] = {"TargetArn": self.dead_letter_arn}
        return config

    def invoke_configs(self, name: str) -> list[dict[str, Any]]:
        """ListFunctionEventInvokeConfigs' entries: one when an on-failure destination is set."""
        if not self.on_failure_arn:
            return []
        return [
            {
                "FunctionArn": f"{function_arn(name)}:$LATEST",
                "LastModified": 1767225600.0,
                "MaximumRetryAttempts": 2,
                "MaximumEventAgeInSeconds": 21600,
                "DestinationConfig": {
                    "OnSuccess": {},
                    "OnFailure": {"Destination": self.on_failure_arn},
                },
            }
        ]


@dataclass(frozen=True)
class Fault:
    """One armed fault: answer ``status`` without running, or run and lose the answer."""

    status: int | None = None
    lose_answer: bool = False


class LocalLambdaContext:
    """The parts of Lambda's context object handlers use."""

    def __init__(self, function_name: str, timeout_s: float, request_id: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self.aws_request_id = request_id
        self.memory_limit_in_mb = 1024
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"local/{request_id}"
        self._ends_at = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._ends_at - time.monotonic()) * 1000))


@dataclass
class Invocation:
    """One recorded invocation; ``done`` is set when the handler returned or raised."""

    function_name: str
    invocation_type: str
    payload: Any
    request_id: str
    result: Any = None
    error: BaseException | None = None
    traceback: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


class LambdaServer:
    """Serve the Invoke API for the registered handlers; see the module docstring."""

    def __init__(
        self,
        handlers: dict[str, Handler] | None = None,
        *,
        timeouts: dict[str, float] | None = None,
        default_timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self._handlers: dict[str, Handler] = dict(handlers or {})
        self._timeouts: dict[str, float] = dict(timeouts or {})
        self.default_timeout_s = default_timeout_s
        self.invocations: list[Invocation] = []
        self._settings: dict[str, FunctionSettings] = {}
        self._faults: dict[str, deque[Fault]] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._running = 0
        self.httpd = _Server(("127.0.0.1", 0), _request_handler(self))
        self.httpd.daemon_threads = True
        host, port = self.httpd.server_address[:2]
        self.endpoint_url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="local-lambda", daemon=True
        )

    # --- configuration --------------------------------------------------------------------

    def register(
        self,
        name: str,
        handler: Handler,
        *,
        timeout_s: float | None = None,
        dead_letter_arn: str | None = None,
        on_failure_arn: str | None = None,
    ) -> None:
        """Serve ``name`` with ``handler`` (optionally with its own time budget); the
        configuration API lists it with its DeadLetterConfig and on-failure destination."""
        with self._lock:
            self._handlers[name] = handler
            if timeout_s is not None:
                self._timeouts[name] = timeout_s
            self._settings[name] = FunctionSettings(timeout_s, dead_letter_arn, on_failure_arn)

    def fault(
        self, name: str, *, status: int | None = None, lose_answer: bool = False, times: int = 1
    ) -> None:
        """Arm ``times`` faults for the next invokes of ``name`` (see the module docstring)."""
        if (status is None) == (not lose_answer) or (
            status is not None and status not in _REFUSALS
        ):
            raise ValueError(f"give status ({', '.join(map(str, _REFUSALS))}) or lose_answer")
        with self._lock:
            self._faults.setdefault(name, deque()).extend([Fault(status, lose_answer)] * times)

    def faults_left(self, name: str) -> int:
        with self._lock:
            return len(self._faults.get(name, ()))

    def _next_fault(self, name: str) -> Fault | None:
        with self._lock:
            armed = self._faults.get(name)
            return armed.popleft() if armed else None

    def configuration(self, name: str) -> dict[str, Any] | None:
        """GetFunctionConfiguration's answer, None for a function not registered."""
        with self._lock:
            if name not in self._handlers:
                return None
            settings = self._settings.get(name, FunctionSettings(self._timeouts.get(name)))
        return settings.configuration(name)

    def invoke_configs(self, name: str) -> list[dict[str, Any]] | None:
        with self._lock:
            if name not in self._handlers:
                return None
            settings = self._settings.get(name, FunctionSettings())
        return settings.invoke_configs(name)

    def function_names(self) -> list[str]:
        with self._lock:
            return sorted(self._handlers)

    def set_timeout(self, name: str, timeout_s: float) -> None:
        """The budget ``get_remaining_time_in_millis`` counts down from for later invocations."""
        with self._lock:
            self._timeouts[name] = timeout_s

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> LambdaServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> LambdaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- observing ----------------------------------------------------------------------------

    def wait_idle(self, timeout: float = 30.0) -> list[Invocation]:
        """Block until no invocation is running (new ones started meanwhile are waited for too)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    running = [i.function_name for i in self.invocations if not i.done.is_set()]
                    raise TimeoutError(f"invocations still running after {timeout}s: {running}")
                self._idle.wait(remaining)
            return list(self.invocations)

    def calls_to(self, name: str) -> list[Invocation]:
        return [i for i in list(self.invocations) if i.function_name == name]

    def errors(self) -> list[Invocation]:
        return [i for i in list(self.invocations) if i.error is not None]

    def raise_errors(self) -> None:
        """Re-raise the first error an invocation raised, with its traceback in the message."""
        failed = self.errors()
        if failed:
            first = failed[0]
            raise AssertionError(
                f"{len(failed)} invocation(s) raised; first ({first.function_name}):\n"
                f"{first.traceback}"
            ) from first.error

    # --- running --------------------------------------------------------------------------------

    def _lookup(self, name: str) -> tuple[Handler, float] | None:
        with self._lock:
            handler = self._handlers.get(name)
            return (
                None
                if handler is None
                else (handler, self._timeouts.get(name, self.default_timeout_s))
            )

    def _begin(self, name: str, invocation_type: str, payload: Any) -> Invocation:
        invocation = Invocation(name, invocation_type, payload, str(uuid.uuid4()))
        with self._lock:
            self.invocations.append(invocation)
            self._running += 1
        return invocation

    def _run(self, invocation: Invocation, handler: Handler, timeout_s: float) -> None:
        context = LocalLambdaContext(invocation.function_name, timeout_s, invocation.request_id)
        try:
            invocation.result = handler(invocation.payload, context)
        except BaseException as exc:  # noqa: BLE001 - recorded for the test; the server keeps serving
            invocation.error = exc
            invocation.traceback = traceback.format_exc()
            logger.error(
                "local lambda %s raised:\n%s", invocation.function_name, invocation.traceback
            )
        finally:
            invocation.done.set()
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    def invoke(self, name: str, invocation_type: str, payload: Any) -> tuple[int, Any, bool]:
        """Run one invocation as the HTTP API would: (status, response body, function error)."""
        found = self._lookup(name)
        if found is None:
            return 404, {"Type": "User", "message": f"Function not found: {name}"}, False
        handler, timeout_s = found
        if invocation_type == "DryRun":
            return 204, None, False
        fault = self._next_fault(name)
        if fault is not None and fault.status is not None:
            code, message = _REFUSALS[fault.status]
            return fault.status, {"Type": code, "message": message}, False
        invocation = self._begin(name, invocation_type, payload)
        if fault is not None and fault.lose_answer:
            # Queued, then the answer is lost: the caller cannot tell it was accepted.
            threading.Thread(
                target=self._run, args=(invocation, handler, timeout_s), daemon=True
            ).start()
            return LOST_ANSWER, None, False
        if invocation_type == "Event":
            thread = threading.Thread(
                target=self._run,
                args=(invocation, handler, timeout_s),
                name=f"lambda-{name}-{invocation.request_id[:8]}",
                daemon=True,
            )
            thread.start()
            return 202, None, False
        self._run(invocation, handler, timeout_s)
        if invocation.error is not None:
            error = invocation.error
            return (
                200,
                {
                    "errorMessage": str(error),
                    "errorType": type(error).__name__,
                    "stackTrace": (invocation.traceback or "").splitlines(),
                },
                True,
            )
        return 200, invocation.result, False


LOST_ANSWER = -1  # invoke()'s status for "close the connection without an answer"


class _Server(ThreadingHTTPServer):
    # socketserver's listen backlog is 5: a redrive's burst of parallel invokes (up to 10 at
    # once, besides the worker's own calls) overflowed it, and the connections dropped before
    # their request was read looked to the caller like answers lost after the invoke (Lambda
    # itself takes far more connections than that).
    request_queue_size = 128


def _function_name(
    path: str, prefix: str = _PATH_PREFIX, suffix: str = "/invocations"
) -> str | None:
    """The bare function name in ``{prefix}{name}{suffix}`` (by default an Invoke's path)."""
    path = path.split("?", 1)[0]
    if not (path.startswith(prefix) and path.endswith(suffix)) or len(path) <= len(prefix) + len(
        suffix
    ):
        return None
    raw = urllib.parse.unquote(path[len(prefix) : -len(suffix)])
    if raw.startswith("arn:"):
        # arn:aws:lambda:region:account:function:name[:qualifier]
        parts = raw.split(":")
        return parts[6] if len(parts) > 6 else None
    return raw.split(":", 1)[0]


def _request_handler(server: LambdaServer) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self, status: int, body: Any, *, function_error: bool = False) -> None:
            if status == LOST_ANSWER:
                self.close_connection = True  # nothing written: the client sees a closed socket
                return
            data = b"" if status in (202, 204) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Amz-Executed-Version", "$LATEST")
            if status == 404:
                self.send_header("X-Amzn-ErrorType", "ResourceNotFoundException")
            elif status in _REFUSALS:
                self.send_header("X-Amzn-ErrorType", _REFUSALS[status][0])
            if function_error:
                self.send_header("X-Amz-Function-Error", "Unhandled")
            self.end_headers()
            if data:
                self.wfile.write(data)

        def do_POST(self) -> None:
            name = _function_name(self.path)
            if name is None:
                self._answer(404, {"message": f"unsupported path {self.path}"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                payload = json.loads(raw) if raw else {}
            except ValueError:
                self._answer(400, {"Type": "User", "message": "payload is not JSON"})
                return
            invocation_type = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
            status, body, function_error = server.invoke(name, invocation_type, payload)
            self._answer(status, body, function_error=function_error)

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            params = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
            if path.rstrip("/") == _PATH_PREFIX.rstrip("/"):
                self._answer(200, _list_functions(server, params))
                return
            name = _function_name(path, _PATH_PREFIX, "/configuration")
            if name is not None:
                found = server.configuration(name)
                self._found(name, found)
                return
            name = _function_name(path, _INVOKE_CONFIG_PREFIX, "/event-invoke-config/list")
            if name is not None:
                configs = server.invoke_configs(name)
                self._found(
                    name,
                    None
                    if configs is None
                    else {"FunctionEventInvokeConfigs": configs, "NextMarker": None},
                )
                return
            self._answer(404, {"message": f"unsupported path {self.path}"})

        def _found(self, name: str, body: Any) -> None:
            if body is None:
                self._answer(404, {"Type": "User", "message": f"Function not found: {name}"})
            else:
                self._answer(200, body)

    return RequestHandler


def _list_functions(server: LambdaServer, params: dict[str, str]) -> dict[str, Any]:
    """One page of ListFunctions: ``Marker`` is the index to start from (opaque to callers)."""
    names = server.function_names()
    try:
        start = int(params.get("Marker") or 0)
        size = min(int(params.get("MaxItems") or LIST_PAGE_MAX), LIST_PAGE_MAX)
    except ValueError:
        start, size = 0, LIST_PAGE_MAX
    page = names[start : start + max(size, 1)]
    functions = [c for c in (server.configuration(n) for n in page) if c is not None]
    end = start + len(page)
    return {"Functions": functions, "NextMarker": str(end) if end < len(names) else None}
