"""Least privilege, as deployed (issue 11, part 2): each rule checked on the packaged template.

Given serverless.yml packaged offline (conftest: the default stage, a narrowed one, one that lists
its DLQs), each role is read as CloudFormation deploys it (conditions decided) and checked against
what its function's code does: the code is read too (its imports followed from each handler), so a
right cannot be dropped while the code still needs it, nor kept after the code stopped using it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.slack.protocol import JOB_TTL_S
from tests.deploy.conftest import REQUIRED_PARAMS
from tests.deploy.test_template import (
    HANDLERS,
    SUB_PREFIX,
    Template,
    as_list,
    function,
    granted,
    resources,
    role_of,
    statements,
    sub,
)
from tests.deploy.tooling import ROOT, run_osls_package

QUEUE_ARN = f"{SUB_PREFIX}:sqs:${{AWS::Region}}:${{AWS::AccountId}}:"


def iam_glob_matches(pattern: str, name: str) -> bool:
    """IAM's resource matching. IAM User Guide, "IAM JSON policy elements: Resource": "You can use
    wildcard characters (* and ?) within the individual segments of an ARN ... to represent: Any
    combination of characters (*), Any single character (?)"; nothing else is special (no [ranges]
    as in fnmatch), and letters match case-sensitively (SQS queue names are case-sensitive)."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, name, flags=re.DOTALL) is not None


def queue_patterns(role: dict[str, Any], action: str) -> list[str]:
    """The queue-name globs of the role's ``action`` (its resources, the ARN prefix removed)."""
    found = []
    for resource in granted(role, action):
        text = sub(resource)
        assert text.startswith(QUEUE_ARN), text
        found.append(text.removeprefix(QUEUE_ARN))
    return found


def reaches(patterns: list[str], name: str) -> bool:
    return any(iam_glob_matches(pattern, name) for pattern in patterns)


# --- 1. which queues --------------------------------------------------------------------------

# Queue names a stage that discovers its DLQs (DLQ_QUEUES "*") may meet, and whether the worker
# and the daily job may receive from and delete in each: DLQs end in a DLQ suffix, either case,
# "-" or "_", with or without ".fifo"; a working queue named after its DLQ never matches.
DLQ_NAME_TABLE = [
    ("orders-dlq", True),
    ("orders-dlq.fifo", True),
    ("orders-DLQ", True),
    ("orders-DLQ.fifo", True),
    ("orders_dlq", True),
    ("orders_DLQ.fifo", True),
    ("orders-processor-dlq", True),
    ("orders-dlq-processor", False),
    ("orders-dlq-processor.fifo", False),
    ("orders-dlq.fifo-consumer", False),
    ("orders", False),
    ("orders.fifo", False),
    ("orders-dlqueue", False),
    ("dlq-orders", False),
    ("orders-Dlq", False),  # IAM matches case-sensitively: name such a DLQ in dlqNamePatterns
    ("ordersdlq", False),
]


def test_the_iam_glob_matcher_follows_iam_not_fnmatch() -> None:
    assert iam_glob_matches("*-dlq*", "orders-dlq-processor")  # the old default's flaw
    assert iam_glob_matches("orders-?lq", "orders-dlq")
    assert not iam_glob_matches("orders-[d]lq", "orders-dlq")  # brackets are plain characters
    assert not iam_glob_matches("*-dlq", "orders-DLQ")  # case-sensitive


@pytest.mark.parametrize(("name", "is_dlq"), DLQ_NAME_TABLE)
def test_by_default_dlq_rights_reach_names_ending_like_a_dlq_and_no_working_queue(
    template: Template, name: str, is_dlq: bool
) -> None:
    # Given the default stage (DLQ_QUEUES "*", no dlqNamePatterns)
    for handler in ("handlers/worker.handler", "handlers/daily.handler"):
        _, role = role_of(template, handler)
        # Then receiving reaches exactly the DLQ-shaped names
        assert reaches(queue_patterns(role, "sqs:ReceiveMessage"), name) is is_dlq, handler
    # And the worker may delete from exactly those
    _, worker = role_of(template, "handlers/worker.handler")
    assert reaches(queue_patterns(worker, "sqs:DeleteMessage"), name) is is_dlq


