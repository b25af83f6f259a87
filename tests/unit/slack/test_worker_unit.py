"""The worker's router and decision shell against in-memory fakes (no server): only sealed jobs
run, and a won approval is written with its run before any Slack call."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.slack.cards import Cards
from bot.slack.decisions import Decisions
from bot.slack.jobs import SlackWorker
from bot.slack.observability import metrics
from bot.slack.protocol import DecisionJob, JobSigner, ReplyJob
from bot.state import StateStore
from bot.state_model import ApprovalRequest, RequestStatus, RunRecord, RunStatus
from tests.unit.fake_slack import FakeSlackGateway as FakeSlack
from tests.unit.fake_state_table import FakeStateTable
from tests.unit.slack.worker_fakes import fake_state

KEY = b"unit-test-job-signing-key-32-bytes!!"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
APPROVERS = frozenset({"U_BOB", "U_CAROL"})


class _Approvers:
    def members(self) -> frozenset[str]:
        return APPROVERS


class _Runner:
    """Records the runs it was asked to start (the runner has its own tests on moto)."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.started: list[str] = []

    def run(self, run: RunRecord, request: ApprovalRequest, context: Any) -> None:
        self.started.append(run.run_id)
        self.log.append("run")

    def resume(self, job: Any, context: Any) -> None:
        self.started.append(job.run_id)


@dataclass
class _LoggedSlack(FakeSlack):
    """The fake Slack, also noting each call in a shared log (the fake table's calls)."""

    log: list[str] = field(default_factory=list)

    def _check(self, method: str, body: dict[str, Any], doing: str) -> None:
        self.log.append(f"slack:{method}")
        super()._check(method, body, doing)


class _Unused:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"nothing may be run: {name} was called")


@pytest.fixture(autouse=True)
def no_metrics_left() -> Iterator[None]:
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def _request() -> ApprovalRequest:
    return ApprovalRequest(
        request_id="20261201-115900-abcdef",
        dlq="orders-dlq",
        selection={},
        selection_text="all messages",
        matched=3,
        requester="U_ALICE",
        channel="C_OPS",
        requested_at=NOW - timedelta(minutes=1),
        approval_expires_at=NOW + timedelta(hours=1),
        message_ts="1.000001",
    )


def _world(
    *, refuse_updates: int = 0
) -> tuple[SlackWorker, StateStore, FakeStateTable, _LoggedSlack, _Runner]:
    state, table = fake_state()
    state.put_request(_request())
    table.calls.clear()
    slack = _LoggedSlack(log=table.calls)  # one log of table and Slack calls, in order
    for _ in range(refuse_updates):
        slack.refuse("chat.update", "internal_error")
    runner = _Runner(table.calls)
    cards = Cards(slack, UTC, sleep=lambda _: None)
    decisions = Decisions(
        state=state,
        slack=slack,
        cards=cards,
        runner=runner,
        approvers=_Approvers(),
        allow_self_approval=False,
        clock=lambda: NOW,
    )
    worker = SlackWorker(
        signer=JobSigner(KEY),
        state=state,
        slack=slack,
        commands=_Unused(),  # type: ignore[arg-type]
        decisions=decisions,
        runner=runner,  # type: ignore[arg-type]
        clock=lambda: NOW,
    )
    return worker, state, table, slack, runner


def _approve(user: str = "U_BOB", delivery: str = "d1") -> DecisionJob:
    return DecisionJob(
        decision="approve",
        request_id="20261201-115900-abcdef",
        user=user,
        channel="C_OPS",
        message_ts="1.000001",
        team="T_LOCAL",
        response_url="https://hooks.slack.test/r1",
        delivery=delivery,
    )


def _unsigned(job: DecisionJob) -> dict[str, Any]:
    envelope = JobSigner(KEY).seal(job, NOW)
    del envelope["sig"]
    return envelope


def _tampered(job: DecisionJob) -> dict[str, Any]:
    envelope = JobSigner(KEY).seal(job, NOW)
    envelope["body"]["user"] = "U_CAROL"  # claims someone else clicked
    return envelope


def _stale(job: DecisionJob) -> dict[str, Any]:
    return JobSigner(KEY).seal(job, NOW - timedelta(hours=1))


def _legacy(job: DecisionJob) -> dict[str, Any]:
    # The old, untyped event: what anyone allowed to invoke the function could send
    return {"job": "decision", "decision": "approve", "request_id": job.request_id,
            "user": "U_BOB", "channel": "C_OPS", "message_ts": "1.000001"}  # fmt: skip


