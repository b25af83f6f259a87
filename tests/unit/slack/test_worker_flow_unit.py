"""The whole worker, wired as in Lambda (``assemble_worker``), on in-memory SQS, state table,
Slack and dispatcher: a request is counted and pinned, and its approval moves only what was
counted (no server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.config import EngineSettings, SlackSettings
from bot.slack.protocol import CommandJob, DecisionJob, JobSigner, job_signing_key
from bot.slack.worker_runtime import assemble_worker
from bot.state_model import RequestStatus, RunStatus
from tests.unit.fake_sqs import FakeSqs
from tests.unit.slack.worker_fakes import FakeDispatcher, FakeSlack, fake_state

KEY = "unit-test-job-signing-key-32-bytes!!"
ENV = {
    "TIMEZONE": "UTC",
    "SLACK_BOT_TOKEN": "xoxb-test",
    "JOB_SIGNING_KEY": KEY,
    "SLACK_TEAM_ID": "T_LOCAL",
    "APPROVERS": "U_BOB",
    "STATE_TABLE": "state",
    "WORKER_FUNCTION_NAME": "worker",
}


class _Approvers:
    def members(self) -> frozenset[str]:
        return frozenset({"U_BOB"})


class _Everyone:
    def refusal(self, user: str) -> str | None:
        return None


def _now() -> datetime:
    return datetime.now(UTC)


def test_an_approval_moves_what_was_counted_and_not_what_arrived_since() -> None:
    # Given 3 orders in a DLQ and the worker wired on fakes
    sqs = FakeSqs()
    dlq = sqs.create("orders-dlq")
    source = sqs.create("orders", dead_letter_to=dlq)
    counted = [sqs.put(dlq, json.dumps({"order": i})) for i in range(3)]
    state, _ = fake_state()
    slack, dispatcher = FakeSlack(), FakeDispatcher()
    worker = assemble_worker(
        engine_settings=EngineSettings.from_env(ENV),
        slack_settings=SlackSettings.from_env(ENV),
        slack=slack,
        state=state,
        gateway=sqs,  # type: ignore[arg-type]
        dispatcher=dispatcher,
        approvers=_Approvers(),
        viewers=_Everyone(),
    )
    signer = JobSigner(job_signing_key(KEY))

    # When Alice asks for a redrive
    ask = CommandJob(
        "redrive orders-dlq", "U_ALICE", "C_OPS", "T_LOCAL", "https://r", _now().isoformat(), "d1"
    )
    assert worker.handle(signer.seal(ask, _now()), None) == {"ok": True}
    [(_, card)] = [c for c in slack.calls if c[0] == "chat.postMessage"]
    request_id = next(b for b in card["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    request = state.get_request(request_id)
    assert request is not None and request.matched == 3 and request.pin_digests is not None
    # and before Bob approves, the 3 are taken by someone else and 3 new ones arrive
    for message_id in counted:
        del sqs.queues[dlq].messages[message_id]
    later = [sqs.put(dlq, json.dumps({"late": i})) for i in range(3)]

    # When Bob approves
    click_ts = state.get_request(request_id)
    assert click_ts is not None and click_ts.message_ts is not None
    click = DecisionJob(
        "approve", request_id, "U_BOB", "C_OPS", click_ts.message_ts, "T_LOCAL", "", "d2"
    )
    assert worker.handle(signer.seal(click, _now()), None) == {"ok": True}

    # Then none of the later arrivals moved, and the card says so
    assert sqs.visible(source) == 0 and sorted(sqs.queues[dlq].messages) == sorted(later)
    decided = state.get_request(request_id)
    run = state.get_run(request_id)
    assert decided is not None and decided.status is RequestStatus.APPROVED
    assert run is not None and run.status is RunStatus.DONE and run.moved == 0
    assert "took only the 3 message(s) counted" in json.dumps(slack.calls[-1][1]["blocks"])
    assert dispatcher.jobs == []  # finished in one invocation: nothing to continue
