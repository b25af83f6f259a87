"""Attacks on issue 11's endpoint/worker boundary: the signed job envelope, the on-failure record
path, the installed-workspace check and who may read message bodies.

Each test is an attack an outsider (anyone allowed to invoke the worker or the on-failure
function, or a person in an allowed channel) or an unlucky operator could make; the in-memory
fakes stand in for DynamoDB and Slack (the rules under attack are ours, not AWS's).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.slack.jobs import SlackWorker
from bot.slack.observability import metrics
from bot.slack.protocol import (
    ContinueJob,
    DecisionJob,
    JobRejectedError,
    JobSigner,
    ReportButtonJob,
    _mac,
)
from bot.state import StateStore
from bot.state_model import RunStatus
from infra.local.moto_server import LocalAws
from infra.local.scene import create_pair, put_in_dlq
from tests.integration.slack.slack_harness import (
    APPROVER,
    SlackHarness,
    make_harness,
    slack_env,
)
from tests.unit.fake_slack import FakeSlackGateway as FakeSlack
from tests.unit.slack.worker_fakes import (
    fake_state,
    handle_failure_record,
    on_failure_record,
    started_run,
    wired_worker,
    worker_env,
)

__all__ = ["slack_env"]  # fixture

KEY = b"hostile-test-job-signing-key-32-bytes!"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RUN_ID = "20261201-115900-abcdef"


@pytest.fixture(autouse=True)
def no_metrics_left() -> Iterator[None]:
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def _decision(user: str = "U_BOB", decision: str = "approve") -> DecisionJob:
    return DecisionJob(decision, RUN_ID, user, "C_OPS", "1.000001", "T_LOCAL", "https://r", "d")  # type: ignore[arg-type]


def _resealed(envelope: dict[str, Any]) -> dict[str, Any]:
    """``envelope`` signed again with the real key after a change: what only a holder of the
    key (or a bug on the sealing side) could make; the worker must still refuse it cleanly."""
    unsigned = {k: v for k, v in envelope.items() if k != "sig"}
    return {**unsigned, "sig": _mac(KEY, unsigned)}


class _Nothing:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"nothing may run: {name} was used")


def _worker_of(
    state: StateStore,
    slack: FakeSlack,
    *,
    decisions: Any = None,
    runner: Any = None,
    at: datetime = NOW,
) -> SlackWorker:
    """The worker with only the parts given: any other it uses fails the test."""
    return SlackWorker(
        signer=JobSigner(KEY),
        state=state,
        slack=slack,
        commands=_Nothing(),  # type: ignore[arg-type]
        decisions=decisions or _Nothing(),  # type: ignore[arg-type]
        runner=runner or _Nothing(),  # type: ignore[arg-type]
        clock=lambda: at,
    )


def _worker() -> tuple[SlackWorker, FakeSlack]:
    state, _ = fake_state()
    slack = FakeSlack()
    return _worker_of(state, slack), slack


# --- the envelope -------------------------------------------------------------------------------


def test_a_signature_of_non_ascii_text_is_refused_as_tampered_not_a_crash() -> None:
    # Given an event anyone may send the worker: no key needed, a "sig" of non-ASCII text
    # (hmac.compare_digest raises TypeError on non-ASCII str: the worker crashed, Lambda
    # counted an error and sent the event to the on-failure function, which crashed again)
    worker, slack = _worker()
    event = {**JobSigner(KEY).seal(_decision(), NOW), "sig": "é" * 64}

    # When the worker gets it, Then it is refused, counted, and nothing is said or run
    assert worker.handle(event, None) == {"ok": False, "refused": "tampered"}
    assert "JobsRejected" in metrics.metric_set
    assert slack.calls == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("decision", ["approve"]),  # a list where a Literal is expected (unhashable)
        ("decision", {"approve": True}),
        ("decision", True),
        ("user", ["U_BOB"]),
        ("user", 7),
    ],
)
def test_a_sealed_body_with_fields_of_the_wrong_type_is_malformed(field: str, value: Any) -> None:
    envelope = JobSigner(KEY).seal(_decision(), NOW)
    envelope["body"] = {**envelope["body"], field: value}
    with pytest.raises(JobRejectedError) as refused:
        JobSigner(KEY).open(_resealed(envelope), NOW)
    assert refused.value.reason == "malformed"


def test_a_report_button_with_a_list_for_its_action_is_malformed() -> None:
    job = ReportButtonJob("peek", "orders-dlq", None, None, "U", "C", "T", "https://r", "x", "d")
    envelope = JobSigner(KEY).seal(job, NOW)
    envelope["body"] = {**envelope["body"], "action": ["peek", "redrive"]}
    with pytest.raises(JobRejectedError) as refused:
        JobSigner(KEY).open(_resealed(envelope), NOW)
    assert refused.value.reason == "malformed"


def test_extra_top_level_keys_are_not_carried_on_a_signed_envelope() -> None:
    # The signature covers job, body, issued_at and expires_at only: anything else riding on
    # the envelope is unsigned data next to signed data, which nothing may ever read.
    envelope = {**JobSigner(KEY).seal(ContinueJob(RUN_ID, 2), NOW), "run_id": "another-run"}
    with pytest.raises(JobRejectedError) as refused:
        JobSigner(KEY).open(envelope, NOW)
    assert refused.value.reason == "malformed"


@pytest.mark.parametrize(
    "times",
    [
        {"issued_at": float(int(NOW.timestamp()))},  # a JSON number written as a float
        {"expires_at": float(int(NOW.timestamp()) + 900)},
        {"issued_at": True},
        {"issued_at": str(int(NOW.timestamp()))},
    ],
)
def test_times_that_are_not_integers_are_malformed(times: dict[str, Any]) -> None:
    envelope = {**JobSigner(KEY).seal(ContinueJob(RUN_ID, 2), NOW), **times}
    with pytest.raises(JobRejectedError) as refused:
        JobSigner(KEY).open(_resealed(envelope), NOW)
    assert refused.value.reason == "malformed"


def test_a_far_future_issued_at_is_stale() -> None:
    later = NOW + timedelta(days=365)
    with pytest.raises(JobRejectedError) as refused:
        JobSigner(KEY).open(JobSigner(KEY).seal(ContinueJob(RUN_ID, 2), later), NOW)
    assert refused.value.reason == "stale"


def test_an_envelope_valid_for_longer_than_a_job_ever_is_refused() -> None:
    # No sealer makes a job valid past JOB_TTL_S: one that says so is not ours to run late
    envelope = JobSigner(KEY).seal(ContinueJob(RUN_ID, 2), NOW)
    envelope["expires_at"] = envelope["issued_at"] + 10 * 365 * 86400
    with pytest.raises(JobRejectedError):
        JobSigner(KEY).open(_resealed(envelope), NOW + timedelta(days=30))


def test_a_replayed_sealed_decision_within_its_ttl_is_dropped_by_its_delivery_key() -> None:
    # The same sealed click delivered twice (Lambda at least once, or a captured event):
    # the delivery key of its Slack request drops the second before any decision is read.
    state, _ = fake_state()
    slack = FakeSlack()
    decided: list[str] = []

    class _Decisions:
        def handle(self, job: DecisionJob, context: Any) -> None:
            decided.append(job.user)

    worker = _worker_of(state, slack, decisions=_Decisions(), at=NOW + timedelta(minutes=14))
    sealed = JobSigner(KEY).seal(_decision(), NOW)
    assert worker.handle(sealed, None) == {"ok": True}
    assert worker.handle(sealed, None) == {"ok": True, "replay": True}
    assert decided == ["U_BOB"]


def test_a_short_key_in_config_is_a_config_error_naming_the_variable() -> None:
    from bot.config import SlackSettings
    from bot.errors import ConfigError
    from bot.slack.credentials import resolve_job_signer

    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_TEAM_ID": "T_LOCAL", "JOB_SIGNING_KEY": "x" * 31}
    settings = SlackSettings.from_env(env)
    with pytest.raises(ConfigError, match="job signing key"):
        resolve_job_signer(settings)


# --- the on-failure record path -----------------------------------------------------------------


def _failure_world(invocation: int, status: RunStatus = RunStatus.RUNNING) -> StateStore:
    state, _ = fake_state()
    started_run(state, RUN_ID, NOW, status=status, invocation=invocation)
    return state


def _record(payload: Any, message: str = "Task timed out after 900.00 seconds") -> dict[str, Any]:
    return on_failure_record(payload, message)


def _fail(state: StateStore, record: dict[str, Any]) -> tuple[dict[str, Any], FakeSlack]:
    slack = FakeSlack()
    result = handle_failure_record(
        record, key=KEY, state=state, slack=slack, at=NOW + timedelta(minutes=20)
    )
    return result, slack


def _status(state: StateStore) -> RunStatus:
    run = state.get_run(RUN_ID)
    assert run is not None
    return run.status


def test_the_record_of_the_invocation_that_handed_over_does_not_fail_the_next_one() -> None:
    # Given the approving invocation handed the run over to part 2, which took it over, and
    # then died on its way out
    state = _failure_world(invocation=2, status=RunStatus.RUNNING)

    # When Lambda's record of that first invocation arrives
    result, slack = _fail(state, _record(JobSigner(KEY).seal(_decision(), NOW)))

    # Then part 2's run goes on: the record is of an invocation that no longer owns it
    assert result["marked"] is False
    assert _status(state) is RunStatus.RUNNING and slack.calls == []


def test_the_record_of_the_invocation_that_handed_over_to_nobody_fails_the_run() -> None:
    # Given the approving invocation saved its checkpoint (continuing, part 2) and died before
    # any part 2 took the run over (it was [continuing] of the test above, which asserted the
    # run stayed "continuing": no part might ever run it)
    state = _failure_world(invocation=2, status=RunStatus.CONTINUING)

    # When Lambda's record of that first invocation arrives
    result, _ = _fail(state, _record(JobSigner(KEY).seal(_decision(), NOW)))

    # Then the run is failed, saying why
    assert result["marked"] is True and _status(state) is RunStatus.FAILED
    run = state.get_run(RUN_ID)
    assert run is not None and "part 2 was never started" in str(run.error)


def test_the_record_of_an_earlier_continuation_does_not_fail_a_later_one() -> None:
    state = _failure_world(invocation=3)
    result, _ = _fail(state, _record(JobSigner(KEY).seal(ContinueJob(RUN_ID, 2), NOW)))
    assert result["marked"] is False and _status(state) is RunStatus.RUNNING


def test_the_record_of_a_click_that_lost_does_not_fail_the_run_another_click_started() -> None:
    # Given Bob's approval runs; Carol's later click ("Already approved") died in the async queue
    # (EventAgeExceeded while the worker was busy) or on its way
    state = _failure_world(invocation=1)
    for loser in (_decision("U_CAROL"), _decision("U_CAROL", "reject")):
        result, _ = _fail(state, _record(JobSigner(KEY).seal(loser, NOW)))
        # Then Bob's run is not marked failed by a record of someone else's click
        assert result["marked"] is False and _status(state) is RunStatus.RUNNING


def test_the_record_of_the_invocation_that_owns_the_run_still_fails_it() -> None:
    state = _failure_world(invocation=3, status=RunStatus.CONTINUING)
    result, _ = _fail(state, _record(JobSigner(KEY).seal(ContinueJob(RUN_ID, 3), NOW)))
    assert result["marked"] is True and _status(state) is RunStatus.FAILED
    state = _failure_world(invocation=1)
    result, _ = _fail(state, _record(JobSigner(KEY).seal(_decision(), NOW)))
    assert result["marked"] is True and _status(state) is RunStatus.FAILED


def test_a_forged_record_with_a_non_ascii_signature_is_refused_not_a_crash() -> None:
    state = _failure_world(invocation=1)
    payload = {**JobSigner(KEY).seal(_decision(), NOW), "sig": "\u00e9" * 64}
    result, slack = _fail(state, _record(payload))
    assert result == {"ok": False, "refused": "tampered"}
    assert _status(state) is RunStatus.RUNNING and slack.calls == []


def test_a_forged_record_with_a_tampered_payload_leaves_a_live_run() -> None:
    state = _failure_world(invocation=1)
    payload = JobSigner(KEY).seal(ContinueJob("another-run", 1), NOW)
    payload["body"]["run_id"] = RUN_ID
    result, _ = _fail(state, _record(payload, "made up <!channel>"))
    assert result == {"ok": False, "refused": "tampered"}
    assert _status(state) is RunStatus.RUNNING


# --- continuations: a sealed ContinueJob is only ever its own part of its own run ----------------


def _continue_world(status: RunStatus, invocation: int) -> tuple[SlackWorker, StateStore]:
    from bot.slack.queues import WorkerOptions
    from bot.slack.runner import RedriveRunner

    state = _failure_world(invocation=invocation, status=status)
    runner = RedriveRunner(
        queues=_Nothing(),  # type: ignore[arg-type]
        state=state,
        cards=_Nothing(),  # type: ignore[arg-type]
        dispatcher=_Nothing(),  # type: ignore[arg-type]
        clock=lambda: NOW,
        options=WorkerOptions(),
    )
    return _worker_of(state, FakeSlack(), runner=runner), state


@pytest.mark.parametrize(
    ("status", "invocation", "job"),
    [
        (RunStatus.CONTINUING, 3, ContinueJob(RUN_ID, 2)),  # replay of a part already taken
        (RunStatus.RUNNING, 2, ContinueJob(RUN_ID, 2)),  # its part is running: a second copy
        (RunStatus.DONE, 2, ContinueJob(RUN_ID, 2)),  # the run is over
        (RunStatus.CANCELLED, 2, ContinueJob(RUN_ID, 2)),
        (RunStatus.CONTINUING, 2, ContinueJob("20261201-000000-ffffff", 2)),  # no such run
    ],
)
def test_a_sealed_continuation_runs_nothing_unless_its_run_waits_for_that_part(
    status: RunStatus, invocation: int, job: ContinueJob
) -> None:
    # Given a run in some state, and a validly sealed continuation replayed within its TTL
    worker, state = _continue_world(status, invocation)

    # When the worker gets it, Then no engine, card or hand-over is touched (_Nothing) and the
    # run is as it was
    assert worker.handle(JobSigner(KEY).seal(job, NOW), None) == {"ok": True}
    run = state.get_run(RUN_ID)
    assert run is not None and run.status is status and run.invocation == invocation


# --- who may read bodies ------------------------------------------------------------------------


def test_an_approver_who_is_a_guest_may_not_read_bodies() -> None:
    # "refuse guests": being listed in APPROVERS does not make a guest a full member
    from bot.config import SlackSettings
    from bot.slack import viewers
    from bot.slack.viewers import ViewerPolicy

    class _Slack:
        def user_info(self, user: str) -> dict[str, Any]:
            return {"id": user, "team_id": "T_LOCAL", "is_restricted": True}

        def usergroup_members(self, usergroup: str) -> list[str]:
            raise AssertionError("no group configured")

    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_TEAM_ID": "T_LOCAL", "APPROVERS": "U_GUEST"}
    rules = ViewerPolicy.from_settings(SlackSettings.from_env(env), _Slack())
    assert rules.refusal("U_GUEST") == viewers.GUEST


class _Viewers:
    def __init__(self, refused: dict[str, str]) -> None:
        self.refused = refused
        self.asked: list[str] = []

    def refusal(self, user: str) -> str | None:
        self.asked.append(user)
        return self.refused.get(user)


class _Requests:
    def __init__(self) -> None:
        self.made: list[str] = []

    def request(self, **kwargs: Any) -> None:
        self.made.append(str(kwargs["user"]))


def _handlers(viewers: _Viewers, requests: _Requests) -> Any:
    from bot.slack.command_handlers import CommandHandlers
    from bot.slack.queues import WorkerOptions

    state, _ = fake_state()
    return CommandHandlers(
        queues=_Nothing(),  # type: ignore[arg-type]
        state=state,
        slack=FakeSlack(),
        requests=requests,  # type: ignore[arg-type]
        approvers=_Nothing(),  # type: ignore[arg-type]
        viewers=viewers,
        clock=lambda: NOW,
        options=WorkerOptions(),
    )


def _command(text: str, user: str) -> Any:
    from bot.slack.protocol import CommandJob

    return CommandJob(text, user, "C_OPS", "T_LOCAL", "https://r", NOW.isoformat(), "d")


ORACLE = (
    "redrive orders-dlq --time-field patient.birthDate "
    '--since "1980-03-01T00:00:00+00:00" --until "1980-03-02T00:00:00+00:00"'
)


def test_a_count_by_a_body_field_is_refused_to_who_may_not_read_bodies() -> None:
    # Given a guest in an allowed channel who may not peek: a redrive's count selected by a
    # body field (and the "no readable time" / "outside the selection" counts it answers with)
    # tells, one window at a time, what that field holds: a birth date, by bisection
    from bot.errors import UsageError
    from bot.slack import viewers

    refusals = _Viewers({"U_GUEST": viewers.GUEST})
    requests = _Requests()
    with pytest.raises(UsageError, match="Guests"):
        _handlers(refusals, requests).command(_command(ORACLE, "U_GUEST"), None)

    # Then no count was made; a viewer's is, and a selection by sent time needs no such right
    assert requests.made == []
    _handlers(refusals, requests).command(_command(ORACLE, "U_VERA"), None)
    _handlers(refusals, requests).command(
        _command("redrive orders-dlq --yesterday", "U_GUEST"), None
    )
    assert requests.made == ["U_VERA", "U_GUEST"]


# --- the Lambda entry points, fed what anyone allowed to invoke them could send -----------------


class _Context:
    function_name = "worker"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:worker"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.mark.parametrize(
    "event",
    ["x", [], None, 5, {"sig": "\u00e9"}, {"sig": None, "body": "x"}, {"body": {"run_id": [1]}}],
)
def test_the_worker_handler_refuses_any_json_that_is_not_a_sealed_job(event: Any) -> None:
    import handlers.worker

    worker, slack = _worker()
    handlers.worker.worker.use(worker)
    try:
        result = handlers.worker.handler(event, _Context())
    finally:
        handlers.worker.worker.use(None)
    assert result["ok"] is False and result["refused"] in {"unsigned", "malformed", "tampered"}
    assert slack.calls == []


@pytest.mark.parametrize("event", ["x", [], None, 5])
def test_the_on_failure_handler_refuses_an_event_that_is_not_a_record(event: Any) -> None:
    import handlers.failed
    from bot.failure_routing import FailureRouter

    def never() -> Any:
        raise AssertionError("no side is built for what is not a record")

    handlers.failed.router.use(FailureRouter(worker_function="worker", worker=never, daily=never))
    try:
        result = handlers.failed.handler(event, _Context())
    finally:
        handlers.failed.router.use(None)
    assert result == {"ok": False, "refused": "not an on-failure record"}


# --- who may read bodies, through the real handlers (signed requests, local Lambda and Slack) ---

GUEST = "U_GUEST"
BODY = "PERSONAL-DATA-4711"


@pytest.fixture
def guest_harness(
    aws: LocalAws, slack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlackHarness]:
    """The whole app, with a guest listed in VIEWERS (configured by mistake) and a DLQ of
    bodies that hold personal data, each with a birth date."""
    for harness in make_harness(aws, {**slack_env, "VIEWERS": GUEST}, monkeypatch):
        harness.slack.state.add_user(GUEST, is_restricted=True)
        pair = create_pair(harness.sqs, "orders")
        bodies = [
            json.dumps({"customer": f"{BODY}-{i}", "birthDate": f"1980-03-0{i + 1}T00:00:00Z"})
            for i in range(3)
        ]
        put_in_dlq(harness.sqs, pair, bodies)
        yield harness


def _slack_saw_a_body(harness: SlackHarness) -> bool:
    return BODY in json.dumps([call.body for call in harness.slack.state.calls])


def test_a_guest_cannot_learn_a_body_field_from_a_redrive_count(
    guest_harness: SlackHarness,
) -> None:
    # When the guest asks for a count of one day of birth dates (a bisection's first step)
    guest_harness.command(
        'redrive orders-dlq --time-field birthDate --since "1980-03-01T00:00:00+00:00" '
        '--until "1980-03-02T00:00:00+00:00"',
        user=GUEST,
    )
    guest_harness.settle()

    # Then nothing was counted or posted: no card, and the answer says why, not how many
    assert guest_harness.calls("chat.postMessage") == []
    [answer] = guest_harness.responses()
    assert "reads message bodies" in answer and "Guests" in answer
    assert not any(ch.isdigit() for ch in answer.split("reads message bodies")[1])
    assert not _slack_saw_a_body(guest_harness)


def test_when_users_info_is_rate_limited_no_body_is_shown(guest_harness: SlackHarness) -> None:
    # Given Slack answering every users.info with 429 (Retry-After: 1; the client waits it out
    # twice, then gives up)
    guest_harness.slack.state.overrides["users.info"] = lambda _: {
        "ok": False,
        "error": "ratelimited",
        "_status": 429,
    }

    # When an approver peeks
    guest_harness.command("peek orders-dlq 3", user=APPROVER)
    guest_harness.settle()

    # Then no body reached Slack, and the approver is told it could not be checked
    from bot.slack import viewers

    assert viewers.UNCHECKED in guest_harness.responses()[-1]
    assert not _slack_saw_a_body(guest_harness)
    assert len(guest_harness.calls("users.info")) == 3  # the first try and two waits


# --- the worker's hand-over to itself -----------------------------------------------------------


class _LambdaThrottled:
    """The worker's own Invoke refused (Lambda throttling it, or its role lacking the right)."""

    def __init__(self) -> None:
        self.tries = 0

    def dispatch(self, job: dict[str, Any]) -> None:
        from bot.errors import AwsError

        self.tries += 1
        raise AwsError("could not start the worker function 'worker' (TooManyRequestsException)")


