"""The deployment artifact `make package` builds (build/dlq-redrive.zip).

The strongest check is the first one: unpack the zip alone, start a fresh Python 3.12 (Lambda's
version) that sees nothing but the unpacked directory and the standard library, give it the
environment the template gives the functions, and import every handler. If a dependency is
missing, built for the wrong Python, or a handler reaches the network at import, it fails there.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from infra import package
from tests.deploy import tooling
from tests.deploy.test_template import resolved

HANDLER_MODULES = (
    "handlers.slack",
    "handlers.worker",
    "handlers.daily",
    "handlers.failed",
    "handlers.alerts",
)
# Lambda's limits for a zip deployment package.
LAMBDA_MAX_ZIPPED = 50 * 1024 * 1024
LAMBDA_MAX_UNZIPPED = 250 * 1024 * 1024

IMPORT_PROBE = """
import importlib, json, sys, sysconfig
root, modules, services = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
sys.path.insert(0, root)
handlers = {}
for name in modules:
    handlers[name] = callable(getattr(importlib.import_module(name), "handler", None))
import boto3
for service in services:
    boto3.client(service, region_name="us-east-1")
stdlib = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
outside = sorted(
    str(m.__file__) for m in list(sys.modules.values())
    if getattr(m, "__file__", None) and not str(m.__file__).startswith((root, *stdlib))
)
print(json.dumps({"handlers": handlers, "outside": outside, "path": sys.path,
                  "version": list(sys.version_info[:2])}))
"""


# The one value only CloudFormation knows: the name it gives the archive bucket it creates
# (stack name, logical id, a random suffix).
GENERATED_NAMES = {"ArchiveBucket": "dlq-redrive-dev-archivebucket-1q2w3e4r5t6y"}


def function_environment(template: dict[str, Any]) -> dict[str, str]:
    """The deployed functions' environment (every value a plain string, conditions decided)."""
    functions = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    ]
    env: dict[str, str] = {}
    for props in functions:
        for key, value in resolved(template, props["Environment"]["Variables"]).items():
            if isinstance(value, dict) and set(value) == {"Ref"}:
                value = GENERATED_NAMES[value["Ref"]]
            assert isinstance(value, str), f"{key} is not a plain string: {value!r}"
            env[key] = value
    return env


