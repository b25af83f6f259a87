"""Attacks on the alert checks between reports (issue 14), as an unlucky operator and an attacker
would make them: Slack answers lost or refused, lookups that fail, the state table failing in the
middle of a transaction, many DLQs at once. Real parts: ``handlers.alerts.handler`` on moto (SQS,
the state table, through a fault proxy where DynamoDB must fail) and the local Slack server.

Every test also checks, through the ``alerts`` fixture, that the job never received a message.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

import handlers.alerts
from bot.alerts.blocks import MAX_SHOWN, alert_message
from bot.alerts.job import AlertJob
from bot.alerts.rules import ALERTING, AlertState, Reading, decide
from bot.alerts.store import AlertStore, FedDlqStore
from bot.composition import build_alert_job
from bot.config import AlertSettings
from bot.slack.mrkdwn import block_text_length
from bot.slack.web_api import SlackError
from bot.state_table import StateTable
from infra.local.lambda_server import LocalLambdaContext
from infra.local.scene import QueuePair, create_pair, drain
from tests.deploy import conftest as deploy_world
from tests.deploy import test_alerts_infra as infra
from tests.deploy.test_template import as_list
from tests.faults.fault_proxy import Fault, FaultProxy
from tests.integration.alerts import conftest as alert_world
from tests.integration.alerts.conftest import FUNCTION_NAME, LEASE, START, Alerts

# The alert checks' fixtures (moto with the state table, the local Slack server, the handler).
slack = alert_world.slack
alerts = alert_world.alerts


def fill(sqs: Any, pair: QueuePair, n: int) -> None:
    """``n`` more messages in the DLQ (sent straight in: only its counts matter here)."""
    for start in range(0, n, 10):
        entries = [{"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, min(n, start + 10))]
        sqs.send_message_batch(QueueUrl=pair.dlq_url, Entries=entries)


def text(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def lose_the_next_answer(alerts: Alerts, method: str = "chat.postMessage") -> None:
    """Slack acts on the next ``method`` call, then its answer is lost (a 502 on the way back)."""
    state = alerts.slack.state

    def acted_then_lost(body: dict[str, Any]) -> dict[str, Any]:
        del state.overrides[method]
        state.answer(method, body)
        return {"_status": 502, "_text": "Bad Gateway"}

    state.overrides[method] = acted_then_lost


def named_in_channel(alerts: Alerts, name: str) -> int:
    """How many top-level messages of the alert channel name the DLQ ``name``."""
    return sum(f"`{name}`" in text(m) for m in alerts.alerts())


# --- a lookup that fails is not "not found" --------------------------------------------------


@pytest.mark.parametrize("error", ["internal_error", "ratelimited", "service_unavailable"])
def test_a_lookup_slack_fails_once_does_not_post_a_second_top_level_alert(
    alerts: Alerts, sqs: Any, error: str
) -> None:
    # Given a check whose alert Slack took but whose answer was lost (no Lambda retry)
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    lose_the_next_answer(alerts)
    with pytest.raises(SlackError):
        alerts.check(0)
    assert named_in_channel(alerts, "orders-dlq") == 1

    # When the next check looks the claimed alert up and Slack fails that lookup once (a
    # transient error: nothing says the alert is missing)
    alerts.slack.state.refuse("conversations.history", error)
    with contextlib.suppress(SlackError):  # failing the check is fine: the next one looks again
        alerts.check(5)
    following = alerts.check(10)

    # Then orders-dlq is named in one top-level message only, and its alert's ts is known: the
    # next growth goes into that thread
    assert named_in_channel(alerts, "orders-dlq") == 1, [text(m) for m in alerts.alerts()]
    assert following["alerted"] == []
    fill(sqs, orders, 10)
    assert alerts.check(15)["growing"] == ["orders-dlq"]
    [alert] = alerts.alerts()
    assert len(alerts.replies(alert["ts"])) == 1


def test_a_lookup_without_the_history_scope_still_posts_the_alert(alerts: Alerts, sqs: Any) -> None:
    # Given a claimed alert whose post never reached Slack, and an app without channels:history
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    alerts.slack.state.refuse("chat.postMessage", "internal_error")
    with pytest.raises(SlackError):
        alerts.check(0)
    alerts.slack.state.refuse("conversations.history", "missing_scope")

    # When the next check runs: the lookup can never work, so the alert must not wait on it
    following = alerts.check(5)

    # Then the alert is posted (as docs/alerts.md says: without the scope the part is posted)
    assert following["alerted"] == ["orders-dlq"]
    assert named_in_channel(alerts, "orders-dlq") == 1


# --- the state table failing between the transactions of one thread reply -----------------


@pytest.fixture
def flaky_table(alerts: Alerts) -> Iterator[FaultProxy]:
    """The alerts function's DynamoDB reached through a proxy; ``broken`` TransactWriteItems
    calls (by their order) answered 503 every time, boto3's own retries included."""
    upstream = alerts.env["AWS_ENDPOINT_URL"]
    broken: set[int] = set()
    proxy = FaultProxy(
        upstream,
        lambda action, seen: (
            Fault.UNAVAILABLE
            if action.endswith("TransactWriteItems") and flaky_table_calls(proxy) in broken
            else Fault.PASS
        ),
    )
    proxy.broken = broken  # type: ignore[attr-defined]
    with proxy:
        client = boto3.client("sqs")
        client.meta.events.register(
            "before-call.sqs.*", lambda model, **_: alerts.sqs_calls.append(model.name)
        )
        handlers.alerts.job.use(
            build_alert_job(
                alerts.env,
                sqs_client=client,
                dynamodb_client=boto3.client("dynamodb", endpoint_url=proxy.endpoint),
                lease_timing=LEASE,
                clock=alerts.clock,
            )
        )
        yield proxy


