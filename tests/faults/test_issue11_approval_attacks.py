"""Issue 11, the approval's integrity, attacked: an approval moves at most what its card said and
only what its count counted, whatever the request's record, the count's deliveries or the state
table do meanwhile; a decision is all or nothing. The worker as Lambda wires it
(``assemble_worker``) on the in-memory SQS, state table and Slack (no server)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.composition import redrive_engine
from bot.config import EngineSettings, SlackSettings
from bot.slack.cards import Cards
from bot.slack.failures import record_worker_failure
from bot.slack.jobs import SlackWorker
from bot.slack.protocol import CommandJob, DecisionJob, JobSigner, job_signing_key
from bot.slack.queues import WorkerOptions
from bot.slack.worker_runtime import assemble_worker
from bot.state_model import RequestStatus, RunStatus
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

    def __init__(self, options: WorkerOptions | None = None) -> None:
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
            engine=redrive_engine(self.sqs, EngineSettings.from_env(ENV), self.table),
            dispatcher=self.dispatcher,
            approvers=_Approvers(),
            viewers=_Everyone(),
            options=options,
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

    def fail(self, record: dict[str, Any]) -> dict[str, Any]:
        """Deliver Lambda's on-failure ``record`` to the worker's failure rules."""
        return record_worker_failure(
            record,
            signer=SIGNER,
            state=self.state,
            slack=self.slack,
            cards=Cards(self.slack, ZoneInfo("UTC"), sleep=lambda _: None),
            clock=_now,
        )

    def click(
        self,
        request_id: str,
        user: str = "U_BOB",
        decision: Literal["approve", "reject"] = "approve",
        *,
        delivery: str | None = None,
        context: Any = None,
    ) -> Any:
        """``user``'s click on the request's card, as Slack's delivery ``delivery``, run in a
        Lambda ``context`` (None: no time budget)."""
        stored = self.state.get_request(request_id)
        assert stored is not None and stored.message_ts is not None
        job = DecisionJob(
            decision,
            request_id,
            user,
            "C_OPS",
            stored.message_ts,
            "T_LOCAL",
            "",
            delivery or self._delivery(),
        )
        return self.worker.handle(SIGNER.seal(job, _now()), context)


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


def test_a_throttled_decision_writes_nothing_says_so_and_a_later_click_approves() -> None:
    # Given a card for 2 orders, and the state table throttling the decision's transaction
    world = _World()
    world.put(2)
    request_id = world.ask()
    events_before = world.state.events(request_id)
    world.table.fail_call = lambda op: (
        "ProvisionedThroughputExceededException" if op == "transact" else None
    )

    # When Bob approves
    stored = world.state.get_request(request_id)
    assert stored is not None and stored.message_ts is not None
    job = DecisionJob(
        "approve", request_id, "U_BOB", "C_OPS", stored.message_ts, "T_LOCAL", "https://b", "t1"
    )
    result = world.worker.handle(SIGNER.seal(job, _now()), None)

    # Then nothing is half-written: still pending, no run, no audit event, nothing moved
    assert result["ok"] is False and "ProvisionedThroughputExceeded" in result["error"]
    stored = world.state.get_request(request_id)
    assert stored is not None and stored.status is RequestStatus.PENDING
    assert stored.decided_by is None
    assert world.state.get_run(request_id) is None
    assert world.state.events(request_id) == events_before
    assert world.sqs.visible(world.dlq) == 2
    # and Bob is told, in words that say the decision was not recorded
    [(_, answer, ephemeral)] = [a for a in world.slack.answers if a[0] == "https://b"]
    assert ephemeral and "ProvisionedThroughputExceeded" in json.dumps(answer)
    assert "refused to record the approval" in json.dumps(answer)
    # and the card does not claim an approval
    assert not any("Approved by" in t for t in world.slack.texts("chat.update"))

    # When the table recovers and Carol approves
    world.table.fail_call = lambda op: None
    world.click(request_id, user="U_CAROL")

    # Then exactly one run moved the 2
    run = world.state.get_run(request_id)
    assert run is not None and run.status is RunStatus.DONE and run.moved == 2
    assert run.approved_by == "U_CAROL" and world.sqs.visible(world.source) == 2


def test_a_message_delivered_twice_during_the_count_is_counted_once() -> None:
    # Given 3 orders, the first of which SQS hands out a second time while it is in flight
    world = _World()
    ids = world.put(3)
    world.sqs.redeliver = {ids[0]}

    # When Alice asks for a redrive
    request_id = world.ask()

    # Then the count, its pin and the card say 3 (not 4)
    request = world.state.get_request(request_id)
    assert request is not None and request.matched == 3
    assert request.pin_digests is not None and len(request.pin_digests) == 3
    card = [body for method, body in world.slack.calls if method == "chat.postMessage"][-1]
    assert "Move up to 3 counted" in json.dumps(card["blocks"])
    assert ": 3 message(s) from orders-dlq" in str(card["text"])
    # and its approval moves the 3, once each
    world.sqs.redeliver = set()
    world.click(request_id)
    run = world.state.get_run(request_id)
    assert run is not None and run.moved == 3 and world.sqs.visible(world.source) == 3
    assert world.sqs.visible(world.dlq) == 0


def test_a_continuation_keeps_the_pin_and_the_cap_left_after_earlier_parts() -> None:
    # Given a card for 3 counted orders
    world = _World()
    counted = world.put(3)
    request_id = world.ask()
    # and an approval whose first part ran out of time at once (it handed over to part 2)
    world.worker.handle(
        SIGNER.seal(
            DecisionJob(
                "approve",
                request_id,
                "U_BOB",
                "C_OPS",
                str(world.state.get_request(request_id).message_ts),  # type: ignore[union-attr]
                "T_LOCAL",
                "",
                "c1",
            ),
            _now(),
        ),
        _NoTimeLeft(),
    )
    [handed_over] = world.dispatcher.jobs
    run = world.state.get_run(request_id)
    assert run is not None and run.status is RunStatus.CONTINUING and run.invocation == 2
    # and, meanwhile, one counted order was moved by someone else and 4 newcomers arrived
    del world.sqs.queues[world.dlq].messages[counted[0]]
    late = world.put(4, "late")

    # When part 2 runs with time enough
    world.worker.handle(handed_over, None)

    # Then it moved only the 2 counted ones left, no newcomer
    run = world.state.get_run(request_id)
    assert run is not None and run.status is RunStatus.DONE and run.moved == 2
    assert sorted(world.sqs.queues[world.dlq].messages) == sorted(late)
    assert world.sqs.visible(world.source) == 2
    # and the card's outcome says 2 moved of the 3 counted
    last = world.slack.texts("chat.update")[-1]
    assert "moved *2*" in last


class _NoTimeLeft:
    """A Lambda context whose time budget is already used up."""

    def get_remaining_time_in_millis(self) -> int:
        return 0


def _failure_record(payload: dict[str, Any], message: str) -> dict[str, Any]:
    """Lambda's on-failure destination record of an invocation that died (documented shape)."""
    return {
        "version": "1.0",
        "timestamp": "2026-12-01T12:15:01.000Z",
        "requestContext": {
            "requestId": "c0ffee00-0000-4000-8000-000000000002",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:worker:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 1,
        },
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
        "responsePayload": {"errorType": "Sandbox.Timedout", "errorMessage": message},
    }


