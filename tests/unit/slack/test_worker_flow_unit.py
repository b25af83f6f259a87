"""The whole worker, wired as in Lambda (``assemble_worker``), on in-memory SQS, state table,
Slack and dispatcher: a request is counted and pinned, and its approval moves only what was
counted (no server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.slack.jobs import SlackWorker
from bot.slack.protocol import CommandJob, DecisionJob, JobSigner, job_signing_key
from bot.state import StateStore
from bot.state_model import RequestStatus, RunStatus
from tests.unit.fake_slack import FakeSlackGateway as FakeSlack
from tests.unit.fake_sqs import FakeSqs
from tests.unit.slack.worker_fakes import FakeDispatcher, wired_worker, worker_env

KEY = "unit-test-job-signing-key-32-bytes!!"
ENV = worker_env(KEY)


def _now() -> datetime:
    return datetime.now(UTC)


def _worker(sqs: FakeSqs) -> tuple[SlackWorker, StateStore, FakeSlack, FakeDispatcher]:
    """The worker as Lambda wires it, on fakes."""
    dispatcher = FakeDispatcher()
    return (*wired_worker(sqs, ENV, dispatcher), dispatcher)


def test_an_approval_moves_what_was_counted_and_not_what_arrived_since() -> None:
    # Given 3 orders in a DLQ and the worker wired on fakes
    sqs = FakeSqs()
    dlq = sqs.create("orders-dlq")
    source = sqs.create("orders", dead_letter_to=dlq)
    counted = [sqs.put(dlq, json.dumps({"order": i})) for i in range(3)]
    worker, state, slack, dispatcher = _worker(sqs)
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


class _NoTimeLeft:
    """A Lambda context whose time budget is already used up."""

    def get_remaining_time_in_millis(self) -> int:
        return 0


def test_a_run_without_time_hands_over_sealed_and_gives_up_after_three_idle_parts() -> None:
    # Given an approved request whose invocations never have time to look at a message
    sqs = FakeSqs()
    dlq = sqs.create("orders-dlq")
    sqs.create("orders", dead_letter_to=dlq)
    for i in range(2):
        sqs.put(dlq, json.dumps({"order": i}))
    worker, state, slack, dispatcher = _worker(sqs)
    signer = JobSigner(job_signing_key(KEY))
    ask = CommandJob(
        "redrive orders-dlq", "U_ALICE", "C_OPS", "T_LOCAL", "https://r", _now().isoformat(), "d1"
    )
    worker.handle(signer.seal(ask, _now()), None)
    [(_, card)] = [c for c in slack.calls if c[0] == "chat.postMessage"]
    request_id = next(b for b in card["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    stored = state.get_request(request_id)
    assert stored is not None and stored.message_ts is not None
    click = DecisionJob(
        "approve", request_id, "U_BOB", "C_OPS", stored.message_ts, "T_LOCAL", "", "d2"
    )

    # When it is approved and each continuation it hands itself runs out of time at once
    worker.handle(signer.seal(click, _now()), _NoTimeLeft())
    while dispatcher.jobs and len(dispatcher.jobs) < 10:
        event = dispatcher.jobs[-1]
        before = len(dispatcher.jobs)
        worker.handle(event, _NoTimeLeft())
        if len(dispatcher.jobs) == before:
            break

    # Then every hand-over was sealed with the worker's key (a ContinueJob for the next part),
    # and the third part in a row without progress gave up and said why
    opened = [signer.open(job, _now()) for job in dispatcher.jobs]
    assert [job.invocation for job in opened] == [2, 3]  # type: ignore[union-attr]
    run = state.get_run(request_id)
    assert run is not None and run.status is RunStatus.FAILED
    assert "no progress in 3 invocations in a row" in str(run.error)
    assert "Redrive failed" in slack.texts("chat.update")[-1]
    assert sqs.visible(dlq) == 2
