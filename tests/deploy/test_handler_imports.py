"""Each Lambda handler loads only what its function runs: a cold start pays for every module a
handler imports, so the Slack endpoint (3-second ack) must not load the engine and the worker
must not load Bolt. ``make bench`` measures what is left (bench/coldstart.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.deploy import tooling

PROBE = """
import json, sys
import {module}
{then}
print(json.dumps(sorted(sys.modules)))
"""

# Edit & resend on the endpoint (its form, the checks of a submitted body, the views.open client):
# loaded by the first Edit & resend click or modal submission, as few requests are either.
EDIT_AND_RESEND = {
    "bot.slack.edit_endpoint",
    "bot.slack.edit_modal",
    "bot.body_edits",
    "bot.sqs_text",
}

# The App Home tab: its peek modal's opener (bot.slack.home_endpoint, with its views) loads on the
# first Peek click; the tab's data, view and publisher are the worker's.
HOME_TAB = {
    "bot.slack.home_endpoint",
    "bot.slack.peek_modal",
    "bot.slack.home",
    "bot.slack.home_view",
    "bot.slack.home_data",
    "bot.slack.home_model",
}

# The request modal (issue 14): its opener and checks (bot.slack.request_endpoint, with the form
# and the ticket) load on the first /dlq-redrive with no text, Home tab Redrive… or modal request;
# filling, counting and submitting it are the worker's.
REQUEST_MODAL = {
    "bot.slack.request_endpoint",
    "bot.slack.request_form",
    "bot.slack.request_ticket",
    "bot.slack.request_modal_jobs",
}

# Modules a handler's function never runs: loading them would only slow its cold start.
NOT_LOADED = {
    "handlers.slack": {
        "bot.engine",
        "bot.catalog",
        "bot.inspection",
        "bot.planner",
        "bot.sqs_gateway",
        "bot.state",
        "bot.slack.jobs",
        "bot.daily",
        # The command grammar is built on the first command parsed (bot.slack.commands._parser):
        # the cold start, and a click, need neither argparse (with gettext) nor the selection.
        "argparse",
        "gettext",
        "bot.selection_options",
        "bot.selection",
        # Edit & resend's diff is the worker's: the endpoint only checks a submitted body.
        "difflib",
        *EDIT_AND_RESEND,
        *HOME_TAB,
        *REQUEST_MODAL,
        # Our Slack Web API client: the endpoint's build makes Bolt's (its first request).
        "bot.slack.web",
        "bot.slack.web_api",
        # Finding and reaching a DLQ's feeders (SNS, EventBridge, Lambda) is the worker's.
        "bot.feeders",
        "bot.feeder_discovery",
        "bot.feeder_routing",
        "bot.deliveries",
    },
    "handlers.worker": {"slack_bolt", "bot.daily", "bot.slack.app", "bot.slack.runtime"},
    "handlers.daily": {
        "slack_bolt",
        "argparse",
        "bot.slack.jobs",
        "bot.slack.commands",
        # Only table creation reads the table's definition file (bot.state_schema); with
        # importlib.resources come tempfile, shutil, bz2 and lzma.
        "importlib.resources",
        # A run's lease owner is Lambda's request id; uuid only serves a run without one.
        "uuid",
    },
    # The on-failure handler builds the worker's or the daily's side when a record comes.
    "handlers.failed": {"slack_bolt", "bot.engine", "bot.daily", "bot.slack.jobs"},
    # The alert checks read counts and post: none of the daily's run, the engine, the feeder
    # scan or the Slack app comes with them (they share the daily's lease and posting only).
    "handlers.alerts": {
        "slack_bolt",
        "argparse",
        "uuid",
        "importlib.resources",
        "bot.engine",
        "bot.feeder_discovery",
        "bot.daily.job",
        "bot.daily.report_run",
        "bot.daily.auto_redrive",
        "bot.slack.jobs",
        "bot.slack.app",
    },
}


def loaded_by(module: str, *, then: str = "") -> set[str]:
    """The modules a fresh interpreter holds after importing ``module`` (and running ``then``)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(tooling.ROOT),
        "AWS_DEFAULT_REGION": "us-east-1",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "test-signing-secret",
        "REPORT_CHANNEL": "C0TEST",
        "STATE_TABLE": "dlq-redrive-test",
        "SLACK_TEAM_ID": "T_LOCAL",
        "WORKER_FUNCTION_NAME": "dlq-redrive-worker",
        "JOB_SIGNING_KEY": "k" * 64,
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module, then=then)],
        env=env,
        cwd=tooling.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", sorted(NOT_LOADED))
def test_a_handler_loads_only_what_its_function_runs(module: str) -> None:
    # When a fresh interpreter imports the handler module, as Lambda does at a cold start
    loaded = loaded_by(module)
    # Then it is loaded, and none of the modules its function never runs came with it
    assert module in loaded
    unwanted = {
        name
        for name in loaded
        for banned in NOT_LOADED[module]
        if name == banned or name.startswith(banned + ".")
    }
    assert unwanted == set()


def test_the_endpoints_first_request_builds_it_without_edit_and_resend() -> None:
    # When a fresh endpoint is built, as its first request does after the cold start's import
    loaded = loaded_by("handlers.slack", then="handlers.slack.endpoint()")
    # Then the Bolt app is built, and Edit & resend's modules wait for its first click or
    # submission (bot/slack/app.py loads them then), the Home tab's for its first Peek click
    assert "slack_bolt" in loaded and "bot.slack.app" in loaded
    assert EDIT_AND_RESEND & loaded == set()
    assert HOME_TAB & loaded == set()
    assert REQUEST_MODAL & loaded == set()
