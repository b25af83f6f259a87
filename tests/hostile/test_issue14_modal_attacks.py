"""Issue 14's request modal, attacked: submissions and clicks signed as Slack signs them but
carrying what the form never offered (a selection or an action outside its radio buttons, a DM or
a person as the card's channel, a queue that is no watched DLQ), the same modal submitted twice,
mrkdwn in every text a person types, inputs past Slack's limits, a count by a body field by someone
who may not read bodies, and times at daylight-saving edges, which must select what the typed
flags select. Through the real handlers (handlers.slack.handler, the worker on the local Lambda
server), the local Slack server, SQS and DynamoDB on moto."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.views import View

import handlers.worker
from bot.daily.scan_facts import ScanFactsStore
from bot.slack.commands import RedriveCommand, parse_command
from bot.slack.home_model import ErrorGroupFact, ScanFacts
from bot.slack.ids import ActionId
from bot.slack.protocol import JobSigner, job_signing_key
from bot.slack.request_form import (
    REQUEST_FIELD_ACTION,
    REQUEST_FIELD_CHANNEL,
    REQUEST_FIELD_ERROR_LABEL,
    REQUEST_FIELD_LIMIT,
    REQUEST_FIELD_NOTE,
    REQUEST_FIELD_SELECTION,
    REQUEST_FIELD_WHERE,
    RequestForm,
    check_form,
)
from bot.slack.request_ticket import RequestTicket
from infra.local.scene import count
from infra.local.slack_events import http_event, view_submission_body
from tests.integration.slack.request_world import (
    RequestWorld,
    count_line,
    filled,
    modal_text,
    sealed_submission,
    state,
    worker_jobs,
)
from tests.integration.slack.slack_harness import (
    APPROVER,
    CHANNEL,
    OUTSIDER,
    REQUESTER,
    SECRET,
    SlackHarness,
    ack_text,
    harness,
    seed_orders,
    slack_env,
)

__all__ = ["harness", "slack_env"]  # fixtures


def _cards(harness: SlackHarness) -> list[dict[str, Any]]:
    return [c.body for c in harness.calls("chat.postMessage") if c.refused is None]


def _send_to_dlq(harness: SlackHarness, bodies: list[str]) -> None:
    dlq = harness.sqs.get_queue_url(QueueName="orders-dlq")["QueueUrl"]
    for body in bodies:
        harness.sqs.send_message(QueueUrl=dlq, MessageBody=body)


# --- one modal, one request ------------------------------------------------------------------


def test_a_modal_submitted_twice_asks_once(harness: SlackHarness) -> None:
    # Given the filled modal over 3 messages
    world, view = filled(harness, 3)
    values = state(queue="orders-dlq", selection="all")

    # When its Submit reaches the endpoint twice (a double click, a resent request: each
    # signed by Slack at its own time), the second once the first was handled
    now = int(time.time())
    first = world.submit(view, values, user=REQUESTER, timestamp=now - 1)
    harness.settle()
    second = world.submit(view, values, user=REQUESTER, timestamp=now)
    harness.settle()

    # Then both are acked, but one request is asked for and one card posted
    assert first["response_action"] == second["response_action"] == "update"
    cards = _cards(harness)
    assert len(cards) == 1, [c.get("text") for c in cards]
    assert cards[0]["channel"] == CHANNEL
    # and the modal still says where that card is
    assert f"<#{CHANNEL}>" in modal_text(world.modal())
    # And approving that card moves the 3 counted, once
    harness.click(
        ActionId.APPROVE, harness.request_id(), user=APPROVER, message_ts=harness.card_ts()
    )
    harness.settle()
    assert count(harness.sqs, "orders") == 3 and count(harness.sqs, "orders-dlq") == 0


# --- values the form never offered -----------------------------------------------------------


def test_a_selection_the_form_never_offered_is_refused_not_read_as_every_message(
    harness: SlackHarness,
) -> None:
    # Given the filled modal
    world, view = filled(harness, 3)
    jobs = worker_jobs(harness)

    # When it is submitted with a selection that is none of the radio's options
    answer = world.submit(view, state(queue="orders-dlq", selection="everything"), user=REQUESTER)

    # Then it is refused on the selection: it never becomes "every message"
    assert answer["response_action"] == "errors"
    assert REQUEST_FIELD_SELECTION in answer["errors"]
    harness.settle()
    assert worker_jobs(harness) == jobs and _cards(harness) == []


def test_an_action_the_form_never_offered_is_refused_not_read_as_a_redrive(
    harness: SlackHarness,
) -> None:
    # Given the filled modal
    world, view = filled(harness, 3)
    jobs = worker_jobs(harness)

    # When it is submitted as a "discard" (the form offers Redrive and Export only)
    answer = world.submit(
        view, state(queue="orders-dlq", action="discard", selection="all"), user=REQUESTER
    )

    # Then it is refused on the action, and nothing is asked
    assert answer["response_action"] == "errors"
    assert REQUEST_FIELD_ACTION in answer["errors"]
    harness.settle()
    assert worker_jobs(harness) == jobs and _cards(harness) == []


@pytest.mark.parametrize("channel", ["D0123ABCD", APPROVER, "W0123ABCD", "<#C_OPS>"])
def test_a_card_channel_the_form_never_offers_is_refused_on_its_field(
    harness: SlackHarness, channel: str
) -> None:
    # Given the filled modal (its channel select offers public and private channels only), the
    # app enabled everywhere (no ALLOWED_CHANNELS)
    world, view = filled(harness, 3)
    jobs = worker_jobs(harness)

    # When the card is asked for in a DM, a person's DM with the app, or a made-up id
    answer = world.submit(
        view, state(queue="orders-dlq", selection="all", channel=channel), user=REQUESTER
    )

    # Then it is refused on the channel field, and no card goes anywhere
    assert answer["response_action"] == "errors"
    assert REQUEST_FIELD_CHANNEL in answer["errors"]
    harness.settle()
    assert worker_jobs(harness) == jobs and _cards(harness) == []


def test_a_queue_that_is_not_a_watched_dlq_is_neither_counted_nor_asked(
    harness: SlackHarness,
) -> None:
    # Given the filled modal, and messages in the source queue orders (not a DLQ)
    world, view = filled(harness, 2)
    source = harness.sqs.get_queue_url(QueueName="orders")["QueueUrl"]
    harness.sqs.send_message(QueueUrl=source, MessageBody='{"live": 1}')

    # When the source queue is counted and submitted as if it were a DLQ
    counted = world.count(view, state(queue="orders", selection="all"), user=REQUESTER)
    world.submit(counted, state(queue="orders", selection="all"), user=REQUESTER)
    harness.settle()

    # Then neither counted its message nor posted a card, and the modal says why
    assert "match" not in count_line(counted)
    assert ":x:" in modal_text(world.modal())
    assert _cards(harness) == []
    assert count(harness.sqs, "orders") == 1 and count(harness.sqs, "orders-dlq") == 2


# --- mrkdwn typed into the form ----------------------------------------------------------------

HOSTILE = "<!channel> <@U_BOB> <https://evil.example|runbook> ```x``` `y` *b* &amp;"


def _no_live_mrkdwn(text: str) -> None:
    for live in ("<!channel>", "<@U_BOB>", "<https://evil.example"):
        assert live not in text, (live, text)


def test_mrkdwn_in_the_where_the_note_and_the_label_is_shown_inert_everywhere(
    harness: SlackHarness,
) -> None:
    # Given 2 messages whose tenant is a mrkdwn mention, in the filled modal
    world, view = filled(harness, 1)
    _send_to_dlq(harness, [json.dumps({"tenant": "<!channel>"})] * 2)
    values = state(queue="orders-dlq", selection="field", where="tenant=<!channel>", note=HOSTILE)

    # When they are counted by that tenant, then asked for with a hostile note
    counted = world.count(view, values, user=REQUESTER)
    world.submit(counted, values, user=REQUESTER)
    harness.settle()

    # Then the count matched them exactly, and no surface makes the mention or link live: the
    # count line, the card (its text and blocks), the modal's outcome
    line = count_line(counted)
    assert "*2* message(s) match" in line
    _no_live_mrkdwn(line)
    (card,) = _cards(harness)
    _no_live_mrkdwn(json.dumps(card["blocks"]) + card.get("text", ""))
    _no_live_mrkdwn(modal_text(world.modal()))
    request = harness.state.get_request(harness.request_id())
    assert request is not None and request.matched == 2 and request.note == HOSTILE


def test_the_outcome_dmd_when_the_modal_is_gone_shows_the_note_inert(
    harness: SlackHarness,
) -> None:
    # Given the filled modal, closed before the worker answers
    world, view = filled(harness, 2)
    harness.slack.state.refuse("views.update", "not_found")

    # When a selection matching nothing is submitted with a hostile where value
    world.submit(
        view,
        state(queue="orders-dlq", selection="field", where="tenant=<!channel>", note=HOSTILE),
        user=REQUESTER,
    )
    harness.settle()

    # Then the DM says there was nothing, with nothing live in it
    (dm,) = _cards(harness)
    assert dm["channel"] == REQUESTER
    _no_live_mrkdwn(json.dumps(dm))


# --- past Slack's limits ----------------------------------------------------------------------


def test_inputs_past_slacks_limits_are_refused_on_their_fields(harness: SlackHarness) -> None:
    # Given the filled modal, showing the where field
    world, view = filled(harness, 2)
    by_field = world.count(view, state(queue="orders-dlq", selection="field"), user=REQUESTER)
    jobs = worker_jobs(harness)

    # When a note of 10,000 characters (the field allows 500), a limit of 5,000 digits
    # (Python refuses to read more than 4,300), and 24,000 characters of where lines (the field
    # allows 3,000) are submitted
    long_note = world.submit(
        view, state(queue="orders-dlq", selection="all", note="n" * 10_000), user=REQUESTER
    )
    huge_limit = world.submit(
        view, state(queue="orders-dlq", selection="all", limit="9" * 5_000), user=REQUESTER
    )
    many_wheres = world.submit(
        by_field,
        state(queue="orders-dlq", selection="field", where="\n".join(["tenant=acme"] * 2_000)),
        user=REQUESTER,
    )

    # Then each is refused on its field with a short message, and nothing is asked
    assert "At most 500" in long_note["errors"][REQUEST_FIELD_NOTE]
    assert "--limit" in huge_limit["errors"][REQUEST_FIELD_LIMIT]
    assert REQUEST_FIELD_WHERE in many_wheres["errors"]
    for answer in (long_note, huge_limit, many_wheres):
        assert all(len(text) <= 300 for text in answer["errors"].values())
    harness.settle()
    assert worker_jobs(harness) == jobs and _cards(harness) == []


# --- who may select by a body -----------------------------------------------------------------


def test_counting_by_a_body_field_with_where_needs_a_viewer(harness: SlackHarness) -> None:
    # Given 1 message for tenant acme among 3, and the modal of someone outside APPROVERS and
    # VIEWERS
    seed_orders(harness.sqs, 2)
    _send_to_dlq(harness, [json.dumps({"tenant": "acme", "ssn": "123-45-6789"})])
    world = RequestWorld(harness)
    view = world.open(user=OUTSIDER)

    # When they count the messages whose body holds a guessed value (an oracle of what bodies
    # hold: the live count answers each guess, silently)
    values = state(queue="orders-dlq", selection="field", where="ssn=123-45-6789")
    counted = world.count(view, values, user=OUTSIDER)

    # Then the count is refused as reading bodies, not answered
    line = count_line(counted)
    assert "reads message bodies" in line
    assert "match" not in line
    # And by a message attribute (not a body), they may still count
    by_attribute = world.count(
        counted, state(queue="orders-dlq", selection="field", where="attr.kind=x"), user=OUTSIDER
    )
    assert "reads message bodies" not in count_line(by_attribute)


def test_a_typed_where_by_a_body_field_needs_a_viewer_too(harness: SlackHarness) -> None:
    # Given a message for tenant acme
    seed_orders(harness.sqs, 1)
    _send_to_dlq(harness, [json.dumps({"tenant": "acme"})])

    # When someone outside APPROVERS and VIEWERS types the redrive by its body field
    harness.command("redrive orders-dlq --where tenant=acme", user=OUTSIDER)
    harness.settle()

    # Then no card says whether a body holds it
    assert _cards(harness) == []
    assert "reads message bodies" in json.dumps(harness.responses())


# --- times at daylight-saving edges, as the typed flags ---------------------------------------

NEW_YORK = ZoneInfo("America/New_York")


def _modal_args(form: RequestForm, now: datetime) -> Any:
    args, problems = check_form(form, tz=NEW_YORK, now=now, error_attribute=None)
    assert not problems, problems
    return args.build(tz=NEW_YORK, now=now, error_attribute=None)


def _typed_args(flags: str, now: datetime) -> Any:
    parsed = parse_command(f"redrive orders-dlq {flags}")
    assert isinstance(parsed, RedriveCommand)
    return parsed.selection.build(tz=NEW_YORK, now=now, error_attribute=None)


_EMPTY = RequestForm.blank(queue="orders-dlq", channel="C_OPS")


@pytest.mark.parametrize(
    ("since", "until"),
    [
        # the spring-forward hour (02:00-03:00 local does not exist on 2026-03-08)
        ("2026-03-08T06:30:00+00:00", "2026-03-08T07:30:00+00:00"),
        # the fall-back hour (01:00-02:00 local happens twice on 2026-11-01)
        ("2026-11-01T05:30:00+00:00", "2026-11-01T06:30:00+00:00"),
    ],
)
def test_a_picked_range_at_a_dst_edge_selects_what_the_typed_flags_select(
    since: str, until: str
) -> None:
    # Given two instants picked across a daylight-saving change (a picker gives epoch seconds)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    picked = [str(int(datetime.fromisoformat(t).timestamp())) for t in (since, until)]
    form = replace(_EMPTY, selection="range", since=picked[0], until=picked[1])

    # When the modal's selection and the typed --since/--until are built
    modal = _modal_args(form, now)
    typed = _typed_args(f"--since {since} --until {until}", now)

    # Then they select the same window
    assert modal.window == typed.window
    assert modal.window.end - modal.window.start == timedelta(hours=1)


@pytest.mark.parametrize("day", ["2026-03-08", "2026-11-01"])
def test_a_picked_dst_day_selects_what_date_selects(day: str) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    form = replace(_EMPTY, selection="day", day=day)
    modal = _modal_args(form, now)
    typed = _typed_args(f"--date {day}", now)
    assert modal.window == typed.window
    # a 23-hour and a 25-hour day
    assert (modal.window.end - modal.window.start).total_seconds() in (23 * 3600, 25 * 3600)


def test_the_error_groups_labels_are_not_offered_to_someone_who_may_not_read_bodies(
    harness: SlackHarness,
) -> None:
    # Given the last daily scan's error groups of orders-dlq, labels read from message bodies
    # (the Home tab shows them only to viewers), and the modal of someone outside APPROVERS and
    # VIEWERS
    seed_orders(harness.sqs, 2)
    now = datetime.now(UTC)
    groups = (ErrorGroupFact("Card declined for Jane Doe", 2),)
    ScanFactsStore(harness.state.table).put_all(
        [ScanFacts("orders-dlq", now, 2, True, now, None, groups)], now=now
    )
    world = RequestWorld(harness)
    view = world.open(user=OUTSIDER)

    # When they choose the error-group selection of orders-dlq
    by_error = world.count(view, state(queue="orders-dlq", selection="error"), user=OUTSIDER)

    # Then the form offers no label (a label can still be typed), while an approver's offers it
    assert "Jane Doe" not in modal_text(by_error)
    assert REQUEST_FIELD_ERROR_LABEL in modal_text(by_error)
    approver = RequestWorld(harness)
    harness.slack.state.modals.views.clear()
    mine = approver.open(user=REQUESTER)
    by_error = approver.count(mine, state(queue="orders-dlq", selection="error"), user=REQUESTER)
    assert "Jane Doe" in modal_text(by_error)


def test_a_count_of_a_selection_the_form_never_offered_counts_nothing(
    harness: SlackHarness,
) -> None:
    # Given the filled modal over 3 messages
    world, view = filled(harness, 3)

    # When a click carries a selection and an action the radios never offered
    counted = world.count(
        view, state(queue="orders-dlq", action="purge", selection="everything"), user=REQUESTER
    )

    # Then the modal (still a valid view) says what to choose, and counted nothing
    View(**counted).validate_json()
    line = count_line(counted)
    assert "match" not in line and "Choose" in line
    assert count(harness.sqs, "orders-dlq") == 3


def test_mrkdwn_in_a_refused_field_is_inert_in_the_count_line(harness: SlackHarness) -> None:
    # Given the filled modal, showing a day's field
    world, view = filled(harness, 2)
    by_day = world.count(view, state(queue="orders-dlq", selection="day"), user=REQUESTER)

    # When a click carries a day and a where that are mentions and links
    odd_day = world.count(
        by_day, state(queue="orders-dlq", selection="day", day="<!channel>"), user=REQUESTER
    )
    odd_where = world.count(
        odd_day,
        state(queue="orders-dlq", selection="field", where="<@U_BOB>\n<https://evil.example>"),
        user=REQUESTER,
    )

    # Then each count line says what is wrong, quoting it inert
    for view_now in (odd_day, odd_where):
        line = count_line(view_now)
        assert "match" not in line
        _no_live_mrkdwn(line)
        View(**view_now).validate_json()


def test_a_submission_from_another_workspace_is_refused_before_the_form(
    harness: SlackHarness,
) -> None:
    # Given the requester's filled modal
    _, view = filled(harness, 2)
    jobs = worker_jobs(harness)

    # When it comes back signed with our secret but naming another workspace
    body = view_submission_body(
        view, state(queue="orders-dlq", selection="all"), user=REQUESTER, team="T_OTHER"
    )
    answer = harness.send(http_event(body, SECRET))
    harness.settle()

    # Then nothing is handed over and no card is posted
    assert worker_jobs(harness) == jobs and _cards(harness) == []
    assert "update" not in answer.get("body", "")


def test_the_command_typed_in_a_dm_needs_a_channel_for_the_card(harness: SlackHarness) -> None:
    # Given the modal opened from a DM with the app (the card's default channel is that DM)
    seed_orders(harness.sqs, 2)
    world = RequestWorld(harness)
    ack = world.command("", user=REQUESTER, channel="D0123ABCD")
    assert ack["statusCode"] == 200
    harness.settle()
    view = world.modal()
    jobs = worker_jobs(harness)

    # When it is submitted without choosing a channel
    answer = world.submit(view, state(queue="orders-dlq", selection="all"), user=REQUESTER)

    # Then it is refused on the channel field: the card never goes to a DM
    assert answer["response_action"] == "errors"
    assert REQUEST_FIELD_CHANNEL in answer["errors"]
    harness.settle()
    assert worker_jobs(harness) == jobs and _cards(harness) == []


def test_approval_moves_only_what_the_modal_request_counted_with_where_and_limit(
    harness: SlackHarness,
) -> None:
    # Given 3 acme messages and 2 others, and a modal request of at most 2 acme messages
    world, view = filled(harness, 2)
    _send_to_dlq(harness, [json.dumps({"tenant": "acme", "n": i}) for i in range(3)])
    values = state(queue="orders-dlq", selection="field", where="tenant=acme", limit="2")
    counted = world.count(view, values, user=REQUESTER)
    assert "*2* message(s) match" in count_line(counted)
    world.submit(counted, values, user=REQUESTER)
    harness.settle()
    request = harness.state.get_request(harness.request_id())
    assert request is not None and request.matched == 2
    # and 4 more acme messages reach the DLQ after the card
    _send_to_dlq(harness, [json.dumps({"tenant": "acme", "late": i}) for i in range(4)])

    # When an approver approves the card
    harness.click(ActionId.APPROVE, request.request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    # Then exactly 2 acme messages, counted before the card, went back; the rest stayed
    source = harness.sqs.get_queue_url(QueueName="orders")["QueueUrl"]
    moved = harness.sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)["Messages"]
    bodies = [json.loads(m["Body"]) for m in moved]
    assert len(bodies) == 2 and all(b["tenant"] == "acme" and "late" not in b for b in bodies)
    assert count(harness.sqs, "orders-dlq") == 2 + 1 + 4


def test_a_ticket_older_than_an_hour_is_refused_through_the_handler(
    harness: SlackHarness,
) -> None:
    # Given the requester's filled modal, its ticket replaced by one sealed two hours ago for
    # the same person and view (a modal left open overnight)
    world, view = filled(harness, 2)
    signer = JobSigner(job_signing_key(harness.env["JOB_SIGNING_KEY"]))
    old = RequestTicket(REQUESTER, view["id"], CHANNEL).seal(
        signer, datetime.now(UTC) - timedelta(hours=2)
    )
    jobs = worker_jobs(harness)

    # When it is submitted, and counted
    answer = world.submit(
        {**view, "private_metadata": old},
        state(queue="orders-dlq", selection="all"),
        user=REQUESTER,
    )
    world.change({**view, "private_metadata": old}, state(queue="orders-dlq"), user=REQUESTER)
    harness.settle()

    # Then both are refused: the submission says to open a new form, nothing is handed over
    assert answer["response_action"] == "errors"
    assert "too old" in json.dumps(answer["errors"])
    assert worker_jobs(harness) == jobs and _cards(harness) == []


def test_a_modal_slack_would_not_open_is_said_in_the_ack_and_nothing_is_handed_over(
    harness: SlackHarness,
) -> None:
    # Given Slack refusing views.open (the trigger expired: three seconds went by)
    seed_orders(harness.sqs, 2)
    world = RequestWorld(harness)
    harness.slack.state.refuse("views.open", "expired_trigger_id")

    # When /dlq-redrive is typed
    ack = world.command("", user=REQUESTER)
    harness.settle()

    # Then the ack says to try again, and the worker was never asked to fill a modal
    assert "Could not open the request form" in ack_text(ack)
    assert worker_jobs(harness) == 0


def test_two_counts_at_once_never_show_a_false_figure(harness: SlackHarness) -> None:
    # Given 30 messages and the filled modal
    world, view = filled(harness, 30)

    # When Count is clicked twice before either count finished (each dry run holds the
    # messages it received in flight, hiding them from the other)
    now = int(time.time())
    world.change(view, state(queue="orders-dlq", selection="all"), user=REQUESTER, timestamp=now)
    world.change(
        view,
        state(queue="orders-dlq", selection="all", limit="50"),
        user=REQUESTER,
        timestamp=now - 1,
    )
    harness.settle()

    # Then the line shown is exact (30) or says it is a lower bound and why, never "0 match"
    line = count_line(world.modal())
    assert "*30* message(s) match" in line or ("at least" in line and "SQS counts 30" in line), line
    assert "nothing" not in line
    assert count(harness.sqs, "orders-dlq") == 30


def test_messages_held_in_flight_are_never_counted_as_none(harness: SlackHarness) -> None:
    # Given 3 messages, all held in flight by someone else (a consumer, another count)
    world, view = filled(harness, 3)
    dlq = harness.sqs.get_queue_url(QueueName="orders-dlq")["QueueUrl"]
    held = harness.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=120)
    assert len(held["Messages"]) == 3

    # When the modal counts every message, then submits
    counted = world.count(view, state(queue="orders-dlq", selection="all"), user=REQUESTER)
    world.submit(counted, state(queue="orders-dlq", selection="all"), user=REQUESTER)
    harness.settle()

    # Then the count line and the outcome say it is a lower bound, naming SQS's 3; no card
    assert "at least 0" in count_line(counted) and "SQS counts 3" in count_line(counted)
    outcome = modal_text(world.modal())
    assert "could not see every message" in outcome and "SQS counts 3" in outcome
    assert _cards(harness) == []


def test_a_where_at_the_fields_limit_still_gives_a_valid_card(harness: SlackHarness) -> None:
    # Given one message holding 150 fields, and a where of them all (about 2,900 characters, at
    # the field's 3,000), each value full of mrkdwn
    world, view = filled(harness, 1)
    fields = {f"f{i:03d}": f"<!here>*{i}*" for i in range(150)}
    _send_to_dlq(harness, [json.dumps(fields)])
    where = "\n".join(f"{k}={v}" for k, v in fields.items())
    assert 2_500 < len(where) <= 3_000
    values = state(queue="orders-dlq", selection="field", where=where)

    # When it is counted and submitted
    counted = world.count(view, values, user=REQUESTER)
    world.submit(counted, values, user=REQUESTER)
    harness.settle()

    # Then the count matched it, and the card was posted (within Block Kit's limits, which the
    # local Slack server checks) with nothing live in it
    assert "*1* message(s) match" in count_line(counted)
    (card,) = _cards(harness)
    assert "<!here>" not in json.dumps(card)
    request = harness.state.get_request(harness.request_id())
    assert request is not None and request.matched == 1


def test_a_made_up_queue_name_full_of_mrkdwn_is_quoted_inert(harness: SlackHarness) -> None:
    # Given the filled modal
    world, view = filled(harness, 1)
    values = state(queue=HOSTILE, selection="all")

    # When a click and a submission name a queue that is mrkdwn
    counted = world.count(view, values, user=REQUESTER)
    world.submit(counted, values, user=REQUESTER)
    harness.settle()

    # Then the count line and the outcome refuse it with nothing live; no card
    _no_live_mrkdwn(count_line(counted))
    _no_live_mrkdwn(modal_text(world.modal()))
    assert ":x:" in modal_text(world.modal()) and _cards(harness) == []


def test_the_worker_itself_refuses_a_sealed_submission_for_a_persons_dm(
    harness: SlackHarness,
) -> None:
    # Given the filled modal, and a submission job sealed with the worker's key whose form names
    # a person as the card's channel (an endpoint that let it through)
    world, view = filled(harness, 2)
    form = replace(_EMPTY, channel=APPROVER)
    sealed = sealed_submission(harness, view, form, delivery="sealed-dm")

    # When the worker runs it
    handlers.worker.worker().handle(sealed, None)

    # Then no card is posted anywhere, and the modal says why
    assert _cards(harness) == []
    assert "does not post approval cards in that channel" in modal_text(world.modal())
    assert count(harness.sqs, "orders-dlq") == 2
