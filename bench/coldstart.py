"""Cold start: how long each Lambda handler module takes to import in a fresh interpreter,
against the bare import of the third-party packages it uses (what no code of ours can avoid).

Measured twice: in the development venv (Python 3.11, this checkout), and on what Lambda runs,
the deployment artifact (``infra/package.py``: Lambda's wheels, Python 3.12 byte-code) unpacked
and imported by a Python 3.12 started with ``-I -S``, the way Lambda imports from ``/var/task``.

The third-party imports are found with ``python -X importtime``: every non-stdlib module that a
module of ours (bot.*, handlers.*) imports directly.

Two things about CPython decide how this is measured:

- It gives frames 16 KiB stack chunks. A deep recursion (a regex compile inside urllib3, for one)
  that straddles a chunk's end maps and unmaps a chunk on every call: importing the worker at
  one starting depth made 3,414 ``mmap`` calls, one frame deeper 747 (``strace -c``), and took
  20 ms longer for it. Where that falls depends only on how deep the import starts, so every
  import here runs at starting depths 0 to ``DEPTHS - 1`` in turn and the figure is the median.
- The handler and the bare import alternate, so drift on a shared machine falls on both.

``breakdown`` says where our part goes: the handler imported after its third-party imports, in
one interpreter, with the time ``@dataclass`` spends generating methods timed apart.

    .venv/bin/python -m bench.coldstart     # just this part of `make bench` (about 2 minutes)
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK_DIR = ROOT / "bench" / ".work"
HANDLERS = ("handlers.slack", "handlers.worker", "handlers.daily", "handlers.failed")
OURS = ("bot", "handlers", "infra")
RUNS = 20  # per side: 4 at each of DEPTHS starting depths
DEPTHS = 5
BREAKDOWN_RUNS = 5
TARGET = 1.15

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

# Run in a throwaway interpreter after the third-party imports: times our part, and the part of
# it that @dataclass spends writing and compiling each class's methods.
_BREAKDOWN = """
import dataclasses, json, sys, time
{deps}
before = set(sys.modules)
spent = [0.0]
process_class = dataclasses._process_class
def timed(*args, **kwargs):
    started = time.perf_counter()
    try:
        return process_class(*args, **kwargs)
    finally:
        spent[0] += time.perf_counter() - started