class _NoTimeLeft:
    def get_remaining_time_in_millis(self) -> int:
        return 0


def test_a_hand_over_lambda_refuses_fails_the_run_instead_of_leaving_it_continuing() -> None:
    # Given an approved request whose first invocation runs out of time at once, and Lambda
    # refusing the worker's invocation of its own next part
    from bot.slack.protocol import CommandJob
    from tests.unit.fake_sqs import FakeSqs

    sqs = FakeSqs()
    dlq = sqs.create("orders-dlq")
    sqs.create("orders", dead_letter_to=dlq)
    for i in range(2):
        sqs.put(dlq, json.dumps({"order": i}))
    lambdas = _LambdaThrottled()
    worker, state, slack = wired_worker(sqs, worker_env(KEY.decode()), lambdas)
    now = datetime.now(UTC)
    ask = CommandJob(
        "redrive orders-dlq", "U_ALICE", "C_OPS", "T_LOCAL", "https://r", now.isoformat(), "d1"
    )
    worker.handle(JobSigner(KEY).seal(ask, now), None)
    [(_, card)] = [c for c in slack.calls if c[0] == "chat.postMessage"]
    request_id = next(b for b in card["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    stored = state.get_request(request_id)
    assert stored is not None and stored.message_ts is not None
    click = DecisionJob(
        "approve", request_id, "U_BOB", "C_OPS", stored.message_ts, "T_LOCAL", "https://r", "d2"
    )

    # When Bob approves
    worker.handle(JobSigner(KEY).seal(click, now), _NoTimeLeft())

    # Then the hand-over was tried, and the run is not left "continuing" with no part to run
    # it: it is marked failed with why, and its card says so
    assert lambdas.tries == 1
    run = state.get_run(request_id)
    assert run is not None and run.status is RunStatus.FAILED, run
    assert "TooManyRequestsException" in str(run.error)
    assert "Redrive failed" in slack.texts("chat.update")[-1]
    assert sqs.visible(dlq) == 2  # nothing lost


# --- the installed-workspace check, on every kind of request Slack can send ----------------------


@pytest.mark.parametrize(
    ("body", "served"),
    [
        # Events API: the outer team_id is the workspace the event is for
        ({"type": "event_callback", "team_id": "T_OTHER", "event": {"type": "app_mention"}}, False),
        ({"type": "event_callback", "team_id": "T_LOCAL", "event": {"type": "app_mention"}}, True),
        # Modals, shortcuts, menus: team and user.team_id, each must be ours
        (
            {
                "type": "view_submission",
                "team": {"id": "T_LOCAL"},
                "user": {"id": "U1", "team_id": "T_PARTNER"},
            },
            False,
        ),
        ({"type": "shortcut", "team": {"id": "T_OTHER"}, "user": {"id": "U1"}}, False),
        (
            {
                "type": "block_suggestion",
                "team": {"id": "T_LOCAL"},
                "user": {"id": "U1", "team_id": "T_LOCAL"},
            },
            True,
        ),
        (
            {
                "type": "message_action",
                "team": {"id": "T_OTHER"},
                "user": {"id": "U1", "team_id": "T_LOCAL"},
            },
            False,
        ),
        # An org-wide install's click names no team: nothing to check, so refused
        (
            {
                "type": "block_actions",
                "is_enterprise_install": True,
                "team": None,
                "enterprise": {"id": "E_LOCAL"},
                "user": {"id": "U1", "team_id": "T_LOCAL"},
            },
            False,
        ),
        # Missing or malformed team fields fail closed
        ({"type": "block_actions", "team": {}, "user": {"id": "U1", "team_id": "T_LOCAL"}}, False),
        ({"type": "block_actions", "team": "T_LOCAL", "user": {"team_id": None}}, False),
        ({"command": "/dlq-redrive", "team_id": ["T_LOCAL"], "user_id": "U1"}, False),
        ({"command": "/dlq-redrive", "team_id": "T_LOCAL ", "user_id": "U1"}, False),
        ({"type": "url_verification", "challenge": "x"}, False),
    ],
)
def test_every_kind_of_request_must_name_only_the_installed_team(
    body: dict[str, Any], served: bool
) -> None:
    from bot.slack.workspace import InstalledWorkspace

    assert (InstalledWorkspace("T_LOCAL").refusal(body) is None) is served


def test_lambdas_error_message_is_inert_where_a_dead_command_tells_its_requester() -> None:
    # Given a peek whose invocation died with an error message anyone could shape (it can quote
    # what the code was handling): a broadcast, a disguised link, a mention, control characters
    from bot.slack.protocol import CommandJob

    state = _failure_world(invocation=1)
    job = CommandJob("peek orders-dlq", "U_ALICE", "C_OPS", "T_LOCAL", "https://r", "x", "d")
    hostile = "boom <!channel> <https://evil.example|your bank> <@U_BOB> \x1b[2J\u202e"
    result, slack = _fail(state, _record(JobSigner(KEY).seal(job, NOW), hostile))

    # Then the requester is told, and nothing in it is live in Slack
    assert result == {"ok": True, "run": None}
    [(_, answer)] = slack.calls
    shown = json.dumps(answer)
    for live in ("<!channel>", "<https://", "<@U_BOB>", "\x1b", "\u202e"):
        assert live not in json.loads(shown)["text"] and live not in str(answer["blocks"])
    assert "&lt;!channel&gt;" in answer["text"]
