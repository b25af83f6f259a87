"""Cold start: how long each Lambda handler module takes to import in a fresh interpreter,
against the bare import of the third-party packages it uses (what no code of ours can avoid).

The third-party imports are found with ``python -X importtime``: every non-stdlib module that a
module of ours (bot.*, handlers.*) imports directly.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = ("handlers.slack", "handlers.worker", "handlers.daily")
OURS = ("bot", "handlers", "infra")
RUNS = 7

# What a handler module may read at import (configuration is validated at cold start).
HANDLER_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-bench",
    "SLACK_SIGNING_SECRET": "bench-signing-secret",
    "REPORT_CHANNEL": "C0BENCH",
    "STATE_TABLE": "dlq-redrive-bench",
    "TIMEZONE": "UTC",
    "POWERTOOLS_SERVICE_NAME": "dlq-redrive",
    "POWERTOOLS_METRICS_NAMESPACE": "dlq-redrive",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_LAMBDA_FUNCTION_NAME": "dlq-redrive-bench",
}


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **HANDLER_ENV, **extra, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _time_import(statement: str, env: dict[str, str]) -> float:
    code = (
        "import time\nstarted = time.perf_counter()\n"
        f"{statement}\nprint(time.perf_counter() - started)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr else "failed")
    return float(result.stdout.strip().splitlines()[-1])


def third_party_imports(module: str, env: dict[str, str]) -> list[str]:
    """Non-stdlib modules imported directly by our modules while importing ``module``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    entries: list[tuple[int, str]] = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        name_part = line.rsplit("|", 1)[1]
        if name_part.strip() == "imported package":
            continue
        # "import time: self | cumulative | " then two spaces per nesting level, then the name
        depth = (len(name_part) - len(name_part.lstrip(" ")) - 1) // 2
        entries.append((depth, name_part.strip()))
    # importtime prints a module after everything it imported: walk backwards to find parents.
    ancestors: list[str] = []
    found: list[str] = []
    for depth, name in reversed(entries):
        del ancestors[depth:]
        parent = ancestors[-1] if ancestors else None
        ancestors.append(name)
        top = name.split(".")[0]
        ours = top in OURS
        stdlib = top in sys.stdlib_module_names or top.startswith("_")
        if not ours and not stdlib and parent is not None and parent.split(".")[0] in OURS:
            found.append(name)
    found.reverse()
    return list(dict.fromkeys(found))


def measure(module: str, aws_env: dict[str, str]) -> dict[str, Any]:
    """Median fresh-interpreter import times of ``module`` and of its third-party imports."""
    parent = module.rsplit(".", 1)[0]
    spec = None
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        return {"module": module, "status": f"not available yet (no {module} in {parent}/)"}
    env = _env(aws_env)
    try:
        deps = third_party_imports(module, env)
        statement = "\n".join(f"import {name}" for name in deps) or "pass"
        handler = [_time_import(f"import {module}", env) for _ in range(RUNS)]
        bare = [_time_import(statement, env) for _ in range(RUNS)]
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        return {"module": module, "status": f"import failed: {exc}"}
    handler_ms = statistics.median(handler) * 1000
    bare_ms = statistics.median(bare) * 1000
    return {
        "module": module,
        "status": "measured",
        "import_ms": round(handler_ms, 1),
        "third_party_ms": round(bare_ms, 1),
        "ratio": round(handler_ms / bare_ms, 3) if bare_ms else None,
        "third_party": deps,
        "runs": RUNS,
    }