dataclasses._process_class = timed
started = time.perf_counter()
import {module}
took = time.perf_counter() - started
loaded = sorted(set(sys.modules) - before)
print(json.dumps({{
    "ours_ms": took * 1000,
    "dataclass_ms": spent[0] * 1000,
    "dataclasses": sum(1 for name in loaded for value in vars(sys.modules[name]).values()
                       if isinstance(value, type) and dataclasses.is_dataclass(value)
                       and value.__module__ == name),
    "modules": loaded,
}}))
"""


@dataclass(frozen=True)
class Interpreter:
    """A Python to import with, and where it finds our code (first on ``sys.path``)."""

    label: str
    command: tuple[str, ...]
    code_root: Path
    env: dict[str, str] = field(repr=False)

    def argv(self, body: str, *options: str) -> list[str]:
        program = f"import sys\nsys.path.insert(0, {str(self.code_root)!r})\n{body}"
        return [*self.command, *options, "-c", program]

    def run(self, body: str) -> str:
        result = subprocess.run(
            self.argv(body),
            env=self.env,
            cwd=self.code_root,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                result.stderr.strip().splitlines()[-1] if result.stderr else "failed"
            )
        return result.stdout.strip().splitlines()[-1]


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **HANDLER_ENV, **extra}  # our code: first on sys.path (Interpreter)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def development(aws_env: dict[str, str]) -> Interpreter:
    return Interpreter(
        label=f"dev venv, Python {sys.version_info.major}.{sys.version_info.minor}",
        command=(sys.executable,),
        code_root=ROOT,
        env=_env(aws_env),
    )


def lambda_artifact(aws_env: dict[str, str]) -> Interpreter | str:
    """The deployment artifact, freshly built and unpacked, under Lambda's Python (or why not)."""
    from infra import package

    python = package.lambda_python()
    if python is None:
        return f"no Python {package.LAMBDA_PYTHON} here (pyenv install {package.LAMBDA_PYTHON})"
    unpacked = WORK_DIR / "artifact"
    archive = package.build(WORK_DIR / "dlq-redrive.zip", python=python)
    shutil.rmtree(unpacked, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(unpacked)
    env = {**HANDLER_ENV, **aws_env, "PATH": os.environ.get("PATH", "")}
    return Interpreter(
        label=f"Lambda artifact, Python {package.LAMBDA_PYTHON} -I -S",
        command=(python, "-I", "-S"),
        code_root=unpacked,
        env=env,
    )


def _timed_at_depth(statement: str, depth: int) -> str:
    """A program printing how long ``statement`` takes, run ``depth`` calls below the top."""
    lines = ["import time", "def level_0():", textwrap.indent(statement, "    ")]
    for level in range(1, depth + 1):
        lines += [f"def level_{level}():", f"    level_{level - 1}()"]
    lines += ["started = time.perf_counter()", f"level_{depth}()"]
    lines += ["print(time.perf_counter() - started)"]
    return "\n".join(lines)


def import_tree(module: str, interpreter: Interpreter) -> list[str]:
    """From ``python -X importtime``: the non-stdlib modules our modules import directly."""
    result = subprocess.run(
        interpreter.argv(f"import {module}", "-X", "importtime"),
        env=interpreter.env,
        cwd=interpreter.code_root,
        capture_output=True,
        text=True,
        check=True,
    )
    entries: list[tuple[int, str]] = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        name_part = line.split("|")[2]
        if name_part.strip() == "imported package":
            continue
        # two spaces per nesting level after the column separator's own space
        entries.append(((len(name_part) - len(name_part.lstrip(" ")) - 1) // 2, name_part.strip()))
    # importtime prints a module after everything it imported: walk backwards to find parents.
    ancestors: list[str] = []
    third_party: list[str] = []
    for depth, name in reversed(entries):
        del ancestors[depth:]
        parent = ancestors[-1] if ancestors else None
        ancestors.append(name)
        top = name.split(".")[0]
        if top in OURS or parent is None or parent.split(".")[0] not in OURS:
            continue
        if top not in sys.stdlib_module_names and not top.startswith("_"):
            third_party.append(name)
    third_party.reverse()
    return list(dict.fromkeys(third_party))


def breakdown(module: str, deps: list[str], interpreter: Interpreter) -> dict[str, Any]:
    """Our part of the import (after the third-party imports), and @dataclass's share of it."""
    body = _BREAKDOWN.format(deps="\n".join(f"import {name}" for name in deps), module=module)
    runs = [json.loads(interpreter.run(body)) for _ in range(BREAKDOWN_RUNS)]
    ours = [name for name in runs[0]["modules"] if name.split(".")[0] in OURS]
    stdlib = [
        name
        for name in runs[0]["modules"]
        if name.split(".")[0] in sys.stdlib_module_names and "." not in name
    ]
    return {
        "ours_ms": round(statistics.median(run["ours_ms"] for run in runs), 1),
        "dataclass_ms": round(statistics.median(run["dataclass_ms"] for run in runs), 1),
        "dataclasses": runs[0]["dataclasses"],
        "our_modules": len(ours),
        "stdlib_only_we_import": stdlib,
    }


def measure(module: str, interpreter: Interpreter) -> dict[str, Any]:
    """Median fresh-interpreter import times of ``module`` and of its third-party imports."""
    if importlib.util.find_spec(module) is None:
        return {"module": module, "status": f"not available (no {module} here)"}
    try:
        deps = import_tree(module, interpreter)
        bare_statement = "\n".join(f"import {name}" for name in deps) or "pass"
        handler: dict[int, list[float]] = {depth: [] for depth in range(DEPTHS)}
        bare: dict[int, list[float]] = {depth: [] for depth in range(DEPTHS)}
        for run in range(RUNS):
            depth = run % DEPTHS
            handler[depth].append(
                float(interpreter.run(_timed_at_depth(f"import {module}", depth)))
            )
            bare[depth].append(float(interpreter.run(_timed_at_depth(bare_statement, depth))))
        parts = breakdown(module, deps, interpreter)
    except (RuntimeError, subprocess.CalledProcessError, ValueError) as exc:
        return {"module": module, "status": f"import failed: {exc}"}
    handler_ms = statistics.median(t for times in handler.values() for t in times) * 1000
    bare_ms = statistics.median(t for times in bare.values() for t in times) * 1000
    return {
        "module": module,
        "interpreter": interpreter.label,
        "status": "measured",
        "import_ms": round(handler_ms, 1),
        "third_party_ms": round(bare_ms, 1),
        "ratio": round(handler_ms / bare_ms, 3) if bare_ms else None,
        "ratio_by_depth": {
            depth: round(statistics.median(handler[depth]) / statistics.median(bare[depth]), 3)
            for depth in range(DEPTHS)
        },
        "runs": RUNS,
        "third_party": deps,
        **parts,
    }


def measure_all(aws_env: dict[str, str]) -> list[dict[str, Any]]:
    """Every handler, in the development venv and as deployed."""
    interpreters: list[Interpreter] = [development(aws_env)]
    artifact = lambda_artifact(aws_env)
    results: list[dict[str, Any]] = []
    if isinstance(artifact, Interpreter):
        interpreters.append(artifact)
    else:
        results.append({"module": "Lambda artifact", "status": artifact})
    for interpreter in interpreters:
        results += [measure(module, interpreter) for module in HANDLERS]
    return results


def rows(results: list[dict[str, Any]]) -> list[tuple[str, str, str, bool | None]]:
    """(figure, value, target, met) for ``make bench``'s table."""
    table: list[tuple[str, str, str, bool | None]] = []
    for item in results:
        if item["status"] != "measured":
            table.append((f"cold import {item['module']}", item["status"], f"<= {TARGET}x", None))
            continue
        where = item["interpreter"]
        table.append(
            (
                f"cold import {item['module']} vs its deps ({where})",
                f"{item['import_ms']} / {item['third_party_ms']} ms = {item['ratio']}x",
                f"<= {TARGET}x",
                item["ratio"] <= TARGET,
            )
        )
        table.append(
            (
                "  ours after the deps; of it, @dataclass",
                f"{item['ours_ms']} ms; {item['dataclass_ms']} ms ({item['dataclasses']} classes)",
                "",
                None,
            )
        )
    return table


def main() -> int:
    results = measure_all({"AWS_DEFAULT_REGION": "us-east-1"})
    print(json.dumps(results, indent=2))
    for figure, value, target, met in rows(results):
        mark = "" if met is None else ("  met" if met else "  MISSED")
        print(f"{figure:<70} {value:<40} {target}{mark}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