def flaky_table_calls(proxy: FaultProxy) -> int:
    """Which logical TransactWriteItems call this is (boto3's retries of one count as one):
    the number of calls that passed before it."""
    return sum(
        count
        for (name, fault), count in proxy.counts.items()
        if name.endswith("TransactWriteItems") and fault is Fault.PASS
    )


def test_a_table_failure_between_two_transactions_of_one_reply_loses_no_drained_note(
    alerts: Alerts, sqs: Any, flaky_table: FaultProxy
) -> None:
    # Given 150 DLQs alerted in one check (one alert, one thread), then all drained at once
    pairs = [create_pair(sqs, f"svc-{n:03d}") for n in range(150)]
    for pair in pairs:
        fill(sqs, pair, 1)
    first = alerts.check(0)
    assert len(first["alerted"]) == 150
    [alert] = alerts.alerts()
    for pair in pairs:
        drain(sqs, pair.dlq_url)

    # When the check that finds them drained records the first 100 states, and the state table
    # fails the next transaction (503 past boto3's retries); the scheduler then delivers the
    # same check again (at least once), and it runs
    flaky_table.broken.add(1)  # type: ignore[attr-defined]
    with pytest.raises(Exception):  # noqa: B017 - an AwsError, raised for Lambda
        alerts.check(5)
    flaky_table.broken.clear()  # type: ignore[attr-defined]
    alerts.check(5)

    # Then the thread still says, of every one of the 150 DLQs, that it was drained
    replies = [text(r) for r in alerts.replies(alert["ts"])]
    drained = {p.dlq_name for p in pairs if any(f"`{p.dlq_name}`: drained" in r for r in replies)}
    assert drained == {p.dlq_name for p in pairs}, f"{150 - len(drained)} drained notes lost"


# --- the template tests of the alert roles must fail when a right is added ------------------

# The deploy tests' session fixtures: the artifact and the default stage's packaged template.
artifact = deploy_world.artifact
template_path = deploy_world.template_path
template = deploy_world.template

# Ways a right reaches a role, each with an extra right: an action in its statement, a resource,
# a statement, an AWS managed policy, and the three policy resources that name a role.
GRANTS = [
    "action",
    "resource",
    "statement",
    "managed policy arn",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
]


