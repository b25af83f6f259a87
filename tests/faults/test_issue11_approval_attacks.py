"""Issue 11, the approval's integrity, attacked: an approval moves at most what its card said and
only what its count counted, whatever the request's record, the count's deliveries or the state
table do meanwhile; a decision is all or nothing. The worker as Lambda wires it
(``assemble_worker``) on the in-memory SQS, state table and Slack (no server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config import EngineSettings, SlackSettings
from bot.slack.jobs import SlackWorker
from bot.slack.protocol import CommandJob, DecisionJob, JobSigner, job_signing_key
from bot.slack.worker_runtime import assemble_worker
from bot.state_model import RunStatus
from tests.unit.fake_slack import FakeSlackGateway
from tests.unit.fake_sqs import FakeSqs
from tests.unit.fake_state_table import FakeStateTable
from tests.unit.slack.worker_fakes import FakeDispatcher, fake_state

KEY = "approval-attacks-job-signing-key-32b!"
ENV = {
    "TIMEZONE": "UTC",
    "SLACK_BOT_TOKEN": "xoxb-test",
    "JOB_SIGNING_KEY": KEY,
    "SLACK_TEAM_ID": "T_LOCAL",
    "APPROVERS": "U_BOB,U_CAROL",
    "STATE_TABLE": "state",
    "WORKER_FUNCTION_NAME": "worker",
}
SIGNER = JobSigner(job_signing_key(KEY))


class _Approvers:
    def members(self) -> frozenset[str]:
        return frozenset({"U_BOB", "U_CAROL"})


class _Everyone:
    def refusal(self, user: str) -> str | None:
        return None


def _now() -> datetime:
    return datetime.now(UTC)


class _World:
    """The worker on fakes, one DLQ ``orders-dlq`` with its source ``orders``."""

    def __init__(self) -> None:
        self.sqs = FakeSqs()
        self.dlq = self.sqs.create("orders-dlq")
        self.source = self.sqs.create("orders", dead_letter_to=self.dlq)
        self.state, self.table = fake_state()
        self.slack, self.dispatcher = FakeSlackGateway(), FakeDispatcher()
        self.worker: SlackWorker = assemble_worker(
            engine_settings=EngineSettings.from_env(ENV),
            slack_settings=SlackSettings.from_env(ENV),
            slack=self.slack,
            state=self.state,
            gateway=self.sqs,  # type: ignore[arg-type]
            dispatcher=self.dispatcher,
            approvers=_Approvers(),
            viewers=_Everyone(),
        )
        self._deliveries = 0

    def put(self, count: int, key: str = "order", *, sent_ms: int | None = None) -> list[str]:
        ids = [self.sqs.put(self.dlq, json.dumps({key: i})) for i in range(count)]
        if sent_ms is not None:
            for message_id in ids:
                self.sqs.queues[self.dlq].messages[message_id].attributes["SentTimestamp"] = str(
                    sent_ms
                )
        return ids

    def _delivery(self) -> str:
        self._deliveries += 1
        return f"d{self._deliveries}"

    def ask(self, text: str = "redrive orders-dlq") -> str:
        job = CommandJob(
            text, "U_ALICE", "C_OPS", "T_LOCAL", "https://r", _now().isoformat(), self._delivery()
        )
        assert self.worker.handle(SIGNER.seal(job, _now()), None) == {"ok": True}
        card = [body for method, body in self.slack.calls if method == "chat.postMessage"][-1]
        actions = next(b for b in card["blocks"] if b["type"] == "actions")
        return str(actions["elements"][0]["value"])

    def click(self, request_id: str, user: str = "U_BOB", decision: str = "approve") -> Any:
        stored = self.state.get_request(request_id)
        assert stored is not None and stored.message_ts is not None
        job = DecisionJob(
            decision, request_id, user, "C_OPS", stored.message_ts, "T_LOCAL", "", self._delivery()
        )
        return self.worker.handle(SIGNER.seal(job, _now()), None)


def _strip_pin(table: FakeStateTable, request_id: str) -> None:
    """The request as the version before pins stored it: no pin_sent_before, no pin_digests."""
    item = table.items[(f"REQUEST#{request_id}", "REQUEST")]
    item.pop("pin_sent_before", None)
    item.pop("pin_digests", None)


def test_an_old_request_stored_without_a_pin_never_moves_messages_that_arrived_later() -> None:
    # Given 3 orders sent an hour ago and counted by the previous version (no pin in its record)
    world = _World()
    hour_ago = int((_now() - timedelta(hours=1)).timestamp() * 1000)
    counted = world.put(3, sent_ms=hour_ago)
    request_id = world.ask()
    _strip_pin(world.table, request_id)
    stored = world.state.get_request(request_id)
    assert stored is not None and stored.pin_sent_before is None and stored.matched == 3
    # and before Bob approves, the 3 are moved by someone else and 3 new ones arrive
    for message_id in counted:
        del world.sqs.queues[world.dlq].messages[message_id]
    late = world.put(3, "late", sent_ms=int(_now().timestamp() * 1000) + 1000)

    # When Bob approves
    world.click(request_id)

    # Then none of the later arrivals moved: they wait for a request of their own
    assert world.sqs.visible(world.source) == 0
    assert sorted(world.sqs.queues[world.dlq].messages) == sorted(late)
    run = world.state.get_run(request_id)
    assert run is not None and run.status is RunStatus.DONE and run.moved == 0