def test_the_record_of_an_approvers_second_click_that_died_does_not_fail_the_run_of_the_first() -> (
    None
):
    # Given a card for 3 orders, and Bob's approval running (its first send hangs a while)
    world = _World()
    world.put(3)
    request_id = world.ask()
    stored = world.state.get_request(request_id)
    assert stored is not None and stored.message_ts is not None
    sending, release = threading.Event(), threading.Event()

    def hang_first_send(url: str) -> bool:
        if url == world.source and not release.is_set():
            sending.set()
            release.wait(30)
        return False

    world.sqs.fail_call = hang_first_send
    first = SIGNER.seal(
        DecisionJob(
            "approve", request_id, "U_BOB", "C_OPS", stored.message_ts, "T_LOCAL", "", "b1"
        ),
        _now(),
    )
    running = threading.Thread(target=world.worker.handle, args=(first, None))
    running.start()
    try:
        assert sending.wait(30)
        # and Bob's second click (a double click: its own delivery) whose invocation died after
        # it lost (told "Already approved"), as Lambda's on-failure record says
        second = SIGNER.seal(
            DecisionJob(
                "approve", request_id, "U_BOB", "C_OPS", stored.message_ts, "T_LOCAL", "", "b2"
            ),
            _now(),
        )
        world.worker.handle(second, None)
        result = world.fail(_failure_record(second, "Task timed out after 900.00 seconds"))

        # Then the run the first click owns is not failed by it
        assert result == {"ok": True, "run": request_id, "marked": False}
        run = world.state.get_run(request_id)
        assert run is not None and run.status is RunStatus.RUNNING
    finally:
        release.set()
        running.join(30)
    # and the first click's run ends with its own, true outcome
    run = world.state.get_run(request_id)
    assert run is not None and run.status is RunStatus.DONE and run.moved == 3
    assert world.sqs.visible(world.source) == 3 and world.sqs.visible(world.dlq) == 0
    assert "Done: moved *3*" in world.slack.texts("chat.update")[-1]


