"""Run the deployment tools the way a user does: `npm ci`, `make package`, `npx osls ...`.

Shared by tests/deploy (template and artifact) and tests/e2e (serverless-offline). Nothing here is
skipped when a tool is missing: a missing node_modules is installed with `npm ci`, exactly as
`make test` does, and a missing `npm` fails with a message saying so.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_NAME = "cloudformation-template-update-stack.json"

# A deployer's machine without any AWS credentials or profile: packaging must not need them.
NO_AWS_ENV = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")


def npm() -> str:
    path = shutil.which("npm")
    assert path, "npm is not installed: install Node.js 20+ with npm (see docs/deploy.md)"
    return path


def ensure_node_modules() -> None:
    """`npm ci` when node_modules is missing or older than package-lock.json (as `make` does)."""
    stamp = ROOT / "node_modules" / ".package-lock.json"
    lock = ROOT / "package-lock.json"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    subprocess.run(
        [npm(), "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True, capture_output=True
    )


def osls_command(*args: str) -> list[str]:
    """`npx osls ARGS` as docs/deploy.md spells it; `--no` forbids npx to fetch anything."""
    npx = shutil.which("npx")
    assert npx, "npx is not installed: install Node.js 20+ with npm (see docs/deploy.md)"
    return [npx, "--no", "osls", *args]


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without AWS credentials, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _AWS_VARIABLES}
    env.update(NO_AWS_ENV)
    env.update(extra or {})
    return env


@functools.cache
def build_artifact() -> Path:
    """`make package`: build build/dlq-redrive.zip with this venv's pip (once per test run)."""
    subprocess.run(
        [sys.executable, "-m", "infra.package"], cwd=ROOT, check=True, capture_output=True
    )
    return ROOT / "build" / "dlq-redrive.zip"


def run_osls_package(
    output: Path, *params: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`npx osls package --package OUTPUT --param ...` with no AWS credentials."""
    ensure_node_modules()
    args = ["package", "--package", str(output)]
    for param in params:
        args += ["--param", param]
    return subprocess.run(
        osls_command(*args),
        cwd=ROOT,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def osls_package(output: Path, *params: str, env: dict[str, str] | None = None) -> Path:
    """Package (which must succeed); the template's path."""
    result = run_osls_package(output, *params, env=env)
    assert result.returncode == 0, f"osls package failed:\n{result.stdout}\n{result.stderr}"
    return output / TEMPLATE_NAME


def package_refused(output: Path, *params: str) -> str:
    """Package, which must stop without writing a template; what it printed (where the
    refusal names the setting)."""
    result = run_osls_package(output, *params)
    assert result.returncode != 0, f"osls package took {params}:\n{result.stdout}"
    assert not (output / TEMPLATE_NAME).exists()
    return result.stdout + result.stderr


def load_template(path: Path) -> dict[str, Any]:
    template: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return template
