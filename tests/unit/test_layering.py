"""The layout rules of docs/architecture.md that code can check: the pure modules load without the
AWS SDK, and no module of bot/ depends on itself through others."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The modules that may load the AWS SDK, each for a reason; EVERY other module of bot/ (the pure
# core, the plain data, the Protocols, the worker's and the daily job's rules, the composition
# root) must load without it, so a new module is held to the rule without being listed.
LOADS_THE_SDK = {
    # The gateways: the only modules that call AWS (and the error wording they share).
    "bot.sqs_gateway": "the SQS gateway",
    "bot.sqs_move_tasks": "the SQS gateway's move tasks (CLI only)",
    "bot.lambda_gateway": "the Lambda gateway",
    "bot.sns_gateway": "the SNS gateway (subscriptions that dead-letter, publish)",
    "bot.events_gateway": "the EventBridge gateway (rule targets that dead-letter)",
    "bot.state_table": "the state table gateway",
    "bot.s3_gateway": "the S3 gateway (archives)",
    "bot.aws_errors": "how every gateway words an AWS error",
    "bot.aws_clients": "how every gateway makes its clients (retries, timeouts)",
    # Edges that make or use a gateway at run time.
    "bot.cli": "the CLI says the SDK's configuration errors in one line",
    "bot.cli_context": "the CLI's context makes the SQS gateway and move tasks",
    "bot.slack.dispatch": "the endpoint's transport to the worker is the Lambda gateway",
    "bot.slack.app": "through bot.slack.dispatch (loaded at init, not on the first request)",
    "bot.slack.runtime": "through bot.slack.app",
    "bot.slack.worker_runtime": "wires the worker's parts to the real gateways",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def bot_modules() -> list[str]:
    return sorted(_module_name(path) for path in (ROOT / "bot").rglob("*.py"))


PURE_MODULES = [module for module in bot_modules() if module not in LOADS_THE_SDK]

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
    assert "bot.cli" in graph and "bot.cli_run" in graph["bot.cli"]  # the graph sees imports
    # Then no group of modules imports each other in a ring
    assert cycles(graph) == []


def test_every_module_allowed_the_sdk_exists() -> None:
    # Given the modules allowed to load the AWS SDK
    # Then each still exists: a renamed module is not excused by a stale name
    assert set(LOADS_THE_SDK) - set(bot_modules()) == set()


# Who may import an SDK that talks to a service (SQS, Lambda, DynamoDB, Slack): the gateways, the
# composition root that makes their clients, and Bolt's endpoint. Everything else takes a gateway.
SDK_CLIENTS = ("boto3", "botocore.config", "slack_sdk", "slack_bolt")
MAY_USE_SDK_CLIENTS = {
    "bot.aws_clients",  # makes every gateway's boto3 clients
    "bot.sqs_gateway",
    "bot.lambda_gateway",
    "bot.state_table",
    "bot.s3_gateway",
    "bot.slack.web",  # the Slack gateway
    "bot.composition",  # makes the clients and hands them to the gateways
    "bot.slack.app",  # Bolt's App (it verifies and acks; the client is injected)
    "bot.slack.runtime",  # Bolt's Lambda adapter
}
# botocore's exceptions, to catch and word what a gateway let through: only these (and the
# gateways that make their clients through bot.aws_clients).
MAY_CATCH_SDK_ERRORS = MAY_USE_SDK_CLIENTS | {
    "bot.sqs_move_tasks",
    "bot.aws_errors",
    "bot.cli",
    "bot.sns_gateway",
    "bot.events_gateway",
}


def sdk_imports(path: Path) -> set[str]:
    """The SDK modules ``path`` imports anywhere (top level, in functions, under TYPE_CHECKING
    too: mypy_boto3's stubs are types only, so they are not counted)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        found.update(
            name
            for name in names
            if name.split(".")[0] in ("boto3", "botocore", "slack_sdk", "slack_bolt")
        )
    return found


def test_only_the_gateways_talk_to_aws_and_slack() -> None:
    # Given every import of an SDK in bot/
    clients: dict[str, set[str]] = {}
    errors: dict[str, set[str]] = {}
    for path in (ROOT / "bot").rglob("*.py"):
        for name in sdk_imports(path):
            uses_client = name.startswith(SDK_CLIENTS)
            kept = clients if uses_client else errors
            kept.setdefault(_module_name(path), set()).add(name)
    assert "bot.aws_clients" in clients and "bot.lambda_gateway" in clients  # the scan sees imports
    # Then only a gateway, the composition root or Bolt's endpoint reaches for a client
    assert {m: n for m, n in clients.items() if m not in MAY_USE_SDK_CLIENTS} == {}
    # and only the listed edges catch botocore's errors
    assert {m: n for m, n in errors.items() if m not in MAY_CATCH_SDK_ERRORS} == {}


MAX_CLASS_LINES = 200


def test_no_class_in_bot_is_over_200_lines() -> None:
    # Given every class of bot/, nested ones too
    sizes: dict[str, int] = {}
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                sizes[f"{_module_name(path)}.{node.name}"] = node.end_lineno - node.lineno + 1
    assert "bot.sqs_gateway.SqsGateway" in sizes  # the scan sees classes
    # Then none is longer than a newcomer can read at once
    assert {name: n for name, n in sizes.items() if n > MAX_CLASS_LINES} == {}


MAX_HANDLER_LINES = 15


def test_every_handler_is_at_most_15_lines() -> None:
    # Given the Lambda handlers (each builds its function through bot.composition)
    handlers = {
        path.name: len(path.read_text(encoding="utf-8").splitlines())
        for path in (ROOT / "handlers").glob("*.py")
        if path.name != "__init__.py"
    }
    assert "slack.py" in handlers and "worker.py" in handlers
    # Then each is a thin entry point
    assert {name: n for name, n in handlers.items() if n > MAX_HANDLER_LINES} == {}


def test_every_module_and_file_docs_architecture_names_exists() -> None:
    # Given the modules (`bot.x`, `bot.x.Name`, `bot.x.func`) and files (`handlers/x.py`,
    # `tests/...`) docs/architecture.md names in backticks
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    cited = re.findall(r"`([^`\s]+)`", page)
    modules = set(bot_modules())
    dotted = [name for name in cited if name.startswith("bot.")]
    files = [name for name in cited if "/" in name and name.endswith(".py")]
    assert "bot.slack.approvals" in dotted and "handlers/slack.py" in files  # the scan sees them
    # Then each dotted name is a module, or a module and a name defined in it
    missing = []
    for name in dotted:
        parts = name.split(".")
        module = next(
            (
                ".".join(parts[:n])
                for n in range(len(parts), 0, -1)
                if ".".join(parts[:n]) in modules
            ),
            None,
        )
        if name.endswith("*"):  # a family of modules: bot.engine_*
            module = name if any(m.startswith(name[:-1]) for m in modules) else None
        elif module is not None and module != name:
            attr = parts[len(module.split(".")) :]
            path = ROOT / (module.replace(".", "/") + ".py")
            if not path.exists():
                path = ROOT / module.replace(".", "/") / "__init__.py"
            defined = {
                node.name
                for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                if isinstance(node, ast.FunctionDef | ast.ClassDef)
            }
            module = module if set(attr) <= defined else None
        if module is None:
            missing.append(name)
    # and each file exists
    missing += [name for name in files if not (ROOT / name).exists()]
    assert missing == []