class _Killed(BaseException):
    """Lambda ending the invocation where it stands (a timeout): nothing after runs."""


def test_a_part_killed_by_a_slow_slack_at_its_hand_over_has_already_started_the_next() -> None:
    # Given a card for 3 orders, and Slack so slow at any card update after the approval's that
    # Lambda kills the invocation there (its time budget is all but used when it hands over)
    world = _World()
    world.put(3)
    request_id = world.ask()
    stored = world.state.get_request(request_id)
    assert stored is not None and stored.message_ts is not None
    real_update = world.slack.update

    def killed_past_approval(channel: str, ts: str, message: dict[str, Any]) -> None:
        if "Approved by" not in str(message.get("text")):
            raise _Killed
        real_update(channel, ts, message)

    world.slack.update = killed_past_approval  # type: ignore[method-assign]

    # When Bob approves and the first part runs out of time at once (and may be killed)
    click = SIGNER.seal(
        DecisionJob(
            "approve", request_id, "U_BOB", "C_OPS", stored.message_ts, "T_LOCAL", "", "k1"
        ),
        _now(),
    )
    try:
        world.worker.handle(click, _NoTimeLeft())
    except _Killed:
        # and Lambda's record of that invocation reaches the on-failure function
        world.fail(_failure_record(click, "Task timed out after 900.00 seconds"))

    # Then the run is not left 'continuing' with no part to run it: part 2 was started, it
    # says so on the card and moves the 3
    world.slack.update = real_update  # type: ignore[method-assign]
    assert len(world.dispatcher.jobs) == 1
    world.worker.handle(world.dispatcher.jobs[0], None)
    run = world.state.get_run(request_id)
    assert run is not None and run.status is RunStatus.DONE and run.moved == 3
    assert world.sqs.visible(world.source) == 3
    updates = [json.dumps(body["blocks"]) for m, body in world.slack.calls if m == "chat.update"]
    assert any("continuing in a new invocation (part 2)" in u for u in updates)
    assert "Done: moved *3*" in world.slack.texts("chat.update")[-1]


class _Invocation:
    """A Lambda context with time enough and its own request id."""

    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


def test_the_record_of_a_duplicate_delivery_of_a_part_does_not_fail_the_part_that_runs() -> None:
    # Given an approval whose first part handed over to part 2 at once
    world = _World()
    world.put(3)
    request_id = world.ask()
    world.click(request_id, delivery="p1", context=_NoTimeLeft())
    [part_2] = world.dispatcher.jobs
    # and part 2 running (its first send hangs a while)
    sending, release = threading.Event(), threading.Event()

    def hang_first_send(url: str) -> bool:
        if url == world.source and not release.is_set():
            sending.set()
            release.wait(30)
        return False

    world.sqs.fail_call = hang_first_send
    running = threading.Thread(
        target=world.worker.handle, args=(part_2, _Invocation("part-2-invocation"))
    )
    running.start()
    try:
        assert sending.wait(30)
        # When Lambda delivers part 2's event a second time (async invocations are at least
        # once), that invocation dies, and its on-failure record arrives
        world.worker.handle(part_2, _Invocation("duplicate-invocation"))
        record = _failure_record(part_2, "Runtime exited with error: signal: killed")
        record["requestContext"]["requestId"] = "duplicate-invocation"
        result = world.fail(record)

        # Then the part that runs keeps its run
        assert result["marked"] is False
        run = world.state.get_run(request_id)
        assert run is not None and run.status is RunStatus.RUNNING
    finally:
        release.set()
        running.join(30)
    run = world.state.get_run(request_id)
    assert run is not None and run.status is RunStatus.DONE and run.moved == 3
    assert world.sqs.visible(world.source) == 3 and world.sqs.visible(world.dlq) == 0


def test_the_record_of_the_invocation_running_a_part_still_fails_its_run() -> None:
    # Given a run handed over to part 2, which took it over and then died (its record says so)
    world = _World()
    world.put(2)
    request_id = world.ask()
    world.click(request_id, delivery="p2", context=_NoTimeLeft())
    [part_2] = world.dispatcher.jobs
    # (as the worker's resume does with its Lambda context's request id)
    taken = world.state.claim_continuation(request_id, 2, _now(), owner="part-2-invocation")
    assert taken is not None and taken.started_by == "part-2-invocation"
    record = _failure_record(part_2, "Runtime exited with error: signal: killed")
    record["requestContext"]["requestId"] = "part-2-invocation"

    # When the record arrives
    result = world.fail(record)

    # Then its run is failed and the card says why
    assert result["marked"] is True
    run = world.state.get_run(request_id)
    assert run is not None and run.status is RunStatus.FAILED and "signal: killed" in str(run.error)
    assert ":x: Redrive failed" in world.slack.texts("chat.update")[-1]


