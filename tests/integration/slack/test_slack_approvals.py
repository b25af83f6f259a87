"""Approval rules, enforced by the worker from stored state: who may decide, self-approval,
expiry, and exactly one decision however many people click at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.slack.ids import ActionId
from infra.local.moto_server import LocalAws
from infra.local.scene import count
from tests.integration.slack.slack_harness import (
    APPROVER,
    APPROVER_2,
    OUTSIDER,
    REQUESTER,
    FakeClock,
    SlackHarness,
    make_harness,
    seed_orders,
)


def test_user_outside_approvers_is_refused_and_nothing_changes(harness: SlackHarness) -> None:
    # Given a pending request
    pair = seed_orders(harness.sqs, 3)
    request_id = harness.request_card()

    # When someone outside APPROVERS clicks Approve
    harness.click(ActionId.APPROVE, request_id, user=OUTSIDER, message_ts=harness.card_ts())
    harness.settle()

    # Then they are told why, ephemerally; the card and the queues are untouched
    assert "you are not in APPROVERS" in harness.responses()[-1]
    assert harness.calls("response_url")[-1].body["response_type"] == "ephemeral"
    assert harness.updates() == []
    stored = harness.state.get_request(request_id)
    assert stored is not None and stored.status == "pending"
    assert count(harness.sqs, pair.dlq_url) == 3
    assert [e["kind"] for e in harness.state.events(request_id)] == ["requested", "refused"]


def test_outsider_cannot_reject_either(harness: SlackHarness) -> None:
    seed_orders(harness.sqs, 2)
    request_id = harness.request_card()

    harness.click(ActionId.REJECT, request_id, user=OUTSIDER, message_ts=harness.card_ts())
    harness.settle()

    assert "you are not in APPROVERS" in harness.responses()[-1]
    stored = harness.state.get_request(request_id)
    assert stored is not None and stored.status == "pending"


def test_requester_cannot_approve_own_request(harness: SlackHarness) -> None:
    # Given Alice (an approver herself) asked for the redrive
    pair = seed_orders(harness.sqs, 3)
    request_id = harness.request_card()

    # When Alice approves it
    harness.click(ActionId.APPROVE, request_id, user=REQUESTER, message_ts=harness.card_ts())
    harness.settle()

    # Then she is told someone else must; nothing moved
    assert "someone else has to approve it" in harness.responses()[-1]
    assert count(harness.sqs, pair.dlq_url) == 3
    assert count(harness.sqs, pair.source_url) == 0
    stored = harness.state.get_request(request_id)
    assert stored is not None and stored.status == "pending"


@pytest.fixture
def self_approval_harness(
    aws: LocalAws, slack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlackHarness]:
    yield from make_harness(aws, {**slack_env, "ALLOW_SELF_APPROVAL": "true"}, monkeypatch)


def test_self_approval_allowed_when_configured(self_approval_harness: SlackHarness) -> None:
    harness = self_approval_harness
    pair = seed_orders(harness.sqs, 3)
    request_id = harness.request_card()

    harness.click(ActionId.APPROVE, request_id, user=REQUESTER, message_ts=harness.card_ts())
    harness.settle()

    assert count(harness.sqs, pair.source_url) == 3
    assert f"Approved by <@{REQUESTER}>" in harness.updates()[0]


def test_reject_updates_card_and_moves_nothing(harness: SlackHarness) -> None:
    pair = seed_orders(harness.sqs, 3)
    request_id = harness.request_card()

    harness.click(ActionId.REJECT, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    assert harness.updates() == [
        f"orders-dlq redrive {request_id}: :no_entry: Rejected by <@{APPROVER}>; nothing was moved."
    ]
    assert count(harness.sqs, pair.dlq_url) == 3
    # and a later Approve is told who decided first
    harness.click(ActionId.APPROVE, request_id, user=APPROVER_2, message_ts=harness.card_ts())
    harness.settle()
    assert f"Already rejected by <@{APPROVER}>" in harness.responses()[-1]
    assert count(harness.sqs, pair.dlq_url) == 3


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def expiring_harness(
    aws: LocalAws, slack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> Iterator[SlackHarness]:
    env = {**slack_env, "APPROVAL_TTL_MINUTES": "5"}
    yield from make_harness(aws, env, monkeypatch, clock=clock)


def test_expired_request_cannot_be_approved(
    expiring_harness: SlackHarness, clock: FakeClock
) -> None:
    # Given a request with a 5-minute approval window
    harness = expiring_harness
    pair = seed_orders(harness.sqs, 3)
    request_id = harness.request_card()

    # When Bob approves 6 minutes later
    clock.advance(timedelta(minutes=6))
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    # Then he is told it expired, the card says so, and nothing moved
    assert "This request expired" in harness.responses()[-1]
    assert "Expired at" in harness.updates()[-1]
    stored = harness.state.get_request(request_id)
    assert stored is not None and stored.status == "expired"
    assert count(harness.sqs, pair.dlq_url) == 3
    # and it stays expired for the next clicker too
    harness.click(ActionId.APPROVE, request_id, user=APPROVER_2, message_ts=harness.card_ts())
    harness.settle()
    assert "This request expired" in harness.responses()[-1]
    assert harness.state.get_run(request_id) is None


def test_request_inside_its_window_can_be_approved(
    expiring_harness: SlackHarness, clock: FakeClock
) -> None:
    harness = expiring_harness
    pair = seed_orders(harness.sqs, 2)
    request_id = harness.request_card()

    clock.advance(timedelta(minutes=4))
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    assert count(harness.sqs, pair.source_url) == 2


@pytest.fixture
def group_harness(
    aws: LocalAws, slack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlackHarness]:
    yield from make_harness(aws, {**slack_env, "APPROVERS": "S_ONCALL"}, monkeypatch)


def test_ten_concurrent_approvals_lead_to_exactly_one_redrive(
    group_harness: SlackHarness,
) -> None:
    # Given 10 on-call engineers (a Slack user group in APPROVERS) and a pending request
    harness = group_harness
    oncall = [f"U_ONCALL{i}" for i in range(10)]
    harness.slack.state.usergroups["S_ONCALL"] = oncall
    pair = seed_orders(harness.sqs, 12)
    request_id = harness.request_card()
    ts = harness.card_ts()

    # When all ten click Approve at the same moment
    start = threading.Barrier(10)
    acks: list[int] = []

    def click(user: str) -> None:
        start.wait()
        response = harness.click(ActionId.APPROVE, request_id, user=user, message_ts=ts)
        acks.append(response["statusCode"])

    threads = [threading.Thread(target=click, args=(u,)) for u in oncall]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    harness.settle()

    # Then every click was acknowledged, exactly one redrive ran, and 12 messages moved once
    assert acks == [200] * 10
    stored = harness.state.get_request(request_id)
    assert stored is not None and stored.status == "approved"
    winner = stored.decided_by
    assert winner in oncall
    assert [e["kind"] for e in harness.state.events(request_id)].count("approved") == 1
    assert count(harness.sqs, pair.source_url) == 12
    assert count(harness.sqs, pair.dlq_url) == 0
    approved_updates = [u for u in harness.updates() if "Approved by" in u]
    assert approved_updates == [
        f"orders-dlq redrive {request_id}: :white_check_mark: Approved by <@{winner}>, redriving…"
    ]
    # and the nine others were told who decided first
    told = [r for r in harness.responses() if f"Already approved by <@{winner}>" in r]
    assert len(told) == 9
    run = harness.state.get_run(request_id)
    assert run is not None and run.moved == 12
