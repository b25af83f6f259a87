"""What a daily continuation carries of the messages earlier invocations sent without an answer
(``Continuation.not_again``), and the shared rule that bounds it (``not_again_after``)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from bot.daily.events import MAX_NOT_AGAIN_IN_EVENT, Continuation, carried, parse_event
from bot.lambda_api import MAX_EVENT_PAYLOAD
from bot.redrive_model import MAX_NOT_AGAIN, not_again_after


def _ids(n: int) -> tuple[str, ...]:
    return tuple(str(uuid.uuid4()) for _ in range(n))  # shaped as SQS message ids


def _continuation(not_again: dict[str, tuple[str, ...]]) -> Continuation:
    return Continuation(
        scheduled=datetime(2026, 12, 2, 6, tzinfo=UTC),
        day=date(2026, 12, 1),
        queues=tuple(not_again),
        invocation=2,
        channel="C1",
        thread_ts="1.2",
        not_again=not_again,
    )


def test_not_again_keeps_what_was_carried_first_adds_the_new_ones_and_stops_at_the_cap() -> None:
    assert not_again_after(("b", "a"), {"a", "d", "c"}) == ("b", "a", "c", "d")
    assert not_again_after(("b", "a"), {"c", "d"}, cap=3) == ("b", "a", "c")
    assert len(not_again_after((), set(_ids(MAX_NOT_AGAIN + 10)))) == MAX_NOT_AGAIN


def test_a_continuation_event_carries_each_dlqs_ids_back_unchanged() -> None:
    sent = {"resize-dlq": ("m-1", "m-2"), "alerts-dlq": ("m-3",)}
    back = parse_event(json.loads(json.dumps(_continuation(sent).to_event())))
    assert isinstance(back, Continuation)
    assert back.not_again == sent


def test_an_event_from_before_the_field_carries_nothing() -> None:
    event = _continuation({}).to_event()
    del event["not_again"]
    back = parse_event(event)
    assert isinstance(back, Continuation) and back.not_again == {}


def test_the_ids_are_shared_out_under_the_cap_and_a_dlq_with_few_keeps_all_of_its() -> None:
    shared = dict(carried({"a": _ids(10), "b": ("x", "y"), "c": ()}, 6))
    assert shared == {"b": ("x", "y"), "a": shared["a"]} and len(shared["a"]) == 4


def test_a_continuation_with_many_lost_answers_in_many_dlqs_still_fits_lambdas_payload() -> None:
    many = {f"dlq-{n}": _ids(MAX_NOT_AGAIN) for n in range(3)}
    event = _continuation(many).to_event()
    assert sum(len(ids) for ids in event["not_again"].values()) == MAX_NOT_AGAIN_IN_EVENT
    assert len(json.dumps(event, separators=(",", ":")).encode()) < MAX_EVENT_PAYLOAD * 0.65