def granted_more(template: dict[str, Any], role: str, how: str) -> dict[str, Any]:
    """A copy of ``template`` whose role ``role`` may also send messages to any queue."""
    mutated = copy.deepcopy(template)
    resources = mutated["Resources"]
    props = resources[role]["Properties"]
    statement = props["Policies"][0]["PolicyDocument"]["Statement"][0]
    extra = {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "*"}
    document = {"Version": "2012-10-17", "Statement": [extra]}
    if how == "action":
        statement["Action"] = [*as_list(statement["Action"]), "sqs:SendMessage"]
    elif how == "resource":
        statement["Resource"] = [*as_list(statement["Resource"]), "*"]
    elif how == "statement":
        props["Policies"][0]["PolicyDocument"]["Statement"].append(extra)
    elif how == "managed policy arn":
        props["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/AmazonSQSFullAccess"]
    elif how == "AWS::IAM::RolePolicy":
        resources["ExtraPolicy"] = {
            "Type": how,
            "Properties": {
                "PolicyName": "extra",
                "PolicyDocument": document,
                "RoleName": {"Ref": role},
            },
        }
    else:
        resources["ExtraPolicy"] = {
            "Type": how,
            "Properties": {
                "PolicyName": "extra",
                "PolicyDocument": document,
                "Roles": [{"Ref": role}],
            },
        }
    return mutated


@pytest.mark.parametrize("how", GRANTS)
def test_the_alert_scheduler_role_test_fails_when_the_role_gets_one_more_right(
    template: dict[str, Any], how: str
) -> None:
    # Given the packaged template, the alert scheduler role's test passes on it
    infra.test_the_alert_scheduler_role_may_only_invoke_the_alerts_function(template)
    # When its role gets one more right, however it is given
    mutated = granted_more(template, "AlertSchedulerRole", how)
    # Then the test fails (an assertion, or its unpacking of the one statement)
    with pytest.raises((AssertionError, ValueError)):
        infra.test_the_alert_scheduler_role_may_only_invoke_the_alerts_function(mutated)


@pytest.mark.parametrize("how", GRANTS)
def test_the_alert_function_role_test_fails_when_the_role_gets_one_more_right(
    template: dict[str, Any], how: str
) -> None:
    # Given the packaged template, the alerts function role's test passes on it
    check = infra.test_the_alert_role_has_exactly_its_rights_and_never_a_message_one
    check("default", template, template, template)
    # When its role gets one more right, however it is given
    mutated = granted_more(template, "AlertFunctionRole", how)
    # Then the test fails
    with pytest.raises(AssertionError):
        check("default", mutated, mutated, mutated)


# --- counts: in flight only, late and out-of-order checks, a clock behind -------------------


def test_a_dlq_whose_messages_are_all_in_flight_is_not_drained_and_its_counts_are_shown(
    alerts: Alerts, sqs: Any
) -> None:
    # Given orders-dlq with 5 messages, 2 of them received by someone (in flight for 10 minutes)
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 5)
    got = sqs.receive_message(QueueUrl=orders.dlq_url, MaxNumberOfMessages=2, VisibilityTimeout=600)
    assert len(got["Messages"]) == 2

    # When the check runs
    alerts.check(0)

    # Then the alert counts all 5, and says 2 are in flight (SQS's counts, as seeded)
    [alert] = alerts.alerts()
    assert "`orders-dlq`: about 5 messages (of them about 2 in flight)" in text(alert)

    # When the 3 visible ones are received too (all 5 in flight, none visible)
    sqs.receive_message(QueueUrl=orders.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=600)
    later = alerts.check(5)

    # Then the DLQ is not called drained: its messages are still there
    assert later["resolved"] == [] and alerts.replies(alert["ts"]) == []


def scheduled(alerts: Alerts, at_minute: int, *, clock_minute: int) -> dict[str, Any]:
    """The check scheduled at ``at_minute`` after START, run when the clock says
    ``clock_minute``: late (a delivery held back), or on a host whose clock is behind."""
    alerts.now = START + timedelta(minutes=clock_minute)
    at = START + timedelta(minutes=at_minute)
    event = {"time": at.isoformat().replace("+00:00", "Z")}
    result: dict[str, Any] = handlers.alerts.handler(
        event, LocalLambdaContext(FUNCTION_NAME, 60.0, f"late-{at_minute}-{clock_minute}")
    )
    return result


