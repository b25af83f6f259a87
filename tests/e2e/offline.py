"""Run the stack under serverless-offline (`npx osls offline start`) for the end-to-end tests.

The functions run as serverless.yml declares them, with the project's venv python (offline puts
``$VIRTUAL_ENV/bin`` first on PATH), on 127.0.0.1 ports picked free just before the start. The
whole process group is ended afterwards, and the log is kept so a failure shows what happened.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.deploy.tooling import ROOT, ensure_node_modules, osls_command

STARTUP_TIMEOUT_S = 180.0
READY_LINE = "Server ready"


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it; the race window is tiny)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class OfflineStack:
    process: subprocess.Popen[bytes]
    http_port: int
    lambda_port: int
    log_path: Path
    unpack_root: Path

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/slack/events"

    @property
    def lambda_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.lambda_port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def code_dirs(self) -> list[Path]:
        """Where offline unpacked the artifact for each function it ran (one per cold start)."""
        return sorted(self.unpack_root.glob("*/*/code"))

    def wait_for_log(self, text: str, timeout: float = 30.0) -> None:
        """Block until offline's log shows ``text`` (it logs an invocation when it ends)."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared in the log" + self.log_tail())
            time.sleep(0.2)

    def log_tail(self, chars: int = 6000) -> str:
        return "\n--- serverless-offline log (tail) ---\n" + self.log()[-chars:]


def _wait_until_ready(stack: OfflineStack) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise AssertionError(
                f"serverless-offline exited with {stack.process.returncode}" + stack.log_tail()
            )
        if (
            READY_LINE in stack.log()
            and listening(stack.http_port)
            and listening(stack.lambda_port)
        ):
            return
        time.sleep(0.25)
    raise AssertionError(
        f"serverless-offline not ready after {STARTUP_TIMEOUT_S:.0f} s" + stack.log_tail()
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End offline and the python workers it spawned (its own process group, by id)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
    except ProcessLookupError:
        return


@contextmanager
def offline_stack(
    env: Mapping[str, str], params: Mapping[str, str], log_path: Path
) -> Iterator[OfflineStack]:
    """Start `npx osls offline start` with ``--param`` ``params`` and process ``env``."""
    ensure_node_modules()
    http_port, lambda_port, websocket_port, alb_port = (free_port() for _ in range(4))
    args = [
        "offline",
        "start",
        "--host",
        "127.0.0.1",
        "--httpPort",
        str(http_port),
        "--lambdaPort",
        str(lambda_port),
        "--websocketPort",
        str(websocket_port),
        "--albPort",
        str(alb_port),
        "--noTimeout",
    ]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    # serverless-offline unpacks serverless.yml's package.artifact here and runs the handlers
    # from it, as Lambda does: the tests exercise the very zip that `make package` built.
    unpack_root = ROOT / ".serverless-offline" / "services" / "dlq-redrive"
    existing = set(unpack_root.glob("*/*"))
    venv = ROOT / ".venv"
    full_env = {
        **env,
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', os.defpath)}",
        "PYTHONDONTWRITEBYTECODE": "1",
        # The functions' boto3 Lambda client (the Slack endpoint's hand-off, continuations).
        "AWS_ENDPOINT_URL_LAMBDA": f"http://127.0.0.1:{lambda_port}",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            osls_command(*args),
            cwd=ROOT,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown reaches its children
        )
    stack = OfflineStack(process, http_port, lambda_port, log_path, unpack_root)
    try:
        _wait_until_ready(stack)
        yield stack
    finally:
        _stop(process)
        # Offline leaves each unpacked artifact behind; remove the ones this run made.
        for directory in sorted(set(unpack_root.glob("*/*")) - existing):
            shutil.rmtree(directory, ignore_errors=True)
