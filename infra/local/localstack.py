"""Run LocalStack's SQS on 127.0.0.1 without Docker, for the benchmarks and the native move tasks.

moto rescans the whole queue on every call, so it cannot measure throughput; LocalStack answers in a
flat few milliseconds whatever the depth, and implements StartMessageMoveTask. ``localstack-core``
needs Python 3.13, so it lives in its own virtual environment (created on first use under
``bench/.work/``, gitignored), with the pins that make it import on this machine.

    with localstack() as ls:     # starts the server on an ephemeral port, stops it at the end
        env = ls.env             # AWS_ENDPOINT_URL + dummy credentials for boto3

``python -m infra.local.localstack`` creates the venv and starts a server until Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from infra.local.moto_server import DUMMY_AWS_ENV

ROOT = Path(__file__).resolve().parents[2]
WORK_DIR = ROOT / "bench" / ".work"
VENV_DIR = WORK_DIR / "localstack-venv"
# The versions measured to work here (shared/FACTS.md): newer cbor2, cryptography and pyopenssl
# break localstack-core 2026.3's imports.
PACKAGES = (
    "localstack-core[runtime]==2026.3.0",
    "cbor2<6",
    "cryptography<45",
    "pyopenssl<25",
    "service_identity",
)


class LocalStackError(RuntimeError):
    """LocalStack could not be installed or started; the message says what to do."""


def find_python313() -> str:
    """A Python 3.13 interpreter: $LOCALSTACK_PYTHON, pyenv's 3.13.x, or python3.13 on PATH."""
    explicit = os.environ.get("LOCALSTACK_PYTHON")
    if explicit:
        return explicit
    candidates: list[Path] = []
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    versions = Path(pyenv_root) / "versions"
    if versions.is_dir():
        candidates += sorted(versions.glob("3.13*/bin/python"), reverse=True)
    on_path = shutil.which("python3.13")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    raise LocalStackError(
        "LocalStack needs Python 3.13: install it (e.g. `pyenv install 3.13`) or set "
        "LOCALSTACK_PYTHON to its interpreter"
    )


def venv_python() -> Path:
    return VENV_DIR / "bin" / "python"


def ensure_venv(log: object = sys.stderr) -> Path:
    """Create the LocalStack venv on first use (a few minutes, once); return its python."""
    python = venv_python()
    marker = VENV_DIR / ".installed"
    if python.exists() and marker.exists():
        return python
    print(f"creating the LocalStack venv in {VENV_DIR} (first run only)...", file=log)  # type: ignore[call-overload]
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run([find_python313(), "-m", "venv", str(VENV_DIR)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    with (WORK_DIR / "localstack-pip.log").open("wb") as pip_log:
        subprocess.run(
            [str(python), "-m", "pip", "install", *PACKAGES],
            check=True,
            stdout=pip_log,
            stderr=subprocess.STDOUT,
        )
    marker.write_text("\n".join(PACKAGES) + "\n")
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalStack:
    """A running LocalStack; ``env`` points boto3 at it."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path
        self.endpoint = f"http://127.0.0.1:{port}"
        self.env = {**DUMMY_AWS_ENV, "AWS_ENDPOINT_URL": self.endpoint}

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"{self.endpoint}/_localstack/health", timeout=2
            ) as response:
                return bool(response.status == 200 and b'"sqs"' in response.read())
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            # Its own process group: the runtime starts helpers that must go with it.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


@contextmanager
def localstack(*, startup_timeout: float = 90.0, services: str = "sqs") -> Iterator[LocalStack]:
    """Start LocalStack on an ephemeral 127.0.0.1 port; stop it afterwards. ``services``: its
    SERVICES (SQS only by default; issue 13's drill adds ``sns,events``, which dead-letter here)."""
    python = ensure_venv()
    port = free_port()
    volume = Path(tempfile.mkdtemp(prefix="localstack-", dir=WORK_DIR))
    log_path = volume / "localstack.log"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(volume)),
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "SERVICES": services,
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DISABLE_EVENTS": "1",
        "LOCALSTACK_VOLUME_DIR": str(volume),
        # Queue URLs on the port actually bound, so boto3's QueueUrl calls come back to us.
        "LOCALSTACK_HOST": f"127.0.0.1:{port}",
        "SQS_ENDPOINT_STRATEGY": "path",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(python), "-m", "localstack.runtime.main"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LocalStack(process, port, log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.healthy():
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise LocalStackError(f"LocalStack did not start; its log ends with:\n{tail}")
            time.sleep(0.2)
        yield server
    finally:
        server.stop()
        shutil.rmtree(volume, ignore_errors=True)


def main() -> int:
    with localstack() as server:
        print(f"LocalStack SQS on {server.endpoint} (Ctrl-C to stop)")
        for key, value in server.env.items():
            print(f"export {key}={value}")
        with suppress(KeyboardInterrupt):
            server.process.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