def test_a_late_check_of_an_earlier_time_alerts_nothing_twice_and_loses_no_update(
    alerts: Alerts, sqs: Any
) -> None:
    # Given orders-dlq alerted by the 03:05 check (the 03:00 check's delivery held back)
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    assert scheduled(alerts, 5, clock_minute=5)["alerted"] == ["orders-dlq"]
    [alert] = alerts.alerts()

    # When the 03:00 check arrives late, at 03:07, after orders-dlq grew by 10
    fill(sqs, orders, 10)
    late = scheduled(alerts, 0, clock_minute=7)

    # Then it alerts nothing at the top level and tells the growth in the alert's thread, once
    assert late["alerted"] == [] and late["growing"] == ["orders-dlq"]
    assert len(alerts.alerts()) == 1
    [reply] = alerts.replies(alert["ts"])
    assert "about 13 messages now, up from about 3 when last told" in text(reply)
    # And the 03:10 check after it repeats nothing
    assert scheduled(alerts, 10, clock_minute=10)["growing"] == []
    assert len(alerts.replies(alert["ts"])) == 1


def test_a_check_on_a_clock_behind_the_last_one_neither_realerts_nor_resolves_wrongly(
    alerts: Alerts, sqs: Any
) -> None:
    # Given orders-dlq alerted at 03:00 and checked at 03:10 (quiet period: 60 minutes)
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    alerts.check(0)
    alerts.check(10)

    # When the 03:15 check runs on a host whose clock says 03:02 (behind the last check)
    skewed = scheduled(alerts, 15, clock_minute=2)

    # Then nothing is said: the DLQ still holds its 3 messages and is already alerted
    assert skewed["alerted"] == [] and skewed["growing"] == [] and skewed["resolved"] == []
    assert len(alerts.alerts()) == 1
    # And once drained, the next check (clock right again) says so in the thread
    drain(sqs, orders.dlq_url)
    assert alerts.check(20)["resolved"] == ["orders-dlq"]


# --- DLQs deleted, recreated, or deleted in the middle of a check ---------------------------


def test_a_deleted_dlq_its_source_still_names_does_not_stop_the_other_alerts(
    alerts: Alerts, sqs: Any
) -> None:
    # Given billing-dlq deleted while billing's RedrivePolicy still names it, and orders-dlq
    # filling
    billing = create_pair(sqs, "billing")
    sqs.delete_queue(QueueUrl=billing.dlq_url)
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)

    # When the check runs
    outcome = alerts.check(0)

    # Then orders-dlq is alerted all the same
    assert outcome["alerted"] == ["orders-dlq"]
    assert named_in_channel(alerts, "orders-dlq") == 1


def test_a_dlq_deleted_during_a_check_does_not_stop_the_other_alerts(
    alerts: Alerts, sqs: Any
) -> None:
    # Given two filling DLQs, one deleted between ListQueues and the read of its attributes
    orders = create_pair(sqs, "orders")
    billing = create_pair(sqs, "billing")
    fill(sqs, orders, 3)
    fill(sqs, billing, 4)
    deleted: list[str] = []

    def delete_billing_dlq(request: Any) -> Fault | None:
        body = request.body.decode() if request.body else ""
        if request.action.endswith("GetQueueAttributes") and "billing-dlq" in body and not deleted:
            deleted.append(billing.dlq_url)
            boto3.client("sqs").delete_queue(QueueUrl=billing.dlq_url)
        return None

    with FaultProxy(
        alerts.env["AWS_ENDPOINT_URL"], lambda *_: Fault.PASS, inspect=delete_billing_dlq
    ) as proxy:
        client = boto3.client("sqs", endpoint_url=proxy.endpoint)
        client.meta.events.register(
            "before-call.sqs.*", lambda model, **_: alerts.sqs_calls.append(model.name)
        )
        handlers.alerts.job.use(
            build_alert_job(alerts.env, sqs_client=client, lease_timing=LEASE, clock=alerts.clock)
        )

        # When the check runs
        outcome = alerts.check(0)

    # Then orders-dlq is alerted all the same
    assert deleted
    assert "orders-dlq" in outcome["alerted"]
    assert named_in_channel(alerts, "orders-dlq") == 1