def test_a_redriven_copy_that_fails_back_into_the_dlq_is_not_moved_again_by_a_time_pin() -> None:
    # Given 3 orders counted, pinned by time only (as when more than PIN_MAX_IDS were counted)
    world = _World()
    world.put(3)
    request_id = world.ask()
    item = world.table.items[(f"REQUEST#{request_id}", "REQUEST")]
    item.pop("pin_digests")
    stored = world.state.get_request(request_id)
    assert stored is not None and stored.pin_digests is None and stored.pin_sent_before

    # and each copy the run sends fails at once and is dead-lettered back, as a new message
    # (a new MessageId, sent when the run sent it)
    copies: list[str] = []
    real_send = world.sqs.send_batch

    def send_and_fail_back(url: str, entries: Any) -> Any:
        answer = real_send(url, entries)
        if url == world.source:
            for entry in entries:
                copies.extend(world.put(1, f"copy-of-{entry['Id']}", sent_ms=_ms(_now())))
        return answer

    world.sqs.send_batch = send_and_fail_back  # type: ignore[method-assign]

    # When Bob approves
    world.click(request_id)

    # Then the run moved the 3 counted once each, and none of the copies that came back
    run = world.state.get_run(request_id)
    assert run is not None and run.status is RunStatus.DONE and run.moved == 3
    assert len(copies) == 3 and sorted(world.sqs.queues[world.dlq].messages) == sorted(copies)
    assert world.sqs.visible(world.source) == 3


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000) + 1