@pytest.fixture(scope="module")
def unpacked(artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("artifact")
    with zipfile.ZipFile(artifact) as zf:
        zf.extractall(target)
    return target


def test_every_handler_imports_from_the_unpacked_artifact_alone(
    unpacked: Path, template: dict[str, Any]
) -> None:
    # Given the artifact unpacked alone and the environment the stack gives the functions, with
    # AWS pointed at a closed port so that any network call at import fails
    env = {
        **function_environment(template),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_LAMBDA_FUNCTION_NAME": "dlq-redrive-dev-slack",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "PATH": "/usr/bin:/bin",
    }
    # When a fresh, isolated interpreter (-I: no user site, no PYTHON* variables; -S: no
    # site-packages) imports each handler and creates a client for each bundled AWS service
    result = subprocess.run(
        [
            package.lambda_python() or sys.executable,
            "-I",
            "-S",
            "-c",
            IMPORT_PROBE,
            str(unpacked),
            ",".join(HANDLER_MODULES),
            ",".join(sorted(package.BOTOCORE_SERVICES)),
        ],
        env=env,
        cwd=unpacked,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then every handler is there and callable (every function's of the stack), and nothing came
    # from outside the artifact
    assert result.returncode == 0, result.stderr[-4000:]
    deployed = {
        r["Properties"]["Handler"].rsplit(".", 1)[0].replace("/", ".")
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    assert deployed == set(HANDLER_MODULES)
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["handlers"] == dict.fromkeys(HANDLER_MODULES, True)
    assert probe["outside"] == []
    assert not [p for p in probe["path"] if "site-packages" in p]


def test_the_artifact_holds_no_tests_caches_or_node_modules(artifact: Path) -> None:
    with zipfile.ZipFile(artifact) as zf:
        names = zf.namelist()
        unpacked = sum(info.file_size for info in zf.infolist())
    assert "handlers/slack.py" in names
    assert "bot/state_table.json" in names
    forbidden = re.compile(r"(^|/)(tests?|node_modules|\.serverless|\.venv)/|^bin/|\.pyo$")
    assert [n for n in names if forbidden.search(n)] == []
    # Byte-code only as compiled for Lambda's Python 3.12, each beside its source.
    bytecode = [n for n in names if n.endswith(".pyc") or "__pycache__/" in n]
    for name in bytecode:
        folder, _, file = name.rpartition("__pycache__/")
        assert file.endswith(".cpython-312.pyc"), name
        assert f"{folder}{file.split('.', 1)[0]}.py" in names, name
    # All dependencies are pure Python: nothing compiled for one machine's CPU.
    assert [n for n in names if n.endswith((".so", ".pyd", ".dylib"))] == []
    assert artifact.stat().st_size < LAMBDA_MAX_ZIPPED
    assert unpacked < LAMBDA_MAX_UNZIPPED


def test_only_the_aws_services_the_app_calls_keep_their_botocore_models(artifact: Path) -> None:
    with zipfile.ZipFile(artifact) as zf:
        models = {
            n.split("/")[2]
            for n in zf.namelist()
            if n.startswith("botocore/data/") and n.count("/") > 2
        }
    assert models == package.BOTOCORE_SERVICES


def test_handlers_ship_compiled_for_lambda_python_when_one_is_installed(artifact: Path) -> None:
    # Lambda's code directory is read-only: without shipped byte-code every cold start compiles.
    if package.lambda_python() is None:
        pytest.fail("no Python 3.12 here; install one (pyenv install 3.12) to build the artifact")
    with zipfile.ZipFile(artifact) as zf:
        names = set(zf.namelist())
    for module in (*(m.replace(".", "/") for m in HANDLER_MODULES), "bot/engine"):
        folder, _, stem = module.rpartition("/")
        assert f"{folder}/__pycache__/{stem}.cpython-312.pyc" in names, module


# powertools Parameters calls these services for the app (its own boto3 clients).
POWERTOOLS_SERVICES = {"get_parameter": "ssm", "get_secret": "secretsmanager"}


def services_named_in_code() -> set[str]:
    """AWS services the app's code creates clients for, types against, or reads through
    powertools Parameters (``parameters.get_secret`` is a Secrets Manager client)."""
    pattern = re.compile(
        r"""client\(\s*["']([a-z0-9-]+)["']|mypy_boto3_([a-z0-9_]+)|parameters\.(get_[a-z]+)\("""
    )
    found: set[str] = set()
    for path in [*(tooling.ROOT / "bot").rglob("*.py"), *(tooling.ROOT / "handlers").rglob("*.py")]:
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            if match.group(3):
                found.add(POWERTOOLS_SERVICES[match.group(3)])
            else:
                found.add((match.group(1) or match.group(2)).replace("_", "-"))
    return found


def test_every_aws_service_the_code_uses_is_bundled() -> None:
    # Given the services named anywhere in bot/ and handlers/
    used = services_named_in_code()
    assert {"sqs", "ssm", "secretsmanager"} <= used
    # Then the artifact keeps each one's botocore model (or the function would fail at run time)
    assert used <= package.BOTOCORE_SERVICES


def test_building_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    # Given a snapshot of the sources (others may be editing the working tree meanwhile)
    source = tmp_path / "source"
    for name in package.APP_PACKAGES:
        shutil.copytree(tooling.ROOT / name, source / name)
    shutil.copy2(tooling.ROOT / "pyproject.toml", source / "pyproject.toml")
    # When the artifact is built twice from it
    first = package.build(tmp_path / "first" / "dlq-redrive.zip", source)
    second = package.build(tmp_path / "second" / "dlq-redrive.zip", source)
    # Then it is identical, so an unchanged app is never re-uploaded as a new version
    assert (
        hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    )