def test_a_dlq_recreated_empty_and_refilled_after_the_quiet_period_is_alerted_anew(
    alerts: Alerts, sqs: Any
) -> None:
    # Given orders-dlq alerted at 03:00, then deleted (no check reads it while it is gone)
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    alerts.check(0)
    sqs.delete_queue(QueueUrl=orders.dlq_url)
    alerts.check(5)

    # When it is recreated (empty), then refills after the quiet period
    again = create_pair(sqs, "orders")
    alerts.check(10)
    fill(sqs, again, 2)
    later = alerts.check(70)

    # Then a new alert came after the quiet period, with the new queue's count
    assert later["alerted"] == ["orders-dlq"]
    assert len(alerts.alerts()) == 2
    assert "`orders-dlq`: about 2 messages" in text(alerts.alerts()[-1])


# --- Slack refusing the alert ----------------------------------------------------------------


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
def test_an_alert_refused_until_the_bot_is_invited_is_posted_once_then(
    alerts: Alerts, sqs: Any, error: str
) -> None:
    # Given an alert channel the bot is not in (or cannot see) for two checks
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    for minute in (0, 5):
        alerts.slack.state.refuse("chat.postMessage", error)
        with pytest.raises(SlackError):
            alerts.check(minute)
    assert alerts.alerts() == []

    # When someone invites the bot and the next check runs
    following = alerts.check(10)

    # Then the alert owed since 03:00 is posted, once, with the DLQ's count
    assert following["alerted"] == ["orders-dlq"]
    [alert] = alerts.alerts()
    assert "`orders-dlq`: about 3 messages" in text(alert)
    assert alerts.check(15)["alerted"] == []


def test_the_state_table_failing_right_after_the_alert_was_posted_gives_no_second_alert(
    alerts: Alerts, sqs: Any
) -> None:
    # Given a state table that fails every write (503, past boto3's retries) from the moment
    # Slack took the alert: neither the post's record nor the claim's ts can be written
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    down = [True]

    def after_the_post(request: Any) -> Fault | None:
        writes = ("PutItem", "UpdateItem", "TransactWriteItems")
        posted = alerts.slack.state.calls_to("chat.postMessage")
        if down[0] and posted and request.action.endswith(writes):
            return Fault.UNAVAILABLE
        return None

    upstream = alerts.env["AWS_ENDPOINT_URL"]
    with FaultProxy(upstream, lambda *_: Fault.PASS, inspect=after_the_post) as proxy:
        client = boto3.client("sqs")
        client.meta.events.register(
            "before-call.sqs.*", lambda model, **_: alerts.sqs_calls.append(model.name)
        )
        handlers.alerts.job.use(
            build_alert_job(
                alerts.env,
                sqs_client=client,
                dynamodb_client=boto3.client("dynamodb", endpoint_url=proxy.endpoint),
                lease_timing=LEASE,
                clock=alerts.clock,
            )
        )
        # When the check posts the alert and then cannot record anything (it fails)
        with pytest.raises(Exception):  # noqa: B017 - an AwsError, raised for Lambda
            alerts.check(0)
        assert proxy.injected() > 0
        # And the table is back for the next checks
        down[0] = False
        following = alerts.check(5)

        # Then the alert is in the channel once: the next check found it by its metadata
        assert following["alerted"] == []
        [alert] = alerts.alerts()
        # And its thread is known: growth goes there
        fill(sqs, orders, 10)
        assert alerts.check(10)["growing"] == ["orders-dlq"]
        assert len(alerts.replies(alert["ts"])) == 1
        assert len(alerts.alerts()) == 1


