"""The App Home tab when things fail (issue 14): the state table failing in the middle of a read
(its index query answered, its batch gets refused), on moto through the fault proxy, rendered
as the worker would publish it; and Slack refusing or rate-limiting views.publish through the
real endpoint and worker (tests/integration/slack harness)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.slack.home_view import home_view
from bot.slack.ids import ActionId
from infra.local.moto_server import LocalAws
from tests.faults.fault_proxy import Fault, FaultProxy
from tests.integration.slack.home_world import home_click, open_home, published
from tests.integration.slack.slack_harness import SlackHarness, harness, seed_orders, slack_env
from tests.integration.slack.test_home_data import Seen, _reader, _seed, seen

__all__ = ["harness", "seen", "slack_env"]  # fixtures


def _texts(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_a_state_table_failing_mid_read_is_never_shown_as_none(
    sqs: Any, aws: LocalAws, seen: tuple[FaultProxy, Seen]
) -> None:
    # Given two pending approvals, a run in progress and orders-dlq's last scan, and a state
    # table that answers its queries but refuses every batch get (mid-read: the index of the
    # requests was read, the requests themselves, the runs' requests and the scans were not)
    scene = _seed(sqs)
    proxy, _ = seen
    failing = FaultProxy(
        aws.endpoint,
        lambda action, n: Fault.UNAVAILABLE if action == "BatchGetItem" else Fault.PASS,
    )
    with failing:
        data = _reader(proxy.endpoint, dynamodb_endpoint=failing.endpoint).read("U_BOB")
    assert failing.injected() >= 3
    # When the tab is rendered
    text = _texts(home_view(data, tz=_reader(proxy.endpoint).queues.tz))
    # Then the DLQs show with their counts, each unread part is named, and none is said to be
    # empty: two requests are pending, a run is in progress, orders-dlq was scanned
    assert "Depth *about 3*" in text and "Depth *about 6*" in text
    assert "Pending approvals could not be read" in text
    assert "*Pending approvals*: none" not in text
    assert "*Runs in progress*: none" not in text
    assert "No daily scan recorded yet." not in text
    assert scene.orders.request_id not in text  # nothing invented either


def test_the_watched_dlqs_unreadable_is_not_shown_as_none_found(
    sqs: Any, aws: LocalAws, seen: tuple[FaultProxy, Seen]
) -> None:
    # Given SQS refusing to list the queues (the catalog cannot be read at all)
    _seed(sqs)
    sqs_down = FaultProxy(
        aws.endpoint,
        lambda action, n: Fault.DENY if action == "ListQueues" else Fault.PASS,
    )
    with sqs_down:
        data = _reader(sqs_down.endpoint).read("U_BOB")
    text = _texts(home_view(data, tz=_reader(sqs_down.endpoint).queues.tz))
    # Then the tab says they could not be read, never that there is none
    assert "could not be read" in text
    assert "No watched DLQ found." not in text


def test_a_rate_limited_publish_is_waited_out_and_published_once(harness: SlackHarness) -> None:
    # Given Slack answering the first views.publish with HTTP 429 (Retry-After: 1)
    seed_orders(harness.sqs, 2)
    answers = iter([{"ok": False, "error": "ratelimited", "_status": 429}])

    def limited(body: dict[str, Any]) -> dict[str, Any]:
        answer = next(answers, None)
        if answer is not None:
            return answer
        del harness.slack.state.overrides["views.publish"]
        return harness.slack.state.home.publish(body, "T_LOCAL")

    harness.slack.state.overrides["views.publish"] = limited
    # When Alice opens her Home tab
    assert open_home(harness, event_id="Ev0LIMIT")["statusCode"] == 200
    harness.settle()
    # Then the worker waited and published it, once
    assert len(harness.calls("views.publish")) == 2
    assert "Depth *about 2*" in json.dumps(published(harness)["blocks"])


@pytest.mark.parametrize("error", ["view_too_large", "invalid_arguments"])
def test_a_tab_slack_refuses_is_replaced_by_one_saying_so_and_refresh_works(
    harness: SlackHarness, error: str
) -> None:
    # Given Slack refusing the first publish (view_too_large, as it would for a view over
    # 250 KB; invalid_arguments, for a block it does not accept)
    seed_orders(harness.sqs, 1)
    harness.slack.state.refuse("views.publish", error)
    assert open_home(harness, event_id="Ev0BIG")["statusCode"] == 200
    harness.settle()
    # Then the tab is not left blank (a first-time viewer would have no Refresh button) nor
    # stale: it says Slack refused it, with Refresh
    shown = json.dumps(published(harness)["blocks"])
    assert error in shown and ActionId.HOME_REFRESH.value in shown
    assert "Depth" not in shown
    # When Alice clicks Refresh (a new delivery, not a replay of the refused one)
    ack, _ = home_click(harness, ActionId.HOME_REFRESH)
    assert ack["statusCode"] == 200
    harness.settle()
    # Then her tab is published
    assert "Depth *about 1*" in json.dumps(published(harness)["blocks"])


def test_a_refresh_the_worker_could_not_take_is_acked_and_publishes_nothing(
    harness: SlackHarness,
) -> None:
    # Given Lambda refusing every attempt to invoke the worker
    seed_orders(harness.sqs, 1)
    harness.lambdas.fault("worker", status=500, times=3)
    # When Refresh is clicked: the click is acked (Slack shows no error), nothing runs
    ack, _ = home_click(harness, ActionId.HOME_REFRESH)
    assert ack["statusCode"] == 200
    harness.settle()
    assert harness.calls("views.publish") == []
    # And the next click, with Lambda back, publishes
    home_click(harness, ActionId.HOME_REFRESH)
    harness.settle()
    assert len(harness.calls("views.publish")) == 1


def test_a_watched_dlq_that_could_not_be_read_is_not_left_out_of_the_tabs_count(
    sqs: Any, aws: LocalAws
) -> None:
    # Given DLQ_QUEUES naming three DLQs, one of which SQS no longer has
    _seed(sqs)
    env = {"DLQ_QUEUES": "orders-dlq,payments-dlq,retired-dlq"}
    data = _reader(aws.endpoint, env=env).read("U_BOB")
    assert [d.name for d in data.dlqs] == ["payments-dlq", "orders-dlq"], data.problems
    # When the tab is rendered
    text = _texts(home_view(data, tz=_reader(aws.endpoint).queues.tz))
    # Then its head does not count two watched DLQs as if that were all: one was not read
    assert "*2* watched DLQ(s):" not in text
    assert "*2* watched DLQ(s) read, 1 could not be" in text


def test_a_publish_whose_answer_is_lost_after_slack_showed_it_is_not_overwritten(
    harness: SlackHarness,
) -> None:
    # Given Slack showing the published tab, then its answer lost (a 502 from a proxy)
    seed_orders(harness.sqs, 2)

    def shown_then_lost(body: dict[str, Any]) -> dict[str, Any]:
        del harness.slack.state.overrides["views.publish"]
        harness.slack.state.home.publish(body, "T_LOCAL")
        return {"_status": 502, "_text": "Bad Gateway"}

    harness.slack.state.overrides["views.publish"] = shown_then_lost
    # When Alice opens her Home tab
    assert open_home(harness, event_id="Ev0LOST")["statusCode"] == 200
    harness.settle()
    # Then the tab Slack showed stays: no error view published over it (the view was not
    # refused, its answer was lost), and no second publish
    assert len(harness.calls("views.publish")) == 1
    assert "Depth *about 2*" in json.dumps(published(harness)["blocks"])