def test_approve_and_reject_at_once_decide_once_and_the_loser_is_told_the_truth() -> None:
    for _ in range(5):  # either may win: each time exactly one decision stands
        # Given a card for 2 orders
        world = _World()
        world.put(2)
        request_id = world.ask()
        stored = world.state.get_request(request_id)
        assert stored is not None and stored.message_ts is not None
        jobs = [
            SIGNER.seal(
                DecisionJob(
                    decision,
                    request_id,
                    "U_BOB",
                    "C_OPS",
                    stored.message_ts,
                    "T_LOCAL",
                    f"https://{decision}",
                    decision,
                ),
                _now(),
            )
            for decision in ("approve", "reject")
        ]

        # When Bob's Approve and Reject are handled at the same time
        threads = [threading.Thread(target=world.worker.handle, args=(j, None)) for j in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

        # Then one decision stands, the run matches it, and the other click is told which
        decided = world.state.get_request(request_id)
        assert decided is not None
        run = world.state.get_run(request_id)
        told = {url: json.dumps(answer) for url, answer, _ in world.slack.answers}
        if decided.status is RequestStatus.APPROVED:
            assert run is not None and run.status is RunStatus.DONE and run.moved == 2
            assert "Already approved by <@U_BOB>" in told["https://reject"]
            assert world.sqs.visible(world.source) == 2
        else:
            assert decided.status is RequestStatus.REJECTED and run is None
            assert "Already rejected by <@U_BOB>" in told["https://approve"]
            assert world.sqs.visible(world.dlq) == 2 and world.sqs.visible(world.source) == 0
        kinds = [e["kind"] for e in world.state.events(request_id)]
        assert kinds.count("approved") + kinds.count("rejected") == 1


class _EngineBug(Exception):
    """Something the engine did not expect (not a DlqRedriveError): it raises mid-run."""


def test_a_run_whose_engine_raised_mid_run_gives_its_saved_figures_as_lower_bounds() -> None:
    # Given a card for 20 orders, and an engine that raises at its second send to the source,
    # after its progress saved the first 10 as moved
    world = _World(WorkerOptions(progress_interval_s=0.01))
    world.put(20)
    request_id = world.ask()
    sends = 0

    def raise_at_second_send(url: str) -> bool:
        nonlocal sends
        if url != world.source:
            return False
        sends += 1
        if sends == 2:
            for _ in range(3000):  # the progress thread saves within a few ms
                run = world.state.get_run(request_id)
                if run is not None and run.moved:
                    break
                threading.Event().wait(0.005)
            raise _EngineBug("boom")
        return False

    world.sqs.fail_call = raise_at_second_send

    # When Bob approves
    world.click(request_id)

    # Then the run failed, and its card gives the last saved figures as lower bounds, with no
    # duration it never measured (it said "moved *10*" as exact, and a partial duration)
    run = world.state.get_run(request_id)
    assert run is not None and run.status is RunStatus.FAILED and run.unreported
    assert run.moved == 10 and "_EngineBug: boom" in str(run.error)
    shown = json.dumps(world.slack.calls[-1][1]["blocks"])
    assert ":x: Redrive failed: moved at least *10*" in shown and "moved *10*" not in shown
    assert "by its last saved progress" in shown and " in 0." not in shown
    assert "may have moved more after its last saved progress" in shown


def _handed_over(world: _World, delivery: str) -> tuple[str, dict[str, Any]]:
    """A card for 2 orders whose approval (``delivery``) handed over to part 2 at once: the
    request id and the approving click's sealed job."""
    world.put(2)
    request_id = world.ask()
    stored = world.state.get_request(request_id)
    assert stored is not None and stored.message_ts is not None
    click = SIGNER.seal(
        DecisionJob(
            "approve", request_id, "U_BOB", "C_OPS", stored.message_ts, "T_LOCAL", "", delivery
        ),
        _now(),
    )
    world.worker.handle(click, _NoTimeLeft())
    return request_id, click


def test_a_part_that_died_between_its_checkpoint_and_the_next_part_fails_the_run() -> None:
    # Given an approval whose first part saved its checkpoint (continuing, part 2) and died
    # before part 2 was started: no part will ever run it
    world = _World()
    request_id, click = _handed_over(world, "h1")
    run = world.state.get_run(request_id)
    assert run is not None and run.status is RunStatus.CONTINUING and run.invocation == 2

    # When Lambda's record of part 1 arrives
    result = world.fail(_failure_record(click, "Task timed out after 900.00 seconds"))

    # Then the run is failed, saying why, with its checkpoint's figures (exact: the part's
    # engine had reported) and the one part that ran
    assert result["marked"] is True
    run = world.state.get_run(request_id)
    assert run is not None and run.status is RunStatus.FAILED and not run.unreported
    assert run.invocation == 1
    assert "part 2 was never started" in str(run.error)
    assert "Task timed out after 900.00 seconds" in str(run.error)
    shown = json.dumps(world.slack.calls[-1][1]["blocks"])
    assert ":x: Redrive failed" in shown and "part 2 was never started" in shown
    assert "invocations" not in shown  # one part ran
    # and a part 2 started late runs nothing: the 2 orders stay in the DLQ
    [part_2] = world.dispatcher.jobs
    world.worker.handle(part_2, _Invocation("late-part-2"))
    assert world.sqs.visible(world.dlq) == 2 and world.sqs.visible(world.source) == 0
    run = world.state.get_run(request_id)
    assert run is not None and run.status is RunStatus.FAILED


def test_the_record_of_a_part_whose_successor_took_over_does_not_fail_the_run() -> None:
    # Given an approval handed over to part 2, which took the run over
    world = _World()
    request_id, click = _handed_over(world, "h2")
    taken = world.state.claim_continuation(request_id, 2, _now(), owner="part-2-invocation")
    assert taken is not None

    # When Lambda's record of part 1 arrives
    result = world.fail(_failure_record(click, "Task timed out after 900.00 seconds"))

    # Then part 2 keeps the run
    assert result["marked"] is False
    run = world.state.get_run(request_id)
    assert run is not None and run.status is RunStatus.RUNNING and run.invocation == 2


def _race_record_and_claim(world: _World, request_id: str, click: dict[str, Any]) -> bool:
    """Part 1's record and part 2's claim at the same moment; True when the record won."""
    start = threading.Barrier(2)
    claimed: list[object] = []

    def claim() -> None:
        start.wait()
        claimed.append(world.state.claim_continuation(request_id, 2, _now(), owner="p2"))

    racer = threading.Thread(target=claim)
    racer.start()
    start.wait()
    result = world.fail(_failure_record(click, "Task timed out after 900.00 seconds"))
    racer.join(30)
    # exactly one of them took the run
    assert result["marked"] is (claimed == [None])
    return bool(result["marked"])


def test_a_dead_hand_over_and_the_next_parts_claim_at_once_exactly_one_wins() -> None:
    # Given runs handed over to part 2, each raced by part 1's record and part 2's claim
    for attempt in range(20):
        world = _World()
        request_id, click = _handed_over(world, f"r{attempt}")
        # When both come at once
        record_won = _race_record_and_claim(world, request_id, click)
        # Then the run is the winner's, and only the winner's
        run = world.state.get_run(request_id)
        assert run is not None
        assert run.status is (RunStatus.FAILED if record_won else RunStatus.RUNNING)
