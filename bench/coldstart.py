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
RUNS = 15

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


def import_tree(module: str, env: dict[str, str]) -> dict[str, Any]:
    """From ``python -X importtime``: the non-stdlib modules our modules (bot.*, handlers.*)
    import directly, and where the rest of the time goes (our own code, the stdlib we pull in)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    entries: list[tuple[int, str, int, int]] = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        own, cumulative, name_part = line.removeprefix("import time:").split("|")
        if name_part.strip() == "imported package":
            continue
        # two spaces per nesting level after the column separator's own space
        depth = (len(name_part) - len(name_part.lstrip(" ")) - 1) // 2
        entries.append((depth, name_part.strip(), int(own), int(cumulative)))
    # importtime prints a module after everything it imported: walk backwards to find parents.
    ancestors: list[str] = []
    third_party: list[str] = []
    ours_self_us = 0
    stdlib_us: dict[str, int] = {}
    for depth, name, own, cumulative in reversed(entries):
        del ancestors[depth:]
        parent = ancestors[-1] if ancestors else None
        ancestors.append(name)
        top = name.split(".")[0]
        if top in OURS:
            ours_self_us += own
            continue
        if parent is None or parent.split(".")[0] not in OURS:
            continue
        if top in sys.stdlib_module_names or top.startswith("_"):
            stdlib_us[name] = cumulative
        else:
            third_party.append(name)
    third_party.reverse()
    heaviest = sorted(stdlib_us.items(), key=lambda item: -item[1])[:5]
    return {
        "third_party": list(dict.fromkeys(third_party)),
        "ours_self_ms": round(ours_self_us / 1000, 1),
        "stdlib_pulled_in_ms": round(sum(stdlib_us.values()) / 1000, 1),
        "heaviest_stdlib_ms": {name: round(us / 1000, 1) for name, us in heaviest},
    }


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
        tree = import_tree(module, env)
        deps = tree["third_party"]
        statement = "\n".join(f"import {name}" for name in deps) or "pass"
        # Alternate the two so drift on a shared machine (another process starting or ending)
        # falls on both sides alike instead of on whichever block ran during it.
        handler: list[float] = []
        bare: list[float] = []
        for _ in range(RUNS):
            handler.append(_time_import(f"import {module}", env))
            bare.append(_time_import(statement, env))
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
        "runs": RUNS,
        **tree,
    }
