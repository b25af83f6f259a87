"""What the Slack worker's unit tests run on: the real ``StateStore`` on the in-memory state
table (``tests.unit.fake_state_table``), and a dispatcher that keeps what it was handed (Slack is
``tests.unit.fake_slack.FakeSlackGateway``), and a run the worker started with the record Lambda
sends when an invocation of the worker dies (the on-failure tests' world), and the worker wired
whole on them (``wired_worker``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.composition import redrive_engine
from bot.config import EngineSettings, SlackSettings
from bot.slack.cards import Cards
from bot.slack.dispatch import Dispatcher
from bot.slack.failures import record_worker_failure
from bot.slack.jobs import SlackWorker
from bot.slack.peek_modal import loading_view
from bot.slack.protocol import JobSigner, PeekViewJob
from bot.slack.web_api import SlackApi
from bot.slack.worker_runtime import assemble_worker
from bot.state import StateStore
from bot.state_model import RunRecord, RunStatus
from tests.unit.approval_requests import approval_request
from tests.unit.fake_slack import FakeSlackGateway
from tests.unit.fake_sqs import FakeSqs
from tests.unit.fake_state_table import FakeStateTable


@dataclass
class FakeDispatcher:
    jobs: list[dict[str, Any]] = field(default_factory=list)

    def dispatch(self, job: dict[str, Any]) -> None:
        self.jobs.append(job)


def fake_state() -> tuple[StateStore, FakeStateTable]:
    """The real StateStore on the in-memory table (and the table, to look inside)."""
    table = FakeStateTable()
    return StateStore(table), table


def started_run(
    state: StateStore,
    run_id: str,
    at: datetime,
    *,
    status: RunStatus = RunStatus.RUNNING,
    invocation: int = 1,
    moved: int = 0,
) -> None:
    """A run the worker started: U_ALICE's request for orders-dlq (its card posted), approved
    by U_BOB at ``at``, in its ``invocation``."""
    state.put_request(approval_request(run_id, requested_at=at, matched=100, message_ts="1.000001"))
    state.start_run(
        RunRecord(
            run_id,
            "orders-dlq",
            "U_ALICE",
            "U_BOB",
            status,
            at,
            at,
            moved=moved,
            invocation=invocation,
        )
    )


def on_failure_record(payload: Any, message: str) -> dict[str, Any]:
    """What Lambda sends the worker's on-failure destination (documented shape) when the
    invocation given ``payload`` failed with ``message``."""
    return {
        "version": "1.0",
        "timestamp": "2026-12-01T12:15:01.000Z",
        "requestContext": {
            "requestId": "req-1",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:worker:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 1,
        },
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "responsePayload": {"errorType": "Sandbox.Timedout", "errorMessage": message},
    }


def handle_failure_record(
    record: dict[str, Any], *, key: bytes, state: StateStore, slack: SlackApi, at: datetime
) -> dict[str, Any]:
    """The worker's on-failure rules (``bot.slack.failures``) given ``record`` at ``at``, with
    jobs sealed by ``key`` and cards that do not wait between Slack's retries."""
    return record_worker_failure(
        record,
        signer=JobSigner(key),
        state=state,
        slack=slack,
        cards=Cards(slack, ZoneInfo("UTC"), sleep=lambda _: None),
        clock=lambda: at,
    )


# The worker's settings in the tests that wire it whole (its job key: ``job_key``).
def worker_env(job_key: str) -> dict[str, str]:
    return {
        "TIMEZONE": "UTC",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "JOB_SIGNING_KEY": job_key,
        "SLACK_TEAM_ID": "T_LOCAL",
        "APPROVERS": "U_BOB",
        "STATE_TABLE": "state",
        "WORKER_FUNCTION_NAME": "worker",
    }


class BobApproves:
    """The approvers (U_BOB) and viewers (anyone) of a worker wired whole."""

    def members(self) -> frozenset[str]:
        return frozenset({"U_BOB"})

    def refusal(self, user: str) -> str | None:
        return None


def wired_worker(
    sqs: FakeSqs, env: dict[str, str], dispatcher: Dispatcher
) -> tuple[SlackWorker, StateStore, FakeSlackGateway]:
    """The worker as Lambda wires it (``assemble_worker``), on in-memory SQS, state table and
    Slack, handing its jobs to ``dispatcher``."""
    state, table = fake_state()
    slack = FakeSlackGateway()
    settings = EngineSettings.from_env(env)
    worker = assemble_worker(
        engine_settings=settings,
        slack_settings=SlackSettings.from_env(env),
        slack=slack,
        state=state,
        gateway=sqs,  # type: ignore[arg-type]
        engine=redrive_engine(sqs, settings, table),
        dispatcher=dispatcher,
        approvers=BobApproves(),
        viewers=BobApproves(),
    )
    return worker, state, slack


def peek_world(
    job_key: str, sqs: FakeSqs | None = None
) -> tuple[SlackWorker, FakeSlackGateway, PeekViewJob]:
    """The worker wired whole on fakes (``sqs``, or a plain in-memory SQS), a DLQ with one
    order, and a loading peek modal open, with the peek job of an approver (she may read
    bodies) that fills it."""
    sqs = sqs or FakeSqs()
    dlq = sqs.create("orders-dlq")
    sqs.create("orders", dead_letter_to=dlq)
    sqs.put(dlq, json.dumps({"order": 1}))
    worker, _, slack = wired_worker(sqs, worker_env(job_key), FakeDispatcher())
    opened = slack.open_view(slack.modals.new_trigger(), loading_view("orders-dlq"))
    job = PeekViewJob("orders-dlq", opened.id, opened.hash, "U_ALICE", "T_LOCAL", "t", "d")
    return worker, slack, job