def test_a_stage_that_lists_its_dlqs_may_drain_those_and_no_other(
    listed_template: Template,
) -> None:
    # Given DLQ_QUEUES = a name, a queue URL and an ARN (conftest.LISTED_PARAMS)
    _, worker = role_of(listed_template, "handlers/worker.handler")
    # Then the DLQ rights name exactly those queues: the name in the stack's own account and
    # region, the URL's and the ARN's in theirs (by name alone, a DLQ of another account would
    # have given rights on a same-named queue of this one)
    listed = f"{SUB_PREFIX}:sqs:eu-west-1:111122223333:"
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"):
        assert [sub(r) for r in granted(worker, action)] == [
            f"{QUEUE_ARN}orders-dlq",
            f"{listed}payments-dlq.fifo",
            f"{listed}Billing_Retry",
        ], action
    assert not any(
        iam_glob_matches(sub(r), f"{QUEUE_ARN}orders-dlq-processor")
        for r in granted(worker, "sqs:ReceiveMessage")
    )


def test_sources_are_exactly_the_named_ones(template: Template) -> None:
    # Given sourceNamePatterns=orders,payments.fifo (a required parameter)
    for handler in ("handlers/worker.handler",):
        _, role = role_of(template, handler)
        sources = queue_patterns(role, "sqs:SendMessage")
        # Then only those take messages: no other queue, no DLQ
        assert sources == ["orders", "payments.fifo"]
        assert not reaches(sources, "orders-dlq")
        assert not reaches(sources, "audit")


MESSAGE_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:SendMessage",
    "sqs:ListDeadLetterSourceQueues",
)


@pytest.mark.parametrize("handler", ["handlers/worker.handler", "handlers/daily.handler"])
def test_every_queue_s_metadata_is_readable_but_messages_only_where_named(
    template: Template, narrowed_template: Template, handler: str
) -> None:
    for stack in (template, narrowed_template):
        _, role = role_of(stack, handler)
        # Finding the DLQs reads every queue's RedrivePolicy, and a DLQ is shown with all its
        # sources (bot/catalog.py): attributes of any queue in this account and region
        for action in ("sqs:GetQueueAttributes", "sqs:GetQueueUrl"):
            assert queue_patterns(role, action) == ["*"], action
        # But no message of a queue outside the DLQ and source patterns
        for action in MESSAGE_ACTIONS:
            patterns = queue_patterns(role, action)
            assert not [p for p in patterns if re.fullmatch(r"[*?]+", p)], (action, patterns)


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("sourceNamePatterns=*", 'sourceNamePatterns "*" would match every queue'),
        ("sourceNamePatterns=orders, ?*", 'sourceNamePatterns "?*" would match every queue'),
        ("dlqNamePatterns=**", 'dlqNamePatterns "**" would match every queue'),
        ("slackReservedConcurrency=0", "slackReservedConcurrency must be a whole number"),
        # Or beyond what it names (issue 11: a working queue named after its DLQ, the signing
        # secret's parameter)
        ("dlqQueues=*-dlq*", 'dlqQueues "*-dlq*" lists something that is not a queue name'),
        ("dlqNamePatterns=orders*", 'dlqNamePatterns "orders*" ends in a wildcard'),
        ("sourceNamePatterns=orders*", '("orders*" with "*-dlq")'),
        ("slackBotTokenParam=/dlq-redrive/dev/*", "is not an SSM parameter name"),
    ],
)
def test_packaging_refuses_a_setting_that_would_reach_beyond_what_it_names(
    tmp_path: Path, artifact: Path, param: str, message: str
) -> None:
    # Given a deployer who widens a setting (or disables the endpoint)
    name = param.split("=", 1)[0]
    params = [p for p in REQUIRED_PARAMS if not p.startswith(f"{name}=")]
    result = run_osls_package(tmp_path, *params, param)
    # Then packaging stops and says which setting and why
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (tmp_path / "cloudformation-template-update-stack.json").exists()


# --- 2. only the rights each function uses ----------------------------------------------------

MOVE_TASK_CALLS = {
    "start_message_move_task",
    "list_message_move_tasks",
    "cancel_message_move_task",
    "start_move_task",
    "list_move_tasks",
    "cancel_move_task",
}
MOVE_TASK_ACTIONS = {
    "sqs:StartMessageMoveTask",
    "sqs:ListMessageMoveTasks",
    "sqs:CancelMessageMoveTask",
}


