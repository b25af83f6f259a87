"""cfn-lint and checkov on the packaged template: zero findings, and every skip says why.

Both run on the templates the session fixtures package (the default stage, and a narrowed one with
auto-redrive on, so that both sides of the template's condition are scanned). cfn-lint is pinned
in pyproject.toml; checkov in requirements/checkov.txt, in its own venv (`make checkov`, which this
module runs when the venv is missing or stale, as `make test` does before it).
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import tooling
from tests.deploy.tooling import ROOT

CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"
# checkov's IAM policy checks: credentials exposure, data exfiltration, permissions management,
# privilege escalation, write access without constraints, "*" actions and resources.
IAM_CHECKS = {f"CKV_AWS_{n}" for n in (107, 108, 109, 110, 111, 355, 356)}
# A reason long enough to say something (not "n/a", not "false positive").
MIN_REASON = 40


@functools.cache
def checkov() -> Path:
    """checkov, installed from requirements/checkov.txt by `make checkov` if needed."""
    subprocess.run(["make", "-s", "checkov"], cwd=ROOT, check=True, capture_output=True)
    assert CHECKOV.exists(), "make checkov did not install checkov"
    return CHECKOV


@pytest.fixture(scope="module")
def narrowed_template_path(artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.deploy.conftest import NARROWED_PARAMS

    return tooling.osls_package(tmp_path_factory.mktemp("osls-scan"), *NARROWED_PARAMS)


def run_checkov(template: Path) -> dict[str, Any]:
    result = subprocess.run(
        [str(checkov()), "--config-file", str(ROOT / ".checkov.yml"), "-f", str(template)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.stdout.strip().startswith("{"), result.stdout[-2000:] + result.stderr[-2000:]
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.mark.parametrize("stage", ["default", "narrowed"])
def test_checkov_finds_nothing_and_every_skip_names_its_reason(
    stage: str, template_path: Path, narrowed_template_path: Path
) -> None:
    # Given the packaged template
    template = template_path if stage == "default" else narrowed_template_path
    # When checkov scans it with the project's settings
    report = run_checkov(template)
    results = report["results"]
    # Then no check fails
    failed = [(c["check_id"], c["resource"]) for c in results["failed_checks"]]
    assert failed == []
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 50
    # And every skipped check is skipped on its resource, with a reason that says something
    for check in results["skipped_checks"]:
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason) >= MIN_REASON, (check["check_id"], check["resource"], reason)
    # And the checks that matter here pass rather than being skipped: the public endpoint's
    # concurrency cap, and no IAM statement that lets a role write or escalate without limits
    passed = {(c["check_id"], c["resource"]) for c in results["passed_checks"]}
    assert ("CKV_AWS_115", "AWS::Lambda::Function.SlackLambdaFunction") in passed
    skipped_ids = {c["check_id"] for c in results["skipped_checks"]}
    assert not skipped_ids & IAM_CHECKS


def test_the_checkov_settings_skip_nothing_globally() -> None:
    settings = yaml.safe_load((ROOT / ".checkov.yml").read_text(encoding="utf-8"))
    assert "skip-check" not in settings
    assert settings["skip-download"] is True  # offline, as in CI


def cfn_lint_ignored() -> dict[str, str]:
    """The rules .cfnlintrc.yaml ignores, each with the reason written on its line."""
    text = (ROOT / ".cfnlintrc.yaml").read_text(encoding="utf-8")
    ignored = yaml.safe_load(text)["ignore_checks"]
    reasons = {}
    for rule in ignored:
        (line,) = [line for line in text.splitlines() if re.match(rf"\s*-\s*{rule}\b", line)]
        reasons[rule] = line.partition("#")[2].strip()
    return reasons


def run_cfn_lint(template: Path) -> subprocess.CompletedProcess[str]:
    """cfn-lint (this venv's) on ``template`` with the project's settings."""
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--config-file",
            str(ROOT / ".cfnlintrc.yaml"),
            "--",
            str(template),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("stage", ["default", "narrowed"])
def test_cfn_lint_finds_nothing(
    stage: str, template_path: Path, narrowed_template_path: Path
) -> None:
    # Given the packaged template / When cfn-lint checks it with the project's settings
    template = template_path if stage == "default" else narrowed_template_path
    result = run_cfn_lint(template)
    # Then it reports nothing
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_cfn_lint_ignores_names_its_reason() -> None:
    reasons = cfn_lint_ignored()
    assert reasons  # the one known: osls's redundant DependsOn (W3005)
    for rule, reason in reasons.items():
        assert len(reason) >= MIN_REASON, rule