def test_five_hundred_dlqs_at_once_are_one_alert_whose_every_number_is_the_seeded_count() -> None:
    # Given 500 DLQs filling at once, each with its own count (pure: rules and blocks)
    counts = {f"svc-{n:03d}-dlq": 1 + (n * 37) % 101 for n in range(500)}
    readings = [Reading(name, total, 0, 0) for name, total in counts.items()]
    settings = AlertSettings(channel="C0ALERTS")
    decision = decide({}, readings, now=START, settings=settings, run="r", part="alert.1")
    assert len(decision.actions) == 500

    # When the alert is rendered
    alert = alert_message(list(decision.actions), at=START, tz=ZoneInfo("UTC"), settings=settings)

    # Then one top-level message says 500, details the deepest 20 and sums the other 480 truly
    message = alert.rendered.message
    shown_text = json.dumps(message.blocks, ensure_ascii=False)
    assert "DLQ alert: 500 DLQs filling" in message.text
    deepest = sorted(counts, key=lambda n: (-counts[n], n))[:MAX_SHOWN]
    for name in deepest:
        assert f"`{name}`: about {counts[name]} message" in shown_text
    rest = sum(counts.values()) - sum(counts[n] for n in deepest)
    assert f"… and 480 more DLQs (about {rest:,} messages in all)" in shown_text
    # And every other DLQ is named once in the thread, with its own count, in the reply that
    # the job will claim it with; every message within Slack's limits
    for name, where in alert.where.items():
        if where == 0:
            assert name in deepest
            continue
        reply = json.dumps(alert.rendered.thread[where - 1].blocks, ensure_ascii=False)
        assert f"`{name}`: about {counts[name]} message" in reply
    assert len(alert.where) == 500
    for part in [message, *alert.rendered.thread]:
        assert len(part.blocks) <= 50 and block_text_length(part.blocks) <= 10_000


# --- two checks at once ----------------------------------------------------------------------


class RacingStore(AlertStore):
    """The alert states as a check reads them, and meanwhile another check (running at the same
    time: no reserved concurrency, a check run by hand) claims ``dlq`` for its own alert."""

    def __init__(self, table: Any, dlq: str) -> None:
        super().__init__(table)
        self.dlq = dlq
        self.raced = False

    def states(self, *, now: datetime) -> dict[str, AlertState]:
        read = super().states(now=now)
        if not self.raced:
            self.raced = True
            other = AlertState(
                self.dlq,
                status=ALERTING,
                alerted_at=now,
                notified_depth=4,
                quiet_until=now + timedelta(hours=1),
                alert_run="the-other-check",
                alert_part="alert.1",
            )
            assert self.save(other, now=now) is not None
        return read


def test_a_dlq_another_check_claimed_meanwhile_is_not_named_in_this_checks_alert(
    alerts: Alerts, sqs: Any
) -> None:
    # Given two filling DLQs, and another check claiming billing-dlq while this one decides
    orders = create_pair(sqs, "orders")
    billing = create_pair(sqs, "billing")
    fill(sqs, orders, 3)
    fill(sqs, billing, 4)
    job = handlers.alerts.job()
    racing = RacingStore(job.parts.store.table, "billing-dlq")
    handlers.alerts.job.use(AlertJob(replace(job.parts, store=racing)))

    # When this check runs
    outcome = alerts.check(0)

    # Then it does not name billing-dlq at the top level: the other check's alert does (two
    # messages naming one DLQ in its quiet period otherwise); orders-dlq is not dropped
    assert racing.raced and "billing-dlq" not in outcome["alerted"]
    assert named_in_channel(alerts, "billing-dlq") == 0
    later = alerts.check(5)
    assert named_in_channel(alerts, "orders-dlq") == 1
    assert "orders-dlq" in outcome["alerted"] + later["alerted"]


# --- the feeder-fed DLQs the daily report recorded -------------------------------------------


