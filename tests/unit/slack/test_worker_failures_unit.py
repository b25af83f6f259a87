"""A worker invocation that died: Lambda's on-failure record marks its run failed and the card
says why (``bot.slack.failures``), against in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.slack import blocks
from bot.slack.protocol import CommandJob, ContinueJob, DecisionJob, JobSigner
from bot.state import StateStore
from bot.state_model import RunStatus
from tests.unit.fake_slack import FakeSlackGateway as FakeSlack
from tests.unit.slack.worker_fakes import (
    fake_state,
    handle_failure_record,
    on_failure_record,
    started_run,
)

KEY = b"unit-test-job-signing-key-32-bytes!!"
ISSUED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LATER = ISSUED + timedelta(minutes=16)  # after the job's own 15-minute validity
RUN_ID = "20261201-115900-abcdef"
TIMED_OUT = "2026-12-01T12:15:00.000Z <req-1> Task timed out after 900.00 seconds"


def _world(
    status: RunStatus = RunStatus.RUNNING, invocation: int = 1
) -> tuple[StateStore, FakeSlack]:
    state, _ = fake_state()
    started_run(state, RUN_ID, ISSUED, status=status, invocation=invocation, moved=40)
    return state, FakeSlack()


def _record(payload: Any, message: str = TIMED_OUT) -> dict[str, Any]:
    return on_failure_record(payload, message)


def _fail(state: StateStore, slack: FakeSlack, record: dict[str, Any]) -> dict[str, Any]:
    return handle_failure_record(record, key=KEY, state=state, slack=slack, at=LATER)


def _decision() -> DecisionJob:
    return DecisionJob("approve", RUN_ID, "U_BOB", "C_OPS", "1.000001", "T_LOCAL", "https://r", "d")


def test_a_timed_out_approval_marks_its_run_failed_and_the_card_says_why() -> None:
    state, slack = _world()
    payload = JobSigner(KEY).seal(_decision(), ISSUED)

    result = _fail(state, slack, _record(payload))

    assert result == {"ok": True, "run": RUN_ID, "marked": True}
    run = state.get_run(RUN_ID)
    assert run is not None and run.status is RunStatus.FAILED
    assert "Task timed out after 900.00 seconds" in str(run.error)
    [update] = slack.texts("chat.update")
    assert ":x: Redrive failed: moved at least *40*" in update
    assert "Task timed out after 900.00 seconds" in str(slack.calls[-1][1]["blocks"])
    assert [e["kind"] for e in state.events(RUN_ID)] == ["outcome"]


def test_a_dead_workers_figures_are_said_as_those_of_its_last_saved_progress() -> None:
    # Given a run whose last saved progress says 40 moved, killed while it went on moving
    # (the LocalStack drill: the card said "moved *1,552*" and "in 0.00s"; 1,570 had reached
    # the source queues, 2 of them still in the DLQ too)
    state, slack = _world()
    payload = JobSigner(KEY).seal(_decision(), ISSUED)
    # When Lambda's on-failure record comes
    _fail(state, slack, _record(payload, "Runtime exited with error: signal: killed"))
    # Then the card gives the saved figures as lower bounds, claims no duration it never
    # measured, and says what the dead invocation may have left behind
    shown = str(slack.calls[-1][1]["blocks"])
    assert "moved at least *40*" in shown and "moved *40*" not in shown
    assert "0.00s" not in shown
    assert "may have moved more after its last saved progress" in shown
    assert "in both queues" in shown


def test_status_gives_a_dead_runs_figures_as_lower_bounds() -> None:
    # Given a run whose worker died after its progress said 40 moved (the drill's `status`
    # listed "failed · moved 1,527" for a run that had moved 1,592)
    state, slack = _world()
    _fail(state, slack, _record(JobSigner(KEY).seal(_decision(), ISSUED)))
    # When `status` lists it
    run = state.get_run(RUN_ID)
    assert run is not None and run.unreported
    listed = str(blocks.status([run], ZoneInfo("UTC"))["blocks"])
    # Then every figure is a lower bound of its last saved progress, said as one (it listed
    # "failed 0, skipped 0" as exact)
    assert "moved at least 40" in listed
    assert "failed at least 0, skipped at least 0" in listed
    assert "by its last saved progress" in listed
    assert "failed 0" not in listed and "skipped 0" not in listed


def test_a_continuation_that_died_fails_its_run() -> None:
    state, slack = _world(RunStatus.CONTINUING, invocation=3)  # handed over to part 3
    payload = JobSigner(KEY).seal(ContinueJob(RUN_ID, 3), ISSUED)
    _fail(state, slack, _record(payload, "Runtime exited with error: signal: killed"))
    run = state.get_run(RUN_ID)
    assert run is not None and run.status is RunStatus.FAILED and "signal: killed" in str(run.error)


def test_the_error_message_is_escaped_on_the_card() -> None:
    state, slack = _world()
    payload = JobSigner(KEY).seal(_decision(), ISSUED)
    _fail(state, slack, _record(payload, "boom <!channel> <https://x|click>"))
    shown = str(slack.calls[-1][1]["blocks"])
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown


def test_a_run_that_finished_keeps_its_outcome() -> None:
    state, slack = _world(RunStatus.DONE)
    payload = JobSigner(KEY).seal(_decision(), ISSUED)
    assert _fail(state, slack, _record(payload))["marked"] is False
    run = state.get_run(RUN_ID)
    assert run is not None and run.status is RunStatus.DONE and slack.calls == []


def test_an_unsigned_or_tampered_payload_is_refused() -> None:
    state, slack = _world()
    unsigned = {"job": "continue", "body": {"run_id": RUN_ID, "invocation": 2}}
    tampered = JobSigner(KEY).seal(ContinueJob("another-run", 2), ISSUED)
    tampered["body"]["run_id"] = RUN_ID
    for payload, reason in ((unsigned, "unsigned"), (tampered, "tampered")):
        assert _fail(state, slack, _record(payload)) == {"ok": False, "refused": reason}
    run = state.get_run(RUN_ID)
    assert run is not None and run.status is RunStatus.RUNNING and slack.calls == []


def test_a_command_that_died_tells_its_requester() -> None:
    state, slack = _world()
    job = CommandJob("list", "U_ALICE", "C_OPS", "T_LOCAL", "https://r", ISSUED.isoformat(), "d")
    _fail(state, slack, _record(JobSigner(KEY).seal(job, ISSUED)))
    assert "The worker stopped before it could answer" in slack.texts("response_url")[0]
