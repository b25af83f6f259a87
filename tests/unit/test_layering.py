"""The layout rules of docs/architecture.md that code can check: the pure modules load without the
AWS SDK, and no module of bot/ depends on itself through others."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The pure core: planning, selection, the engine's loop and the daily figures take plain data and
# gateways passed in, so none of them may load boto3 (or botocore) to get a type.
PURE_MODULES = [
    "bot.sqs_model",
    "bot.planner",
    "bot.selection",
    "bot.inspection",
    "bot.catalog",
    "bot.engine",
    "bot.redrive_model",
    "bot.held",
    "bot.pacing",
    "bot.daily.figures",
    "bot.daily.scan",
    # The daily report's data, rendering, posting, run rules and on-failure records: the parts
    # that touch AWS (inspector, auto_redrive, continuing) take gateways.
    "bot.daily.window",
    "bot.daily.events",
    "bot.daily.report",
    "bot.daily.blocks",
    "bot.daily.posting",
    "bot.daily.report_updates",
    "bot.daily.once",
    "bot.daily.failures",
    # The stores of the state table take a StateTableApi: boto3 stays in bot/state_table.py.
    "bot.state_table_api",
    "bot.daily.snapshots",
    "bot.daily.lease",
    "bot.redrive_ledger",
    # The other gateways' interfaces: what the rules take, without the SDKs behind them.
    "bot.lambda_api",
    "bot.slack.web_api",
    # The composition root: each builder imports what it builds, so every handler can import it.
    "bot.composition",
]

# Run in a fresh interpreter: an import finder that refuses the AWS SDK, then the module.
_PROBE = """
import importlib.abc, sys

class RefuseAwsSdk(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("boto3", "botocore"):
            raise ImportError(f"{name} imported")
        return None

sys.meta_path.insert(0, RefuseAwsSdk())
import importlib
importlib.import_module(sys.argv[1])
"""


@pytest.mark.parametrize("module", PURE_MODULES)
def test_a_pure_module_loads_without_boto3(module: str) -> None:
    # Given an interpreter in which importing boto3 or botocore fails
    # When the pure module is imported
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, module],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    # Then it loads: nothing it imports reaches for the AWS SDK
    assert done.returncode == 0, done.stderr


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Each module of bot/ and the modules of bot/ it imports: every import statement, at the top,
    inside functions (lazy) or under TYPE_CHECKING, since each is a dependency all the same."""
    modules = {_module_name(path): path for path in (ROOT / "bot").rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    found.add(submodule if submodule in modules else node.module)
        graph[name] = {target for target in found if target in modules and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = [stack.pop()]
            while component[-1] != module:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_import_graph_sees_a_cycle() -> None:
    # Given three modules that import each other in a ring, and one outside it
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    # Then the ring is found, and only it
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_module_of_bot_imports_itself_through_others() -> None:
    # Given every import of every module in bot/
    graph = import_graph()
    assert "bot.cli" in graph and "bot.engine" in graph["bot.cli"]  # the graph sees imports
    # Then no group of modules imports each other in a ring
    assert cycles(graph) == []