def _other_key(job: DecisionJob) -> dict[str, Any]:
    return JobSigner(b"another-key-that-is-32-bytes-long!!").seal(job, NOW)


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (_legacy, "unsigned"),
        (_unsigned, "unsigned"),
        (_tampered, "tampered"),
        (_other_key, "tampered"),
        (_stale, "stale"),
    ],
)
def test_a_job_not_sealed_with_the_workers_key_is_refused_and_nothing_runs(
    forge: Any, reason: str
) -> None:
    # Given a pending request and a decision event that was not sealed (or not as it is)
    worker, state, table, slack, runner = _world()

    # When the worker gets it
    result = worker.handle(forge(_approve()), None)

    # Then it is refused with its reason, counted, and nothing is decided, run, said or even
    # written (not the replay guard either)
    assert result == {"ok": False, "refused": reason}
    assert "JobsRejected" in metrics.metric_set
    stored = state.get_request("20261201-115900-abcdef")
    assert stored is not None and stored.status is RequestStatus.PENDING
    assert runner.started == [] and slack.calls == []
    assert table.calls == ["get"]  # only the check above


def test_the_refusal_is_logged_with_its_reason(caplog: pytest.LogCaptureFixture) -> None:
    worker, *_ = _world()
    worker.handle(_tampered(_approve()), None)
    logged = [r for r in caplog.records if r.getMessage() == "job refused"]
    assert len(logged) == 1 and logged[0].levelname == "WARNING"
    assert logged[0].__dict__["reason"] == "tampered"


def test_a_sealed_job_runs() -> None:
    worker, _, _, slack, _ = _world()
    job = ReplyJob(response_url="https://hooks.slack.test/r1", text="Unknown queue <x>")
    assert worker.handle(JobSigner(KEY).seal(job, NOW), None) == {"ok": True}
    assert slack.texts("response_url") == ["Unknown queue &lt;x&gt;"]


def test_a_won_approval_is_written_with_its_run_before_any_slack_call() -> None:
    worker, state, table, _, runner = _world()

    worker.handle(JobSigner(KEY).seal(_approve(), NOW), None)

    # The decision and the running run in one transaction, before any Slack call; then the
    # card, then the run itself
    first_slack = table.calls.index("slack:chat.update")
    assert "transact" in table.calls[:first_slack]
    assert table.calls[first_slack:] == ["slack:chat.update", "run"]
    run = state.get_run("20261201-115900-abcdef")
    assert run is not None and run.status is RunStatus.RUNNING and run.approved_by == "U_BOB"
    assert runner.started == ["20261201-115900-abcdef"]


def test_a_card_slack_will_not_update_never_loses_the_approval() -> None:
    # Given Slack refusing every card update (more than the retries)
    worker, state, _, slack, runner = _world(refuse_updates=10)

    # When Bob approves
    assert worker.handle(JobSigner(KEY).seal(_approve(), NOW), None) == {"ok": True}

    # Then the card update was tried a few times, and the run started all the same
    assert len(slack.texts("chat.update")) == 3
    assert runner.started == ["20261201-115900-abcdef"]
    run = state.get_run("20261201-115900-abcdef")
    assert run is not None and run.status is RunStatus.RUNNING
    # and Carol's later click is told it is approved (no second run)
    worker.handle(JobSigner(KEY).seal(_approve("U_CAROL", "d2"), NOW), None)
    assert "Already approved by <@U_BOB>" in slack.texts("response_url")[-1]
    assert runner.started == ["20261201-115900-abcdef"]


def test_only_one_of_two_approvals_wins() -> None:
    worker, state, _, _, runner = _world()
    worker.handle(JobSigner(KEY).seal(_approve("U_BOB", "d1"), NOW), None)
    worker.handle(JobSigner(KEY).seal(_approve("U_CAROL", "d2"), NOW), None)
    assert runner.started == ["20261201-115900-abcdef"]
    assert [e["kind"] for e in state.events("20261201-115900-abcdef")] == ["approved"]


def test_a_replayed_click_is_dropped() -> None:
    worker, _, _, _, runner = _world()
    sealed = JobSigner(KEY).seal(_approve(), NOW)
    worker.handle(sealed, None)
    assert worker.handle(sealed, None) == {"ok": True, "replay": True}
    assert runner.started == ["20261201-115900-abcdef"]