def module_file(name: str) -> Path | None:
    """The file of a module of this project (bot/…, handlers/…), or None for anything else."""
    if not name.startswith(("bot", "handlers")):
        return None
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _type_checking_only(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _definitions(tree: ast.Module) -> dict[str, ast.stmt]:
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }


def _region(tree: ast.Module, name: str | None) -> list[ast.stmt]:
    """The code of a module that runs when ``name`` is imported from it and used: its module-level
    statements (never ``if TYPE_CHECKING:``), and the definition of ``name`` with every other
    top-level definition it refers to (``None``: all of them; ``""``: none)."""
    definitions = _definitions(tree)
    top = [
        node
        for node in tree.body
        if node not in definitions.values() and not _type_checking_only(node)
    ]
    if name is None:
        return [*top, *definitions.values()]
    wanted, todo = set(), [name] if name in definitions else []
    while todo:
        current = todo.pop()
        if current in wanted:
            continue
        wanted.add(current)
        todo += [
            n.id
            for n in ast.walk(definitions[current])
            if isinstance(n, ast.Name) and n.id in definitions
        ]
    return [*top, *(definitions[n] for n in sorted(wanted))]


def _runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` that leaves out ``if TYPE_CHECKING:`` blocks (they never run)."""
    if isinstance(node, ast.stmt) and _type_checking_only(node):
        return
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _runtime_nodes(child)


def _imports(nodes: list[ast.stmt]) -> Iterator[tuple[Path, str | None]]:
    """The project code these statements import: (file, name imported from it)."""
    for node in (n for stmt in nodes for n in _runtime_nodes(stmt)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                for depth in range(1, len(parts) + 1):
                    target = module_file(".".join(parts[:depth]))
                    if target is not None:
                        yield target, (None if depth == len(parts) else "")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            for depth in range(1, len(parts)):  # each package's __init__ runs
                target = module_file(".".join(parts[:depth]))
                if target is not None:
                    yield target, ""
            target = module_file(node.module)
            for alias in node.names:
                submodule = module_file(f"{node.module}.{alias.name}")
                if submodule is not None:
                    yield submodule, None
                elif target is not None:
                    yield target, alias.name


def code_of(handler: str) -> dict[Path, list[ast.stmt]]:
    """The project code a handler can run: from its module, every import followed into the
    definitions it names (a composition root's builder imports inside its body what it builds,
    so another function's builder is not this one's code), nested imports included, imports under
    TYPE_CHECKING left out (they never run)."""
    start = module_file(handler.rsplit(".", 1)[0].replace("/", "."))
    assert start is not None, handler
    trees: dict[Path, ast.Module] = {}
    regions: dict[Path, dict[int, ast.stmt]] = {}
    seen: set[tuple[Path, str | None]] = set()
    todo: list[tuple[Path, str | None]] = [(start, None)]
    while todo:
        path, name = todo.pop()
        if (path, name) in seen:
            continue
        seen.add((path, name))
        if path not in trees:
            trees[path] = ast.parse(path.read_text(encoding="utf-8"))
        nodes = _region(trees[path], name)
        regions.setdefault(path, {}).update({id(node): node for node in nodes})
        todo += list(_imports(nodes))
    return {path: list(nodes.values()) for path, nodes in regions.items()}


def calls(
    tree: ast.AST, names: set[str], keep: Callable[[ast.Call], bool] | None = None
) -> list[tuple[str, int]]:
    """Calls of ``.name(...)`` for ``name`` in ``names`` (and that ``keep`` keeps), except inside
    a method of the same family (the gateway's thin wrapper around the boto3 call is not a use)."""
    found = []

    def visit(node: ast.AST, inside: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
                continue
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr in names
                and inside not in names
                and (keep is None or keep(child))
            ):
                found.append((child.func.attr, child.lineno))
            visit(child, inside)

    visit(tree, None)
    return found


@pytest.mark.parametrize("handler", HANDLERS)
def test_no_code_a_function_runs_starts_or_cancels_a_move_task(handler: str) -> None:
    # Given every module the handler can reach (SQS's own move tasks are the CLI's, run by a
    # human with their own rights)
    used = {
        f"{path.relative_to(ROOT)}:{line} {name}"
        for path, nodes in code_of(handler).items()
        for node in nodes
        for name, line in calls(ast.Module(body=[node], type_ignores=[]), MOVE_TASK_CALLS)
    }
    # Then none of it calls the move-task API
    assert used == set()


def test_no_lambda_role_may_start_list_or_cancel_a_move_task(
    template: Template, narrowed_template: Template
) -> None:
    for stack in (template, narrowed_template):
        for handler in HANDLERS:
            _, role = role_of(stack, handler)
            actions = {a for s in statements(role) for a in as_list(s["Action"])}
            assert not actions & MOVE_TASK_ACTIONS, handler


# Every function that uses the state table reads, queries and writes conditionally; these are
# what some do besides, each by a call only its code makes (through bot/state_table.py's gateway,
# or on a boto3 client), and the IAM action it needs. A transaction needs the action of each of
# its items, plus ConditionCheckItem for a ConditionCheck item (DynamoDB developer guide, "Using
# IAM with DynamoDB transactions"); it has no action of its own.
TABLE_BASICS = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"}
TABLE_EXTRAS = {
    "batch_get": "dynamodb:BatchGetItem",
    "batch_get_item": "dynamodb:BatchGetItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "delete_item": "dynamodb:DeleteItem",
    "Delete": "dynamodb:DeleteItem",
    "scan": "dynamodb:Scan",
    "batch_write_item": "dynamodb:BatchWriteItem",
}
TABLE_GATEWAY = {"bot/state_table.py", "bot/state_table_api.py"}
# The code that decides what each function does with the table (its own modules, not the shared
# gateway nor a composition root that imports every builder, which would blur who does what).
OWN_CODE = {
    # The worker's engine and the daily's share the redrive ledger (bot.composition.redrive_engine)
    "handlers/worker.handler": [
        "handlers/worker.py",
        "bot/slack/**/*.py",
        "bot/state*.py",
        "bot/redrive_ledger.py",
    ],
    "handlers/daily.handler": ["handlers/daily.py", "bot/daily/**/*.py", "bot/redrive_ledger.py"],
    "handlers/failed.handler": ["handlers/failed.py", "bot/*/failures.py"],
    # The alert checks run the daily report's lease and post records (bot.alerts.job)
    "handlers/alerts.handler": [
        "handlers/alerts.py",
        "bot/alerts/**/*.py",
        "bot/daily/lease.py",
        "bot/daily/once.py",
        "bot/daily/posting.py",
        "bot/daily/run_state.py",
    ],
}


def own_code(handler: str) -> dict[Path, ast.AST]:
    paths = {path for pattern in OWN_CODE[handler] for path in ROOT.glob(pattern)}
    return {
        path: ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(paths)
        if str(path.relative_to(ROOT)) not in TABLE_GATEWAY
    }


# DynamoDB client operations are known by a parameter the API requires and boto3 clients name
# (DynamoDB API reference: Scan and DeleteItem "TableName - Required", BatchGetItem and
# BatchWriteItem "RequestItems - Required"): a method of ours with the same name, such as
# bot.expiry.ExpiryCounter.scan(capped=..., population=...), is not a table call.
CLIENT_OPERATIONS = {
    "scan": "TableName",
    "delete_item": "TableName",
    "batch_get_item": "RequestItems",
    "batch_write_item": "RequestItems",
}


def _table_call(call: ast.Call) -> bool:
    assert isinstance(call.func, ast.Attribute)
    required = CLIENT_OPERATIONS.get(call.func.attr)
    return required is None or any(k.arg in (required, None) for k in call.keywords)


def uses(tree: ast.AST, names: set[str]) -> set[str]:
    """The ``names`` the code calls as a method (``x.batch_get(...)``, or a client's
    ``x.scan(TableName=...)``) or builds (``ConditionCheck(...)``)."""
    found = {name for name, _ in calls(tree, names, _table_call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
            found.add(node.func.id)
    return found


@pytest.mark.parametrize("handler", sorted(OWN_CODE))
def test_a_role_has_the_table_actions_its_code_needs_and_no_other(
    template: Template, handler: str
) -> None:
    # Given what the function's own code does with the table, besides the basics
    code = own_code(handler)
    assert code, handler
    used = {name for tree in code.values() for name in uses(tree, set(TABLE_EXTRAS))}
    needed = TABLE_BASICS | {TABLE_EXTRAS[name] for name in used}
    # Then its role may do exactly that: the daily ledger's BatchGetItem (missing before), no
    # DeleteItem (items expire by TTL), no Scan
    _, role = role_of(template, handler)
    allowed = {
        a for s in statements(role) for a in as_list(s["Action"]) if a.startswith("dynamodb:")
    }
    assert "dynamodb:DeleteItem" not in needed | allowed, handler
    assert allowed == needed, handler


def test_no_code_deletes_a_state_table_item() -> None:
    # Items expire by TTL: no module outside the gateway deletes one (so no role needs to)
    deleting = {
        str(path.relative_to(ROOT))
        for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/*.py")]
        if str(path.relative_to(ROOT)) not in TABLE_GATEWAY
        and uses(ast.parse(path.read_text(encoding="utf-8")), {"delete_item", "Delete"})
    }
    assert deleting == set()


# Each role's items of the state table, by partition key (pk) prefix, from the code that writes
# them: bot/state.py (+ bot/state_model.py): REQUEST#<id> (requests, their EVENT# audit items
# and PIN# parts of their pins), REQUESTS (their index), RUNS, DELIVERY#<key>;
# bot/daily/snapshots.py: SNAPSHOT#<dlq>; bot/daily/run_state.py: DAILYRUN#<run>, AUTOREDRIVE#<dlq>;
# bot/daily/scan_facts.py: SCANFACTS#<dlq>; bot/daily/lease.py: DAILYLEASE#<key>;
# bot/redrive_ledger.py: REDRIVES#<dlq>.
OWN_ITEMS = {
    "handlers/worker.handler": ["REQUEST#*", "REQUESTS", "RUNS", "DELIVERY#*", "REDRIVES#*"],
    "handlers/daily.handler": [
        "SNAPSHOT#*",
        "SCANFACTS#*",
        "DAILYRUN#*",
        "DAILYLEASE#*",
        "AUTOREDRIVE#*",
        "REDRIVES#*",
        # bot/alerts/store.py FedDlqStore: the DLQs only feeders feed, for the alert checks
        "ALERTWATCH",
    ],
    # A failed Slack run (its request and run) or a failed daily run (its run and lease).
    "handlers/failed.handler": ["REQUEST#*", "RUNS", "DAILYRUN#*", "DAILYLEASE#*"],
    # bot/alerts/store.py: every DLQ's alert state, and (read) the daily report's fed DLQs;
    # bot/alerts/job.py: each check's lease and post records, the daily's kind under alert#<time>
    "handlers/alerts.handler": ["ALERTS", "ALERTWATCH", "DAILYLEASE#alert#*", "DAILYRUN#alert#*"],
}
# Items a role reads and never writes, in a statement of read actions only: the worker's App Home
# shows the daily report's snapshots and last scan facts (bot/slack/home_data.py), and its record
# of the feeder-fed DLQs and their kinds (ALERTWATCH, bot/watched_dlqs.py).
READ_ONLY_ITEMS = {"handlers/worker.handler": ["SNAPSHOT#*", "SCANFACTS#*", "ALERTWATCH"]}
READ_ACTIONS = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
# Key-shaped strings, and those that are sort keys (not partition keys): a new one in the code
# must be placed here, or among a role's OWN_ITEMS, before the test passes.
KEY_SHAPED = re.compile(r"""["']((?:[A-Z]+#)|RUNS|REQUESTS|ALERTS|ALERTWATCH)["']""")
SORT_KEY_PREFIXES = {"EVENT#", "PIN#", "POST#", "REPORT#"}


def test_each_role_reaches_only_its_own_items_of_the_state_table(template: Template) -> None:
    for handler, own in OWN_ITEMS.items():
        _, role = role_of(template, handler)
        table = [s for s in statements(role) if str(s["Action"]).count("dynamodb:")]
        assert table, handler
        read_only = READ_ONLY_ITEMS.get(handler)
        conditions = []
        for statement in table:
            keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            if keys == read_only:
                assert set(as_list(statement["Action"])) <= READ_ACTIONS, handler
            conditions.append(statement["Condition"])
        assert conditions == [
            {
                "ForAllValues:StringLike": {"dynamodb:LeadingKeys": keys},
                # ForAllValues holds for an empty set: a request must name its keys
                "Null": {"dynamodb:LeadingKeys": "false"},
            }
            for keys in ([own, read_only] if read_only else [own])
        ], handler
    # The endpoint has no table access at all
    _, slack = role_of(template, "handlers/slack.handler")
    assert not [s for s in statements(slack) if "dynamodb:" in str(s["Action"])]


@pytest.mark.parametrize(
    ("handler", "modules"),
    [
        (
            "handlers/worker.handler",
            ["bot/state.py", "bot/state_model.py", "bot/redrive_ledger.py"],
        ),
        (
            "handlers/daily.handler",
            [
                "bot/daily/snapshots.py",
                "bot/daily/run_state.py",
                "bot/daily/scan_facts.py",
                "bot/daily/lease.py",
                "bot/redrive_ledger.py",
            ],
        ),
        ("handlers/alerts.handler", ["bot/alerts/store.py"]),
    ],
)
def test_the_key_prefixes_the_code_writes_are_the_role_s(handler: str, modules: list[str]) -> None:
    # Given the partition-key prefixes spelled in the modules that own the function's items
    spelled = {
        match.group(1)
        for module in modules
        if (ROOT / module).exists()
        for match in KEY_SHAPED.finditer((ROOT / module).read_text(encoding="utf-8"))
    } - SORT_KEY_PREFIXES
    # Then each one is among the role's own items
    own = {pattern.removesuffix("*") for pattern in OWN_ITEMS[handler]}
    assert spelled, handler
    assert spelled <= own, handler


def test_the_daily_role_sends_and_deletes_only_when_auto_redrive_is_set(
    template: Template, narrowed_template: Template
) -> None:
    # Given the default stage (AUTO_REDRIVE empty: the daily job only reports)
    _, daily = role_of(template, "handlers/daily.handler")
    # Then its role can read DLQs but neither delete from them nor send anywhere
    assert granted(daily, "sqs:ReceiveMessage")
    assert granted(daily, "sqs:ChangeMessageVisibility")
    for action in ("sqs:DeleteMessage", "sqs:SendMessage", "kms:GenerateDataKey"):
        assert granted(daily, action) == [], action
    # And the rule is the template's own condition, not a packaging-time choice
    raw = template["Resources"]["DailyFunctionRole"]
    assert '"Fn::If": ["AutoRedriveEnabled"' in re.sub(r"\s+", " ", str(raw).replace("'", '"'))
    # Given a stage with autoRedrive=orders-dlq: deleting from that DLQ (not the other watched
    # one, payments-dlq.fifo) and sending to the sources
    _, auto = role_of(narrowed_template, "handlers/daily.handler")
    assert queue_patterns(auto, "sqs:DeleteMessage") == ["orders-dlq"]
    assert queue_patterns(auto, "sqs:SendMessage") == ["orders", "payments.fifo"]
    assert granted(auto, "kms:GenerateDataKey")
    env = function(narrowed_template, "handlers/daily.handler")["Environment"]["Variables"]
    assert env["AUTO_REDRIVE"] == "orders-dlq"


# --- 3. the public endpoint's concurrency -----------------------------------------------------


def test_the_public_endpoint_has_a_reserved_concurrency_cap_from_a_parameter(
    template: Template, narrowed_template: Template
) -> None:
    assert function(template, "handlers/slack.handler")["ReservedConcurrentExecutions"] == 10
    assert (
        function(narrowed_template, "handlers/slack.handler")["ReservedConcurrentExecutions"] == 3
    )


# --- 4. the job signing key --------------------------------------------------------------------


def test_the_job_signing_key_is_generated_and_read_only_by_its_three_users(
    template: Template,
) -> None:
    # Given the stack's one Secrets Manager secret
    ((logical_id, secret),) = resources(template, "AWS::SecretsManager::Secret").items()
    props = secret["Properties"]
    # Then CloudFormation generates it: 64 letters and digits, nothing a deployer types
    assert props["GenerateSecretString"] == {
        "PasswordLength": 64,
        "ExcludePunctuation": True,
        "IncludeSpace": False,
    }
    assert "SecretString" not in props
    # And the endpoint (seals), the worker and `failed` (open) are told its name and may read it
    readers = {"handlers/slack.handler", "handlers/worker.handler", "handlers/failed.handler"}
    for handler in HANDLERS:
        env = function(template, handler)["Environment"]["Variables"]
        _, role = role_of(template, handler)
        if handler in readers:
            assert (
                env["JOB_SIGNING_KEY_SECRET"] == props["Name"] == "dlq-redrive/dev/job-signing-key"
            )
            assert granted(role, "secretsmanager:GetSecretValue") == [{"Ref": logical_id}]
        else:
            assert "JOB_SIGNING_KEY_SECRET" not in env, handler
            assert granted(role, "secretsmanager:GetSecretValue") == [], handler
        secret_actions = {
            a for s in statements(role) for a in as_list(s["Action"]) if "secretsmanager" in a
        }
        assert secret_actions <= {"secretsmanager:GetSecretValue"}, handler


def test_the_roles_that_read_the_job_key_may_read_its_previous_version_too(
    template: Template,
) -> None:
    # After a rotation, jobs sealed with the key before it still open (bot/slack/credentials.py
    # reads the AWSPREVIOUS label as well). GetSecretValue is one action for every version: only
    # a condition (secretsmanager:VersionStage / VersionId), a Deny or a resource policy on the
    # secret could narrow it to AWSCURRENT. Given the roles that read the key
    (logical_id,) = resources(template, "AWS::SecretsManager::Secret")
    for handler in ("handlers/slack.handler", "handlers/worker.handler", "handlers/failed.handler"):
        _, role = role_of(template, handler)
        reading = [
            s
            for s in statements(role)
            if "secretsmanager:GetSecretValue" in as_list(s["Action"])
            and {"Ref": logical_id} in as_list(s["Resource"])
        ]
        # Then each reads it by an Allow without condition, and nothing denies any version
        assert reading and all(s["Effect"] == "Allow" and "Condition" not in s for s in reading)
        assert [s for s in statements(role) if s["Effect"] != "Allow"] == [], handler
    assert resources(template, "AWS::SecretsManager::ResourcePolicy") == {}


def test_the_installed_workspace_and_viewers_are_stack_parameters(
    template: Template, narrowed_template: Template
) -> None:
    default = function(template, "handlers/slack.handler")["Environment"]["Variables"]
    assert default["SLACK_TEAM_ID"] == "T0INSTALLED"
    assert default["SLACK_ENTERPRISE_ID"] == ""
    assert default["VIEWERS"] == ""
    narrowed = function(narrowed_template, "handlers/slack.handler")["Environment"]["Variables"]
    assert narrowed["SLACK_ENTERPRISE_ID"] == "E0GRID"
    assert narrowed["VIEWERS"] == "U0VIEWER,S0GROUP"


# --- 5. on failure -----------------------------------------------------------------------------


def invoke_config(template: Template, function_logical_id: str) -> dict[str, Any]:
    (found,) = [
        r["Properties"]
        for r in resources(template, "AWS::Lambda::EventInvokeConfig").values()
        if r["Properties"]["FunctionName"] == {"Ref": function_logical_id}
    ]
    return found


def test_a_failed_worker_or_daily_run_goes_to_the_failed_function(template: Template) -> None:
    failed_arn = {"Fn::GetAtt": ["FailedLambdaFunction", "Arn"]}
    assert function(template, "handlers/failed.handler")["FunctionName"] == "dlq-redrive-dev-failed"
    # The worker: never retried blindly, never run later than its signed job may live
    worker = invoke_config(template, "WorkerLambdaFunction")
    assert worker["MaximumRetryAttempts"] == 0
    assert worker["MaximumEventAgeInSeconds"] == JOB_TTL_S == 900
    assert worker["DestinationConfig"] == {"OnFailure": {"Destination": failed_arn}}
    # The daily report keeps its two retries (its lease makes them safe), then `failed`
    daily = invoke_config(template, "DailyLambdaFunction")
    assert daily["MaximumRetryAttempts"] == 2
    assert "MaximumEventAgeInSeconds" not in daily
    assert daily["DestinationConfig"] == {"OnFailure": {"Destination": failed_arn}}
    # Nothing else is routed anywhere (the alert checks' invoke config only drops their retries
    # and stale events: tests/deploy/test_alerts_infra.py)
    routed = {
        r["Properties"]["FunctionName"]["Ref"]
        for r in resources(template, "AWS::Lambda::EventInvokeConfig").values()
        if r["Properties"].get("DestinationConfig")
    }
    assert routed == {"WorkerLambdaFunction", "DailyLambdaFunction"}


def test_the_failed_role_has_its_items_the_bot_token_the_key_and_its_logs_only(
    template: Template,
) -> None:
    _, failed = role_of(template, "handlers/failed.handler")
    actions = {a for s in statements(failed) for a in as_list(s["Action"])}
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "ssm:GetParameter",
        "kms:Decrypt",
        "secretsmanager:GetSecretValue",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
    }


# --- secrets, from the code that reads them ----------------------------------------------------


def code_calls(handler: str, name: str) -> bool:
    return any(
        uses(ast.Module(body=[node], type_ignores=[]), {name})
        for nodes in code_of(handler).values()
        for node in nodes
    )


def test_only_the_endpoint_s_code_reads_the_signing_secret(template: Template) -> None:
    # Given the code each function runs (bot/slack/credentials.py: resolve_signing_secret)
    readers = {h for h in HANDLERS if code_calls(h, "resolve_signing_secret")}
    # Then only the endpoint reads it, and only its role may
    assert readers == {"handlers/slack.handler"}
    assert not [h for h in HANDLERS if code_calls(h, "resolve_credentials")]  # token and secret
    for handler in HANDLERS:
        _, role = role_of(template, handler)
        secret = [r for r in granted(role, "ssm:GetParameter") if "signing-secret" in sub(r)]
        assert bool(secret) is (handler in readers), handler


@pytest.mark.parametrize(
    ("reader", "action", "variable"),
    [
        ("resolve_job_signer", "secretsmanager:GetSecretValue", "JOB_SIGNING_KEY_SECRET"),
        ("resolve_bot_token", "ssm:GetParameter", "SLACK_BOT_TOKEN_PARAM"),
    ],
)
def test_a_function_whose_code_reads_a_secret_may_read_it_and_knows_where(
    template: Template, reader: str, action: str, variable: str
) -> None:
    for handler in HANDLERS:
        if code_calls(handler, reader):
            _, role = role_of(template, handler)
            assert granted(role, action), handler
            assert variable in function(template, handler)["Environment"]["Variables"], handler


def test_the_endpoint_may_read_the_bot_token_it_opens_the_edit_form_with(
    template: Template,
) -> None:
    # Given the code the endpoint can run: a click on Edit & resend opens the form at once, on
    # the ack path, with views.open (bot/slack/edit_endpoint.py through bot/slack/web.py), the
    # bot token resolved on that first click (bot.composition, lazy_bot_token)
    assert code_calls("handlers/slack.handler", "views_open")
    assert code_calls("handlers/slack.handler", "lazy_bot_token")
    # Then its role may read the bot token's parameter, through SSM alone, and it is told where
    # it is; the token gives it no queue, table or archive right
    _, slack = role_of(template, "handlers/slack.handler")
    token = f"{SUB_PREFIX}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/dlq-redrive/dev/"
    assert f"{token}slack-bot-token" in [sub(r) for r in granted(slack, "ssm:GetParameter")]
    env = function(template, "handlers/slack.handler")["Environment"]["Variables"]
    assert env["SLACK_BOT_TOKEN_PARAM"] == "/dlq-redrive/dev/slack-bot-token"
    actions = {a for s in statements(slack) for a in as_list(s["Action"])}
    assert not {a for a in actions if a.startswith(("sqs:", "dynamodb:", "s3:"))}


def test_a_table_operation_is_a_client_call_not_any_method_of_that_name() -> None:
    # A client's Scan names its table; the expiry counter's scan() is not a table call
    client = ast.parse("client.scan(TableName='t')\nclient.delete_item(**request)")
    assert uses(client, set(TABLE_EXTRAS)) == {"scan", "delete_item"}
    ours = ast.parse("counter.scan(capped=True, population=3)\nstore.batch_get(keys)")
    assert uses(ours, set(TABLE_EXTRAS)) == {"batch_get"}
