"""The daily auto-redrive of DLQs of every kind (issue 13), on the in-memory SQS: what no retry
delivers is counted apart from poison, with its reason, across invocations; failures keep their
codes; a DLQ whose kind takes no canary runs without one and says why."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from bot.canary import canary_blocker
from bot.catalog import Dlq, DlqCatalog
from bot.config import EngineSettings
from bot.daily.auto_redrive import AutoRedriver, auto_redrive_of
from bot.daily.once import Attempt, LeaseTiming
from bot.daily.report import AutoRedrive
from bot.pacing import Deadline
from bot.redrive_model import RedriveReport, StopReason
from bot.selection import Selection
from tests.unit.daily.fakes import Stores
from tests.unit.fake_sqs import FakeSqs, arn_of
from tests.unit.kind_feeders import sns_feeder
from tests.unit.kind_messages import sns_envelope

SELECTION = Selection()
NO_PERMISSIONS = "EventBridge ERROR_CODE NO_PERMISSIONS: fix the target"
NO_RESOURCE = "EventBridge ERROR_CODE NO_RESOURCE: fix the target"


def _report(**values: Any) -> RedriveReport:
    return RedriveReport(dlq="events-dlq", dry_run=False, selection="", **values)


def test_messages_no_retry_delivers_are_not_counted_as_poison() -> None:
    # Given an engine report: 5 need a human, 3 of them for EventBridge codes (2 are poison),
    # and 2 failed because they name a target that does not feed the DLQ
    result = _report(
        needs_human=5,
        needs_human_reasons=Counter({NO_PERMISSIONS: 2, NO_RESOURCE: 1}),
        failed=2,
        failure_reasons=Counter({"UnknownTarget": 2}),
    )

    # When the daily job keeps it
    redrive = auto_redrive_of(result, SELECTION)

    # Then poison is 2, the held ones are apart by reason (most first), failures by code
    assert redrive.needs_human == 2
    assert redrive.for_human == ((NO_PERMISSIONS, 2), (NO_RESOURCE, 1))
    assert redrive.for_human_count == 3
    assert redrive.failed_codes == (("UnknownTarget", 2),)


def test_across_invocations_held_messages_are_never_counted_twice() -> None:
    # Given an invocation that ran out of time having held 2 (they stay in the DLQ)
    first = auto_redrive_of(
        _report(
            needs_human=2,
            needs_human_reasons=Counter({NO_PERMISSIONS: 2}),
            stopped=StopReason.DEADLINE,
        ),
        SELECTION,
    )
    # When the continuation sees them again, with one more, and finishes
    last = auto_redrive_of(
        _report(needs_human=3, needs_human_reasons=Counter({NO_PERMISSIONS: 2, NO_RESOURCE: 1})),
        SELECTION,
        before=first,
    )
    # Then the run held 3, not 5; and poison stays 0
    assert last.for_human == ((NO_PERMISSIONS, 2), (NO_RESOURCE, 1))
    assert last.needs_human == 0
    # And a continuation that stopped early again keeps the larger count it saw before
    partial = auto_redrive_of(
        _report(
            needs_human=1,
            needs_human_reasons=Counter({NO_PERMISSIONS: 1}),
            stopped=StopReason.DEADLINE,
        ),
        SELECTION,
        before=first,
    )
    assert partial.for_human == ((NO_PERMISSIONS, 2),)


TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
SUBSCRIPTION_ID = "0a1b2c3d-1111-2222-3333-444455556666"


def _world(*, sns: bool) -> tuple[FakeSqs, AutoRedriver, Dlq, str]:
    """alerts-dlq on the in-memory SQS with 12 messages, fed by an SNS subscription whose
    endpoint is the queue alerts-worker (``sns``), or by the SQS queue alerts-worker."""
    sqs = FakeSqs()
    dlq_url = sqs.create("alerts-dlq")
    worker_url = sqs.create("alerts-worker", dead_letter_to=None if sns else dlq_url)
    for n in range(12):
        body = sns_envelope(json.dumps({"n": n}), topic_arn=TOPIC).body if sns else f"m{n}"
        sqs.put(dlq_url, body)
    settings = EngineSettings.from_env({})
    redriver = Stores.make().auto_redriver(sqs, DAILY_CANARY_SIZE="10", DAILY_CANARY_WAIT_S="0")
    dlq = DlqCatalog(sqs, settings).get("alerts-dlq") if not sns else None  # type: ignore[arg-type]
    if dlq is None:
        info = sqs.queue_info(dlq_url)
        feeder = sns_feeder(
            "sqs",
            arn_of("alerts-worker"),
            topic=TOPIC,
            subscription_id=SUBSCRIPTION_ID,
            dlq=info.arn,
        )
        dlq = Dlq(info=info, sources=(), feeders=(feeder,))
    return sqs, redriver, dlq, worker_url


def _run(redriver: AutoRedriver, dlq: Dlq) -> AutoRedrive:
    attempt = Attempt(None, "k", "owner", LeaseTiming(), None)
    done = redriver.redrive(
        datetime(2026, 3, 11, 6, tzinfo=UTC), dlq, SELECTION, Deadline(600.0), attempt
    )
    return done.result


def test_a_dlq_whose_kind_takes_no_canary_runs_without_one_and_says_why() -> None:
    # Given an SNS subscription's DLQ (its copies go to the subscription's queue: never back
    # to this DLQ marked) and a daily canary of 10
    sqs, redriver, dlq, worker_url = _world(sns=True)

    # When the auto-redrive runs
    result = _run(redriver, dlq)

    # Then it moved all 12 to the subscription's queue without a canary, and says why
    assert result.canary is None
    assert result.no_canary is not None and result.no_canary == canary_blocker(dlq)
    assert result.moved == 12
    assert result.moved_to == (
        ("queue alerts-worker (the subscription's endpoint, not the topic)", 12),
    )
    assert sorted(json.loads(json.loads(b)["Message"])["n"] for b in sqs.bodies(worker_url)) == (
        list(range(12))
    )


def test_a_plain_sqs_dlq_still_starts_with_its_canary() -> None:
    _sqs, redriver, dlq, _worker = _world(sns=False)
    result = _run(redriver, dlq)
    assert result.no_canary is None
    assert result.canary is not None and result.canary.moved == 10
