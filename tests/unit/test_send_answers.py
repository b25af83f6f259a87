"""Reading SQS's answer to a SendMessageBatch entry by entry: stored, retry, refused, unsettled."""

from __future__ import annotations

from bot.send_answers import sort_answer
from bot.sqs_model import SendFailure


def test_each_entry_is_sorted_by_what_the_answer_says_of_it() -> None:
    # Given a batch of five and an answer that stores one, fails two (one a sender fault),
    # forgets one, and lists one as both stored and failed
    items = ["a", "b", "c", "d", "e"]
    ours = SendFailure("1", "InternalError", "try again", False)
    theirs = SendFailure("2", "InvalidParameterValue", "no", True)
    both = SendFailure("4", "InternalError", "?", False)
    # When sorted
    answer = sort_answer(items, ["0", "4"], [ours, theirs, both])
    # Then only what was listed stored alone counts stored; the rest is said apart
    assert answer.stored == ["a"]
    assert answer.retry == [("b", ours)]
    assert answer.refused == [("c", theirs)]
    assert answer.unsettled == ["d", "e"]