def test_a_fed_dlq_record_naming_a_gone_or_malformed_queue_stops_no_alert(
    alerts: Alerts, sqs: Any
) -> None:
    # Given the daily report's record of feeder-fed DLQs holding one since deleted, one whose
    # URL is not a queue URL, and one filling; and a filling DLQ a RedrivePolicy names
    fed = sqs.create_queue(QueueName="notices-dlq")["QueueUrl"]
    fill(sqs, QueuePair("", fed, "", "notices-dlq"), 2)
    gone = sqs.create_queue(QueueName="gone-dlq")["QueueUrl"]
    sqs.delete_queue(QueueUrl=gone)
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    FedDlqStore(StateTable(alert_world.STATE_TABLE)).record(
        {"notices-dlq": fed, "gone-dlq": gone, "odd<!channel>": "not a queue url"},
        now=START,
    )

    # When the check runs
    outcome = alerts.check(0)

    # Then both filling DLQs are alerted with their counts; the two it could not read are
    # named as unread (not dropped silently), and nothing of them reached Slack
    assert outcome["alerted"] == ["notices-dlq", "orders-dlq"]
    assert sorted(outcome["unread"]) == ["gone-dlq", "odd<!channel>"]
    [alert] = alerts.alerts()
    assert "`notices-dlq`: about 2 messages" in text(alert)
    assert "`orders-dlq`: about 3 messages" in text(alert)
    assert "channel" not in alert["text"]


# --- a thread update whose answer was lost, or which Slack refused ----------------------------


def test_a_drained_note_whose_answer_was_lost_is_followed_by_the_refill_note(
    alerts: Alerts, sqs: Any
) -> None:
    # Given orders-dlq alerted, then drained, and Slack posting the drained note but losing
    # its answer (the check fails; no Lambda retry)
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 5)
    alerts.check(0)
    [alert] = alerts.alerts()
    drain(sqs, orders.dlq_url)
    lose_the_next_answer(alerts)
    with pytest.raises(SlackError):
        alerts.check(5)

    # When it refills with 3 messages before the next check
    fill(sqs, orders, 3)
    following = alerts.check(10)

    # Then the thread says drained once, then that it fills again: the channel is never left
    # believing a filling DLQ drained
    replies = [text(r) for r in alerts.replies(alert["ts"])]
    assert following["reopened"] == ["orders-dlq"]
    assert len(replies) == 2 and "drained" in replies[0]
    assert "`orders-dlq`: filling again, about 3 messages" in replies[1]
    assert len(alerts.alerts()) == 1


def test_a_drained_note_slack_refused_is_posted_by_the_next_check_once(
    alerts: Alerts, sqs: Any
) -> None:
    # Given orders-dlq alerted, then drained, and Slack refusing the drained note
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 5)
    alerts.check(0)
    [alert] = alerts.alerts()
    drain(sqs, orders.dlq_url)
    alerts.slack.state.refuse("chat.postMessage", "internal_error")
    with pytest.raises(SlackError):
        alerts.check(5)
    assert alerts.replies(alert["ts"]) == []

    # When the next checks run (still drained)
    following = alerts.check(10)
    after = alerts.check(15)

    # Then the drained note is posted once, by the next check
    assert following["resolved"] == ["orders-dlq"] and after["resolved"] == []
    [reply] = alerts.replies(alert["ts"])
    assert "`orders-dlq`: drained" in text(reply)


def test_growth_whose_answer_was_lost_is_not_told_twice(alerts: Alerts, sqs: Any) -> None:
    # Given orders-dlq alerted at 3 messages, grown by 10, and the growth reply's answer lost
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    alerts.check(0)
    [alert] = alerts.alerts()
    fill(sqs, orders, 10)
    lose_the_next_answer(alerts)
    with pytest.raises(SlackError):
        alerts.check(5)

    # When the next check runs (no further growth)
    following = alerts.check(10)

    # Then the growth was told once, with the seeded count
    assert following["growing"] == []
    [reply] = alerts.replies(alert["ts"])
    assert "`orders-dlq`: about 13 messages now, up from about 3 when last told" in text(reply)


def test_checks_that_lost_nothing_never_read_slacks_history(alerts: Alerts, sqs: Any) -> None:
    # Given an alert, a growth reply and a drained note, each posted and recorded
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    alerts.check(0)
    fill(sqs, orders, 10)
    alerts.check(5)
    drain(sqs, orders.dlq_url)
    alerts.check(10)
    alerts.check(15)

    # Then no check looked anything up in Slack: the records said what was posted (the
    # history is read only after a loss; its rate limits are Slack's tightest)
    for method in ("conversations.history", "conversations.replies"):
        assert alerts.slack.state.calls_to(method) == [], method
